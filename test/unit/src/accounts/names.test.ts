// Finding an account by what an operator typed: its id, else its name ignoring ASCII case.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findAccountRef, foldName, sameAccountName } from '../../../../src/accounts/names.js';

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
