/**
 * Prometheus metrics (prom-client, a registry of our own). Labels are bounded sets only:
 * transport, direction, close reason, peer refusal reason, limit event, rate-limit kind — never an
 * account, user or peer id. Auth failures have one reason only: which credential check failed would
 * tell a scraper whether a user name exists (the detail is in the engine's debug log). Relayed bytes
 * and packets cost nothing per packet: at scrape time they are the sum
 * of the closed allocations' totals (kept from allocationClosed) and the live allocations' counters.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SESSION_COUNTERS, type AllocationInfo, type AllocationRefusal, type CloseReason, type NativeStats, type PeerRefusal, type TransportName, type TurnEvents } from '../../turn/index.js';
import { remove } from '../subscriptions.js';

const TRANSPORTS: readonly TransportName[] = ['udp', 'tcp', 'tls'];
export const LIMIT_EVENTS = ['soft_limit', 'hard_limit', 'reset'] as const;
export type LimitEvent = (typeof LIMIT_EVENTS)[number];
const PEER_REFUSALS: readonly PeerRefusal[] = ['denied', 'special-purpose', 'own-address', 'unspecified', 'not-relay-port'];
const REFUSAL_REASONS = ['per-ip', 'total', 'unallocated'] as const;
/** The one reason of ferry_auth_failures_total: unknown user, bad password, expired, revoked alike. */
export const AUTH_FAILURE_REASON = 'credentials';
const RATE_LIMIT_KINDS = ['challenge', 'auth-failure', 'allocations-account', 'allocations-ip'] as const;
export type RateLimitedKind = (typeof RATE_LIMIT_KINDS)[number];
const ALLOCATION_REFUSALS: readonly AllocationRefusal[] = ['usage-limit', 'quota', 'rate-account', 'rate-ip', 'unavailable'];
/** ferry_native_dropped_total's reasons and the NativeStats field each reads. */
const NATIVE_DROPS: readonly (readonly [string, (n: NativeStats) => number])[] = [
  ['queue-full', (n) => n.upDropped],
  ['no-allocation', (n) => n.noAllocation],
  ['malformed', (n) => n.malformed],
];

const COUNTERS = SESSION_COUNTERS;
type Totals = Record<(typeof COUNTERS)[number], number>;
const zero = (): Totals => Object.fromEntries(COUNTERS.map((k) => [k, 0])) as Totals;
const addTotals = (into: Totals, from: Totals): void => {
  for (const k of COUNTERS) into[k] += from[k];
};

export interface MetricsSources {
  /** Live allocations (TurnServer.live: live views, read at once at scrape time). */
  sessions?: () => Iterable<AllocationInfo>;
  /** Undelivered webhook events. */
  webhookBacklog?: () => number;
  /** Signaling hub: connected WebSocket peers. */
  signalingPeers?: () => number;
  /** TurnServer.relayOnlyDrops: client packets dropped toward a relay address's non-relayed port. */
  relayOnlyDrops?: () => number;
  /** TurnServer.faults: exceptions caught in the engine's socket callbacks. */
  engineFaults?: () => number;
  /** The data plane that relays UDP clients and its relay threads (1 for the TypeScript path). */
  dataPlane?: () => { readonly plane: 'native' | 'js'; readonly threads: number };
  /** What the native data plane's threads counted outside any allocation; null on the TypeScript path. */
  nativeStats?: () => NativeStats | null;
}

/** FerryMetrics.snapshot(): this node's figures now. */
export interface MetricsSnapshot {
  readonly allocations: number;
  /** Payload relayed since the start, each way (closed and live allocations). */
  readonly relayed: Readonly<Totals>;
  readonly webhookBacklog: number;
  readonly signalingPeers: number;
}

export interface FerryMetricsOptions {
  /** Node process metrics (CPU, memory, event loop, GC); default true. */
  readonly defaultMetrics?: boolean;
}

export class FerryMetrics {
  readonly registry = new Registry();
  readonly #sources: MetricsSources[] = [];
  readonly #closed = new Map<TransportName, Totals>(TRANSPORTS.map((t) => [t, zero()]));
  readonly #allocationsTotal: Counter<'transport'>;
  readonly #sessionsClosed: Counter<'reason'>;
  readonly #authFailures: Counter<'reason'>;
  readonly #rateLimited: Record<RateLimitedKind, { inc(value?: number): void }>;
  readonly #allocationsRefused: Counter<'reason'>;
  readonly #limitEvents: Counter<'event'>;
  readonly #peerRefused: Counter<'reason'>;
  readonly #connectionsRefused: Counter<'reason'>;

  constructor(o: FerryMetricsOptions = {}) {
    const registers = [this.registry];
    // Event loop delay sampled every 100 ms (prom-client's default, 10 ms, wakes an idle relay 100
    // times a second); ten samples a second are plenty between two scrapes.
    if (o.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    // Scrape-time collection reads `self`, as prom-client calls collect() with `this` = the metric.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    new Gauge({
      name: 'ferry_allocations_active',
      help: 'TURN allocations currently held, by client transport.',
      labelNames: ['transport'] as const,
      registers,
      collect() {
        const counts = new Map<TransportName, number>(TRANSPORTS.map((t) => [t, 0]));
        for (const s of self.#sessions()) counts.set(s.transport, (counts.get(s.transport) ?? 0) + 1);
        for (const [transport, n] of counts) this.set({ transport }, n);
      },
    });
    this.#allocationsTotal = new Counter({
      name: 'ferry_allocations_total',
      help: 'TURN allocations created, by client transport.',
      labelNames: ['transport'] as const,
      registers,
    });
    for (const transport of TRANSPORTS) this.#allocationsTotal.inc({ transport }, 0);
    this.#sessionsClosed = new Counter({
      name: 'ferry_sessions_closed_total',
      help: 'TURN allocations closed, by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    const relayed = (name: string, help: string, pick: (t: Totals) => [toPeer: number, toClient: number]) =>
      new Counter({
        name,
        help,
        labelNames: ['transport', 'direction'] as const,
        registers,
        collect() {
          const sums = new Map<TransportName, Totals>(TRANSPORTS.map((t) => [t, { ...self.#closed.get(t)! }]));
          for (const s of self.#sessions()) addTotals(sums.get(s.transport)!, s);
          this.reset();
          for (const [transport, t] of sums) {
            const [toPeer, toClient] = pick(t);
            this.inc({ transport, direction: 'to_peer' }, toPeer);
            this.inc({ transport, direction: 'to_client' }, toClient);
          }
        },
      });
    relayed('ferry_relayed_bytes_total', 'Application payload bytes relayed, by client transport and direction (to_peer: client→peer).', (t) => [
      t.bytesToPeer,
      t.bytesToClient,
    ]);
    relayed('ferry_relayed_packets_total', 'Application payload packets relayed, by client transport and direction.', (t) => [
      t.packetsToPeer,
      t.packetsToClient,
    ]);
    relayed('ferry_capped_bytes_total', 'Application payload bytes dropped by bandwidth caps (max_bps), by client transport and direction.', (t) => [
      t.cappedBytesToPeer,
      t.cappedBytesToClient,
    ]);
    relayed('ferry_capped_packets_total', 'Application payload packets dropped by bandwidth caps (max_bps), by client transport and direction.', (t) => [
      t.cappedPacketsToPeer,
      t.cappedPacketsToClient,
    ]);
    relayed(
      'ferry_dropped_bytes_total',
      'Application payload bytes that could not be sent (empty, too big to frame or for one datagram, past a stream client\'s backlog), by client transport and direction.',
      (t) => [t.droppedBytesToPeer, t.droppedBytesToClient],
    );
    relayed('ferry_dropped_packets_total', 'Application payload packets that could not be sent, by client transport and direction.', (t) => [
      t.droppedPacketsToPeer,
      t.droppedPacketsToClient,
    ]);
    this.#authFailures = new Counter({
      name: 'ferry_auth_failures_total',
      help: `TURN requests refused for their credentials (unknown user, wrong password, expired or revoked credential alike: reason="${AUTH_FAILURE_REASON}").`,
      labelNames: ['reason'] as const,
      registers,
    });
    this.#peerRefused = new Counter({
      name: 'ferry_peer_refused_total',
      help: 'CreatePermission and ChannelBind requests refused (403) for their peer address, by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of PEER_REFUSALS) this.#peerRefused.inc({ reason }, 0);
    /** A counter the engine keeps itself, read at scrape time (0 until its source is set). */
    const engineCounter = (name: string, help: string, read: () => number | undefined): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read() ?? 0);
        },
      });
    };
    engineCounter(
      'ferry_relay_only_dropped_packets_total',
      'Client packets to one of the relay\'s own addresses dropped because no live allocation is relayed on that port.',
      () => self.#sum('relayOnlyDrops'),
    );
    engineCounter(
      'ferry_engine_faults_total',
      'Exceptions caught in the TURN engine\'s socket callbacks (the packet or connection was dropped); any is a bug worth reporting.',
      () => self.#sum('engineFaults'),
    );
    this.#authFailures.inc({ reason: AUTH_FAILURE_REASON }, 0);
    const rateLimited = new Counter({
      name: 'ferry_rate_limited_total',
      help: 'Requests refused for a rate limit: kind="challenge" (401/438 answers left out, rate_limits.challenges_per_ip), "auth-failure" (signed requests left unanswered, rate_limits.auth_failures_per_ip; fleet-wide in a fleet), "allocations-account" (Allocate answered 486 or POST /v1/ice-servers 429, rate_limits.allocations_per_account) or "allocations-ip" (Allocate answered 486, rate_limits.allocations_per_ip).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.#rateLimited = Object.fromEntries(RATE_LIMIT_KINDS.map((kind) => [kind, rateLimited.labels({ kind })])) as Record<RateLimitedKind, { inc(value?: number): void }>;
    for (const kind of RATE_LIMIT_KINDS) this.#rateLimited[kind].inc(0);
    this.#allocationsRefused = new Counter({
      name: 'ferry_allocations_refused_total',
      help: 'Allocate requests refused by the allocation gate, by reason: usage-limit (soft usage limit), quota (quotas.allocations_per_user across the fleet), rate-account / rate-ip (rate_limits.allocations_per_account / allocations_per_ip), all answered 486; unavailable (cluster mode with Redis unreachable), answered 500.',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of ALLOCATION_REFUSALS) this.#allocationsRefused.inc({ reason }, 0);
    this.#limitEvents = new Counter({
      name: 'ferry_limit_events_total',
      help: 'Usage limit events (soft limit reached, hard limit reached, reset).',
      labelNames: ['event'] as const,
      registers,
    });
    this.#connectionsRefused = new Counter({
      name: 'ferry_connections_refused_total',
      help: 'TCP/TLS client connections closed at accept, by cap reached (per-ip: quotas.connections_per_ip, total: quotas.total_connections, unallocated: too many connections still without an allocation).',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of REFUSAL_REASONS) this.#connectionsRefused.inc({ reason }, 0);
    // The native plane's own counts, summed over the sources that run one.
    new Counter({
      name: 'ferry_native_datagrams_up_total',
      help: 'Datagrams the native data plane\'s threads handed up to the JS thread (STUN requests, anything not relayed natively); 0 on the TypeScript path.',
      registers,
      collect() {
        this.reset();
        this.inc(self.#native().reduce((sum, n) => sum + n.up, 0));
      },
    });
    new Counter({
      name: 'ferry_native_dropped_total',
      help: 'Datagrams the native data plane\'s threads dropped outside any allocation, by reason: queue-full (the queue to the JS thread was full), no-allocation (ChannelData or Send from an address with no allocation), malformed (too short or of no known kind); 0 on the TypeScript path.',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        this.reset();
        const all = self.#native();
        for (const [reason, read] of NATIVE_DROPS) this.inc({ reason }, all.reduce((sum, n) => sum + read(n), 0));
      },
    });
    // An info metric (value 1, the facts in the labels): one series per process, set at start.
    new Gauge({
      name: 'ferry_data_plane_info',
      help: 'The data plane that relays UDP clients (plane="native": the native addon, on threads="N" relay threads; plane="js": the TypeScript path, on the JS thread, threads="1"). Set by data_plane and relay_threads at start.',
      labelNames: ['plane', 'threads'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of self.#sources) {
          const d = s.dataPlane?.();
          if (d !== undefined) this.set({ plane: d.plane, threads: String(d.threads) }, 1);
        }
      },
    });
    new Gauge({
      name: 'ferry_webhook_backlog',
      help: 'Webhook events stored and not yet delivered.',
      registers,
      collect() {
        this.set(self.#sum('webhookBacklog'));
      },
    });
    new Gauge({
      name: 'ferry_signaling_connections',
      help: 'Signaling WebSocket peers connected.',
      registers,
      collect() {
        this.set(self.#sum('signalingPeers'));
      },
    });
  }

  /**
   * Adds what the gauges and engine counters read at scrape time (the relay's live allocations,
   * the webhook backlog, ...): each figure is the sum over the sources that give it. Returns the
   * function that removes them, called by the part that observed when it stops.
   */
  observe(sources: MetricsSources): () => void {
    this.#sources.push(sources);
    return () => remove(this.#sources, sources);
  }

  *#sessions(): Generator<AllocationInfo> {
    for (const s of this.#sources) if (s.sessions) yield* s.sessions();
  }

  /** The native planes' counts (one per relay that runs one). */
  #native(): NativeStats[] {
    return this.#sources.flatMap((s) => {
      const n = s.nativeStats?.() ?? null;
      return n === null ? [] : [n];
    });
  }

  #sum(key: 'webhookBacklog' | 'signalingPeers' | 'relayOnlyDrops' | 'engineFaults'): number {
    let n = 0;
    for (const s of this.#sources) n += s[key]?.() ?? 0;
    return n;
  }

  /**
   * What GET /v1/overview reports of this node, read the way a scrape reads it: live allocations,
   * relayed payload since the start (closed allocations' totals plus the live counters), the
   * webhook backlog and the signaling peers.
   */
  snapshot(): MetricsSnapshot {
    const relayed = zero();
    for (const t of this.#closed.values()) addTotals(relayed, t);
    let allocations = 0;
    for (const s of this.#sessions()) {
      allocations++;
      addTotals(relayed, s);
    }
    return { allocations, relayed, webhookBacklog: this.#sum('webhookBacklog'), signalingPeers: this.#sum('signalingPeers') };
  }

  /** Counts a request refused for a rate limit outside the engine's own (allocations per account or IP, HTTP 429). */
  rateLimited(kind: RateLimitedKind): void {
    this.#rateLimited[kind].inc();
  }

  /** Counts an Allocate the allocation gate refused. */
  allocationRefused(reason: AllocationRefusal): void {
    this.#allocationsRefused.inc({ reason });
  }

  /** Counts a usage limit event; for the metering and limits work. */
  limitEvent(event: LimitEvent): void {
    this.#limitEvents.inc({ event });
  }

  /** Listeners feeding the allocation counters; compose them with the engine's other listeners. */
  turnEvents(): TurnEvents {
    return {
      allocationCreated: (info) => this.#allocationsTotal.inc({ transport: info.transport }),
      allocationClosed: (info, reason) => {
        const t = this.#closed.get(info.transport);
        if (t) addTotals(t, info);
        this.#sessionsClosed.inc({ reason });
      },
      // One reason for every credential failure: the engine's detail would enumerate user names.
      authFailure: () => this.#authFailures.inc({ reason: AUTH_FAILURE_REASON }),
      rateLimited: (kind) => this.#rateLimited[kind]?.inc(),
      peerRefused: (reason) => this.#peerRefused.inc({ reason: PEER_REFUSALS.includes(reason) ? reason : 'other' }),
      connectionRefused: (reason) => this.#connectionsRefused.inc({ reason }),
    };
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

export type { CloseReason };
