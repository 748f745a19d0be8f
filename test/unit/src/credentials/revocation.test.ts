// The revocation rule of src/credentials/rest.ts, through createAuthHandler with an AccountDirectory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccountDirectory } from '../../../../src/accounts/directory.js';
import type { AccountState } from '../../../../src/accounts/types.js';
import { createAuthHandler } from '../../../../src/credentials/auth-handler.js';
import { mintRestCredential } from '../../../../src/credentials/rest.js';

const S = 'revocation-test-secret';
const REALM = 'ferry.test';
const R = 1_700_000_000_000; // revocation time (ms)
const H = 3_600_000;

function directory(states: AccountState[]): AccountDirectory {
  const d = new AccountDirectory();
  d.load(states);
  return d;
}

test('revocation table: status, issuedAt vs credentialsNotBefore, plain vs maxTtl', () => {
  const accounts = directory([
    { id: 'acc_ok', status: 'active', credentialsNotBefore: 0 },
    { id: 'acc_rev', status: 'active', credentialsNotBefore: R },
    { id: 'acc_off', status: 'disabled', credentialsNotBefore: 0 },
    { id: 'acc_gone', status: 'deleted', credentialsNotBefore: 0 },
  ]);
  const cases: [label: string, account: string, ttl: number, mintedAt: number, ferry: boolean, maxTtl: number, ok: boolean][] = [
    ['active, never revoked, plain', 'acc_ok', 60, R, false, 86_400, true],
    ['active, never revoked, ferry', 'acc_ok', 60, R, true, 86_400, true],
    ['unknown account (external), plain', 'bob', 7200, R - H, false, 86_400, true],
    ['unknown account (external), ferry shape', 'bob', 7200, R - H, true, 86_400, true],
    ['disabled', 'acc_off', 3600, R + H, true, 86_400, false],
    ['disabled, plain', 'acc_off', 86_400, R + H, false, 86_400, false],
    ['deleted', 'acc_gone', 3600, R + H, true, 86_400, false],
    ['ferry, minted 1 ms before R', 'acc_rev', 3600, R - 1, true, 86_400, false],
    ['ferry, minted at R', 'acc_rev', 3600, R, true, 86_400, true],
    ['ferry, minted after R', 'acc_rev', 60, R + 1, true, 86_400, true],
    ['plain, 1 day minted at R', 'acc_rev', 86_400, R, false, 86_400, true],
    ['plain, 1 day minted 1 s before R', 'acc_rev', 86_400, R - 1000, false, 86_400, false],
    ['plain, 1 h minted at R', 'acc_rev', 3600, R, false, 86_400, false],
    ['plain, 1 h minted R + 23 h', 'acc_rev', 3600, R + 23 * H, false, 86_400, true],
    ['plain, 1 h minted at R with maxTtl 1 h', 'acc_rev', 3600, R, false, 3600, true],
    ['plain, 1 h minted before R with maxTtl 1 h', 'acc_rev', 3600, R - 1000, false, 3600, false],
    ['plain, 2 days minted before R slips through (TTL > maxTtl)', 'acc_rev', 2 * 86_400, R - H, false, 86_400, true],
  ];
  for (const [label, account, ttl, mintedAt, ferry, maxTtlSeconds, ok] of cases) {
    const auth = createAuthHandler({ secrets: [S], accounts, maxTtlSeconds });
    const c = mintRestCredential(S, account, ttl, mintedAt, { issuedAt: ferry });
    const r = auth.lookup(c.username, REALM, Math.max(mintedAt, R));
    if (ok) assert.equal(r.ok && r.account, account, label);
    else assert.deepEqual(r, { ok: false, reason: 'revoked' }, label);
  }
});

test('expiry is checked before revocation; malformed stays malformed', () => {
  const auth = createAuthHandler({ secrets: [S], accounts: directory([{ id: 'acc_off', status: 'disabled', credentialsNotBefore: 0 }]) });
  const c = mintRestCredential(S, 'acc_off', 60, R, { issuedAt: true });
  assert.deepEqual(auth.lookup(c.username, REALM, c.expiresAt), { ok: false, reason: 'expired' });
  assert.deepEqual(auth.lookup('x:acc_off', REALM, R), { ok: false, reason: 'malformed' });
});

test('static users are never revoked, even if an account has their name', () => {
  const accounts = directory([{ id: 'alice', status: 'deleted', credentialsNotBefore: R }]);
  const auth = createAuthHandler({ users: { alice: 'pw' }, secrets: [S], accounts });
  assert.equal(auth.lookup('alice', REALM, R).ok, true);
});

test('the directory is read live, and update() keeps accounts and maxTtl unless given', () => {
  const accounts = new AccountDirectory();
  const auth = createAuthHandler({ secrets: [S], accounts, maxTtlSeconds: 3600 });
  const c = mintRestCredential(S, 'acc_1', 3600, R);
  assert.equal(auth.lookup(c.username, REALM, R).ok, true);
  accounts.set({ id: 'acc_1', status: 'active', credentialsNotBefore: R + 1 });
  assert.equal(auth.lookup(c.username, REALM, R).ok, false, 'revocation applies at once');
  auth.update({ secrets: [S] });
  assert.equal(auth.lookup(c.username, REALM, R).ok, false, 'a config reload keeps revocation on');
  const later = mintRestCredential(S, 'acc_1', 3600, R + 1000);
  assert.equal(auth.lookup(later.username, REALM, R + 1000).ok, true, 'maxTtl 3600 kept through update');
  assert.throws(() => auth.update({ secrets: [S], maxTtlSeconds: 0 }), /maxTtlSeconds/);
  assert.equal(auth.lookup(later.username, REALM, R + 1000).ok, true, 'bad update keeps the old state');
  assert.throws(() => createAuthHandler({ secrets: [S], maxTtlSeconds: 1.5 }), /maxTtlSeconds/);
});

test('without accounts nothing is revoked (previous behaviour)', () => {
  const auth = createAuthHandler({ secrets: [S] });
  assert.equal(auth.lookup(mintRestCredential(S, 'acc_off', 7200, R - H, { issuedAt: true }).username, REALM, R).ok, true);
});
