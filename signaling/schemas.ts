/**
 * Zod schemas shared by the routes: one schema validates a request, types the handler and
 * documents the route in /openapi.json. Wire names are snake_case; times are ISO 8601 strings.
 */
import { z } from 'zod';
import type { Account, ApiKeyInfo } from '../src/accounts/types.js';
import { formatHostPort } from '../src/config/net.js';
import { countersJson } from '../src/metering/types.js';
import type { RelaySession } from './deps.js';
import { ErrorBodySchema } from './errors.js';

const isoTime = (what: string) => z.string().describe(`${what} (ISO 8601, UTC)`);

export const AccountSchema = z
  .object({
    id: z.string().describe('Account id, acc_ + 16 characters.'),
    name: z.string().describe('Display name.'),
    disabled: z.boolean().describe('A disabled account\'s keys, tokens and TURN credentials are refused.'),
    created_at: isoTime('Creation time'),
    limit: z.number().nullable().describe('Relayed bytes allowed per usage timeframe (both directions); null: no per-account limit.'),
    max_bps: z.number().nullable().describe('Bandwidth cap of the account\'s allocations on a relay together, payload bytes per second each way; null: none.'),
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

const count = (what: string) => z.int().nonnegative().describe(what);

export const SessionSchema = z
  .object({
    id: z.int().nonnegative().describe('Session (allocation) id, unique while the relay runs; DELETE /v1/sessions/{id} closes it.'),
    account: z.string().describe('Account the session is billed to: an account id, a static user name or the name of a REST credential.'),
    transport: z.enum(['udp', 'tcp', 'tls']).describe('Transport between the client and the relay.'),
    client: z.string().describe('The client\'s address as the relay sees it: "ip:port", IPv6 in brackets.'),
    relayed: z
      .array(z.object({ address: z.string(), port: z.int(), family: z.union([z.literal(4), z.literal(6)]) }))
      .describe('Relayed transport addresses (the advertised address: external_ip when set).'),
    started_at: isoTime('When the allocation was made'),
    age_seconds: count('Seconds since started_at.'),
    bytes_to_peer: count('Application payload bytes relayed from the client to peers.'),
    bytes_to_client: count('Application payload bytes relayed from peers to the client.'),
    packets_to_peer: count('Packets relayed from the client to peers.'),
    packets_to_client: count('Packets relayed from peers to the client.'),
    capped_bytes_to_peer: count('Payload bytes from the client dropped by a bandwidth cap (max_bps), not relayed and not billed.'),
    capped_packets_to_peer: count('Packets from the client dropped by a bandwidth cap.'),
    capped_bytes_to_client: count('Payload bytes from peers dropped by a bandwidth cap.'),
    capped_packets_to_client: count('Packets from peers dropped by a bandwidth cap.'),
    dropped_bytes_to_peer: count(
      'Payload bytes from the client that could not be sent (empty, too big for one datagram to the peer), not relayed and not billed.',
    ),
    dropped_packets_to_peer: count('Packets from the client that could not be sent.'),
    dropped_bytes_to_client: count(
      'Payload bytes from peers that could not be sent (empty, too big to frame for the client, past a TCP/TLS client\'s backlog), not billed.',
    ),
    dropped_packets_to_client: count('Packets from peers that could not be sent.'),
  })
  .describe('Live relay session (TURN allocation)');

export const SessionParams = z.object({
  id: z.string().regex(/^[0-9]{1,15}$/, { error: 'a session id is a non-negative integer' }).describe('Session id.'),
});

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
  return { id: a.id, name: a.name, disabled: a.disabled, created_at: iso(a.createdAt), limit: a.limitBytes ?? null, max_bps: a.maxBps ?? null };
}

export function apiKeyDto(k: ApiKeyInfo): z.output<typeof ApiKeySchema> {
  return { id: k.id, prefix: k.prefix, created_at: iso(k.createdAt), revoked_at: k.revokedAt === null ? null : iso(k.revokedAt) };
}

export function sessionDto(s: RelaySession, nowMs: number): z.output<typeof SessionSchema> {
  return {
    id: s.id,
    account: s.account,
    transport: s.transport,
    client: formatHostPort(s.clientAddress, s.clientPort),
    relayed: s.relayAddresses.map((r) => ({ address: r.address, port: r.port, family: r.family })),
    started_at: iso(s.startedAt),
    age_seconds: Math.max(0, Math.floor((nowMs - s.startedAt) / 1000)),
    ...countersJson(s),
    capped_bytes_to_peer: s.cappedBytesToPeer,
    capped_packets_to_peer: s.cappedPacketsToPeer,
    capped_bytes_to_client: s.cappedBytesToClient,
    capped_packets_to_client: s.cappedPacketsToClient,
    dropped_bytes_to_peer: s.droppedBytesToPeer,
    dropped_packets_to_peer: s.droppedPacketsToPeer,
    dropped_bytes_to_client: s.droppedBytesToClient,
    dropped_packets_to_client: s.droppedPacketsToClient,
  };
}
