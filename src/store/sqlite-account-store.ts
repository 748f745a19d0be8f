/**
 * AccountStore over better-sqlite3 (synchronous underneath; the async interface lets a Redis store
 * replace it). WAL journal, busy_timeout and foreign keys on; schema through ./migrations.ts.
 * API keys are stored only as SHA-256 hex hashes. Deleting an account is a soft delete
 * (deleted_at): it leaves get/list but stays in states() as 'deleted', and its keys are revoked.
 * Live account names are unique ignoring ASCII case (a unique index, migration 5): creating or
 * renaming to a taken name throws AccountError 'conflict'.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { AccountError } from '../accounts/errors.js';
import type { Account, AccountPatch, AccountState, AccountStore, ApiKeyInfo } from '../accounts/types.js';
import { migrate } from './migrations.js';

export const BUSY_TIMEOUT_MS = 5000;

interface AccountRow {
  id: string;
  name: string;
  disabled: number;
  created_at: number;
  credentials_not_before: number;
  deleted_at: number | null;
  limit_bytes: number | null;
  max_bps: number | null;
}

interface KeyRow {
  id: string;
  account_id: string;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
}

function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    name: r.name,
    disabled: r.disabled === 1,
    createdAt: r.created_at,
    credentialsNotBefore: r.credentials_not_before,
    ...(r.limit_bytes !== null ? { limitBytes: r.limit_bytes } : {}),
    ...(r.max_bps !== null ? { maxBps: r.max_bps } : {}),
  };
}

function toKey(r: KeyRow): ApiKeyInfo {
  return { id: r.id, accountId: r.account_id, prefix: r.prefix, createdAt: r.created_at, revokedAt: r.revoked_at };
}

/** Runs a write; a clash with the unique name index becomes AccountError 'conflict' naming `name`. */
function nameChecked<T>(name: string | undefined, write: () => T): T {
  try {
    return write();
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (name !== undefined && e.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string' && e.message.includes('accounts.name')) {
      throw new AccountError('conflict', `an account named ${JSON.stringify(name)} exists already (names are unique, ignoring case)`);
    }
    throw err;
  }
}

const ACCOUNT_COLUMNS = 'id, name, disabled, created_at, credentials_not_before, deleted_at, limit_bytes, max_bps';
const KEY_COLUMNS = 'id, account_id, prefix, created_at, revoked_at';

export class SqliteAccountStore implements AccountStore {
  /** The connection, for other stores sharing the file (they add their own migrations). */
  readonly db: Database;
  readonly #q: {
    insertAccount: Statement;
    getAccount: Statement;
    listAccounts: Statement;
    deleteAccount: Statement;
    revokeAccountKeys: Statement;
    states: Statement;
    insertKey: Statement;
    findKey: Statement;
    listKeys: Statement;
    getKey: Statement;
    revokeKey: Statement;
  };

  /** `filename`: a path or ':memory:'. Prefer openSqliteStore(url). */
  constructor(filename: string) {
    const db = new BetterSqlite3(filename);
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('journal_mode = WAL'); // ':memory:' stays 'memory', which is fine
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (e) {
      db.close();
      throw e;
    }
    this.db = db;
    this.#q = {
      insertAccount: db.prepare(
        'INSERT INTO accounts (id, name, disabled, created_at, credentials_not_before) VALUES (@id, @name, @disabled, @createdAt, @credentialsNotBefore)',
      ),
      getAccount: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ? AND deleted_at IS NULL`),
      listAccounts: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE deleted_at IS NULL ORDER BY created_at, rowid`),
      deleteAccount: db.prepare('UPDATE accounts SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      revokeAccountKeys: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL'),
      states: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY created_at, rowid`),
      insertKey: db.prepare(
        'INSERT INTO api_keys (id, account_id, hash, prefix, created_at, revoked_at) VALUES (@id, @accountId, @hash, @prefix, @createdAt, @revokedAt)',
      ),
      findKey: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = ?`),
      listKeys: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE account_id = ? ORDER BY created_at, rowid`),
      getKey: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ? AND account_id = ?`),
      revokeKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL'),
    };
  }

  async createAccount(account: Account): Promise<void> {
    nameChecked(account.name, () =>
      this.#q.insertAccount.run({
        id: account.id,
        name: account.name,
        disabled: account.disabled ? 1 : 0,
        createdAt: account.createdAt,
        credentialsNotBefore: account.credentialsNotBefore,
      }),
    );
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = this.#q.getAccount.get(id) as AccountRow | undefined;
    return row && toAccount(row);
  }

  async listAccounts(): Promise<Account[]> {
    return (this.#q.listAccounts.all() as AccountRow[]).map(toAccount);
  }

  async updateAccount(id: string, patch: AccountPatch): Promise<Account | undefined> {
    const sets: string[] = [];
    const params: (string | number | null)[] = [];
    if (patch.name !== undefined) {
      sets.push('name = ?');
      params.push(patch.name);
    }
    if (patch.disabled !== undefined) {
      sets.push('disabled = ?');
      params.push(patch.disabled ? 1 : 0);
    }
    if (patch.credentialsNotBefore !== undefined) {
      sets.push('credentials_not_before = ?');
      params.push(patch.credentialsNotBefore);
    }
    if (patch.limitBytes !== undefined) {
      sets.push('limit_bytes = ?');
      params.push(patch.limitBytes);
    }
    if (patch.maxBps !== undefined) {
      sets.push('max_bps = ?');
      params.push(patch.maxBps);
    }
    if (sets.length > 0) {
      // Column names come from the fixed list above, never from input.
      nameChecked(patch.name, () => this.db.prepare(`UPDATE accounts SET ${sets.join(', ')} WHERE id = ? AND deleted_at IS NULL`).run(...params, id));
    }
    return this.getAccount(id);
  }

  async deleteAccount(id: string, at: number): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.#q.deleteAccount.run(at, id).changes === 0) return false;
      this.#q.revokeAccountKeys.run(at, id);
      return true;
    })();
  }

  async states(): Promise<AccountState[]> {
    return (this.#q.states.all() as AccountRow[]).map((r) => ({
      id: r.id,
      status: r.deleted_at !== null ? 'deleted' : r.disabled === 1 ? 'disabled' : 'active',
      credentialsNotBefore: r.credentials_not_before,
    }));
  }

  async addApiKey(key: ApiKeyInfo, hash: string): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error('addApiKey: hash must be a SHA-256 hex digest, never the key itself');
    this.#q.insertKey.run({ id: key.id, accountId: key.accountId, hash, prefix: key.prefix, createdAt: key.createdAt, revokedAt: key.revokedAt });
  }

  async findApiKey(hash: string): Promise<ApiKeyInfo | undefined> {
    const row = this.#q.findKey.get(hash) as KeyRow | undefined;
    return row && toKey(row);
  }

  async listApiKeys(accountId: string): Promise<ApiKeyInfo[]> {
    return (this.#q.listKeys.all(accountId) as KeyRow[]).map(toKey);
  }

  /** true when the account has this key; revoking it again keeps the first revoked_at. */
  async revokeApiKey(accountId: string, keyId: string, at: number): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.#q.getKey.get(keyId, accountId) === undefined) return false;
      this.#q.revokeKey.run(at, keyId, accountId);
      return true;
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens the store named by the `storage` config key: `sqlite:PATH` (the parent directory is
 * created) or `sqlite::memory:`. Other schemes are refused; the URL itself is not echoed, since a
 * future redis: URL may carry a password.
 */
export function openSqliteStore(url: string): SqliteAccountStore {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme?.toLowerCase() !== 'sqlite') {
    const got = scheme === undefined ? 'a value without a scheme' : `"${scheme}:"`;
    throw new Error(`storage: only sqlite: is supported (sqlite:PATH or sqlite::memory:); redis: comes later — got ${got}`);
  }
  const path = url.slice(scheme.length + 1);
  if (path === ':memory:') return new SqliteAccountStore(':memory:');
  if (path.length === 0) throw new Error('storage: sqlite: needs a file path (sqlite:PATH) or :memory: (sqlite::memory:)');
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  return new SqliteAccountStore(file);
}
