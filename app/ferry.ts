/**
 * The composition root: config in, running relay out. The only place (with app/cli/) that wires
 * turn/ and signaling/ to the domain modules and the concrete store.
 */
import { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AccountService } from '../src/accounts/service.js';
import type { RelayControl } from '../src/accounts/types.js';
import type { LoadedConfig } from '../src/config/load.js';
import { formatHostPort, hostText } from '../src/config/net.js';
import { applyLive, diffConfig, type ConfigDiff } from '../src/config/reload.js';
import { IceServerIssuer } from '../src/credentials/ice-servers.js';
import { SignalTokens } from '../src/credentials/signal-token.js';
import type { Logger } from '../src/logger.js';
import { FerryMetrics } from '../src/metrics/index.js';
import { buildRelayPlan, quotasOf, requestDefencesOf } from './relay-options.js';
import { UsageAggregator } from '../src/metering/aggregator.js';
import { liveUsage } from '../src/metering/query.js';
import { UsageLimiter } from '../src/limits/limiter.js';
import { meteringSettings } from '../src/metering/settings.js';
import { openSqliteStore } from '../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../src/store/sqlite-usage-store.js';
import { SqliteWebhookOutbox } from '../src/store/sqlite-webhook-outbox.js';
import { combineTurnEvents } from './turn-events.js';
import { WebhookDispatcher } from '../src/webhooks/index.js';
import { buildSignalingApp } from '../signaling/app.js';
import { TurnServer, createPeerPolicy, type AllocationInfo, type TlsCredentials } from '../turn/index.js';

export interface Listener {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
}

export interface FerryHandle {
  /** The sockets actually listening (ports resolved). */
  listening(): Listener[];
  /** Where the signaling HTTP API and WebSocket listen (port resolved when configured as 0). */
  signalingAddress(): { readonly address: string; readonly port: number };
  allocationCount(): number;
  readonly accounts: AccountService;
  /** Writes the usage counted so far to the ledger now (SIGUSR2); resolves when written. */
  flushUsage(): Promise<void>;
  /**
   * Applies a re-read config (SIGHUP) without dropping allocations or WebSockets: users and
   * auth_secrets, peers, quotas, realm, log_level, signaling.admin_token, network_usage (all but
   * timeframe: limits, report and write intervals, archive_dir) and webhooks. `tls` is the
   * certificate and key read again from next's tls files (readTlsFiles, as the files may have
   * been renewed in place): new TLS handshakes get them, live TLS connections keep theirs; absent,
   * the running ones stay. Keys that need a restart are left as they are and listed in the result
   * (`restart`). Throws, keeping the running config, when the new settings cannot be applied.
   */
  reload(next: LoadedConfig, tls?: TlsCredentials): ConfigDiff;
  /** Closes the relay (every allocation and listener), writes the usage, then closes signaling (and its WebSockets), webhooks and the store; idempotent. */
  stop(): Promise<void>;
}

/** Runs every step even when one fails; rethrows the first failure. */
async function closeAll(steps: Array<() => Promise<unknown> | unknown>): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/** Builds the engine and the signaling service from the config, starts them and logs where they listen. */
export async function startFerry(config: LoadedConfig, logger: Logger): Promise<FerryHandle> {
  const { users, auth_secrets: secrets, signaling } = config.config;
  // What a reload may replace; read per use (minting secret, admin token).
  let current = config.config;
  logger.info(
    { config: config.source ?? 'embedded defaults', static_user_count: Object.keys(users).length, rest_secret_count: secrets.length },
    'configuration loaded',
  );
  if (Object.keys(users).length === 0 && secrets.length === 0) {
    logger.warn('no users and no auth_secrets configured: only STUN Binding works, every Allocate gets 401');
  }

  const store = openSqliteStore(config.storageUrl);
  let server: TurnServer | undefined;
  let app: FastifyInstance | undefined;
  let meter: UsageAggregator | undefined;
  let webhooks: WebhookDispatcher | undefined;
  let limiter: UsageLimiter | undefined;
  try {
    // The relay starts after the accounts (its auth handler reads their directory); setRelay below.
    const accounts = await AccountService.open(store, null, Date.now);
    const plan = await buildRelayPlan(config, { log: logger.child({ component: 'relay-options' }), accounts: accounts.directory });
    const metering = meteringSettings(config);
    const usageStore = new SqliteUsageStore(store.db);
    let liveSessions: () => Iterable<AllocationInfo> = () => [];
    // The limiter re-checks right after every flush (set once it exists).
    let afterFlush = () => {};
    const aggregator = new UsageAggregator({
      store: usageStore,
      sessions: () => liveSessions(),
      timeframeMs: metering.timeframeMs,
      writeIntervalMs: metering.writeIntervalMs,
      ...(metering.archiveDir !== undefined ? { archiveDir: metering.archiveDir } : {}),
      log: logger.child({ component: 'metering' }),
      onFlushed: () => afterFlush(),
    });
    await aggregator.start();
    meter = aggregator;
    // Webhooks (session.closed here; usage.* through dispatcher.enqueue) and Prometheus metrics.
    const metrics = new FerryMetrics();
    const dispatcher = new WebhookDispatcher({ hooks: config.config.webhooks, outbox: new SqliteWebhookOutbox(store.db), log: logger.child({ component: 'webhooks' }) });
    webhooks = dispatcher;
    dispatcher.start();
    metrics.sources.webhookBacklog = () => dispatcher.backlog();
    const turn = new TurnServer({
      ...plan.options,
      accountMaxBps: (accountId) => accounts.maxBps(accountId),
      events: combineTurnEvents({
        allocationClosed(info, reason, endedAt) {
          aggregator.allocationClosed(info, reason, endedAt);
        },
      }, metrics.turnEvents(), dispatcher.turnEvents()),
      log: logger.child({ component: 'turn' }),
    });
    server = turn;
    liveSessions = () => turn.live();
    metrics.sources.sessions = () => turn.live();
    metrics.sources.relayOnlyDrops = () => turn.relayOnlyDrops();
    metrics.sources.engineFaults = () => turn.faults();
    const relayControl: RelayControl = {
      closeAccountAllocations: (accountId) => turn.closeAllocations((info) => info.account === accountId, 'admin'),
      setAccountMaxBps: (accountId, bps) => turn.setAccountMaxBps(accountId, bps),
    };
    accounts.setRelay(relayControl);

    // Usage limits: the gate refuses Allocate (486) from the soft limit on; hard closes allocations.
    // Gated and checked once before the relay listens, so no over-limit Allocate slips in at start.
    const limits = new UsageLimiter({
      usage: (filter) => usageStore.usage(filter),
      pending: () => aggregator.pending(),
      timeframe: () => aggregator.timeframe(),
      accountLimits: () => accounts.limits(),
      // The limiter reads only its own settings (LimitSettings) of these.
      ...metering,
      closeAllocations: (account) => turn.closeAllocations((info) => account === null || info.account === account, 'limit'),
      emit: (type, data) => void dispatcher.enqueue(type, data),
      metric: (kind) => metrics.limitEvent(kind),
      log: logger.child({ component: 'limits' }),
    });
    limiter = limits;
    turn.update({ gate: limits });
    await limits.start();
    afterFlush = () => void limits.check();
    await turn.start();

    for (const l of turn.listening()) {
      logger.info({ transport: l.transport, address: l.address, port: l.port }, `listening on ${l.transport} ${formatHostPort(l.address, l.port)}`);
    }
    const { relay } = plan.options;
    logger.info(
      {
        relay_ips: [...relay.ips4, ...relay.ips6],
        relay_ports: `${relay.portMin}-${relay.portMax}`,
        ...(relay.externalIp4 || relay.externalIp6
          ? { external_ip: [relay.externalIp4, relay.externalIp6].filter((x) => x !== undefined) }
          : {}),
      },
      `relaying from ${[...relay.ips4, ...relay.ips6].map(hostText).join(', ') || 'no address'} ports ${relay.portMin}-${relay.portMax}`,
    );

    // The first REST secret mints TURN credentials and signs signaling tokens.
    const mintingSecret = () => current.auth_secrets[0];
    const iceServers = new IceServerIssuer({
      secret: mintingSecret,
      turnPort: config.listen.port,
      ...(config.tlsListen ? { tlsPort: config.tlsListen.port } : {}),
      ...(signaling.public_host !== undefined ? { publicHost: signaling.public_host } : {}),
      now: Date.now,
    });
    const tokens = new SignalTokens({ secret: mintingSecret, directory: accounts.directory, now: Date.now });
    app = buildSignalingApp({
      accounts,
      iceServers,
      tokens,
      // A getter: the admin routes read it per request, so a reload can change the token.
      get adminToken() {
        return current.signaling.admin_token;
      },
      log: logger,
      relaySessions: () => turn.sessions(),
      closeSessions: (predicate) => turn.closeAllocations(predicate, 'admin'),
      usage: liveUsage(usageStore, aggregator),
      usageLimited: (accountId) => limits.limited(accountId),
      metrics: {
        get token() {
          return current.metrics.token;
        },
        render: () => metrics.render(),
        observeSignaling: (stats) => {
          metrics.sources.signalingPeers = () => stats().peers;
        },
      },
    });
    const { host, port } = config.signalingListen;
    try {
      await app.listen({ host, port });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'EADDRINUSE' ? 'address in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
      throw new Error(`cannot listen on signaling.address ${signaling.address}: ${why}`, { cause: err });
    }
    const bound = app.server.address();
    const signalingAt = typeof bound === 'object' && bound !== null ? { address: bound.address, port: bound.port } : { address: host, port };
    logger.info(
      { transport: 'http', address: signalingAt.address, port: signalingAt.port },
      `signaling on http://${formatHostPort(signalingAt.address, signalingAt.port)}`,
    );
    if (signaling.admin_token === undefined) logger.info('signaling.admin_token is not set: the admin API (/v1/accounts) answers 503');
    if (secrets.length === 0) logger.info('no auth_secrets: /v1/ice-servers and /v1/signal-tokens answer 503');

    const started = { app, server: turn };
    const certificateOf = (pem: Buffer): string => {
      try {
        return new X509Certificate(pem).fingerprint256;
      } catch {
        return 'unreadable';
      }
    };
    let tlsFingerprint = plan.options.tls?.[0] ? certificateOf(plan.options.tls[0].cert) : undefined;
    let stopping: Promise<void> | undefined;
    return {
      accounts,
      listening: () => turn.listening(),
      signalingAddress: () => signalingAt,
      allocationCount: () => turn.allocationCount(),
      flushUsage: () => aggregator.flush(),
      reload(next, tls) {
        const diff = diffConfig(current, next.config);
        const c = next.config;
        // Build everything first so a failure leaves the running config untouched.
        const peerPolicy = createPeerPolicy({
          allow: c.peers.allow,
          deny: c.peers.deny,
          serverAddresses: plan.serverAddresses,
          relayAddresses: plan.relayAddresses,
        });
        // network_usage.timeframe needs a restart: the other metering settings apply live.
        // The limiter and the aggregator each read only their own settings of these.
        const m = meteringSettings(next);
        UsageLimiter.validate(m);
        UsageAggregator.validate(m);
        WebhookDispatcher.validate(c.webhooks);
        if (dispatcher.stopping) throw new Error('Ferry is stopping');
        const quotas = quotasOf(c);

        // First, as the one step that can still fail: it changes nothing when it throws.
        if (tls !== undefined && tlsFingerprint !== undefined) {
          try {
            turn.setTlsCredentials(tls);
          } catch (err) {
            throw new Error(`tls.cert, tls.key: cannot use ${c.tls?.cert} with ${c.tls?.key}: ${(err as Error).message}`, { cause: err });
          }
          const fingerprint = certificateOf(tls.cert);
          if (fingerprint !== tlsFingerprint) logger.info({ cert: c.tls?.cert, sha256: fingerprint }, 'TLS certificate reloaded: new handshakes use it, live TLS connections keep theirs');
          tlsFingerprint = fingerprint;
        }

        plan.auth.update({ users: c.users, secrets: c.auth_secrets });
        turn.update({
          realm: c.realm,
          peerPolicy,
          // maxBps applies to the live allocations too.
          ...quotas,
          // A changed nonce secret makes issued nonces 438 (clients retry); the tables start afresh.
          ...requestDefencesOf(c),
        });
        logger.level = c.log_level;
        aggregator.update(m);
        const hooks = dispatcher.update(c.webhooks);
        if (diff.live.includes('webhooks')) {
          const kept = hooks.kept > 0 ? ` (${hooks.kept} undelivered events of removed URLs kept stored)` : '';
          logger.info({ ...hooks }, `webhooks reloaded: ${hooks.added} added, ${hooks.removed} removed${kept}, ${hooks.changed} changed`);
        }
        // Checks at once: a lowered limit refuses Allocates (or closes allocations) right away.
        void limits.update(m);
        // Restart-only keys keep their running values: only the live ones are taken over.
        current = applyLive(current, c);
        return diff;
      },
      stop() {
        // The relay stops and the usage is written first, so nothing later (signaling connections
        // closing, webhook deliveries) can delay or lose the final write.
        stopping ??= closeAll([
          () => limits.stop(),
          () => started.server.stop(),
          // After the relay: its last allocationClosed events are in this final flush.
          () => aggregator.stop(),
          () => started.app.close(),
          // Delivers what is due for a moment (the last session.closed events); the rest stays stored.
          () => dispatcher.stop(),
          () => store.close(),
        ]).then(() =>
          logger.info('stopped'),
        );
        return stopping;
      },
    };
  } catch (err) {
    limiter?.stop();
    await webhooks?.stop().catch(() => undefined);
    const [a, s, m] = [app, server, meter];
    await closeAll([() => a?.close(), () => s?.stop(), () => m?.stop(), () => store.close()]).catch((closeErr: unknown) =>
      logger.warn({ err: closeErr }, 'cleanup after a failed start'),
    );
    throw err;
  }
}
