// The AccountStore contract (src/accounts/types.ts) as tests, run against every implementation
// (SQLite, Redis): call accountStoreContract(open) inside a describe(); `open` returns a new,
// empty store each time. Only the interface is used, so both stores run the same checks.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { AccountError } from '../../src/accounts/errors.js';
import type { Account, AccountStore, ApiKeyInfo } from '../../src/accounts/types.js';

const HASH = (c: string) => c.repeat(64);
const account = (id: string, createdAt: number, over: Partial<Account> = {}): Account => ({
  id, name: `name of ${id}`, disabled: false, createdAt, credentialsNotBefore: 0, ...over,
});
const key = (id: string, accountId: string, createdAt: number): ApiKeyInfo => ({
  id, accountId, prefix: 'fk_AbCd', createdAt, revokedAt: null,
});
const named = (id: string, name: string, createdAt: number): Account => ({ id, name, disabled: false, createdAt, credentialsNotBefore: 0 });
const conflict = (e: unknown) => e instanceof AccountError && e.code === 'conflict' && /exists already/.test(e.message);

export function accountStoreContract(open: () => Promise<AccountStore>): void {
  it('creates, gets, lists oldest first, updates', async () => {
    const s = await open();
    await s.createAccount(account('acc_b', 2000));
    await s.createAccount(account('acc_a', 1000, { disabled: true, credentialsNotBefore: 5 }));
    assert.deepEqual(await s.getAccount('acc_a'), account('acc_a', 1000, { disabled: true, credentialsNotBefore: 5 }));
    assert.equal(await s.getAccount('acc_zzz'), undefined);
    assert.deepEqual((await s.listAccounts()).map((a) => a.id), ['acc_a', 'acc_b']);
    // A duplicate id (another name: a duplicate name is AccountError 'conflict', below).
    await assert.rejects(s.createAccount(account('acc_a', 3000, { name: 'another name' })), /accounts\.id/);

    const cases: [Parameters<AccountStore['updateAccount']>[1], Partial<Account>][] = [
      [{ name: 'renamed' }, { name: 'renamed' }],
      [{ disabled: true }, { name: 'renamed', disabled: true }],
      [{ disabled: false, credentialsNotBefore: 42 }, { name: 'renamed', disabled: false, credentialsNotBefore: 42 }],
      [{ limitBytes: 5000, maxBps: 100 }, { name: 'renamed', credentialsNotBefore: 42, limitBytes: 5000, maxBps: 100 }],
      [{ limitBytes: null }, { name: 'renamed', credentialsNotBefore: 42, maxBps: 100 }],
      [{ maxBps: null }, { name: 'renamed', credentialsNotBefore: 42 }],
      [{}, { name: 'renamed', disabled: false, credentialsNotBefore: 42 }],
    ];
    for (const [patch, expected] of cases) {
      assert.deepEqual(await s.updateAccount('acc_b', patch), account('acc_b', 2000, expected), JSON.stringify(patch));
    }
    assert.deepEqual(await s.getAccount('acc_b'), account('acc_b', 2000, { name: 'renamed', credentialsNotBefore: 42 }));
    assert.equal(await s.updateAccount('acc_zzz', { name: 'x' }), undefined);
    await s.close();
    await s.close(); // idempotent
  });

  it('equal creation times list in creation order', async () => {
    const s = await open();
    for (const id of ['acc_q', 'acc_c', 'acc_x', 'acc_a']) await s.createAccount(account(id, 7));
    await s.createAccount(account('acc_first', 6));
    assert.deepEqual((await s.listAccounts()).map((a) => a.id), ['acc_first', 'acc_q', 'acc_c', 'acc_x', 'acc_a']);
    assert.deepEqual((await s.states()).map((a) => a.id), ['acc_first', 'acc_q', 'acc_c', 'acc_x', 'acc_a']);
    await s.close();
  });

  it('soft delete: gone from get/list/update, still in states(), keys revoked', async () => {
    const s = await open();
    await s.createAccount(account('acc_1', 1));
    await s.createAccount(account('acc_2', 2, { disabled: true }));
    await s.createAccount(account('acc_3', 3, { credentialsNotBefore: 77 }));
    await s.addApiKey(key('key_1', 'acc_3', 10), HASH('a'));
    await s.addApiKey({ ...key('key_2', 'acc_3', 11), revokedAt: 20 }, HASH('b'));
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
    assert.equal((await s.findApiKey(HASH('b')))?.revokedAt, 20, 'a key revoked before keeps its time');
    assert.deepEqual((await s.listApiKeys('acc_3')).map((k) => k.id), ['key_1', 'key_2'], 'a deleted account still lists its keys');
    await s.close();
  });

  it('API keys: by hash, per account, revoke once', async () => {
    const s = await open();
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
    assert.deepEqual((await s.listApiKeys('acc_1')).map((k) => [k.id, k.revokedAt]), [['key_a', 100], ['key_b', null]]);

    await assert.rejects(s.addApiKey(key('key_x', 'acc_none', 1), HASH('e')), /FOREIGN KEY/);
    await assert.rejects(s.addApiKey(key('key_y', 'acc_1', 1), HASH('a')), /UNIQUE/);
    await assert.rejects(s.addApiKey(key('key_a', 'acc_1', 1), HASH('f')), /UNIQUE/, 'a key id is unique');
    await assert.rejects(s.addApiKey(key('key_z', 'acc_1', 1), 'fk_not-a-hash'), /hash/);
    assert.deepEqual((await s.listApiKeys('acc_1')).map((k) => k.id), ['key_a', 'key_b'], 'refused keys left nothing');
    await s.close();
  });

  it('names: create and rename refuse a live name, ignoring ASCII case only; deleting frees the name', async () => {
    const s = await open();
    await s.createAccount(named('acc_a', 'Acme', 1));
    await assert.rejects(s.createAccount(named('acc_b', 'Acme', 2)), conflict);
    await assert.rejects(s.createAccount(named('acc_b', 'aCME', 2)), conflict);
    assert.equal(await s.getAccount('acc_b'), undefined, 'a refused create stores nothing');
    // NOCASE folds A-Z only: "É" and "é" are different names.
    await s.createAccount(named('acc_c', 'Émile', 3));
    await s.createAccount(named('acc_d', 'émile', 4));
    await s.createAccount(named('acc_e', 'other', 5));
    await assert.rejects(s.updateAccount('acc_e', { name: 'ACME' }), conflict);
    await assert.rejects(s.updateAccount('acc_e', { name: 'ACME', disabled: true }), conflict);
    assert.deepEqual(await s.getAccount('acc_e'), named('acc_e', 'other', 5), 'a refused rename changes nothing');
    assert.equal((await s.updateAccount('acc_a', { name: 'ACME' }))?.name, 'ACME', 'changing the case of its own name');
    assert.ok(await s.deleteAccount('acc_a', 10));
    await s.createAccount(named('acc_f', 'acme', 11));
    assert.equal((await s.updateAccount('acc_e', { disabled: true }))?.disabled, true, 'other updates are not name checks');
    // A rename frees the old name.
    await s.updateAccount('acc_e', { name: 'renamed' });
    await s.createAccount(named('acc_g', 'OTHER', 12));
    await s.close();
  });

  it('names: two creates of one name at once, exactly one wins', async () => {
    const s = await open();
    const results = await Promise.allSettled([s.createAccount(named('acc_1', 'race', 1)), s.createAccount(named('acc_2', 'RACE', 1))]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    assert.ok(conflict((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason));
    assert.equal((await s.listAccounts()).length, 1);
    await s.close();
  });
}
