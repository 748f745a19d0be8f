import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Account, ApiKeyInfo } from '../../../../src/accounts/types.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../../../src/store/migrations.js';
import { openSqliteStore, SqliteAccountStore } from '../../../../src/store/sqlite-account-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HASH = (c: string) => c.repeat(64);
const account = (id: string, createdAt: number, over: Partial<Account> = {}): Account => ({
  id, name: `name of ${id}`, disabled: false, createdAt, credentialsNotBefore: 0, ...over,
});
const key = (id: string, accountId: string, createdAt: number): ApiKeyInfo => ({
  id, accountId, prefix: 'fk_AbCd', createdAt, revokedAt: null,
});

let n = 0;
const factories: [string, () => SqliteAccountStore][] = [
  ['temp file', () => openSqliteStore(`sqlite:${join(dir, `crud-${n++}.db`)}`)],
  [':memory:', () => openSqliteStore('sqlite::memory:')],
];

for (const [label, open] of factories) {
  describe(`SqliteAccountStore on ${label}`, () => {
    it('creates, gets, lists oldest first, updates', async () => {
      const s = open();
      await s.createAccount(account('acc_b', 2000));
      await s.createAccount(account('acc_a', 1000, { disabled: true, credentialsNotBefore: 5 }));
      assert.deepEqual(await s.getAccount('acc_a'), account('acc_a', 1000, { disabled: true, credentialsNotBefore: 5 }));
      assert.equal(await s.getAccount('acc_zzz'), undefined);
      assert.deepEqual((await s.listAccounts()).map((a) => a.id), ['acc_a', 'acc_b']);
      // A duplicate id (another name: a duplicate name is AccountError 'conflict', see account-names.test.ts).
      await assert.rejects(s.createAccount(account('acc_a', 3000, { name: 'another name' })), /UNIQUE constraint failed: accounts\.id/);

      const cases: [Parameters<SqliteAccountStore['updateAccount']>[1], Partial<Account>][] = [
        [{ name: 'renamed' }, { name: 'renamed' }],
        [{ disabled: true }, { name: 'renamed', disabled: true }],
        [{ disabled: false, credentialsNotBefore: 42 }, { name: 'renamed', disabled: false, credentialsNotBefore: 42 }],
        [{}, { name: 'renamed', disabled: false, credentialsNotBefore: 42 }],
      ];
      for (const [patch, expected] of cases) {
        assert.deepEqual(await s.updateAccount('acc_b', patch), account('acc_b', 2000, expected), JSON.stringify(patch));
      }
      assert.equal(await s.updateAccount('acc_zzz', { name: 'x' }), undefined);
      await s.close();
      await s.close(); // idempotent
    });

    it('soft delete: gone from get/list/update, still in states(), keys revoked', async () => {
      const s = open();
      await s.createAccount(account('acc_1', 1));
      await s.createAccount(account('acc_2', 2, { disabled: true }));
      await s.createAccount(account('acc_3', 3, { credentialsNotBefore: 77 }));
      await s.addApiKey(key('key_1', 'acc_3', 10), HASH('a'));
      assert.equal(await s.deleteAccount('acc_3', 500), true);
      assert.equal(await s.deleteAccount('acc_3', 600), false, 'already deleted');
      assert.equal(await s.deleteAccount('acc_none', 600), false);
      assert.equal(await s.getAccount('acc_3'), undefined);
      assert.equal(await s.updateAccount('acc_3', { name: 'back' }), undefined);
      assert.deepEqual((await s.listAccounts()).map((a) => a.id), ['acc_1', 'acc_2']);
      assert.deepEqual(await s.states(), [
        { id: 'acc_1', status: 'active', credentialsNotBefore: 0 },
        { id: 'acc_2', status: 'disabled', credentialsNotBefore: 0 },
        { id: 'acc_3', status: 'deleted', credentialsNotBefore: 77 },
      ]);
      assert.equal((await s.findApiKey(HASH('a')))?.revokedAt, 500);
      await s.close();
    });

    it('API keys: by hash, per account, revoke once', async () => {
      const s = open();
      await s.createAccount(account('acc_1', 1));
      await s.createAccount(account('acc_2', 2));
      await s.addApiKey(key('key_b', 'acc_1', 20), HASH('b'));
      await s.addApiKey(key('key_a', 'acc_1', 10), HASH('a'));
      await s.addApiKey(key('key_c', 'acc_2', 30), HASH('c'));
      assert.deepEqual(await s.findApiKey(HASH('a')), key('key_a', 'acc_1', 10));
      assert.equal(await s.findApiKey(HASH('d')), undefined);
      assert.deepEqual((await s.listApiKeys('acc_1')).map((k) => k.id), ['key_a', 'key_b']);
      assert.deepEqual(await s.listApiKeys('acc_none'), []);

      assert.equal(await s.revokeApiKey('acc_2', 'key_a', 100), false, 'another account’s key');
      assert.equal(await s.revokeApiKey('acc_1', 'key_none', 100), false);
      assert.equal(await s.revokeApiKey('acc_1', 'key_a', 100), true);
      assert.equal(await s.revokeApiKey('acc_1', 'key_a', 200), true, 'idempotent');
      assert.equal((await s.findApiKey(HASH('a')))?.revokedAt, 100, 'first revocation time kept');
      assert.equal((await s.findApiKey(HASH('b')))?.revokedAt, null);

      await assert.rejects(s.addApiKey(key('key_x', 'acc_none', 1), HASH('e')), /FOREIGN KEY/);
      await assert.rejects(s.addApiKey(key('key_y', 'acc_1', 1), HASH('a')), /UNIQUE/);
      await assert.rejects(s.addApiKey(key('key_z', 'acc_1', 1), 'fk_not-a-hash'), /hash/);
      await s.close();
    });

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
