/**
 * Usage for billing: relayed application payload bytes and packets per account and bucket (hour,
 * UTC day or timeframe: a fixed length or a calendar month), the not yet written part included.
 * Each row says its bucket's start and end, the account's id and name, the bytes each way and their
 * total, the JSON and the CSV alike. The admin token sees every account (or one with ?account=); an
 * account's API key sees its own usage only. The CSV export is admin only.
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
  granularity: z.enum(['hour', 'day', 'timeframe']).default('hour').describe('Bucket size: hour, UTC day, or the metering timeframe (network_usage.timeframe: a fixed length, or a calendar month in UTC with "month"). Each row gives its bucket\'s start and end.'),
});

const UsageRowSchema = z.object({
  start: z.string().describe('Start of the bucket, inclusive (ISO 8601, UTC).'),
  end: z.string().describe('End of the bucket, exclusive (ISO 8601, UTC): an hour, a UTC day, or the timeframe\'s end (a calendar month ends at 00:00 UTC on the 1st of the next month).'),
  account: z.string().describe('Who the usage is billed to: an account id (acc_...), a static user or a REST credential name.'),
  account_name: z.string().nullable().describe('The account\'s name; null when `account` is not a (live) account of this Ferry: a static user, a REST credential name, a deleted account.'),
  bytes_to_peer: z.int().nonnegative().describe('Application payload bytes relayed from the client to its peers.'),
  bytes_to_client: z.int().nonnegative().describe('Application payload bytes relayed from peers to the client.'),
  total_bytes: z.int().nonnegative().describe('bytes_to_peer + bytes_to_client: what limits count and what is billed.'),
  packets_to_peer: z.int().nonnegative(),
  packets_to_client: z.int().nonnegative(),
});

type UsageRowDto = z.output<typeof UsageRowSchema>;

/** The columns of the CSV export, in order: the JSON row's keys. */
export const CSV_COLUMNS = ['start', 'end', 'account', 'account_name', 'bytes_to_peer', 'bytes_to_client', 'total_bytes', 'packets_to_peer', 'packets_to_client'] as const;

const usageDto = (r: UsageRow, names: ReadonlyMap<string, string>): UsageRowDto => {
  const c = countersJson(r);
  return {
    start: new Date(r.start).toISOString(),
    end: new Date(r.end).toISOString(),
    account: r.account,
    account_name: names.get(r.account) ?? null,
    bytes_to_peer: c.bytes_to_peer,
    bytes_to_client: c.bytes_to_client,
    total_bytes: c.bytes_to_peer + c.bytes_to_client,
    packets_to_peer: c.packets_to_peer,
    packets_to_client: c.packets_to_client,
  };
};

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

  /** Account names by id: the live accounts (one account when the caller may see only its own). */
  const names = async (account: string | undefined): Promise<Map<string, string>> => {
    if (account !== undefined) {
      const a = await deps.accounts.getAccount(account);
      return new Map(a === undefined ? [] : [[a.id, a.name]]);
    }
    return new Map((await deps.accounts.listAccounts()).map((a) => [a.id, a.name]));
  };

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
      const byId = await names(account);
      return { granularity: request.query.granularity, usage: rows.map((r) => usageDto(r, byId)) };
    });

    app.get('/v1/usage/export.csv', {
      schema: {
        summary: 'Usage as CSV, for billing systems',
        description: `Admin only; the same filters and rows as GET /v1/usage. A header row, then one row per account per bucket: ${CSV_COLUMNS.join(',')}. Times are ISO 8601 UTC; account_name is empty when the account is not a live account of this Ferry. Text cells that a spreadsheet could run as a formula (starting with =, +, -, @, a tab or a CR) get a leading ' and are quoted.`,
        tags: ['usage'],
        security: ADMIN_SECURITY,
        querystring: UsageFilterQuery,
        response: {
          200: {
            description: 'RFC 4180 CSV (text/csv; charset=utf-8), CRLF line endings, a header row first.',
            content: { 'text/csv': { schema: z.string().describe('CSV: a header row, then one row per account per bucket.') } },
          },
          ...errors(400, 401, 429, 503),
        },
      },
    }, async (request, reply) => {
      requireAdmin(request, admin);
      const rows = await ledger.usage(filter(request.query, request.query.account));
      const byId = await names(request.query.account);
      const lines = [CSV_COLUMNS.join(',')];
      for (const r of rows) {
        const dto = usageDto(r, byId);
        // Text cells are neutralised against formula injection (an account may be any REST
        // username, an account name any text an admin typed).
        lines.push(csvRow(CSV_COLUMNS.map((column) => dto[column] ?? '')));
      }
      return reply.type('text/csv; charset=utf-8').send(`${lines.join('\r\n')}\r\n`);
    });
  };
}
