// Live account names are unique ignoring ASCII case (migration 5's unique index). The rule itself
// (creating or renaming to a taken name is an AccountError 'conflict', deleted accounts free their
// names) is part of the store contract (test/helpers/account-store-contract.ts); here: a SQLite
// database from before the index, holding duplicate names, still opens (younger namesakes renamed).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { AccountError } from '../../../../src/accounts/errors.js';
import type { Account } from '../../../../src/accounts/types.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../../../src/store/migrations.js';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-names-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const account = (id: string, name: string, createdAt: number): Account => ({ id, name, disabled: false, createdAt, credentialsNotBefore: 0 });
const conflict = (e: unknown) => e instanceof AccountError && e.code === 'conflict' && /exists already/.test(e.message);

describe('unique account names', () => {
  it('a database from before the index with duplicate names opens; the oldest keeps the name', async () => {
    const file = join(dir, 'old.db');
    const old = new BetterSqlite3(file);
    migrate(old, MIGRATIONS.filter((m) => m.version < 5));
    assert.equal(schemaVersion(old), 4);
    const insert = old.prepare('INSERT INTO accounts (id, name, created_at, deleted_at) VALUES (?, ?, ?, ?)');
    insert.run('acc_gone', 'acme', 0, 5); // deleted: neither keeps nor blocks the name
    insert.run('acc_2', 'ACME', 20, null);
    insert.run('acc_1', 'acme', 10, null);
    insert.run('acc_3', 'acme', 20, null); // same created_at as acc_2: insertion order decides
    insert.run('acc_x', 'unique', 30, null);
    insert.run('acc_long1', 'L'.repeat(100), 40, null);
    insert.run('acc_long2', 'l'.repeat(100), 50, null); // renamed, cut to stay within 100 characters
    old.close();

    const s = openSqliteStore(`sqlite:${file}`);
    try {
      assert.equal(schemaVersion(s.db), MIGRATIONS[MIGRATIONS.length - 1].version);
      const names = Object.fromEntries((await s.listAccounts()).map((a) => [a.id, a.name]));
      assert.deepEqual(names, {
        acc_1: 'acme', acc_2: 'ACME (acc_2)', acc_3: 'acme (acc_3)', acc_x: 'unique',
        acc_long1: 'L'.repeat(100), acc_long2: `${'l'.repeat(88)} (acc_long2)`,
      });
      assert.equal([...names.acc_long2].length, 100);
      await assert.rejects(s.createAccount(account('acc_y', 'Acme', 40)), conflict);
    } finally {
      await s.close();
    }
  });
});
