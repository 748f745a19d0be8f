/**
 * The version of the key layout the Redis stores write (src/store/redis/*-store.ts), kept in
 * "ferry:layout". The first node to open an empty Redis sets it; a Redis written by a newer
 * Ferry (a higher version) is refused, as SQLite refuses a newer schema, so an old node never
 * misreads keys it does not know.
 */
import type { Redis } from 'ioredis';
import { KEY_PREFIX, redisCall } from './client.js';

export const LAYOUT_VERSION = 1;
export const LAYOUT_KEY = `${KEY_PREFIX}layout`;

/** Sets the version on an empty Redis; throws when the stored one is newer or not a version. */
export async function checkLayoutVersion(redis: Redis): Promise<void> {
  const stored = await redisCall('read the storage layout version', async () => {
    await redis.set(LAYOUT_KEY, String(LAYOUT_VERSION), 'NX');
    return redis.get(LAYOUT_KEY);
  });
  const v = Number(stored);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`storage: ${LAYOUT_KEY} in Redis holds ${JSON.stringify(stored)}, not a layout version`);
  if (v > LAYOUT_VERSION) throw new Error(`storage: the Redis data is of layout version ${v}, newer than this Ferry supports (${LAYOUT_VERSION})`);
}
