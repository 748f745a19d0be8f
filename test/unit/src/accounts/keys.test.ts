import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AccountDirectory } from '../../../../src/accounts/directory.js';
import { apiKeyPrefix, hashApiKey, isApiKeyShape, newAccountId, newApiKey, newApiKeyId } from '../../../../src/accounts/keys.js';

test('id and key shapes', () => {
  const cases: [() => string, RegExp][] = [
    [newAccountId, /^acc_[0-9a-hjkmnp-tv-z]{16}$/],
    [newApiKeyId, /^key_[0-9a-hjkmnp-tv-z]{12}$/],
    [newApiKey, /^fk_[A-Za-z0-9_-]{43}$/],
  ];
  for (const [make, shape] of cases) {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(make());
    assert.equal(seen.size, 200, 'no repeats');
    for (const v of seen) assert.match(v, shape);
  }
  assert.ok(!newAccountId().includes(':'), 'ids never contain a colon (REST usernames)');
});

test('every Crockford base32 character appears, and only those', () => {
  const chars = new Set<string>();
  for (let i = 0; i < 400; i++) for (const c of newAccountId().slice(4)) chars.add(c);
  assert.equal([...chars].sort().join(''), '0123456789abcdefghjkmnpqrstvwxyz');
});

test('hashApiKey is SHA-256 hex; shape check; prefix', () => {
  assert.equal(hashApiKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const k = newApiKey();
  assert.equal(hashApiKey(k), createHash('sha256').update(k).digest('hex'));
  assert.equal(apiKeyPrefix(k), k.slice(0, 7));
  const cases: [unknown, boolean][] = [
    [k, true], [k.slice(0, -1), false], [`${k}A`, false], [`fx_${k.slice(3)}`, false],
    [`fk_${'+'.repeat(43)}`, false], ['', false], [null, false], [42, false],
  ];
  for (const [v, ok] of cases) assert.equal(isApiKeyShape(v), ok, String(v));
});

test('AccountDirectory: state, set, load replaces', () => {
  const d = new AccountDirectory();
  assert.equal(d.state('acc_1'), undefined);
  d.set({ id: 'acc_1', status: 'active', credentialsNotBefore: 0 });
  d.set({ id: 'acc_1', status: 'disabled', credentialsNotBefore: 5 });
  assert.deepEqual(d.state('acc_1'), { id: 'acc_1', status: 'disabled', credentialsNotBefore: 5 });
  d.load([{ id: 'acc_2', status: 'deleted', credentialsNotBefore: 1 }]);
  assert.equal(d.state('acc_1'), undefined);
  assert.equal(d.state('acc_2')?.status, 'deleted');
  assert.equal(d.size, 1);
});
