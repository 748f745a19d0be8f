/**
 * The Lua scripts of the Redis webhook outbox (./webhook-outbox.ts): each one runs atomically in
 * Redis, so a check and the write it guards cannot be split by another node's command. Keys are
 * passed in KEYS; a script touches no other key.
 */
import { RedisScript } from './script.js';

/**
 * Enqueue, all or none. KEYS[1]: the id index (hash: event id -> "<receiver hash> <stream id>");
 * KEYS[1 + i]: the stream of event i. ARGV: 6 per event: id, receiver hash, webhook URL, type,
 * body, created (ms). Every id is checked (against the index and the batch) before anything is
 * written, so a refused batch leaves nothing. Returns the number of entries written.
 */
export const ENQUEUE = new RedisScript(`
local n = #KEYS - 1
local seen = {}
for i = 1, n do
  local id = ARGV[(i - 1) * 6 + 1]
  if seen[id] or redis.call('HEXISTS', KEYS[1], id) == 1 then
    return redis.error_reply('ERR webhook event id already stored: ' .. id)
  end
  seen[id] = true
end
for i = 1, n do
  local b = (i - 1) * 6
  local sid = redis.call('XADD', KEYS[i + 1], '*', 'id', ARGV[b + 1], 'webhook', ARGV[b + 3], 'type', ARGV[b + 4], 'body', ARGV[b + 5], 'created', ARGV[b + 6])
  redis.call('HSET', KEYS[1], ARGV[b + 1], ARGV[b + 2] .. ' ' .. sid)
end
return n
`);

/**
 * The head of one receiver's stream. KEYS[1]: the stream; KEYS[2]: its retry hash (event id ->
 * "<attempts> <next attempt ms> <last error>"). Returns false when empty, else
 * {stream id, {field, value, ...}, retry value or ''}.
 */
export const HEAD = new RedisScript(`
local e = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #e == 0 then return false end
local fields = e[1][2]
local id = ''
for i = 1, #fields, 2 do
  if fields[i] == 'id' then id = fields[i + 1] end
end
local retry = redis.call('HGET', KEYS[2], id)
return { e[1][1], fields, retry or '' }
`);

/**
 * A mark, under the lease. KEYS[1]: the id index; KEYS[2]: the stream; KEYS[3]: the retry hash;
 * KEYS[4]: the lease. ARGV: event id, the index value read before ("<hash> <stream id>"), stream
 * id, lease token, 'delivered' or 'failed', next attempt ms, error, lease ms. Returns 0 when the
 * entry is gone (nothing to do), -1 when another token holds the lease (nothing done), 1 when
 * marked. A lease found absent (expired unrenewed, or an emptied Redis) is taken with the mark:
 * nobody else delivers, so the mark can neither reorder nor double another node's.
 */
export const MARK = new RedisScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local lease = redis.call('GET', KEYS[4])
if lease and lease ~= ARGV[4] then return -1 end
if not lease then redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[8]) end
if ARGV[5] == 'delivered' then
  redis.call('XDEL', KEYS[2], ARGV[3])
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  local cur = redis.call('HGET', KEYS[3], ARGV[1])
  local attempts = 0
  if cur then attempts = tonumber(string.match(cur, '^(%d+)')) or 0 end
  redis.call('HSET', KEYS[3], ARGV[1], (attempts + 1) .. ' ' .. ARGV[6] .. ' ' .. ARGV[7])
end
return 1
`);

/** Takes or keeps the lease. KEYS[1]: the lease; ARGV: token, lease ms. Returns 1 when held by the token now, else 0. */
export const CLAIM = new RedisScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/** Drops the lease when the token holds it. KEYS[1]: the lease; ARGV[1]: token. */
export const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`);
