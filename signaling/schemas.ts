/**
 * Zod schemas shared by the routes: one schema validates a request, types the handler and
 * documents the route in /openapi.json. Wire names are snake_case; times are ISO 8601 strings.
 */
import { z } from 'zod';
import type { Account, ApiKeyInfo } from '../src/accounts/types.js';
import { ErrorBodySchema } from './errors.js';

const isoTime = (what: string) => z.string().describe(`${what} (ISO 8601, UTC)`);

export const AccountSchema = z
  .object({
    id: z.string().describe('Account id, acc_ + 16 characters.'),
    name: z.string().describe('Display name.'),
    disabled: z.boolean().describe('A disabled account\'s keys, tokens and TURN credentials are refused.'),
    created_at: isoTime('Creation time'),
  })
  .describe('Account');

export const ApiKeySchema = z
  .object({
    id: z.string().describe('Key id, key_ + 12 characters (to revoke it).'),
    prefix: z.string().describe('The first characters of the key, to recognise it.'),
    created_at: isoTime('Creation time'),
    revoked_at: isoTime('Revocation time').nullable().describe('Revocation time (ISO 8601, UTC), null while valid.'),
  })
  .describe('API key (the secret itself is only shown when created).');

export const AccountParams = z.object({ id: z.string().min(1).max(64).describe('Account id (acc_...).') });
export const ApiKeyParams = AccountParams.extend({ keyId: z.string().min(1).max(64).describe('Key id (key_...).') });

export const AccountNameSchema = z.string().describe('Display name: 1..100 characters after trimming, no control characters.');

export const NoContent = z.undefined().describe('Done; no body.');

/** Error responses to document on a route (the error handler produces them). */
export function errors<S extends number>(...statuses: S[]): Record<S, typeof ErrorBodySchema> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBodySchema])) as Record<S, typeof ErrorBodySchema>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function accountDto(a: Account): z.output<typeof AccountSchema> {
  return { id: a.id, name: a.name, disabled: a.disabled, created_at: iso(a.createdAt) };
}

export function apiKeyDto(k: ApiKeyInfo): z.output<typeof ApiKeySchema> {
  return { id: k.id, prefix: k.prefix, created_at: iso(k.createdAt), revoked_at: k.revokedAt === null ? null : iso(k.revokedAt) };
}
