/**
 * Opens the configured storage: `sqlite:` (one node) or `redis://` (a fleet). The composition
 * root and the CLI commands that read the store directly are the only callers.
 */
import type { Logger } from '../src/logger.js';
import { isRedisUrl } from '../src/config/cluster.js';
import type { Storage } from '../src/store/storage.js';
import { openSqliteStore } from '../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../src/store/sqlite-usage-store.js';
import { SqliteWebhookOutbox } from '../src/store/sqlite-webhook-outbox.js';
import { RedisAccountStore } from '../src/store/redis/account-store.js';
import { RedisUsageStore } from '../src/store/redis/usage-store.js';
import { createRedis, redactRedisUrl } from '../src/store/redis/client.js';
import type { OutboxEntry, OutboxEvent, WebhookOutbox } from '../src/webhooks/outbox.js';

export interface OpenStorageOptions {
  /** Where a Redis connection's loss and return are logged (once each, the URL without password). */
  readonly log?: Logger;
}

export async function openStorage(url: string, opts: OpenStorageOptions = {}): Promise<Storage> {
  if (isRedisUrl(url)) return openRedisStorage(url, opts);
  const db = openSqliteStore(url);
  return { kind: 'sqlite', accounts: db, usage: new SqliteUsageStore(db.db), outbox: new SqliteWebhookOutbox(db.db), close: () => db.close() };
}

/** Opens the configured storage, runs `f` on it, and closes it again, also when `f` fails. */
export async function withStorage<T>(url: string, f: (storage: Storage) => Promise<T>, opts: OpenStorageOptions = {}): Promise<T> {
  const storage = await openStorage(url, opts);
  try {
    return await f(storage);
  } finally {
    await storage.close();
  }
}

/**
 * One connection for the stores. Redis must answer at start (a fleet node without its storage
 * would serve nothing right); later outages make calls fail with StorageUnavailableError while
 * the client reconnects in the background.
 */
async function openRedisStorage(url: string, opts: OpenStorageOptions): Promise<Storage> {
  const where = redactRedisUrl(url);
  const redis = createRedis(url, { role: 'store' });
  let up = false;
  // ioredis emits 'error' at every failed reconnect: log the loss once, and the return.
  redis.on('error', (err: Error) => {
    if (!up) return;
    up = false;
    opts.log?.warn({ storage: where, err: err.message }, 'storage: lost the Redis connection; calls that need it fail until it is back');
  });
  redis.on('ready', () => {
    if (up) return;
    up = true;
    opts.log?.info({ storage: where }, 'storage: Redis connected');
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`storage: cannot reach Redis at ${where}: ${(err as Error).message}`, { cause: err });
  }
  let closed = false;
  return {
    kind: 'redis',
    accounts: new RedisAccountStore(redis),
    usage: new RedisUsageStore(redis),
    outbox: new TemporaryMemoryOutbox(),
    close: async () => {
      if (closed) return;
      closed = true;
      up = false;
      try {
        await redis.quit();
      } catch {
        redis.disconnect(); // already down: nothing to say goodbye to
      }
    },
  };
}

/**
 * TEMPORARY, until the Redis webhook outbox (src/store/redis/webhook-outbox.ts) is merged: an
 * outbox in this process's memory, so webhook events do not survive a restart on Redis storage.
 * The integrator replaces it.
 */
class TemporaryMemoryOutbox implements WebhookOutbox {
  readonly #entries = new Map<string, OutboxEntry>();

  enqueue(events: readonly OutboxEvent[]): void {
    const ids = new Set<string>();
    for (const e of events) {
      if (this.#entries.has(e.id) || ids.has(e.id)) throw new Error(`webhook outbox: event ${e.id} is stored already`);
      ids.add(e.id);
    }
    for (const e of events) this.#entries.set(e.id, { ...e, attempts: 0, nextAttemptAt: e.createdAt });
  }

  head(webhook: string): OutboxEntry | undefined {
    for (const e of this.#entries.values()) if (e.webhook === webhook) return e;
    return undefined;
  }

  delivered(id: string): void {
    this.#entries.delete(id);
  }

  failed(id: string, nextAttemptAt: number): void {
    const e = this.#entries.get(id);
    if (e !== undefined) this.#entries.set(id, { ...e, attempts: e.attempts + 1, nextAttemptAt });
  }

  backlog(webhooks: readonly string[]): number {
    const wanted = new Set(webhooks);
    let n = 0;
    for (const e of this.#entries.values()) if (wanted.has(e.webhook)) n++;
    return n;
  }
}
