/**
 * "Once per fleet": the first node to claim a name (SET NX with an expiry) does the thing, the
 * others skip it. Used so that each usage webhook event (usage.soft_limit, usage.hard_limit,
 * usage.reset, usage.report) goes out once per fleet although every node's limiter sees the
 * same crossing. Keys `ferry:once:<name>`, expiring after `ttlMs`, holding the claimer's token so
 * that a claim can be given back (the node could not store the event) by its holder only.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { KEY_PREFIX, redisCall } from './client.js';
import { RedisScript } from './script.js';

// KEYS: the claim. ARGV: the token. Deletes the claim only while it is still this token's.
const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * Resolves with a release function for the first claim of `name` within `ttlMs` (null when
 * another claim holds it); rejects with StorageUnavailableError while Redis is down. The release
 * deletes the claim if it is still this one, so another node's next claim of the name succeeds.
 */
export async function claimOnce(redis: Redis, name: string, ttlMs: number): Promise<(() => Promise<void>) | null> {
  const ms = Math.max(1000, Math.ceil(ttlMs));
  const key = `${KEY_PREFIX}once:${name}`;
  const token = randomBytes(12).toString('base64url');
  const answer = await redisCall('claim a once-per-fleet event', () => redis.set(key, token, 'PX', ms, 'NX'));
  if (answer !== 'OK') return null;
  return async () => {
    await redisCall('release a once-per-fleet claim', () => RELEASE.run(redis, [key], [token]));
  };
}
