/**
 * The TURN relay: the engine (turn/) built from the config, listening on address (and
 * tls_address). Built last of the parts it reads (accounts, metering, limits, metrics, webhooks)
 * and started last, so it stops first; when built it subscribes to what it acts on: account
 * changes (close an account's allocations, a changed cap), the limiter's hard limit (close), and
 * metering (its live allocations are metered).
 */
import { X509Certificate } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { AccountService } from '../../src/accounts/service.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { formatHostPort, hostText } from '../../src/config/net.js';
import { createAuthHandler } from '../../src/credentials/auth-handler.js';
import type { UsageLimiter } from '../../src/limits/limiter.js';
import type { Logger } from '../../src/logger.js';
import type { UsageAggregator } from '../../src/metering/aggregator.js';
import type { FerryMetrics } from '../../src/metrics/index.js';
import type { WebhookDispatcher } from '../../src/webhooks/index.js';
import {
  createPeerPolicy,
  loadNativeAddon,
  TurnServer,
  type AllocationGate,
  type AllocationInfo,
  type CloseReason,
  type ListeningAddress,
  type TlsCredentials,
  type TurnEvents,
  type TurnServerUpdate,
} from '../../turn/index.js';
import { chooseDataPlane, dataPlaneLogLine, type DataPlaneChoice } from '../data-plane.js';
import { buildRelayPlan, quotasOf, requestDefencesOf, type RelayPlan } from '../relay-options.js';
import { combineTurnEvents } from '../turn-events.js';
import type { Component } from './component.js';
import { keyedListenError, type KeyedListener } from './listen-error.js';

/** The certificate and key files are read again on every reload (renewed in place or moved): see setTlsCredentials. */
export const TURN_KEYS = ['users', 'auth_secrets', 'peers', 'quotas', 'realm', 'tls', 'nonce', 'rate_limits'] as const;

export interface TurnDeps {
  readonly config: LoadedConfig;
  readonly accounts: AccountService;
  readonly aggregator: UsageAggregator;
  readonly limiter: UsageLimiter;
  readonly metrics: FerryMetrics;
  readonly webhooks: WebhookDispatcher;
  readonly log: Logger;
  /** Shared enforcement (app/components/fleet-limits.ts): the gate (default: the limiter alone), its listeners and the bandwidth share. */
  readonly fleet?: {
    readonly gate: AllocationGate;
    readonly events: TurnEvents;
    /** This node's share of an account's cap of `bps`. */
    shareBps(account: string, bps: number): number;
    /** Calls `listener` when the share of `account` may have changed; returns the unsubscribe. */
    onShareChanged(listener: (account: string) => void): () => void;
  };
}

function certificateOf(pem: Buffer): string {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return 'unreadable';
  }
}

export class TurnComponent implements Component {
  readonly name = 'turn';
  readonly keys = TURN_KEYS;
  readonly server: TurnServer;
  readonly #plan: RelayPlan;
  readonly #dataPlane: DataPlaneChoice;
  readonly #log: Logger;
  #secrets: readonly string[];
  /** The listeners by config key, to name the key of one that cannot be opened. */
  readonly #listenKeys: KeyedListener[];
  #tlsFingerprint: string | undefined;
  /** Ends the subscriptions to the accounts, the limiter and metering (on stop). */
  readonly #unsubscribe: (() => void)[];

  private constructor(deps: TurnDeps, plan: RelayPlan, dataPlane: DataPlaneChoice) {
    const { accounts, aggregator, limiter, metrics, webhooks, fleet } = deps;
    // In a fleet an account's cap is split between the nodes relaying it.
    const share = (accountId: string, bps: number) => (fleet === undefined ? bps : fleet.shareBps(accountId, bps));
    this.#plan = plan;
    this.#dataPlane = dataPlane;
    this.#log = deps.log;
    this.#secrets = deps.config.config.auth_secrets;
    const { listen, tlsListen } = deps.config;
    this.#listenKeys = [{ key: 'address', host: listen.host, port: listen.port, syscalls: ['bind', 'listen'] }];
    if (tlsListen) this.#listenKeys.push({ key: 'tls_address', host: tlsListen.host, port: tlsListen.port, syscalls: ['listen'] });
    this.#tlsFingerprint = plan.options.tls?.[0] ? certificateOf(plan.options.tls[0].cert) : undefined;
    const turn = new TurnServer({
      ...plan.options,
      ...(dataPlane.plane === 'native' ? { dataPlane: { addon: dataPlane.addon, threads: dataPlane.threads } } : {}),
      gate: fleet?.gate ?? limiter,
      accountMaxBps: (accountId) => share(accountId, accounts.maxBps(accountId)),
      events: combineTurnEvents(
        {
          allocationClosed(info, reason, endedAt) {
            aggregator.allocationClosed(info, reason, endedAt);
          },
        },
        metrics.turnEvents(),
        webhooks.turnEvents(),
        fleet?.events,
      ),
      log: deps.log.child({ component: 'turn' }),
    });
    this.server = turn;
    this.#unsubscribe = [
      accounts.subscribeRelay({
        closeAccountAllocations: (accountId) => turn.closeAllocations((info) => info.account === accountId, 'admin'),
        setAccountMaxBps: (accountId, bps) => turn.setAccountMaxBps(accountId, share(accountId, bps)),
      }),
      fleet?.onShareChanged((accountId) => {
        const bps = accounts.maxBps(accountId);
        if (bps > 0) turn.setAccountMaxBps(accountId, share(accountId, bps));
      }) ?? (() => {}),
      limiter.onHardLimit((account) => void turn.closeAllocations((info) => account === null || info.account === account, 'limit')),
      // The closed allocations' last counts reach metering through allocationClosed.
      aggregator.addSessions(() => turn.live()),
      metrics.observe({
        sessions: () => turn.live(),
        relayOnlyDrops: () => turn.relayOnlyDrops(),
        engineFaults: () => turn.faults(),
        dataPlane: () => this.dataPlane(),
        nativeStats: () => turn.nativeStats(),
      }),
    ];
  }

  /**
   * Chooses the data plane (data_plane, relay_threads: the native addon is loaded here, once; a
   * fallback is warned about), reads the TLS files and chooses the relay addresses (logged) before
   * building the engine. Throws a ConfigError naming data_plane when "native" cannot be had.
   */
  static async create(deps: TurnDeps): Promise<TurnComponent> {
    const { data_plane: setting, relay_threads: relayThreads } = deps.config.config;
    const decision = chooseDataPlane({ setting, relayThreads, load: loadNativeAddon(), cores: availableParallelism() });
    if (!decision.ok) throw decision.error;
    for (const warning of decision.warnings) deps.log.warn({ data_plane: setting, ...(relayThreads !== undefined ? { relay_threads: relayThreads } : {}) }, warning);
    const plan = await buildRelayPlan(deps.config, { log: deps.log.child({ component: 'relay-options' }), accounts: deps.accounts.directory });
    return new TurnComponent(deps, plan, decision.choice);
  }

  /** The data plane that relays UDP clients, as the engine runs it, and its threads (1 for the TypeScript path: the JS thread). */
  dataPlane(): { readonly plane: 'native' | 'js'; readonly threads: number } {
    const plane = this.server.dataPlaneKind();
    return { plane, threads: plane === 'native' && this.#dataPlane.plane === 'native' ? this.#dataPlane.threads : 1 };
  }

  /** Opens the listeners; one that cannot be opened is a ListenError naming its config key. */
  async start(): Promise<void> {
    try {
      await this.server.start();
    } catch (err) {
      throw keyedListenError(err, this.#listenKeys);
    }
    const log = this.#log;
    for (const l of this.server.listening()) {
      log.info({ transport: l.transport, address: l.address, port: l.port }, `listening on ${l.transport} ${formatHostPort(l.address, l.port)}`);
    }
    const { relay } = this.#plan.options;
    log.info(
      {
        relay_ips: [...relay.ips4, ...relay.ips6],
        relay_ports: `${relay.portMin}-${relay.portMax}`,
        ...(relay.externalIp4 || relay.externalIp6
          ? { external_ip: [relay.externalIp4, relay.externalIp6].filter((x) => x !== undefined) }
          : {}),
      },
      `relaying from ${[...relay.ips4, ...relay.ips6].map(hostText).join(', ') || 'no address'} ports ${relay.portMin}-${relay.portMax}`,
    );
    const plane = dataPlaneLogLine(this.#dataPlane);
    log.info(plane.fields, plane.message);
  }

  /**
   * Closes every allocation (their allocationClosed events reach metering and webhooks) and
   * listener, and leaves the accounts, the limiter, metering and the metrics.
   */
  async stop(): Promise<void> {
    for (const end of this.#unsubscribe.splice(0)) end();
    await this.server.stop();
  }

  listening(): ListeningAddress[] {
    return this.server.listening();
  }

  /** The first REST secret (auth_secrets, as reloaded): it also mints TURN credentials and signaling tokens. */
  mintingSecret(): string | undefined {
    return this.#secrets[0];
  }

  /** Every REST secret it accepts (auth_secrets, as reloaded). */
  acceptedSecrets(): readonly string[] {
    return this.#secrets;
  }

  /** Live allocations as snapshots (admin listings). */
  sessions(): AllocationInfo[] {
    return this.server.sessions();
  }

  closeAllocations(predicate: (info: AllocationInfo) => boolean, reason: CloseReason): number {
    return this.server.closeAllocations(predicate, reason);
  }

  validate(next: LoadedConfig): void {
    // A throwaway handler: throws where the running one's update() would.
    createAuthHandler({ users: next.config.users, secrets: next.config.auth_secrets });
    this.#updateOf(next);
  }

  /**
   * A new certificate and key for new TLS handshakes (live TLS connections keep theirs). The one
   * reload step that can fail after validation (the pair is only checked when used): a reload
   * runs it between validate and apply, and it changes nothing when it throws.
   */
  setTlsCredentials(next: LoadedConfig, tls: TlsCredentials): void {
    if (this.#tlsFingerprint === undefined) return;
    const c = next.config;
    try {
      this.server.setTlsCredentials(tls);
    } catch (err) {
      throw new Error(`tls.cert, tls.key: cannot use ${c.tls?.cert} with ${c.tls?.key}: ${(err as Error).message}`, { cause: err });
    }
    const fingerprint = certificateOf(tls.cert);
    if (fingerprint !== this.#tlsFingerprint) this.#log.info({ cert: c.tls?.cert, sha256: fingerprint }, 'TLS certificate reloaded: new handshakes use it, live TLS connections keep theirs');
    this.#tlsFingerprint = fingerprint;
  }

  apply(next: LoadedConfig): void {
    const c = next.config;
    this.#plan.auth.update({ users: c.users, secrets: c.auth_secrets });
    this.#secrets = c.auth_secrets;
    this.server.update(this.#updateOf(next));
  }

  /** What apply() hands the engine; throws (changing nothing) where the config cannot be used. */
  #updateOf(next: LoadedConfig): TurnServerUpdate {
    const c = next.config;
    const peerPolicy = createPeerPolicy({
      allow: c.peers.allow,
      deny: c.peers.deny,
      serverAddresses: this.#plan.serverAddresses,
      relayAddresses: this.#plan.relayAddresses,
    });
    return {
      realm: c.realm,
      peerPolicy,
      // maxBps applies to the live allocations too.
      ...quotasOf(c),
      // A changed nonce secret makes issued nonces 438 (clients retry); the tables start afresh.
      ...requestDefencesOf(c),
    };
  }
}
