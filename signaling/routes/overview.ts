/**
 * Admin: GET /v1/overview, what an operator looks at first (the console's overview page polls it):
 * this node's live allocations and the payload it relayed since its start (a client derives the
 * rate from two answers), the webhook backlog and signaling peers, the usage of the current
 * timeframe across the accounts (the ledger plus what is not written yet; fleet-wide on Redis),
 * the accounts near or over their limit, and the relays of the fleet with their load. One answer
 * reads the account list and the timeframe's usage once: at most MAX_LISTED accounts are listed.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { accountsAtLimit, NEAR_SOFT_LIMIT } from '../../src/limits/account-states.js';
import { limitState } from '../../src/limits/limiter.js';
import type { OverviewSource, SignalingDeps, UsageQuery } from '../deps.js';
import { errors } from '../schemas.js';
import { RelaySchema, relayDto } from './relays.js';

/**
 * Answers within this long of each other share one reading of the stores: however many consoles
 * poll, the accounts and the timeframe's usage are read at most once per interval (this node's
 * figures, the relays and the problems are read for every answer).
 */
export const OVERVIEW_REUSE_MS = 1_000;
/**
 * A slow reading (many accounts: the stores answer on this thread) is shared for this many times
 * its own duration, so the overview takes at most about a tenth of the thread whatever the size.
 */
export const OVERVIEW_COST_FACTOR = 10;

/** Accounts listed at most under `accounts.at_limit` (most used first); `total` counts them all. */
export const MAX_LISTED = 100;

const count = (what: string) => z.int().nonnegative().describe(what);
const iso = (what: string) => z.string().describe(`${what} (ISO 8601, UTC)`);

const AtLimitSchema = z.object({
  id: z.string(),
  name: z.string(),
  disabled: z.boolean(),
  limit: count('The account\'s limit, bytes per timeframe.'),
  used_bytes: count('Bytes relayed this timeframe, both ways.'),
  used: z.number().nonnegative().describe('used_bytes / limit (1 = the whole limit).'),
  state: z.enum(['near', 'soft_limit', 'hard_limit']).describe(`soft_limit / hard_limit as the limiter decides them; near: at least ${NEAR_SOFT_LIMIT} of the way to the soft threshold.`),
});

export const OverviewSchema = z.object({
  at: iso('When the answer was made'),
  node_id: z.string().nullable().describe('The node that answered (cluster.node_id); null without a relay registry.'),
  node: z.object({
    started_at: iso('When this node started: counters start from zero then (compare readings of the same node and start only)'),
    allocations: count('Live TURN allocations on this node.'),
    bytes_to_peer: count('Payload bytes this node relayed client→peer since it started.'),
    bytes_to_client: count('Payload bytes this node relayed peer→client since it started.'),
    packets_to_peer: count('Packets relayed client→peer since the start.'),
    packets_to_client: count('Packets relayed peer→client since the start.'),
    webhook_backlog: count('Webhook events stored and not yet delivered (as ferry_webhook_backlog).'),
    signaling_connections: count('Signaling WebSocket peers connected to this node.'),
  }),
  timeframe: z.object({ start: iso('Start of the current usage timeframe'), end: iso('Its end') }),
  usage: z.object({
    bytes_to_peer: count('Relayed this timeframe, every account, client→peer.'),
    bytes_to_client: count('Relayed this timeframe, every account, peer→client.'),
    total_bytes: count('Both ways.'),
    accounts: count('Accounts (and other billed names) with usage this timeframe.'),
  }),
  limits: z.object({
    soft_limit: z.number().describe('network_usage.soft_limit: share of a limit from which new allocations are refused.'),
    hard_limit: z.number().describe('network_usage.hard_limit: share from which live allocations are closed.'),
    global: z
      .object({ limit_bytes: count('network_usage.global_limit'), used: z.number().nonnegative(), state: z.enum(['ok', 'soft_limit', 'hard_limit']) })
      .nullable()
      .describe('The global limit and its state; null: none configured.'),
  }),
  accounts: z.object({
    total: count('Accounts.'),
    with_limit: count('Accounts with a limit.'),
    at_limit_total: count('Accounts near or over their limit (all of them; at most 100 are listed).'),
    at_limit: z.array(AtLimitSchema).describe('Accounts near or over their limit, most used first.'),
  }),
  relays: z.array(RelaySchema).nullable().describe('The live relays of the fleet (as GET /v1/relays); null while the registry is unreachable or absent.'),
  problems: z.array(z.string()).describe('What /healthz reports as degraded; empty when all is well.'),
});

type Overview = z.output<typeof OverviewSchema>;
/** What the stores give the overview: shared between requests (see shared()). */
type LedgerPart = Pick<Overview, 'timeframe' | 'usage' | 'limits' | 'accounts'>;

interface Reading {
  readonly answer: Promise<LedgerPart>;
  /** When it was done (the route's clock); undefined while it is being read. */
  doneAt: number | undefined;
  reuseMs: number;
}

export function overviewRoutes(deps: SignalingDeps, source: OverviewSource, ledger: UsageQuery): FastifyPluginAsyncZod {
  const now = deps.now ?? Date.now;
  let last: Reading | undefined;
  return async (app) => {
    app.get('/v1/overview', {
      schema: {
        summary: 'What the relay is doing now, in one answer',
        description: 'This node\'s live allocations and relayed totals since its start (poll it and divide the difference by the time between answers for bytes per second), the webhook backlog, the current timeframe\'s usage across accounts, the accounts near or over their limit, and the fleet\'s relays with their load. 503 (storage_unavailable) while the storage is unreachable.',
        tags: ['admin: overview'],
        response: { 200: OverviewSchema, ...errors(503) },
      },
    }, async () => {
      // This node's figures and `at` first and on every request: a client divides the counters'
      // difference by the difference of `at`, which a wait for the stores must not skew.
      const at = now();
      const snap = source.snapshot();
      const [ledgerPart, relays] = await Promise.all([
        shared(at),
        deps.relays ? deps.relays.read().catch(() => null) : Promise.resolve(null),
      ]);
      const self = deps.relays?.nodeId ?? null;
      return {
        at: new Date(at).toISOString(),
        node_id: self,
        node: {
          started_at: new Date(source.startedAt).toISOString(),
          allocations: snap.allocations,
          bytes_to_peer: snap.relayed.bytesToPeer,
          bytes_to_client: snap.relayed.bytesToClient,
          packets_to_peer: snap.relayed.packetsToPeer,
          packets_to_client: snap.relayed.packetsToClient,
          webhook_backlog: snap.webhookBacklog,
          signaling_connections: snap.signalingPeers,
        },
        ...ledgerPart,
        relays: relays === null ? null : [...relays].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)).map((e) => relayDto(e, self ?? '')),
        problems: [...(deps.healthProblems?.() ?? [])],
      };
    });
  };

  /**
   * The part read from the stores (accounts, the timeframe's usage), shared by every request
   * while it is being read and for reuseMs after: OVERVIEW_REUSE_MS, or OVERVIEW_COST_FACTOR
   * times what it took when that is longer. A failed reading is not kept.
   */
  function shared(at: number): Promise<LedgerPart> {
    const current = last;
    if (current !== undefined && (current.doneAt === undefined || (at >= current.doneAt && at - current.doneAt < current.reuseMs))) return current.answer;
    const started = performance.now();
    const reading: Reading = { answer: readLedger(), doneAt: undefined, reuseMs: OVERVIEW_REUSE_MS };
    last = reading;
    reading.answer.then(
      () => {
        reading.doneAt = now();
        reading.reuseMs = Math.max(OVERVIEW_REUSE_MS, OVERVIEW_COST_FACTOR * (performance.now() - started));
      },
      () => {
        if (last === reading) last = undefined;
      },
    );
    return reading.answer;
  }

  async function readLedger(): Promise<LedgerPart> {
    const tf = source.timeframe();
    const settings = source.limits();
    const [accounts, rows] = await Promise.all([
      deps.accounts.listAccounts(),
      ledger.usage({ granularity: 'timeframe', from: tf.start, to: tf.start + 1 }),
    ]);
    const used = new Map<string, number>();
    let toPeer = 0;
    let toClient = 0;
    for (const r of rows) {
      used.set(r.account, (used.get(r.account) ?? 0) + r.bytesToPeer + r.bytesToClient);
      toPeer += r.bytesToPeer;
      toClient += r.bytesToClient;
    }
    const { states, total } = accountsAtLimit(accounts, used, settings, MAX_LISTED);
    const globalLimit = settings.globalLimitBytes;
    return {
      timeframe: { start: new Date(tf.start).toISOString(), end: new Date(tf.start + tf.lengthMs).toISOString() },
      usage: { bytes_to_peer: toPeer, bytes_to_client: toClient, total_bytes: toPeer + toClient, accounts: used.size },
      limits: {
        soft_limit: settings.softLimit,
        hard_limit: settings.hardLimit,
        global:
          globalLimit === undefined ? null : {
            limit_bytes: globalLimit,
            used: globalLimit === 0 ? 1 : (toPeer + toClient) / globalLimit,
            state: limitState(toPeer + toClient, globalLimit, settings),
          },
      },
      accounts: {
        total: accounts.length,
        with_limit: accounts.filter((a) => a.limitBytes !== undefined && a.limitBytes !== null).length,
        at_limit_total: total,
        at_limit: states.map((s) => ({ id: s.id, name: s.name, disabled: s.disabled, limit: s.limit, used_bytes: s.usedBytes, used: s.used, state: s.state })),
      },
    };
  }
}
