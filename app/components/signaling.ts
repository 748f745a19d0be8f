/**
 * Signaling: the HTTP API and the WebSocket (signaling/), listening on signaling.address. All of
 * its wiring is here. It listens once the relay is bound (the URLs it hands out work) and closes
 * first on stop, within CLOSE_GRACE_MS, so a client cannot hold up the relay's stop and the final
 * usage write. The admin token, the CORS origins and the minting secret are read per request, so a
 * reload changes them for the next one (open WebSockets stay).
 */
import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../../src/accounts/service.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { formatHostPort } from '../../src/config/net.js';
import { IceServerIssuer } from '../../src/credentials/ice-servers.js';
import { SignalTokens } from '../../src/credentials/signal-token.js';
import type { UsageLimiter } from '../../src/limits/limiter.js';
import type { Logger } from '../../src/logger.js';
import type { UsageAggregator } from '../../src/metering/aggregator.js';
import { liveUsage } from '../../src/metering/query.js';
import type { UsageStore } from '../../src/metering/types.js';
import type { FerryMetrics } from '../../src/metrics/index.js';
import { buildSignalingApp } from '../../signaling/app.js';
import { RedisSignalRouter } from '../../src/store/redis/signal-router.js';
import { clusterIdentity, type ClusterIdentity } from '../cluster/identity.js';
import type { ClusterComponent } from './cluster.js';
import type { Component } from './component.js';
import { listenError } from './listen-error.js';
import type { TurnComponent } from './turn.js';

/**
 * How long requests in flight get to finish on stop; then their connections are cut. A request
 * that trickles its body would otherwise hold the stop for as long as it keeps sending.
 */
export const CLOSE_GRACE_MS = 2_000;

/** signaling.address and signaling.public_host (URLs handed out) need a restart. */
export const SIGNALING_KEYS = ['signaling.admin_token', 'signaling.cors_origins'] as const;

export interface SignalingComponentDeps {
  readonly config: LoadedConfig;
  readonly accounts: AccountService;
  /** Its sessions for the admin API; its first REST secret mints credentials and tokens. */
  readonly relay: TurnComponent;
  readonly usage: UsageStore;
  readonly aggregator: UsageAggregator;
  readonly limiter: UsageLimiter;
  /** Seconds until an account over rate_limits.allocations_per_account may allocate again, or 0 (POST /v1/ice-servers answers 429). */
  readonly allocationRateLimited?: (accountId: string) => number;
  readonly metrics: FerryMetrics;
  /** The relay registry: /v1/relays, the relays /v1/ice-servers hands out, /healthz's problems. */
  readonly registry?: ClusterComponent;
  readonly log: Logger;
  /** The node in its fleet (storage on Redis): signaling peers on other nodes are reached. Absent: clusterIdentity(config). */
  readonly cluster?: ClusterIdentity | null;
  /** More of /healthz's problems (the store's connection, the fleet limits'). */
  readonly healthProblems?: () => readonly string[];
}

export class SignalingComponent implements Component {
  readonly name = 'signaling';
  readonly keys = SIGNALING_KEYS;
  readonly #deps: SignalingComponentDeps;
  #adminToken: string | undefined;
  #corsOrigins: readonly string[];
  #app: FastifyInstance | undefined;
  #unobserve: (() => void) | undefined;
  #router: RedisSignalRouter | undefined;
  #address: { readonly address: string; readonly port: number };
  /** When this node's relay counters started (the composition root builds this component at start). */
  readonly #startedAt = Date.now();

  constructor(deps: SignalingComponentDeps) {
    this.#deps = deps;
    this.#adminToken = deps.config.config.signaling.admin_token;
    this.#corsOrigins = deps.config.config.signaling.cors_origins;
    const { host, port } = deps.config.signalingListen;
    this.#address = { address: host, port };
  }

  /** Where the HTTP API and WebSocket listen (port resolved once listening). */
  address(): { readonly address: string; readonly port: number } {
    return this.#address;
  }

  /** Builds the app and listens; logs where. */
  async start(): Promise<void> {
    const { config, accounts, relay, metrics, log } = this.#deps;
    const { signaling } = config.config;
    const mintingSecret = () => relay.mintingSecret();
    const iceServers = new IceServerIssuer({
      secret: mintingSecret,
      turnPort: config.listen.port,
      ...(config.tlsListen ? { tlsPort: config.tlsListen.port } : {}),
      ...(signaling.public_host !== undefined ? { publicHost: signaling.public_host } : {}),
      now: Date.now,
    });
    const tokens = new SignalTokens({ secret: mintingSecret, directory: accounts.directory, now: Date.now });
    const cluster = this.#deps.cluster === undefined ? clusterIdentity(config) : this.#deps.cluster;
    if (cluster !== null) {
      // One command and one subscriber connection to the fleet's Redis for the signaling socket.
      const { redisUrl, nodeId, bootId, heartbeatMs, ttlMs } = cluster;
      this.#router = new RedisSignalRouter({ redisUrl, nodeId, bootId, heartbeatMs, ttlMs, log: log.child({ component: 'signaling-fleet' }) });
      await this.#router.start();
    }
    const self = this;
    const app = buildSignalingApp({
      accounts,
      iceServers,
      tokens,
      // A getter: the admin routes read it per request, so a reload can change the token.
      get adminToken() {
        return self.#adminToken;
      },
      // Read per request too: CORS answers and the WebSocket's Origin check.
      get corsOrigins() {
        return self.#corsOrigins;
      },
      log,
      relaySessions: () => relay.sessions(),
      closeSessions: (predicate) => relay.closeAllocations(predicate, 'admin'),
      usage: liveUsage(this.#deps.usage, this.#deps.aggregator),
      usageLimited: (accountId) => this.#deps.limiter.limited(accountId),
      ...(this.#deps.allocationRateLimited !== undefined ? { allocationRateLimited: this.#deps.allocationRateLimited } : {}),
      ...(this.#router ? { signalRouter: this.#router } : {}),
      ...(this.#deps.registry ? { relays: this.#deps.registry.fleet } : {}),
      // Degraded when any Redis connection a request may need is down: the registry's, the
      // store's, the fleet limits' (Allocate answers "storage unavailable") and the router's.
      healthProblems: () => [
        ...(this.#deps.registry?.registry.problems() ?? []),
        ...(this.#deps.healthProblems?.() ?? []),
        ...(this.#router !== undefined && !this.#router.stats().connected ? ['signaling: Redis unreachable (messages to peers on other nodes fail)'] : []),
      ],
      overview: {
        startedAt: this.#startedAt,
        snapshot: () => metrics.snapshot(),
        timeframe: () => this.#deps.aggregator.timeframe(),
        limits: () => this.#deps.limiter.settings(),
      },
      metrics: {
        // `metrics` (its token) needs a restart: the token of the start.
        ...(config.config.metrics.token !== undefined ? { token: config.config.metrics.token } : {}),
        render: () => metrics.render(),
        observeSignaling: (stats) => {
          this.#unobserve = metrics.observe({ signalingPeers: () => stats().peers });
        },
      },
    });
    this.#app = app;
    const { host, port } = config.signalingListen;
    try {
      await app.listen({ host, port });
    } catch (err) {
      throw listenError('signaling.address', host, port, err);
    }
    const bound = app.server.address();
    if (typeof bound === 'object' && bound !== null) this.#address = { address: bound.address, port: bound.port };
    log.info(
      { transport: 'http', address: this.#address.address, port: this.#address.port },
      `signaling on http://${formatHostPort(this.#address.address, this.#address.port)}`,
    );
    if (signaling.admin_token === undefined) log.info('signaling.admin_token is not set: the admin API (/v1/accounts) answers 503 and the console (/console) cannot sign in');
    else log.info(`operator console on http://${formatHostPort(this.#address.address, this.#address.port)}/console (sign in with signaling.admin_token)`);
    if (config.config.auth_secrets.length === 0) log.info('no auth_secrets: /v1/ice-servers and /v1/signal-tokens answer 503');
  }

  /** Closes the server and its WebSockets; cuts what is still in flight after CLOSE_GRACE_MS. */
  async stop(): Promise<void> {
    this.#unobserve?.();
    const app = this.#app;
    const router = this.#router;
    this.#router = undefined;
    if (app === undefined) {
      await router?.close();
      return;
    }
    const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
    try {
      await app.close();
    } finally {
      clearTimeout(cut);
      await router?.close();
    }
  }

  apply(next: LoadedConfig): void {
    this.#adminToken = next.config.signaling.admin_token;
    this.#corsOrigins = next.config.signaling.cors_origins;
  }
}
