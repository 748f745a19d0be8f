/**
 * "Once per fleet": the first node to claim a name (SET NX with an expiry) does the thing, the
 * others skip it. Used so that each usage webhook event (usage.soft_limit, usage.hard_limit,
 * usage.reset, usage.report) goes out once per fleet although every node's limiter sees the
 * same crossing. Keys `ferry:once:<name>`, expiring after `ttlMs`.
 */
import type { Redis } from 'ioredis';
import { KEY_PREFIX, redisCall } from './client.js';

/** Resolves true for the first claim of `name` within `ttlMs`; rejects with StorageUnavailableError while Redis is down. */
export async function claimOnce(redis: Redis, name: string, ttlMs: number): Promise<boolean> {
  const ms = Math.max(1000, Math.ceil(ttlMs));
  const answer = await redisCall('claim a once-per-fleet event', () => redis.set(`${KEY_PREFIX}once:${name}`, '1', 'PX', ms, 'NX'));
  return answer === 'OK';
}
