/**
 * The store: accounts, usage and the webhook outbox (SQLite, or Redis for a fleet). Opened before
 * the components built after it (the accounts are loaded from it); closed last. `storage` needs a
 * restart.
 */
import type { Logger } from '../../src/logger.js';
import type { Storage } from '../../src/store/storage.js';
import type { ClusterIdentity } from '../cluster/identity.js';
import { openStorage } from '../storage.js';
import type { Component } from './component.js';

export class StoreComponent implements Component {
  readonly name = 'store';

  private constructor(readonly storage: Storage) {}

  /** `identity` (a fleet node): its node id names the webhook delivery leases, which last cluster.ttl. */
  static async open(storageUrl: string, log?: Logger, identity: ClusterIdentity | null = null): Promise<StoreComponent> {
    const fleet = identity === null ? {} : { nodeId: identity.nodeId, webhookLeaseMs: identity.ttlMs };
    return new StoreComponent(await openStorage(storageUrl, { ...(log === undefined ? {} : { log }), ...fleet }));
  }

  async start(): Promise<void> {}

  stop(): Promise<void> {
    return this.storage.close();
  }
}
