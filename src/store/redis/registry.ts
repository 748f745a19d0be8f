/**
 * The relay registry in Redis. One string key per node, `ferry:relay:<node id>`, holding its
 * entry (JSON) with PX = the TTL, and one sorted set `ferry:relays` indexing the node ids by the
 * time (Redis's clock) their entry expires. A heartbeat rewrites both in one script; a listing
 * prunes the index of expired ids and of ids whose key is gone, and reads at most `max` entries,
 * each with its remaining PTTL, also in one script. Times come from Redis's TIME, so the nodes'
 * clocks never have to agree.
 */
import type { Redis } from 'ioredis';
import { decodeEntry, encodeEntry } from '../../cluster/entry.js';
import { MAX_ENTRY_BYTES, type RegistryStore, type RelayEntry, type RelayListing } from '../../cluster/types.js';
import { KEY_PREFIX, redisCall } from './client.js';

export const RELAY_INDEX_KEY = `${KEY_PREFIX}relays`;
export const RELAY_KEY_PREFIX = `${KEY_PREFIX}relay:`;

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS: index, entry key. ARGV: node id, entry JSON, ttl ms.
const PUT = `${NOW}
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
return 1`;

// KEYS: index. ARGV: entry key prefix, max entries, max entry bytes.
// Returns a flat list: id, entry, remaining ms, ... (oversized entries are left out, not pruned).
const LIST = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local ttl = redis.call('PTTL', key)
  if ttl <= 0 then
    redis.call('ZREM', KEYS[1], id)
  elseif redis.call('STRLEN', key) <= tonumber(ARGV[3]) then
    table.insert(out, id)
    table.insert(out, redis.call('GET', key))
    table.insert(out, ttl)
  end
end
return out`;

// KEYS: index, entry key. ARGV: node id.
const REMOVE = `redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1`;

export class RedisRegistryStore implements RegistryStore {
  readonly #redis: Redis;
  #closed = false;

  /** Uses (and on close() quits) `redis`, a client from createRedis. */
  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async put(entry: RelayEntry, ttlMs: number): Promise<void> {
    const json = encodeEntry(entry);
    await redisCall('registry heartbeat', () => this.#redis.eval(PUT, 2, RELAY_INDEX_KEY, RELAY_KEY_PREFIX + entry.nodeId, entry.nodeId, json, String(Math.round(ttlMs))));
  }

  async remove(nodeId: string): Promise<void> {
    await redisCall('registry remove', () => this.#redis.eval(REMOVE, 2, RELAY_INDEX_KEY, RELAY_KEY_PREFIX + nodeId, nodeId));
  }

  async list(max: number): Promise<RelayListing[]> {
    const raw = await redisCall('registry list', () => this.#redis.eval(LIST, 1, RELAY_INDEX_KEY, RELAY_KEY_PREFIX, String(max), String(MAX_ENTRY_BYTES)));
    if (!Array.isArray(raw)) return [];
    const out: RelayListing[] = [];
    for (let i = 0; i + 2 < raw.length && out.length < max; i += 3) {
      const [id, text, ttl] = [raw[i], raw[i + 1], raw[i + 2]];
      if (typeof text !== 'string' || typeof ttl !== 'number') continue;
      const entry = decodeEntry(text);
      // An entry under another node's key is not trusted: the key names the node.
      if (entry === null || entry.nodeId !== id) continue;
      out.push({ entry, remainingMs: ttl });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }
}
