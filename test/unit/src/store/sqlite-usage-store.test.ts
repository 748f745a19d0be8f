// SqliteUsageStore runs the UsageStore contract (test/helpers/usage-store-contract.ts) that the
// Redis store runs too, on a database of its own per test.
import { after, describe } from 'node:test';
import { openSqliteStore, type SqliteAccountStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../../../../src/store/sqlite-usage-store.js';
import { usageStoreContract } from '../../../helpers/usage-store-contract.js';

const opened: SqliteAccountStore[] = [];
after(async () => {
  for (const db of opened) await db.close();
});

describe('SqliteUsageStore: the UsageStore contract', () => {
  usageStoreContract(async () => {
    const db = openSqliteStore('sqlite::memory:');
    opened.push(db);
    return new SqliteUsageStore(db.db);
  });
});
