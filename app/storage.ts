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
import { checkLayoutVersion } from '../src/store/redis/layout-version.js';
import { RedisWebhookOutbox } from '../src/store/redis/webhook-outbox.js';
import { hostname } from 'node:os';

export interface OpenStorageOptions {
  /** Where a Redis connection's loss and return are logged (once each, the URL without password). */
  readonly log?: Logger;
  /** Redis: the node id shown in the webhook delivery leases (default "<host name>:<pid>"). */
  readonly nodeId?: string;
  /** Redis: how long a webhook delivery lease lasts unrenewed (a dead node's receivers are taken over after it); default 10 s. */
  readonly webhookLeaseMs?: number;
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
  // ioredis emits 'error' at every failed reconnect, and 'close' when the server goes away (with no
  // error when the first reconnect already succeeds): log the loss once, and the return.
  const lost = (why: string) => {
    if (!up) return;
    up = false;
    opts.log?.warn({ storage: where, err: why }, 'storage: lost the Redis connection; calls that need it fail until it is back');
  };
  redis.on('error', (err: Error) => lost(err.message));
  redis.on('close', () => lost('connection closed'));
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
  try {
    await checkLayoutVersion(redis);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  let closed = false;
  const outbox = new RedisWebhookOutbox(redis, {
    nodeId: opts.nodeId ?? `${hostname()}:${process.pid}`,
    ...(opts.webhookLeaseMs !== undefined ? { leaseMs: opts.webhookLeaseMs } : {}),
  });
  return {
    kind: 'redis',
    accounts: new RedisAccountStore(redis),
    usage: new RedisUsageStore(redis),
    outbox,
    connected: () => redis.status === 'ready',
    close: async () => {
      if (closed) return;
      closed = true;
      up = false;
      outbox.close();
      try {
        await redis.quit();
      } catch {
        redis.disconnect(); // already down: nothing to say goodbye to
      }
    },
  };
}
