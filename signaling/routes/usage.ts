/**
 * Usage for billing: relayed application payload bytes and packets per account and bucket (hour,
 * UTC day or timeframe), the not yet written part included. The admin token sees every account
 * (or one with ?account=); an account's API key sees its own usage only. The CSV export is admin only.
 * Registered only when the signaling app has a usage ledger.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { countersJson, type UsageRow } from '../../src/metering/types.js';
import { actAsAdmin, adminTokenFailed, type AdminDeps, authenticateCredential, mayBeAdminToken, refuseIfAdminBlocked, requireAdmin, requireBearer, sameSecret, unauthorized } from '../auth.js';
import type { SignalingDeps, UsageQuery } from '../deps.js';
import { ApiError } from '../errors.js';
import { csvRow } from '../csv.js';
import { ADMIN_SECURITY } from '../openapi.js';
import { errors } from '../schemas.js';

const isoTime = (what: string) =>
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), { error: `${what} must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z` })
    .optional();

const UsageFilterQuery = z.object({
  account: z.string().min(1).max(256).optional().describe('Admin only: this account\'s usage (all accounts when absent). With an API key it must be the key\'s own account, if given.'),
  from: isoTime('from').describe('Buckets starting at or after this time (ISO 8601).'),
  to: isoTime('to').describe('Buckets starting before this time (ISO 8601).'),
  granularity: z.enum(['hour', 'day', 'timeframe']).default('hour').describe('Bucket size: hour, UTC day, or the metering timeframe (network_usage.timeframe).'),
});

const UsageRowSchema = z.object({
  account: z.string().describe('The account (account id, static user or REST credential name).'),
  start: z.string().describe('Start of the bucket (ISO 8601, UTC).'),
  bytes_to_peer: z.int().nonnegative().describe('Application payload bytes relayed from the client to its peers.'),
  bytes_to_client: z.int().nonnegative().describe('Application payload bytes relayed from peers to the client.'),
  packets_to_peer: z.int().nonnegative(),
  packets_to_client: z.int().nonnegative(),
});

const usageDto = (r: UsageRow): z.output<typeof UsageRowSchema> => ({
  account: r.account,
  start: new Date(r.start).toISOString(),
  ...countersJson(r),
});

export function usageRoutes(deps: SignalingDeps, admin: AdminDeps, ledger: UsageQuery): FastifyPluginAsyncZod {
  /** The account the caller may see: undefined means all (admin without ?account=). */
  const scope = async (request: FastifyRequest, account: string | undefined): Promise<string | undefined> => {
    const token = requireBearer(request, 'missing credentials: send Authorization: Bearer <admin_token or api_key>');
    // The admin token can be guessed here too: the same budget of failures as the admin API. An
    // API key cannot be the admin token: it goes to API-key authentication only, never counted.
    const adminToken = mayBeAdminToken(token) ? admin.adminToken : undefined;
    if (adminToken !== undefined) {
      refuseIfAdminBlocked(request, admin);
      if (sameSecret(token, adminToken)) {
        actAsAdmin(request);
        return account;
      }
    }
    const principal = await authenticateCredential(deps, token);
    if (principal === null || principal.via !== 'api_key') {
      if (adminToken !== undefined) adminTokenFailed(request, admin);
      throw unauthorized('invalid or revoked API key, or the account is disabled');
    }
    if (account !== undefined && account !== principal.accountId) {
      throw new ApiError(403, 'forbidden', 'an API key may read its own account\'s usage only');
    }
    request.principal = principal;
    return principal.accountId;
  };
  const filter = (q: z.output<typeof UsageFilterQuery>, account: string | undefined) => ({
    ...(account !== undefined ? { account } : {}),
    ...(q.from !== undefined ? { from: Date.parse(q.from) } : {}),
    ...(q.to !== undefined ? { to: Date.parse(q.to) } : {}),
    granularity: q.granularity,
  });

  return async (app) => {
    app.get('/v1/usage', {
      schema: {
        summary: 'Relayed usage per account and bucket',
        description: 'Application payload only (no STUN/TURN/IP headers), each way, including what is counted but not yet written to the ledger. The admin token sees every account; an API key its own.',
        tags: ['usage'],
        security: [...ADMIN_SECURITY, { apiKey: [] }],
        querystring: UsageFilterQuery,
        response: { 200: z.object({ granularity: z.enum(['hour', 'day', 'timeframe']), usage: z.array(UsageRowSchema) }), ...errors(400, 401, 403, 429, 503) },
      },
    }, async (request) => {
      const account = await scope(request, request.query.account);
      const rows = await ledger.usage(filter(request.query, account));
      return { granularity: request.query.granularity, usage: rows.map(usageDto) };
    });

    app.get('/v1/usage/export.csv', {
      schema: {
        summary: 'Usage as CSV, for billing systems',
        description: 'Admin only; the same filters as GET /v1/usage. A header row, then one row per account per bucket: account,start,bytes_to_peer,bytes_to_client,packets_to_peer,packets_to_client.',
        tags: ['usage'],
        security: ADMIN_SECURITY,
        querystring: UsageFilterQuery,
        response: { 200: z.string().describe('text/csv'), ...errors(400, 401, 429, 503) },
      },
    }, async (request, reply) => {
      requireAdmin(request, admin);
      const rows = await ledger.usage(filter(request.query, request.query.account));
      const lines = ['account,start,bytes_to_peer,bytes_to_client,packets_to_peer,packets_to_client'];
      for (const r of rows.map(usageDto)) {
        // Text cells are neutralised against formula injection (an account may be any REST username).
        lines.push(csvRow([r.account, r.start, r.bytes_to_peer, r.bytes_to_client, r.packets_to_peer, r.packets_to_client]));
      }
      return reply.type('text/csv; charset=utf-8').send(`${lines.join('\r\n')}\r\n`);
    });
  };
}
