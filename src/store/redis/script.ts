/**
 * A Lua script run by its SHA-1 (EVALSHA), loaded on first use and again after a Redis restart
 * (NOSCRIPT): a script runs atomically, which is how the Redis stores make writes to several keys
 * all or nothing.
 */
import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';

export class RedisScript {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

/** Runs a pipeline; the first failed command's error is thrown (a connection error among them too). */
export async function execAll<T>(pipeline: ChainableCommander): Promise<T[]> {
  const replies = await pipeline.exec();
  if (replies === null) throw new Error('Connection is closed (pipeline discarded)');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}
