/**
 * UsageStore over Redis (storage "redis://..."): the usage ledger shared by every node of a fleet,
 * with the SQLite store's behaviour. Layout (under KEY_PREFIX "ferry:"):
 *   usage:hour:<ms>        hash "<c>:<account>" -> count, c one of bp bc pp pc (bytes/packets to
 *                          peer/client); usage:hours indexes the hours (sorted set)
 *   usage:tf:<ms>          the same per timeframe start; usage:tfs indexes them
 *   usage:current          hash start, lengthMs: the current timeframe
 *   usage:archive:<ms>     hash _start, _end, _at and the closed timeframe's totals; usage:archives
 *   usage:sessions         list of session records (JSON), the newest SESSIONS_KEPT
 *   usage:sessions:<acct>  the account's, the newest SESSIONS_KEPT_PER_ACCOUNT
 *   usage:writer:<writer>  the last batch seq applied for a writer (expires WRITER_TTL_S after its
 *                          last batch)
 * record() is one Lua script: it applies a batch only when its seq is above the writer's
 * watermark, so a retried or replayed flush adds nothing twice. rollover() is one script too: the
 * first call for a closed window archives it and makes the next current; later calls (other
 * nodes, retries) get that archive back and change nothing. A batch for an archived timeframe
 * (another node's flush that lands after the rollover) is added to the archive too.
 */
import type { Redis } from 'ioredis';
import type { ArchivedTimeframe, Counters, FlushBatch, SessionRecord, Timeframe, UsageFilter, UsageRow, UsageStore } from '../../metering/types.js';
import { checkBatchIdentity, DAY_MS, HOUR_MS, rollUpDays, zeroCounters } from '../../metering/types.js';
import { KEY_PREFIX, redisCall } from './client.js';
import { execAll, RedisScript } from './script.js';

/** Session records kept fleet-wide (the newest), and per account. SQLite keeps every one. */
export const SESSIONS_KEPT = 100_000;
export const SESSIONS_KEPT_PER_ACCOUNT = 10_000;
/** How long a writer's watermark outlives its last batch (a writer is one process run; as SQLite's WRITER_RETENTION_MS). */
export const WRITER_TTL_S = 30 * 24 * 3600;
/** Hours, timeframes or archives read per ZRANGE page. */
const PAGE = 200;

const K = {
  hour: (t: number | string) => `${KEY_PREFIX}usage:hour:${t}`,
  hours: `${KEY_PREFIX}usage:hours`,
  tf: (t: number | string) => `${KEY_PREFIX}usage:tf:${t}`,
  tfs: `${KEY_PREFIX}usage:tfs`,
  current: `${KEY_PREFIX}usage:current`,
  archive: (t: number | string) => `${KEY_PREFIX}usage:archive:${t}`,
  archives: `${KEY_PREFIX}usage:archives`,
  sessions: `${KEY_PREFIX}usage:sessions`,
  accountSessions: (account: string) => `${KEY_PREFIX}usage:sessions:${account}`,
  writer: (w: string) => `${KEY_PREFIX}usage:writer:${w}`,
};

const CODES = ['bp', 'bc', 'pp', 'pc'] as const;
const FIELD: Record<(typeof CODES)[number], keyof Counters> = { bp: 'bytesToPeer', bc: 'bytesToClient', pp: 'packetsToPeer', pc: 'packetsToClient' };

// KEYS: writer, hour hash, tf hash, hours, tfs, sessions, the timeframe's archive, then one account
// session list per session.
// ARGV: seq, ttl, hour, tfStart, nDeltas, kept, keptPerAccount, then 5 per delta
// (account, bp, bc, pp, pc), then one JSON per session. Returns 1 (applied) or 0 (seen before).
// A batch for a timeframe another node has already archived (its flush landed after that node's
// rollover) is added to the archive's totals too, so the archive holds every node's usage.
const RECORD = new RedisScript(`
local seq = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if seq <= last then return 0 end
local n = tonumber(ARGV[5])
local archived = redis.call('EXISTS', KEYS[7]) == 1
local codes = {'bp', 'bc', 'pp', 'pc'}
for i = 0, n - 1 do
  local base = 8 + i * 5
  local account = ARGV[base]
  for j = 1, 4 do
    local f = codes[j] .. ':' .. account
    redis.call('HINCRBY', KEYS[2], f, ARGV[base + j])
    redis.call('HINCRBY', KEYS[3], f, ARGV[base + j])
    if archived then redis.call('HINCRBY', KEYS[7], f, ARGV[base + j]) end
  end
end
if n > 0 then
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[3])
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[4])
end
local first = 8 + n * 5
local kept = tonumber(ARGV[6])
local keptPer = tonumber(ARGV[7])
for i = first, #ARGV do
  local list = KEYS[8 + i - first]
  redis.call('RPUSH', KEYS[6], ARGV[i])
  redis.call('RPUSH', list, ARGV[i])
  redis.call('LTRIM', list, -keptPer, -1)
end
if #ARGV >= first then redis.call('LTRIM', KEYS[6], -kept, -1) end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`);

// KEYS: archive, archives, current, closed timeframe's totals. ARGV: start, end, archivedAt, next start, next length.
// Returns the archive's fields (HGETALL), new or existing.
const ROLLOVER = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], '_start', ARGV[1], '_end', ARGV[2], '_at', ARGV[3])
  local totals = redis.call('HGETALL', KEYS[4])
  for i = 1, #totals, 2 do redis.call('HSET', KEYS[1], totals[i], totals[i + 1]) end
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
  redis.call('HSET', KEYS[3], 'start', ARGV[4], 'lengthMs', ARGV[5])
end
return redis.call('HGETALL', KEYS[1])
`);

const count = (v: number, what: string) => {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`usage record: ${what} must be a non-negative integer, got ${v}`);
  return v;
};

/** A hash of "<code>:<account>" counters as rows (accounts in order), each from `start` to `end`. */
function rowsOf(f: Record<string, string>, start: number, end: number): UsageRow[] {
  const by = new Map<string, Counters>();
  for (const [field, value] of Object.entries(f)) {
    const code = field.slice(0, 2) as (typeof CODES)[number];
    if (field[2] !== ':' || !(code in FIELD)) continue;
    const account = field.slice(3);
    let c = by.get(account);
    if (c === undefined) by.set(account, (c = zeroCounters()));
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new Error('storage: corrupt usage counter in Redis');
    c[FIELD[code]] = n;
  }
  return [...by.keys()].sort(compare).map((account) => ({ account, start, end, ...by.get(account)! }));
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sessionOf(json: string): SessionRecord {
  const s = JSON.parse(json) as Record<string, unknown>;
  const num = (k: string) => {
    if (typeof s[k] !== 'number') throw new Error(`storage: corrupt session record in Redis (${k})`);
    return s[k] as number;
  };
  const str = (k: string) => {
    if (typeof s[k] !== 'string') throw new Error(`storage: corrupt session record in Redis (${k})`);
    return s[k] as string;
  };
  return {
    allocationId: num('allocationId'), account: str('account'), transport: str('transport'), clientAddress: str('clientAddress'),
    clientPort: num('clientPort'), startedAt: num('startedAt'), endedAt: num('endedAt'), reason: str('reason'),
    bytesToPeer: num('bytesToPeer'), bytesToClient: num('bytesToClient'), packetsToPeer: num('packetsToPeer'), packetsToClient: num('packetsToClient'),
  };
}

function archiveOf(f: Record<string, string>): ArchivedTimeframe {
  const start = Number(f._start);
  const end = Number(f._end);
  const archivedAt = Number(f._at);
  if (![start, end, archivedAt].every(Number.isSafeInteger)) throw new Error('storage: corrupt usage archive in Redis');
  return { start, end, archivedAt, accounts: rowsOf(f, start, end) };
}

export interface RedisUsageStoreOptions {
  /** Session records kept fleet-wide; default SESSIONS_KEPT. */
  readonly sessionsKept?: number;
  /** Session records kept per account; default SESSIONS_KEPT_PER_ACCOUNT. */
  readonly sessionsKeptPerAccount?: number;
}

export class RedisUsageStore implements UsageStore {
  readonly #kept: number;
  readonly #keptPerAccount: number;

  /** `redis`: a connected client (createRedis); the caller closes it. */
  constructor(private readonly redis: Redis, opts: RedisUsageStoreOptions = {}) {
    this.#kept = opts.sessionsKept ?? SESSIONS_KEPT;
    this.#keptPerAccount = opts.sessionsKeptPerAccount ?? SESSIONS_KEPT_PER_ACCOUNT;
    for (const n of [this.#kept, this.#keptPerAccount]) if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`RedisUsageStore: session bounds must be whole numbers ≥ 1; got ${n}`);
  }

  async timeframe(): Promise<Timeframe | null> {
    const [start, lengthMs] = await redisCall('read the usage timeframe', () => this.redis.hmget(K.current, 'start', 'lengthMs'));
    if (start === null || lengthMs === null) return null;
    const tf = { start: Number(start), lengthMs: Number(lengthMs) };
    if (!Number.isSafeInteger(tf.start) || !Number.isSafeInteger(tf.lengthMs)) throw new Error('storage: corrupt usage timeframe in Redis');
    return tf;
  }

  async setTimeframe(tf: Timeframe): Promise<void> {
    await redisCall('write the usage timeframe', () => this.redis.hset(K.current, 'start', tf.start, 'lengthMs', tf.lengthMs));
  }

  async record(batch: FlushBatch): Promise<void> {
    checkBatchIdentity(batch);
    const args: (string | number)[] = [batch.seq, WRITER_TTL_S, batch.hour, batch.timeframeStart, batch.deltas.length, this.#kept, this.#keptPerAccount];
    for (const d of batch.deltas) {
      args.push(d.account, count(d.bytesToPeer, 'bytesToPeer'), count(d.bytesToClient, 'bytesToClient'), count(d.packetsToPeer, 'packetsToPeer'), count(d.packetsToClient, 'packetsToClient'));
    }
    const keys = [K.writer(batch.writer), K.hour(batch.hour), K.tf(batch.timeframeStart), K.hours, K.tfs, K.sessions, K.archive(batch.timeframeStart)];
    for (const s of batch.sessions) {
      keys.push(K.accountSessions(s.account));
      args.push(JSON.stringify({
        allocationId: s.allocationId, account: s.account, transport: s.transport, clientAddress: s.clientAddress, clientPort: s.clientPort,
        startedAt: s.startedAt, endedAt: s.endedAt, reason: s.reason,
        bytesToPeer: s.bytesToPeer, bytesToClient: s.bytesToClient, packetsToPeer: s.packetsToPeer, packetsToClient: s.packetsToClient,
      }));
    }
    await redisCall('record usage', () => RECORD.run(this.redis, keys, args));
  }

  async usage(filter: UsageFilter): Promise<UsageRow[]> {
    const byTimeframe = filter.granularity === 'timeframe';
    // Per day: whole days whose start is within [from, to), so the hours from the first day boundary.
    const bound = (t: number) => (filter.granularity === 'day' ? Math.ceil(t / DAY_MS) * DAY_MS : t);
    const min = filter.from === undefined ? '-inf' : String(bound(filter.from));
    const max = filter.to === undefined ? '+inf' : `(${bound(filter.to)}`;
    const starts = await this.#starts(byTimeframe ? K.tfs : K.hours, min, max);
    const current = byTimeframe ? await this.timeframe() : null;
    const out: UsageRow[] = [];
    for (let i = 0; i < starts.length; i += PAGE) {
      const page = starts.slice(i, i + PAGE);
      const pipeline = this.redis.pipeline();
      for (const t of page) {
        const key = byTimeframe ? K.tf(t) : K.hour(t);
        if (filter.account === undefined) pipeline.hgetall(key);
        else pipeline.hmget(key, ...CODES.map((c) => `${c}:${filter.account}`));
        if (byTimeframe) pipeline.hget(K.archive(t), '_end');
      }
      const replies = await redisCall('read usage', () => execAll<unknown>(pipeline));
      const per = byTimeframe ? 2 : 1;
      page.forEach((start, j) => {
        const reply = replies[j * per];
        let end = start + HOUR_MS;
        if (byTimeframe) {
          // A timeframe ends where its archive says, or (the current one) where the stored window does.
          const archived = replies[j * per + 1] as string | null;
          // (A past window without an archive is given the current length, as SQLite does.)
          end = archived !== null ? Number(archived) : current === null ? start : start + current.lengthMs;
        }
        if (filter.account === undefined) {
          out.push(...rowsOf(reply as Record<string, string>, start, end));
        } else {
          const values = reply as (string | null)[];
          if (values.every((v) => v === null)) return;
          const f: Record<string, string> = {};
          CODES.forEach((c, k) => (f[`${c}:${filter.account}`] = values[k] ?? '0'));
          out.push(...rowsOf(f, start, end));
        }
      });
    }
    return filter.granularity === 'day' ? rollUpDays(out) : out;
  }

  async rollover(closed: Timeframe, next: Timeframe, archivedAt: number): Promise<ArchivedTimeframe> {
    const end = closed.start + closed.lengthMs;
    const f = await redisCall('roll the usage timeframe over', () =>
      ROLLOVER.run(this.redis, [K.archive(closed.start), K.archives, K.current, K.tf(closed.start)], [closed.start, end, archivedAt, next.start, next.lengthMs]),
    );
    if (!Array.isArray(f)) throw new Error('storage: unexpected reply from Redis');
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < f.length; i += 2) fields[String(f[i])] = String(f[i + 1]);
    return archiveOf(fields);
  }

  async archives(): Promise<ArchivedTimeframe[]> {
    const starts = await this.#starts(K.archives, '-inf', '+inf');
    const out: ArchivedTimeframe[] = [];
    for (let i = 0; i < starts.length; i += PAGE) {
      const pipeline = this.redis.pipeline();
      for (const t of starts.slice(i, i + PAGE)) pipeline.hgetall(K.archive(t));
      for (const f of await redisCall('read usage archives', () => execAll<Record<string, string>>(pipeline))) {
        if (f._start !== undefined) out.push(archiveOf(f));
      }
    }
    return out;
  }

  async sessions(account?: string): Promise<SessionRecord[]> {
    const list = account === undefined ? K.sessions : K.accountSessions(account);
    const items = await redisCall('read session records', () => this.redis.lrange(list, 0, -1));
    return items.map(sessionOf);
  }

  /** The members (bucket starts) of an index between min and max, in order, read in pages. */
  async #starts(index: string, min: string, max: string): Promise<number[]> {
    const out: number[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await redisCall('read usage', () => this.redis.zrangebyscore(index, min, max, 'LIMIT', offset, PAGE));
      for (const m of page) {
        const t = Number(m);
        if (!Number.isSafeInteger(t)) throw new Error('storage: corrupt usage index in Redis');
        out.push(t);
      }
      if (page.length < PAGE) break;
    }
    return out;
  }
}
