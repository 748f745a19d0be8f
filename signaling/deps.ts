/**
 * What the signaling HTTP app is built from (the options of signalingPlugin); passed in by the
 * composition root (app/ferry.ts).
 */
import type { Logger } from 'pino';
import type { AccountService } from '../src/accounts/service.js';
import type { IceServerIssuer } from '../src/credentials/ice-servers.js';
import type { SignalTokens } from '../src/credentials/signal-token.js';
import type { UsageQuery } from '../src/metering/query.js';
import type { RelayEntry } from '../src/cluster/types.js';
import type { RelayTarget } from '../src/credentials/ice-servers.js';
import type { HttpTimeouts } from './timeouts.js';
import type { SignalLimits } from './ws/limits.js';
import type { SignalRouter } from '../src/signaling/router.js';
import type { LimitSettings } from '../src/limits/limiter.js';
import type { Timeframe } from '../src/metering/types.js';
import type { MetricsSnapshot } from '../src/metrics/index.js';

export type { UsageQuery } from '../src/metering/query.js';

export interface SignalingDeps {
  readonly accounts: AccountService;
  readonly iceServers: IceServerIssuer;
  /** Verifies against `accounts.directory` (an account's status is checked there, not again here). */
  readonly tokens: SignalTokens;
  /** Bearer token of the admin API; undefined: the admin API answers 503. */
  readonly adminToken?: string;
  /**
   * Origins allowed to call from browser pages (signaling.cors_origins; ["*"]: every origin): CORS
   * on the account routes a browser calls and /sdk/*, and the only Origins the signaling WebSocket
   * accepts. Read per request (a getter may change it). Empty or absent: no CORS, no Origin check.
   */
  readonly corsOrigins?: readonly string[];
  /** Where request and error logs go; silent when absent. */
  readonly log?: Logger;
  /**
   * Live relay sessions (TurnServer.sessions), listed by the admin sessions API. Absent: no
   * GET /v1/sessions route.
   */
  readonly relaySessions?: () => readonly RelaySession[];
  /**
   * Closes the live sessions matching `predicate` (TurnServer.closeAllocations with reason
   * 'admin': a TCP/TLS client's connection ends and the relayed ports are freed); returns how many.
   * Absent: no DELETE /v1/sessions/{id} and DELETE /v1/accounts/{id}/sessions routes.
   */
  readonly closeSessions?: (predicate: (session: RelaySession) => boolean) => number;
  /**
   * The usage ledger (with the not yet written part) for GET /v1/usage and /v1/usage/export.csv.
   * Absent: no such routes.
   */
  readonly usage?: UsageQuery;
  /** True while the account is over its (or the global) soft usage limit: /v1/ice-servers answers 429. */
  readonly usageLimited?: (accountId: string) => boolean;
  /**
   * Seconds until the account may make new allocations again (rate_limits.allocations_per_account
   * reached this minute), or 0: /v1/ice-servers answers 429 with Retry-After meanwhile.
   */
  readonly allocationRateLimited?: (accountId: string) => number;
  /**
   * Clock (ms since the epoch) for session ages and the signaling socket (queue expiry, rate
   * limits, token expiry); Date.now when absent. Give `tokens` the same clock.
   */
  readonly now?: () => number;
  /** Time limits of the HTTP server (headers, whole request, keep-alive, idle); DEFAULT_HTTP_TIMEOUTS when absent. */
  readonly httpTimeouts?: Partial<HttpTimeouts>;
  /** Limits of the signaling WebSocket over DEFAULT_SIGNAL_LIMITS (signaling/ws/limits.ts). */
  readonly signalLimits?: Partial<SignalLimits>;
  /**
   * A fleet: messages to signaling peers on other nodes (src/store/redis/signal-router.ts). Absent:
   * one node.
   */
  readonly signalRouter?: SignalRouter;
  /** GET /metrics (Prometheus text). Absent: no /metrics route. */
  readonly metrics?: MetricsEndpoint;
  /**
   * The relay registry: GET /v1/relays, and the relays /v1/ice-servers hands out in a fleet.
   * Absent: no /v1/relays route, /v1/ice-servers hands out this node's URLs.
   */
  readonly relays?: RelayFleet;
  /** What /healthz reports as degraded (e.g. Redis unreachable); absent or empty: ok. */
  readonly healthProblems?: () => readonly string[];
  /** This node's figures and the limit settings for GET /v1/overview (with `usage`). Absent: no such route. */
  readonly overview?: OverviewSource;
}

/** What GET /v1/overview reads besides the accounts, the usage and the registry. */
export interface OverviewSource {
  /** When this node started (ms since the epoch): its counters count from then. */
  readonly startedAt: number;
  /** This node now (FerryMetrics.snapshot). */
  snapshot(): MetricsSnapshot;
  /** The current usage timeframe. */
  timeframe(): Timeframe;
  /** network_usage's soft and hard shares and global limit, as the limiter applies them now. */
  limits(): Pick<LimitSettings, 'softLimit' | 'hardLimit' | 'globalLimitBytes'>;
}

/** What signaling reads of the relay registry (src/cluster/); the composition root provides it. */
export interface RelayFleet {
  /** This node's id in the registry. */
  readonly nodeId: string;
  /** The live entries read from the registry now; null while its storage is unreachable. */
  read(): Promise<RelayEntry[] | null>;
  /**
   * The relays /v1/ice-servers hands out, chosen by load (`region` preferred), from the node's
   * in-memory view; undefined: one node, its own URLs as always; empty: no live relay known.
   */
  pick(region: string | undefined): readonly RelayTarget[] | undefined;
}

/** What GET /metrics serves; src/metrics/ provides it. */
export interface MetricsEndpoint {
  /** Bearer token required when set (read per request, so a getter may change it). */
  readonly token?: string;
  render(): Promise<{ contentType: string; body: string }>;
  /** Called once the signaling hub exists, so connection counts can be read at scrape time. */
  observeSignaling?(stats: () => { readonly peers: number }): void;
}

/**
 * What the sessions API reads of a live allocation. Structurally a subset of turn/'s
 * AllocationInfo (signaling/ does not import turn/), so `() => turn.sessions()` fits as is.
 */
export interface RelaySession {
  readonly id: number;
  readonly account: string;
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly relayAddresses: readonly { readonly address: string; readonly port: number; readonly family: 4 | 6 }[];
  /** ms since the epoch. */
  readonly startedAt: number;
  readonly bytesToPeer: number;
  readonly packetsToPeer: number;
  readonly bytesToClient: number;
  readonly packetsToClient: number;
  /** Payload dropped by bandwidth caps (max_bps), each way. */
  readonly cappedBytesToPeer: number;
  readonly cappedPacketsToPeer: number;
  readonly cappedBytesToClient: number;
  readonly cappedPacketsToClient: number;
  /** Payload dropped because it could not be sent (empty, too big to frame or send, backlog, closed), each way. */
  readonly droppedBytesToPeer: number;
  readonly droppedPacketsToPeer: number;
  readonly droppedBytesToClient: number;
  readonly droppedPacketsToClient: number;
}
