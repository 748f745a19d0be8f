/**
 * Connections to the fleet's Redis (storage "redis://..."): one place that decides how a command
 * behaves while Redis is away. Commands are never queued offline: while the connection is down
 * every command fails at once with StorageUnavailableError (API calls answer 503, new allocations
 * are refused), and the client reconnects in the background (backoff capped at 1 s). Keys all
 * start with "ferry:" (KEY_PREFIX), so a Redis database may be shared with other applications.
 */
import { Redis } from 'ioredis';
import { StorageUnavailableError } from '../../storage-unavailable.js';

export { StorageUnavailableError } from '../../storage-unavailable.js';

export const KEY_PREFIX = 'ferry:';

export interface RedisConnectOptions {
  /** Shown in CLIENT LIST (`ferry:<role>`), to tell a node's connections apart. */
  readonly role: string;
  /** How long one command may take before it fails (ms). Default 2000. */
  readonly commandTimeoutMs?: number;
}

/** The URL with any password replaced by "***" (for logs and errors). */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(invalid URL)';
  }
}

/**
 * A client for `url` (redis:// or rediss://, as validated by the config). Not connected yet:
 * call connect() (it rejects with StorageUnavailableError when Redis cannot be reached).
 */
export function createRedis(url: string, opts: RedisConnectOptions): Redis {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return new Redis({
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port === '' ? 6379 : Number(u.port),
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    db: db === '' ? 0 : Number(db),
    ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    connectionName: `ferry:${opts.role}`,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
  });
}

/** Runs `f`; a connection-level failure becomes StorageUnavailableError naming `what`. */
export async function redisCall<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (isConnectionError(err)) throw new StorageUnavailableError(`storage unavailable: ${what}: Redis is not reachable (${(err as Error).message})`, { cause: err });
    throw err;
  }
}

/** Whether `err` is ioredis's way of saying the connection is down (as opposed to a command error). */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof StorageUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  const m = err.message;
  return (
    /Stream isn't writeable|Connection is closed|enableOfflineQueue|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|connect ETIMEDOUT|Reached the max retries/i.test(m) ||
    err.name === 'MaxRetriesPerRequestError'
  );
}
