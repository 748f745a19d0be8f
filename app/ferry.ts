/**
 * The composition root: config in, running relay out. The only place (with app/cli/) that wires
 * turn/ and signaling/ to the domain modules and the concrete store. Each part is a component
 * (app/components/) built in dependency order with what it needs passed in; one list starts them,
 * stops them in reverse and cleans up a failed start; a reload is a loop over them (app/reload.ts).
 */
import type { AccountService } from '../src/accounts/service.js';
import type { LoadedConfig } from '../src/config/load.js';
import { diffConfig, type ConfigDiff } from '../src/config/reload.js';
import { createLogger, type Logger } from '../src/logger.js';
import type { TlsCredentials } from '../turn/index.js';
import { clusterIdentity, type ClusterIdentity } from './cluster/identity.js';
import { AccountsComponent } from './components/accounts.js';
import { ClusterComponent } from './components/cluster.js';
import type { Component } from './components/component.js';
import { FleetLimitsComponent } from './components/fleet-limits.js';
import { LimitsComponent } from './components/limits.js';
import { LoggingComponent } from './components/logging.js';
import { MeteringComponent } from './components/metering.js';
import { MetricsComponent } from './components/metrics.js';
import { SignalingComponent } from './components/signaling.js';
import { StoreComponent } from './components/store.js';
import { TurnComponent } from './components/turn.js';
import { WebhooksComponent } from './components/webhooks.js';
import { startInOrder, stopInReverse } from './lifecycle.js';
import { checkKeyOwners, RELOAD_KEYS, reloadComponents } from './reload.js';

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
  /** The data plane that relays UDP clients (data_plane, chosen at start) and its relay threads (1 for the TypeScript path). */
  dataPlane(): { readonly plane: 'native' | 'js'; readonly threads: number };
  readonly accounts: AccountService;
  /** Writes the usage counted so far to the ledger now (SIGUSR2); resolves when written. */
  flushUsage(): Promise<void>;
  /**
   * Applies a re-read config (SIGHUP) without dropping allocations or WebSockets: the keys in
   * LIVE_KEYS (app/reload.ts), each applied by the component that declares it. `tls` is the
   * certificate and key read again from next's tls files (readTlsFiles, as the files may have
   * been renewed in place): new TLS handshakes get them, live TLS connections keep theirs; absent,
   * the running ones stay. Keys that need a restart are left as they are and listed in the result
   * (`restart`). Throws, keeping the running config, when the new settings cannot be applied.
   */
  reload(next: LoadedConfig, tls?: TlsCredentials): ConfigDiff;
  /** What reload(next) would find changed (live and restart-only keys), without applying anything. */
  pending(next: LoadedConfig): ConfigDiff;
  /**
   * Marks this node draining in the relay registry (in a fleet, then waits one cluster.heartbeat,
   * at most 5 s, so no node hands it out any more), closes signaling (and its WebSockets), the
   * relay (every allocation and listener), leaves the registry, writes the usage, then closes
   * webhooks and the store; idempotent.
   */
  stop(): Promise<void>;
}

/** Everything Ferry runs, built in dependency order; nothing listens or ticks yet. */
async function build(config: LoadedConfig, logger: Logger, storeC: StoreComponent, identity: ClusterIdentity | null) {
  const { storage } = storeC;
  const accountsC = await AccountsComponent.open(storage.accounts, identity, logger);
  const { accounts } = accountsC;
  const logging = new LoggingComponent(logger);
  const metricsC = new MetricsComponent();
  const { metrics } = metricsC;
  const webhooksC = new WebhooksComponent({ config, storage, metrics, log: logger });
  const webhooks = webhooksC.dispatcher;
  const metering = new MeteringComponent({ config, storage, identity, log: logger });
  const { aggregator, usage } = metering;
  // Shared enforcement: rate limits (in Redis in a fleet), counts across nodes, once-per-fleet usage events.
  const fleetC = new FleetLimitsComponent({ config, identity, metrics, log: logger });
  const limits = new LimitsComponent({ config, accounts, usage, aggregator, webhooks, metrics, log: logger, ...(fleetC.claim ? { claim: fleetC.claim } : {}) });
  const { limiter } = limits;
  const gate = fleetC.gate(limiter);
  const remote = fleetC.remote;
  const fleet = { gate, events: gate.turnEvents(), shareBps: (a: string, bps: number) => gate.shareBps(a, bps), onShareChanged: (l: (a: string) => void) => remote?.onNodesChanged((a) => void (gate.localCount(a) > 0 && l(a))) ?? (() => {}) };
  // Last of what it reads: it subscribes to account changes, the hard limit and metering.
  const turn = await TurnComponent.create({ config, accounts, aggregator, limiter, metrics, webhooks, log: logger, fleet });
  const allocationRateLimited = (accountId: string) => (gate.accountRateLimited(accountId) ? (metrics.rateLimited('allocations-account'), gate.retryAfterSeconds(accountId)) : 0);
  const registry = new ClusterComponent({ config, identity, relay: turn, log: logger });
  // The same identity (one boot id) for the signaling router as for the registry and the bus.
  const healthProblems = () => [...(storage.connected?.() === false ? ['storage: Redis unreachable (accounts, usage and webhook calls fail with 503)'] : []), ...fleetC.problems()];
  const signaling = new SignalingComponent({ config, accounts, relay: turn, usage, aggregator, limiter, metrics, registry, cluster: identity, log: logger, allocationRateLimited, healthProblems });
  // Start order: what a part reads is running before it starts. The limiter checks once before
  // the relay listens, so no over-limit Allocate slips in at start; signaling answers last, once
  // the relay it hands out URLs for is bound and the usage it reports and limits is loaded.
  // Stop is the reverse: signaling first (no new credentials or calls; its close is bounded),
  // then the relay (its allocations' last counts and session.closed events), the limiter, the
  // final usage write, the webhook deliveries (the last events) and the store.
  // The relay registry: joins once the relay listens (its ports are in the entry); on stop it
  // publishes 'draining' before anything closes (registry.drain, stopped first), and leaves the
  // registry once the relay is closed (registry.exit, stopped right after the relay).
  // registry.check right after the store: a node id used by another live process refuses the
  // start before anything is written under it.
  const order: Component[] = [storeC, registry.check, accountsC, logging, metricsC, webhooksC, metering, fleetC, limits, registry.exit, turn, registry.join, signaling, registry.drain];
  return { order, accounts, aggregator, turn, signaling };
}

/**
 * Builds the engine and the signaling service from the config, starts them and logs where they
 * listen (by default JSON lines on stdout at the config's `log_level`).
 */
export async function startFerry(config: LoadedConfig, logger: Logger = createLogger(config.config.log_level)): Promise<FerryHandle> {
  const { users, auth_secrets: secrets } = config.config;
  logger.info(
    { config: config.source ?? 'embedded defaults', static_user_count: Object.keys(users).length, rest_secret_count: secrets.length },
    'configuration loaded',
  );
  if (Object.keys(users).length === 0 && secrets.length === 0) {
    logger.warn('no users and no auth_secrets configured: only STUN Binding works, every Allocate gets 401');
  }

  // The store opens when built (the accounts load from it): closed here if building fails.
  // null with SQLite storage: one node, no fleet. One identity (one boot id) for every part.
  const identity = clusterIdentity(config);
  const storeC = await StoreComponent.open(config.storageUrl, logger, identity);
  let built: Awaited<ReturnType<typeof build>>;
  try {
    built = await build(config, logger, storeC, identity);
    checkKeyOwners(built.order);
  } catch (err) {
    await storeC.stop().catch((closeErr: unknown) => logger.warn({ err: closeErr }, 'cleanup after a failed start'));
    throw err;
  }
  const { order, accounts, aggregator, turn, signaling } = built;
  await startInOrder(order, logger);

  // What a reload may replace (the live keys); the restart-only keys keep their start values.
  let current = config.config;
  let stopping: Promise<void> | undefined;
  return {
    accounts,
    listening: () => turn.listening(),
    signalingAddress: () => signaling.address(),
    allocationCount: () => turn.server.allocationCount(),
    dataPlane: () => turn.dataPlane(),
    flushUsage: () => aggregator.flush(),
    pending: (next) => diffConfig(current, next.config, RELOAD_KEYS),
    reload(next, tls) {
      const beforeApply = tls === undefined ? undefined : () => turn.setTlsCredentials(next, tls);
      const { diff, config: running } = reloadComponents(order, current, next, beforeApply ? { beforeApply } : {});
      current = running;
      return diff;
    },
    stop() {
      stopping ??= stopInReverse(order).then(() => logger.info('stopped'));
      return stopping;
    },
  };
}
