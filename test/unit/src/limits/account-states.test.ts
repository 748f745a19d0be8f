// accountsAtLimit: which accounts GET /v1/overview lists as near or over their limit, in which
// state, in which order, and how many at most.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Account } from '../../../../src/accounts/types.js';
import { accountsAtLimit, NEAR_SOFT_LIMIT } from '../../../../src/limits/account-states.js';

const SETTINGS = { softLimit: 0.5, hardLimit: 0.8 };

function account(id: string, limitBytes?: number, disabled = false): Account {
  return { id, name: `name of ${id}`, disabled, createdAt: 0, credentialsNotBefore: 0, ...(limitBytes !== undefined ? { limitBytes } : {}) };
}

const ids = (r: ReturnType<typeof accountsAtLimit>) => r.states.map((s) => s.id);

describe('accountsAtLimit', () => {
  test('near from NEAR_SOFT_LIMIT × soft_limit × limit, a byte below it is not', () => {
    assert.equal(NEAR_SOFT_LIMIT, 0.8);
    const limit = 10_000; // near from 0.8 × 0.5 × 10000 = 4000
    const accounts = [account('a', limit), account('b', limit)];
    const r = accountsAtLimit(accounts, new Map([['a', 4000], ['b', 3999]]), SETTINGS, 10);
    assert.deepEqual(r, {
      states: [{ id: 'a', name: 'name of a', disabled: false, limit, usedBytes: 4000, used: 0.4, state: 'near' }],
      total: 1,
    });
    // Other shares move the threshold: 0.8 × 0.9 × 10000 = 7200.
    const other = { softLimit: 0.9, hardLimit: 1 };
    assert.deepEqual(ids(accountsAtLimit(accounts, new Map([['a', 7200], ['b', 7199]]), other, 10)), ['a']);
  });

  test('soft_limit and hard_limit as the limiter decides them, at their thresholds exactly', () => {
    const accounts = [account('near', 1000), account('soft', 1000), account('below-hard', 1000), account('hard', 1000), account('over', 1000)];
    const used = new Map([['near', 499], ['soft', 500], ['below-hard', 799], ['hard', 800], ['over', 5000]]);
    const r = accountsAtLimit(accounts, used, SETTINGS, 10);
    assert.deepEqual(r.states.map((s) => [s.id, s.state, s.used]), [
      ['over', 'hard_limit', 5],
      ['hard', 'hard_limit', 0.8],
      ['below-hard', 'soft_limit', 0.799],
      ['soft', 'soft_limit', 0.5],
      ['near', 'near', 0.499],
    ]);
    assert.equal(r.total, 5);
  });

  test('accounts without a limit are skipped, however much they used; no usage counts as 0', () => {
    const accounts = [account('free'), account('idle', 1000), account('busy', 1000)];
    const r = accountsAtLimit(accounts, new Map([['free', 1e12], ['busy', 900]]), SETTINGS, 10);
    assert.deepEqual(ids(r), ['busy']);
    assert.equal(r.total, 1);
  });

  test('a limit of 0: used up (hard_limit, used 1) even with nothing relayed', () => {
    const r = accountsAtLimit([account('zero', 0, true)], new Map(), SETTINGS, 10);
    assert.deepEqual(r.states, [{ id: 'zero', name: 'name of zero', disabled: true, limit: 0, usedBytes: 0, used: 1, state: 'hard_limit' }]);
  });

  test('most used (share of the limit, not bytes) first, ties by id', () => {
    const accounts = [account('c', 1000), account('big', 1_000_000), account('a', 1000), account('b', 2000)];
    // big used the most bytes but the smallest share; a and b tie at 0.6.
    const used = new Map([['c', 700], ['big', 450_000], ['a', 600], ['b', 1200]]);
    assert.deepEqual(ids(accountsAtLimit(accounts, used, SETTINGS, 10)), ['c', 'a', 'b', 'big']);
  });

  test('at most `max` listed, the most used; total counts every one', () => {
    const accounts = Array.from({ length: 30 }, (_, i) => account(`acc_${String(i).padStart(2, '0')}`, 100));
    const used = new Map(accounts.map((a, i) => [a.id, 40 + i]));
    const r = accountsAtLimit(accounts, used, SETTINGS, 5);
    assert.equal(r.total, 30);
    assert.deepEqual(ids(r), ['acc_29', 'acc_28', 'acc_27', 'acc_26', 'acc_25']);
    assert.deepEqual(accountsAtLimit(accounts, used, SETTINGS, 0), { states: [], total: 30 });
    assert.deepEqual(accountsAtLimit([], used, SETTINGS, 5), { states: [], total: 0 });
  });
});
