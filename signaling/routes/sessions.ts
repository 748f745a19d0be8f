/**
 * Admin: live relay sessions (TURN allocations): list them with their byte counters, close one, or
 * close every session of an account. Closing uses reason 'admin': a TCP/TLS client's connection
 * ends, a UDP client's next request gets 437, and the relayed ports are freed at once. Listing is
 * registered only with `relaySessions`, closing only with `closeSessions` (a signaling app without
 * a relay has neither).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RelaySession, SignalingDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { AccountParams, errors, NoContent, SessionParams, SessionSchema, sessionDto } from '../schemas.js';

/** The largest `limit` of GET /v1/sessions (the console asks for a page of this size at most). */
export const MAX_LIMIT = 10_000;

export function sessionRoutes(deps: SignalingDeps): FastifyPluginAsyncZod {
  const now = deps.now ?? Date.now;
  const tags = ['admin: sessions'];
  const { relaySessions: list, closeSessions: close } = deps;
  const nodeId = deps.relays?.nodeId ?? null;
  return async (app) => {
    if (list !== undefined) {
      app.get('/v1/sessions', {
        schema: {
          summary: 'List the live relay sessions',
          description: 'Byte and packet counters are application payload, read when the request is answered.',
          tags,
          querystring: z.object({
            account: z.string().min(1).max(256).optional().describe('Only the sessions of this account (account id or user name).'),
            limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional().describe(`At most this many sessions, the oldest first (1 to ${MAX_LIMIT}); all when absent.`),
          }),
          response: {
            200: z.object({
              at: z.string().describe('When the counters were read (ISO 8601, UTC): rates between two answers divide by the difference of `at`.'),
              node_id: z.string().nullable().describe('The node that answered (cluster.node_id): sessions are those of this node; ids are unique on it while it runs.'),
              sessions: z.array(SessionSchema),
              total: z.int().nonnegative().describe('Sessions matching the filter, also those left out by `limit`.'),
            }),
            ...errors(400),
          },
        },
      }, async (request) => {
        const { account, limit } = request.query;
        const at = now();
        const matching = list()
          .filter((s) => account === undefined || s.account === account)
          .sort((a, b) => a.id - b.id);
        const sessions = (limit === undefined ? matching : matching.slice(0, limit)).map((s) => sessionDto(s, at));
        return { at: new Date(at).toISOString(), node_id: nodeId, sessions, total: matching.length };
      });
    }

    if (close !== undefined) {
      app.delete('/v1/sessions/:id', {
        schema: {
          summary: 'Close a live relay session',
          description: 'The relayed ports are freed; a TCP or TLS client\'s connection is closed, a UDP client\'s next request is answered 437. The credentials stay valid (see POST /v1/accounts/{id}/revoke). Ids are per node and start again when a node restarts: give `node`, `account` and `started_at` as listed to close that session only (409 wrong_node when another node answers, 409 conflict when its session with that id is another one; nothing is closed).',
          tags,
          params: SessionParams,
          querystring: z.object({
            node: z.string().min(1).max(256).optional().describe('The node_id the session was listed on: 409 wrong_node when another node answers.'),
            account: z.string().min(1).max(256).optional().describe('The session\'s account as listed: 409 when session {id} is another account\'s.'),
            started_at: z
              .string()
              .refine((v) => !Number.isNaN(Date.parse(v)), { error: 'started_at must be an ISO 8601 time as GET /v1/sessions lists it' })
              .optional()
              .describe('The session\'s started_at as listed: 409 when session {id} started at another time (another session since a restart).'),
          }),
          response: { 204: NoContent, ...errors(400, 404, 409) },
        },
      }, async (request, reply) => {
        const id = Number(request.params.id);
        const { node, account, started_at: startedAt } = request.query;
        if (node !== undefined && node !== nodeId) {
          throw new ApiError(409, 'wrong_node', `this is node ${nodeId ?? '(unnamed)'}, not ${node}: close session ${id} of ${node} there`);
        }
        const startedMs = startedAt === undefined ? undefined : Date.parse(startedAt);
        const same = (s: RelaySession) => s.id === id && (account === undefined || s.account === account) && (startedMs === undefined || s.startedAt === startedMs);
        if (close(same) === 0) {
          if (list?.().some((s) => s.id === id) === true) {
            throw new ApiError(409, 'conflict', `session ${request.params.id} is another session now (not the one of ${account ?? 'that account'} started at ${startedAt ?? 'that time'})`);
          }
          throw new ApiError(404, 'not_found', `no live session ${request.params.id}`);
        }
        return reply.code(204).send();
      });

      app.delete('/v1/accounts/:id/sessions', {
        schema: {
          summary: 'Close every live relay session of an account',
          description: 'Works for any account name the relay bills to (account ids, static users, REST credential names); {closed: 0} when there is none. Credentials stay valid (see POST /v1/accounts/{id}/revoke).',
          tags,
          params: AccountParams,
          response: {
            200: z.object({ closed: z.int().nonnegative().describe('Live sessions closed.') }),
            ...errors(400),
          },
        },
      }, async (request) => {
        const account = request.params.id;
        return { closed: close((s) => s.account === account) };
      });
    }
  };
}
