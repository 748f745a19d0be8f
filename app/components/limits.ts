/**
 * Usage limits: the limiter refuses Allocate (486) from the soft limit on and has the relay close
 * allocations at the hard limit. It is the relay's allocation gate, so it is built before the
 * relay; the relay subscribes to its hard-limit event (UsageLimiter.onHardLimit). Started before
 * the relay listens, with one check, so no over-limit Allocate slips in at start.
 */
import type { AccountService } from '../../src/accounts/service.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { UsageLimiter, type LimitWebhook } from '../../src/limits/limiter.js';
import { oncePerFleet, type Claim } from '../../src/limits/once-per-fleet.js';
import type { Logger } from '../../src/logger.js';
import type { UsageAggregator } from '../../src/metering/aggregator.js';
import { meteringSettings } from '../../src/metering/settings.js';
import type { UsageStore } from '../../src/metering/types.js';
import type { FerryMetrics } from '../../src/metrics/index.js';
import type { WebhookDispatcher } from '../../src/webhooks/index.js';
import type { Component } from './component.js';

export const LIMITS_KEYS = ['network_usage.global_limit', 'network_usage.soft_limit', 'network_usage.hard_limit', 'network_usage.report_interval'] as const;

export interface LimitsDeps {
  readonly config: LoadedConfig;
  readonly accounts: AccountService;
  readonly usage: UsageStore;
  readonly aggregator: UsageAggregator;
  readonly webhooks: WebhookDispatcher;
  readonly metrics: FerryMetrics;
  readonly log: Logger;
  /** In a fleet: each usage event is sent by the node that claims it first (once per fleet). */
  readonly claim?: Claim;
}

export class LimitsComponent implements Component {
  readonly name = 'limits';
  readonly keys = LIMITS_KEYS;
  readonly limiter: UsageLimiter;
  readonly #aggregator: UsageAggregator;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: LimitsDeps) {
    const { aggregator, accounts, usage, webhooks, metrics } = deps;
    // The promise rejects when the event could not be stored (oncePerFleet gives its claim back).
    const send = (type: LimitWebhook, data: unknown) => webhooks.enqueue(type, data);
    const log = deps.log.child({ component: 'limits' });
    this.limiter = new UsageLimiter({
      // The limiter reads only its own settings (LimitSettings) of these; the window comes from the aggregator.
      ...meteringSettings(deps.config),
      usage: (filter) => usage.usage(filter),
      pending: () => aggregator.pending(),
      timeframe: () => aggregator.timeframe(),
      accountLimits: () => accounts.limits(),
      emit: deps.claim === undefined ? send : oncePerFleet({ claim: deps.claim, emit: send, reportIntervalMs: () => this.limiter.settings().reportIntervalMs ?? 0, log }),
      metric: (kind) => metrics.limitEvent(kind),
      log,
    });
    this.#aggregator = aggregator;
  }

  async start(): Promise<void> {
    await this.limiter.start();
    // From now on also right after every flush: the written usage may have crossed a limit.
    const limiter = this.limiter;
    this.#unsubscribe = this.#aggregator.onFlushed(() => void limiter.check());
  }

  /** Stopped before the final usage write: that flush checks no limit (the relay is closed). */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.limiter.stop();
  }

  validate(next: LoadedConfig): void {
    UsageLimiter.validate(meteringSettings(next));
  }

  /** Checks at once: a lowered limit refuses Allocates (or closes allocations) right away. */
  apply(next: LoadedConfig): void {
    void this.limiter.update(meteringSettings(next));
  }
}
