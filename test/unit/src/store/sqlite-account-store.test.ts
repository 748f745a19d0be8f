import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Account } from '../../../../src/accounts/types.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../../../src/store/migrations.js';
import { openSqliteStore, SqliteAccountStore } from '../../../../src/store/sqlite-account-store.js';
import { accountStoreContract } from '../../../helpers/account-store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const account = (id: string, createdAt: number, over: Partial<Account> = {}): Account => ({
  id, name: `name of ${id}`, disabled: false, createdAt, credentialsNotBefore: 0, ...over,
});

let n = 0;
const factories: [string, () => SqliteAccountStore][] = [
  ['temp file', () => openSqliteStore(`sqlite:${join(dir, `crud-${n++}.db`)}`)],
  [':memory:', () => openSqliteStore('sqlite::memory:')],
];

for (const [label, open] of factories) {
  describe(`SqliteAccountStore on ${label}`, () => {
    accountStoreContract(async () => open());

    it('pragmas: foreign keys, busy timeout, WAL on files', async () => {
      const s = open();
      assert.equal(s.db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(s.db.pragma('busy_timeout', { simple: true }), 5000);
      assert.equal(s.db.pragma('journal_mode', { simple: true }), label === ':memory:' ? 'memory' : 'wal');
      assert.equal(schemaVersion(s.db), MIGRATIONS[MIGRATIONS.length - 1].version);
      assert.deepEqual(migrate(s.db), [], 'migrating again applies nothing');
      await s.close();
    });
  });
}

describe('openSqliteStore', () => {
  it('creates the parent directory; reopening keeps data and applies no migration twice', async () => {
    const file = join(dir, 'nested', 'deeper', 'ferry.db');
    const a = openSqliteStore(`sqlite:${file}`);
    assert.ok(existsSync(file));
    await a.createAccount(account('acc_keep', 1));
    await a.close();
    const b = openSqliteStore(`sqlite:${file}`);
    assert.deepEqual((await b.listAccounts()).map((x) => x.id), ['acc_keep']);
    assert.deepEqual(b.db.prepare('SELECT version FROM schema_version').all(), [{ version: MIGRATIONS[MIGRATIONS.length - 1].version }]);
    await b.close();
  });

  it('two connections on one file at once (WAL) both see the schema', async () => {
    const file = join(dir, 'shared.db');
    const a = openSqliteStore(`sqlite:${file}`);
    const b = openSqliteStore(`sqlite:${file}`);
    await a.createAccount(account('acc_x', 1));
    assert.deepEqual((await b.getAccount('acc_x'))?.id, 'acc_x');
    await a.close();
    await b.close();
  });

  it('refuses a database newer than this Ferry', async () => {
    const file = join(dir, 'future.db');
    const a = openSqliteStore(`sqlite:${file}`);
    a.db.prepare('UPDATE schema_version SET version = 99').run();
    await a.close();
    assert.throws(() => openSqliteStore(`sqlite:${file}`), /schema version 99/);
  });

  it('other schemes: an error naming storage, never echoing the URL', () => {
    const cases: [string, RegExp][] = [
      ['redis://user:hunter2@cache:6379/0', /"redis:"/],
      ['postgres://x', /"postgres:"/],
      ['/var/lib/ferry.db', /without a scheme/],
      ['', /without a scheme/],
    ];
    for (const [url, detail] of cases) {
      assert.throws(() => openSqliteStore(url), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.match(e.message, /^storage: only sqlite: is supported/);
        assert.match(e.message, /redis: comes later/);
        assert.match(e.message, detail);
        assert.ok(!e.message.includes('hunter2'));
        return true;
      }, url);
    }
    assert.throws(() => openSqliteStore('sqlite:'), /storage: sqlite: needs a file path/);
  });
});
