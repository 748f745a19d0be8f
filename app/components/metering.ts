/**
 * Metering: the usage aggregator writes what the relay's allocations carried to the usage ledger
 * every write_interval, and once more, finally, on stop (after the relay has stopped, so its last
 * allocationClosed events are in it). The relay adds its live allocations when it is built
 * (UsageAggregator.addSessions); the limiter re-checks after each flush (onFlushed). In a fleet
 * the batches are written as `<node id>:<boot id>` (unique per run of a node), so the shared
 * store applies each at most once; one node uses a random id per run.
 */
import type { LoadedConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logger.js';
import { UsageAggregator } from '../../src/metering/aggregator.js';
import { meteringSettings } from '../../src/metering/settings.js';
import type { UsageStore } from '../../src/metering/types.js';
import type { Storage } from '../../src/store/storage.js';
import type { ClusterIdentity } from '../cluster/identity.js';
import type { Component } from './component.js';

/** network_usage.timeframe needs a restart (a new length mid-window would be ambiguous). */
export const METERING_KEYS = ['network_usage.write_interval', 'network_usage.archive_dir'] as const;

export interface MeteringDeps {
  readonly config: LoadedConfig;
  readonly storage: Storage;
  readonly log: Logger;
  /** A fleet node's identity: its usage batches are written as `<node id>:<boot id>`; null on one node. */
  readonly identity: ClusterIdentity | null;
}

export class MeteringComponent implements Component {
  readonly name = 'metering';
  readonly keys = METERING_KEYS;
  /** The usage ledger (flushed totals), read by the limiter and the usage API. */
  readonly usage: UsageStore;
  readonly aggregator: UsageAggregator;

  constructor(deps: MeteringDeps) {
    const m = meteringSettings(deps.config);
    const cluster = deps.identity;
    this.usage = deps.storage.usage;
    this.aggregator = new UsageAggregator({
      store: this.usage,
      timeframe: m.timeframe,
      writeIntervalMs: m.writeIntervalMs,
      ...(m.archiveDir !== undefined ? { archiveDir: m.archiveDir } : {}),
      log: deps.log.child({ component: 'metering' }),
      ...(cluster !== null ? { writer: `${cluster.nodeId}:${cluster.bootId}` } : {}),
    });
  }

  start(): Promise<void> {
    return this.aggregator.start();
  }

  /** The final write: what was counted since the last flush, the relay's last sessions included. */
  stop(): Promise<void> {
    return this.aggregator.stop();
  }

  validate(next: LoadedConfig): void {
    UsageAggregator.validate(meteringSettings(next));
  }

  apply(next: LoadedConfig): void {
    this.aggregator.update(meteringSettings(next));
  }
}
