/**
 * AccountStore over Redis (storage "redis://..."): the SQLite store's behaviour, shared by every
 * node of a fleet. Each write touching several keys is one Lua script, so it is all or nothing.
 * Layout (all under KEY_PREFIX "ferry:"):
 *   account:<id>        hash: the account (deletedAt once soft-deleted; row: insertion order)
 *   accounts:all        sorted set of every account ever created, by createdAt then insertion
 *   accounts:live       the same for live (not deleted) accounts
 *   accounts:names      hash: live name folded to ASCII lower case -> account id (unique names)
 *   account:<id>:keys   sorted set of the account's API key hashes, by createdAt then insertion
 *   apikey:<sha256>     hash: the key's info (only the SHA-256 hex digest of a key is stored)
 *   apikeys:ids         hash: key id -> its hash (key ids are unique)
 *   rows                counter giving each account and key its insertion number
 * Sorted set members are "<16-digit row>:<id or hash>", so equal createdAt scores sort by
 * insertion, as SQLite's ORDER BY created_at, rowid does. Lists are read in pages, never with KEYS.
 */
import type { Redis } from 'ioredis';
import { AccountError } from '../../accounts/errors.js';
import type { Account, AccountPatch, AccountState, AccountStore, ApiKeyInfo } from '../../accounts/types.js';
import { KEY_PREFIX, redisCall } from './client.js';
import { execAll, RedisScript } from './script.js';

const K = {
  account: (id: string) => `${KEY_PREFIX}account:${id}`,
  accountKeys: (id: string) => `${KEY_PREFIX}account:${id}:keys`,
  all: `${KEY_PREFIX}accounts:all`,
  live: `${KEY_PREFIX}accounts:live`,
  names: `${KEY_PREFIX}accounts:names`,
  key: (hash: string) => `${KEY_PREFIX}apikey:${hash}`,
  keyIds: `${KEY_PREFIX}apikeys:ids`,
  rows: `${KEY_PREFIX}rows`,
};

/** Members read per ZRANGE (and hashes per pipeline) when listing. */
const PAGE = 500;

/** SQLite's NOCASE: A-Z folded to a-z, nothing else. */
const fold = (name: string) => name.replace(/[A-Z]/g, (c) => c.toLowerCase());

// KEYS: account, all, live, names, rows. ARGV: id, name, fold, disabled, createdAt, credentialsNotBefore.
const CREATE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if redis.call('HEXISTS', KEYS[4], ARGV[3]) == 1 then return -2 end
local row = redis.call('INCR', KEYS[5])
local member = string.format('%016d:%s', row, ARGV[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'name', ARGV[2], 'fold', ARGV[3], 'disabled', ARGV[4], 'createdAt', ARGV[5], 'cnb', ARGV[6], 'row', row)
redis.call('ZADD', KEYS[2], ARGV[5], member)
redis.call('ZADD', KEYS[3], ARGV[5], member)
redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])
return 1
`);

// KEYS: account, names. ARGV: id, hasName, name, fold, then field/value pairs ('' removes the field).
// Returns nil (not live), -2 (name taken) or the account's fields.
const UPDATE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'deletedAt') == 1 then return false end
if ARGV[2] == '1' then
  local owner = redis.call('HGET', KEYS[2], ARGV[4])
  if owner and owner ~= ARGV[1] then return -2 end
  local old = redis.call('HGET', KEYS[1], 'fold')
  if old ~= ARGV[4] then
    if redis.call('HGET', KEYS[2], old) == ARGV[1] then redis.call('HDEL', KEYS[2], old) end
    redis.call('HSET', KEYS[2], ARGV[4], ARGV[1])
  end
  redis.call('HSET', KEYS[1], 'name', ARGV[3], 'fold', ARGV[4])
end
for i = 5, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return redis.call('HGETALL', KEYS[1])
`);

// KEYS: account, live, names, account's keys. ARGV: id, at, apikey key prefix. Revokes the account's
// keys (their key names are built here: one Redis, not a cluster).
const DELETE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'deletedAt') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'deletedAt', ARGV[2])
local row = tonumber(redis.call('HGET', KEYS[1], 'row'))
redis.call('ZREM', KEYS[2], string.format('%016d:%s', row, ARGV[1]))
local f = redis.call('HGET', KEYS[1], 'fold')
if redis.call('HGET', KEYS[3], f) == ARGV[1] then redis.call('HDEL', KEYS[3], f) end
for _, m in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  local k = ARGV[3] .. string.sub(m, 18)
  if redis.call('HEXISTS', k, 'revokedAt') == 0 then redis.call('HSET', k, 'revokedAt', ARGV[2]) end
end
return 1
`);

// KEYS: apikey, apikeys:ids, account, account's keys, rows. ARGV: id, accountId, prefix, createdAt, revokedAt ('' none), hash.
const ADD_KEY = new RedisScript(`
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return -2 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -3 end
local row = redis.call('INCR', KEYS[5])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'accountId', ARGV[2], 'prefix', ARGV[3], 'createdAt', ARGV[4], 'row', row)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'revokedAt', ARGV[5]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[6])
redis.call('ZADD', KEYS[4], ARGV[4], string.format('%016d:%s', row, ARGV[6]))
return 1
`);

// KEYS: apikeys:ids. ARGV: keyId, accountId, at, apikey key prefix.
const REVOKE_KEY = new RedisScript(`
local hash = redis.call('HGET', KEYS[1], ARGV[1])
if not hash then return 0 end
local k = ARGV[4] .. hash
if redis.call('HGET', k, 'accountId') ~= ARGV[2] then return 0 end
if redis.call('HEXISTS', k, 'revokedAt') == 0 then redis.call('HSET', k, 'revokedAt', ARGV[3]) end
return 1
`);

type Fields = Record<string, string>;

function int(f: Fields, name: string, what: string): number {
  const v = f[name];
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isSafeInteger(n)) throw new Error(`storage: corrupt ${what} in Redis (field ${name})`);
  return n;
}

const optInt = (f: Fields, name: string, what: string) => (f[name] === undefined ? undefined : int(f, name, what));

function toAccount(f: Fields): Account {
  const limitBytes = optInt(f, 'limitBytes', 'account');
  const maxBps = optInt(f, 'maxBps', 'account');
  if (typeof f.id !== 'string' || typeof f.name !== 'string') throw new Error('storage: corrupt account in Redis (id or name)');
  return {
    id: f.id,
    name: f.name,
    disabled: f.disabled === '1',
    createdAt: int(f, 'createdAt', 'account'),
    credentialsNotBefore: int(f, 'cnb', 'account'),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
    ...(maxBps !== undefined ? { maxBps } : {}),
  };
}

function toKey(f: Fields): ApiKeyInfo {
  if (typeof f.id !== 'string' || typeof f.accountId !== 'string' || typeof f.prefix !== 'string') throw new Error('storage: corrupt API key in Redis');
  return { id: f.id, accountId: f.accountId, prefix: f.prefix, createdAt: int(f, 'createdAt', 'API key'), revokedAt: optInt(f, 'revokedAt', 'API key') ?? null };
}

/** HGETALL's flat [field, value, ...] array (from a script) as an object. */
function pairs(flat: unknown): Fields {
  if (!Array.isArray(flat)) throw new Error('storage: unexpected reply from Redis');
  const f: Fields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[String(flat[i])] = String(flat[i + 1]);
  return f;
}

const nameTaken = (name: string) => new AccountError('conflict', `an account named ${JSON.stringify(name)} exists already (names are unique, ignoring case)`);

export class RedisAccountStore implements AccountStore {
  /** `redis`: a connected client (createRedis); the caller closes it. */
  constructor(private readonly redis: Redis) {}

  async createAccount(account: Account): Promise<void> {
    const r = await redisCall('create account', () =>
      CREATE.run(this.redis, [K.account(account.id), K.all, K.live, K.names, K.rows], [
        account.id, account.name, fold(account.name), account.disabled ? '1' : '0', account.createdAt, account.credentialsNotBefore,
      ]),
    );
    if (r === -1) throw new Error(`an account with id ${JSON.stringify(account.id)} exists already (unique: accounts.id)`);
    if (r === -2) throw nameTaken(account.name);
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const f = await redisCall('read account', () => this.redis.hgetall(K.account(id)));
    return f.id === undefined || f.deletedAt !== undefined ? undefined : toAccount(f);
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.#read(K.live, K.account, 'list accounts')).map(toAccount);
  }

  async updateAccount(id: string, patch: AccountPatch): Promise<Account | undefined> {
    const rest: (string | number)[] = [];
    if (patch.disabled !== undefined) rest.push('disabled', patch.disabled ? '1' : '0');
    if (patch.credentialsNotBefore !== undefined) rest.push('cnb', patch.credentialsNotBefore);
    if (patch.limitBytes !== undefined) rest.push('limitBytes', patch.limitBytes ?? '');
    if (patch.maxBps !== undefined) rest.push('maxBps', patch.maxBps ?? '');
    const name = patch.name;
    const r = await redisCall('update account', () =>
      UPDATE.run(this.redis, [K.account(id), K.names], [id, name !== undefined ? '1' : '0', name ?? '', name !== undefined ? fold(name) : '', ...rest]),
    );
    if (r === null || r === undefined) return undefined;
    if (r === -2) throw nameTaken(name ?? '');
    return toAccount(pairs(r));
  }

  async deleteAccount(id: string, at: number): Promise<boolean> {
    const r = await redisCall('delete account', () => DELETE.run(this.redis, [K.account(id), K.live, K.names, K.accountKeys(id)], [id, at, K.key('')]));
    return r === 1;
  }

  async states(): Promise<AccountState[]> {
    return (await this.#read(K.all, K.account, 'read account states')).map((f) => {
      const a = toAccount(f);
      return { id: a.id, status: f.deletedAt !== undefined ? 'deleted' : a.disabled ? 'disabled' : 'active', credentialsNotBefore: a.credentialsNotBefore };
    });
  }

  async addApiKey(key: ApiKeyInfo, hash: string): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error('addApiKey: hash must be a SHA-256 hex digest, never the key itself');
    const r = await redisCall('add API key', () =>
      ADD_KEY.run(this.redis, [K.key(hash), K.keyIds, K.account(key.accountId), K.accountKeys(key.accountId), K.rows], [
        key.id, key.accountId, key.prefix, key.createdAt, key.revokedAt ?? '', hash,
      ]),
    );
    if (r === -1) throw new Error(`addApiKey: no account ${JSON.stringify(key.accountId)} (FOREIGN KEY: api_keys.account_id)`);
    if (r === -2) throw new Error('addApiKey: a key with this hash exists already (UNIQUE: api_keys.hash)');
    if (r === -3) throw new Error(`addApiKey: a key with id ${JSON.stringify(key.id)} exists already (UNIQUE: api_keys.id)`);
  }

  async findApiKey(hash: string): Promise<ApiKeyInfo | undefined> {
    if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
    const f = await redisCall('find API key', () => this.redis.hgetall(K.key(hash)));
    return f.id === undefined ? undefined : toKey(f);
  }

  async listApiKeys(accountId: string): Promise<ApiKeyInfo[]> {
    return (await this.#read(K.accountKeys(accountId), K.key, 'list API keys')).map(toKey);
  }

  async revokeApiKey(accountId: string, keyId: string, at: number): Promise<boolean> {
    const r = await redisCall('revoke API key', () => REVOKE_KEY.run(this.redis, [K.keyIds], [keyId, accountId, at, K.key('')]));
    return r === 1;
  }

  /** The connection belongs to the Storage bundle, which closes it. */
  async close(): Promise<void> {}

  /** The hashes named by a sorted set's members ("<row>:<name>"), in order, read in pages. */
  async #read(index: string, keyOf: (name: string) => string, what: string): Promise<Fields[]> {
    const out: Fields[] = [];
    for (let start = 0; ; start += PAGE) {
      const members = await redisCall(what, () => this.redis.zrange(index, start, start + PAGE - 1));
      if (members.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const m of members) pipeline.hgetall(keyOf(m.slice(17)));
      const replies = await redisCall(what, () => execAll<Fields>(pipeline));
      // A member whose hash is gone (never written by this store) is skipped.
      for (const f of replies) if (f.id !== undefined) out.push(f);
      if (members.length < PAGE) break;
    }
    return out;
  }
}
