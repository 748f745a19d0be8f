// Finding an account by what an operator typed: its id, else its name ignoring ASCII case.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findAccountRef, foldName, sameAccountName } from '../../../../src/accounts/names.js';
import { AccountError, validateAccountName } from '../../../../src/accounts/service.js';

describe('account names', () => {
  it('fold ASCII case only (as SQLite NOCASE does)', () => {
    assert.equal(foldName('Acme Ltd. ÉTÉ'), 'acme ltd. ÉtÉ');
    assert.ok(sameAccountName('ACME', 'acme'));
    assert.ok(!sameAccountName('été', 'ÉTÉ'));
    assert.ok(!sameAccountName('acme ', 'acme'));
  });

  it('find by id first, then by name; say why not otherwise', () => {
    const accounts = [
      { id: 'acc_1', name: 'Acme' },
      { id: 'acc_2', name: 'acc_1' }, // a name that looks like another account's id: the id wins
      { id: 'acc_3', name: 'twin' },
      { id: 'acc_4', name: 'TWIN' }, // left over from before names were unique
    ];
    assert.equal(findAccountRef(accounts, 'acc_1'), accounts[0]);
    assert.equal(findAccountRef(accounts, 'acme'), accounts[0]);
    assert.equal(findAccountRef(accounts, 'acc_2'), accounts[1]);
    assert.equal(findAccountRef(accounts, 'nobody'), 'no account "nobody" (give an account id or name)');
    assert.equal(findAccountRef(accounts, 'Twin'), '2 accounts are named "Twin": give the id');
  });
});

describe('validateAccountName', () => {
  it('refuses control characters (C0, DEL, C1) and invisible formatting characters; keeps other scripts', () => {
    for (const bad of ['a\u0001b', 'a\u007fb', 'a\u0085b', 'a\u009bb', 'ac\u200bme', 'ac\u200eme', 'ac\u202eme', 'ac\u2066me', 'ac\u2060me', 'ac\ufeffme']) {
      assert.throws(() => validateAccountName(bad), (e: unknown) => e instanceof AccountError && e.code === 'invalid', JSON.stringify(bad));
    }
    for (const good of ['Acme Ltd.', 'Été ÉTÉ', 'асме', '株式会社', 'a—b', 'emoji 🚢']) assert.equal(validateAccountName(` ${good} `), good);
  });
});
