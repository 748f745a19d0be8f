/**
 * Opens the configured storage: `sqlite:` (one node) or `redis://` (a fleet). The composition
 * root and the CLI commands that read the store directly are the only callers.
 */
import { isRedisUrl } from '../src/config/cluster.js';
import type { Storage } from '../src/store/storage.js';
import { openSqliteStore } from '../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../src/store/sqlite-usage-store.js';
import { SqliteWebhookOutbox } from '../src/store/sqlite-webhook-outbox.js';

export async function openStorage(url: string): Promise<Storage> {
  if (isRedisUrl(url)) throw new Error('redis storage: not built yet');
  const db = openSqliteStore(url);
  return { kind: 'sqlite', accounts: db, usage: new SqliteUsageStore(db.db), outbox: new SqliteWebhookOutbox(db.db), close: () => db.close() };
}

/** Opens the configured storage, runs `f` on it, and closes it again, also when `f` fails. */
export async function withStorage<T>(url: string, f: (storage: Storage) => Promise<T>): Promise<T> {
  const storage = await openStorage(url);
  try {
    return await f(storage);
  } finally {
    await storage.close();
  }
}
