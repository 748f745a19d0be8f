/**
 * Everything Ferry persists, behind the domain's interfaces: accounts and API keys, the usage
 * ledger and session records, the webhook outbox. One implementation per `storage` kind: SQLite
 * (one node, src/store/sqlite-*) and Redis (a fleet, src/store/redis/); app/storage.ts opens the
 * configured one.
 */
import type { AccountStore } from '../accounts/types.js';
import type { UsageStore } from '../metering/types.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';

export type StorageKind = 'sqlite' | 'redis';

export interface Storage {
  readonly kind: StorageKind;
  readonly accounts: AccountStore;
  readonly usage: UsageStore;
  readonly outbox: WebhookOutbox;
  /** Whether the store's connection is up (Redis); absent: always (SQLite). /healthz reports it. */
  connected?(): boolean;
  /** Closes the database or the connections; idempotent. */
  close(): Promise<void>;
}
