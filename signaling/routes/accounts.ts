/**
 * Admin: accounts (create, list, read, update, delete) and credential revocation. The admin scope
 * (app.ts) documents the admin token and the 401/503 answers of every route (documentAdminRoute).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SignalingDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { AccountNameSchema, AccountParams, AccountSchema, accountDto, errors, NoContent } from '../schemas.js';

const noAccount = (id: string) => new ApiError(404, 'not_found', `no account ${JSON.stringify(id)}`);

/** What the accounts service answered about account `id`; 404 when that was undefined (no such account). */
export function orNoAccount<T>(value: T | undefined, id: string): T {
  if (value === undefined) throw noAccount(id);
  return value;
}

export function accountRoutes(deps: SignalingDeps): FastifyPluginAsyncZod {
  const { accounts } = deps;
  const tags = ['admin: accounts'];
  return async (app) => {
    app.post('/v1/accounts', {
      schema: {
        summary: 'Create an account and its first API key',
        description: 'Account names are unique among live accounts, ignoring ASCII case: a taken name is answered 409 (code conflict).',
        tags,
        body: z.strictObject({ name: AccountNameSchema }),
        response: {
          201: z.object({
            id: z.string().describe('Account id.'),
            name: z.string(),
            api_key: z.string().describe('The API key; shown only in this response.'),
          }),
          ...errors(400, 409, 413, 415),
        },
      },
    }, async (request, reply) => {
      const { account, apiKey } = await accounts.createAccount(request.body.name);
      return reply.code(201).send({ id: account.id, name: account.name, api_key: apiKey });
    });

    app.get('/v1/accounts', {
      schema: {
        summary: 'List the accounts (oldest first)',
        tags,
        response: { 200: z.object({ accounts: z.array(AccountSchema) }) },
      },
    }, async () => ({ accounts: (await accounts.listAccounts()).map(accountDto) }));

    app.get('/v1/accounts/:id', {
      schema: {
        summary: 'Read an account',
        tags,
        params: AccountParams,
        response: { 200: AccountSchema, ...errors(400, 404) },
      },
    }, async (request) => {
      return accountDto(orNoAccount(await accounts.getAccount(request.params.id), request.params.id));
    });

    app.patch('/v1/accounts/:id', {
      schema: {
        summary: 'Rename, disable or enable an account, or set its usage limit or bandwidth cap',
        description: 'Disabling refuses the account\'s API keys, signaling tokens and TURN credentials and closes its live allocations. From network_usage.soft_limit of `limit` new allocations are refused, from hard_limit the live ones are closed, until the usage timeframe ends. `max_bps` caps the account\'s allocations on each relay together, each direction on its own; a change applies to live allocations at once. A `name` another live account has (ignoring ASCII case) is answered 409 (code conflict).',
        tags,
        params: AccountParams,
        body: z
          .strictObject({
            name: AccountNameSchema.optional(),
            disabled: z.boolean().optional().describe('true disables the account, false enables it again.'),
            limit: z
              .union([z.number(), z.string(), z.null()])
              .optional()
              .describe('Relayed bytes per usage timeframe: a number of bytes or a size such as "10GB"; null removes the limit.'),
            max_bps: z
              .union([z.number(), z.string(), z.null()])
              .optional()
              .describe('Bandwidth cap shared by the account\'s allocations on a relay, in payload bytes per second each way: a number or a size such as "1MB"; null removes the cap.'),
          })
          .refine((b) => b.name !== undefined || b.disabled !== undefined || b.limit !== undefined || b.max_bps !== undefined, {
            error: 'give at least one of name, disabled, limit, max_bps',
          }),
        response: { 200: AccountSchema, ...errors(400, 404, 409, 413, 415) },
      },
    }, async (request) => {
      const { name, disabled, limit, max_bps } = request.body;
      const update = {
        ...(name !== undefined ? { name } : {}),
        ...(disabled !== undefined ? { disabled } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(max_bps !== undefined ? { max_bps } : {}),
      };
      return accountDto(orNoAccount(await accounts.updateAccount(request.params.id, update), request.params.id));
    });

    app.delete('/v1/accounts/:id', {
      schema: {
        summary: 'Delete an account',
        description: 'Its keys, tokens and TURN credentials are refused from now on and its live allocations are closed.',
        tags,
        params: AccountParams,
        response: { 204: NoContent, ...errors(400, 404) },
      },
    }, async (request, reply) => {
      if (!(await accounts.deleteAccount(request.params.id))) throw noAccount(request.params.id);
      return reply.code(204).send();
    });

    app.post('/v1/accounts/:id/revoke', {
      schema: {
        summary: 'Revoke every TURN credential and signaling token issued so far',
        description: 'Closes the account\'s live allocations. API keys stay valid (revoke them one by one).',
        tags,
        params: AccountParams,
        response: {
          200: z.object({
            revoked: z.literal(true),
            closed_allocations: z.int().nonnegative().describe('Live allocations closed.'),
          }),
          ...errors(400, 404),
        },
      },
    }, async (request) => {
      const result = orNoAccount(await accounts.revokeCredentials(request.params.id), request.params.id);
      return { revoked: true as const, closed_allocations: result.closed };
    });
  };
}
