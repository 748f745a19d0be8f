import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { AccountDirectory } from '../../../../src/accounts/directory.js';
import { CredentialError } from '../../../../src/credentials/errors.js';
import { SignalTokens } from '../../../../src/credentials/signal-token.js';

const SECRET = 'signal-token-test-secret';
const T0 = 1_700_000_000_000;

function setup() {
  const clock = { t: T0 };
  const directory = new AccountDirectory();
  directory.set({ id: 'acc_a', status: 'active', credentialsNotBefore: 0 });
  let secret: string | undefined = SECRET;
  const tokens = new SignalTokens({ secret: () => secret, directory, now: () => clock.t });
  return { clock, directory, tokens, setSecret: (s: string | undefined) => { secret = s; } };
}

test('format: st_ + base64url(JSON {a, i, e}) + "." + base64url(HMAC-SHA256(K, payload))', () => {
  const { tokens } = setup();
  const { token, expires_at } = tokens.mint('acc_a');
  assert.equal(expires_at, new Date(T0 + 600_000).toISOString());
  const m = /^st_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
  assert.ok(m, token);
  assert.deepEqual(JSON.parse(Buffer.from(m[1], 'base64url').toString()), { a: 'acc_a', i: T0, e: T0 + 600_000 });
  const key = createHmac('sha256', SECRET).update('ferry signaling token v1').digest();
  assert.equal(m[2], createHmac('sha256', key).update(m[1]).digest('base64url'));
  assert.deepEqual(tokens.verify(token), { accountId: 'acc_a', expiresAt: T0 + 600_000 });
  assert.equal(Date.parse(tokens.mint('acc_a', 60).expires_at), T0 + 60_000);
});

test('expiry: valid until one ms before e', () => {
  const { tokens, clock } = setup();
  const { token } = tokens.mint('acc_a', 60);
  const cases: [number, boolean][] = [[T0, true], [T0 + 59_999, true], [T0 + 60_000, false], [T0 + 3_600_000, false]];
  for (const [t, ok] of cases) {
    clock.t = t;
    assert.equal(tokens.verify(token) !== null, ok, String(t - T0));
  }
});

test('tampering and garbage: null, never a throw', () => {
  const { tokens } = setup();
  const { token } = tokens.mint('acc_a');
  const [p, mac] = token.slice(3).split('.');
  const forged = Buffer.from(JSON.stringify({ a: 'acc_a', i: T0, e: T0 + 10 ** 9 })).toString('base64url');
  const other = new SignalTokens({ secret: () => 'another-secret-entirely', directory: new AccountDirectory(), now: () => T0 });
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  const cases: unknown[] = [
    `st_${forged}.${mac}`, `st_${p}.${flip(mac)}`, `st_${flip(p)}.${mac}`, `st_${p}.${mac.slice(0, -1)}`,
    `st_${p}.${mac}A`, `st_${p}.${mac}.x`, `st_${p}`, `xt_${p}.${mac}`, `${p}.${mac}`, 'st_.', 'st_', '', 'st_!!.??',
    `st_${p}.${mac}`.replace('st_', 'ST_'), 'st_' + 'A'.repeat(5000) + '.' + mac,
    other.mint('acc_a').token, null, undefined, 42, {}, [token],
  ];
  for (const t of cases) assert.equal(tokens.verify(t as string), null, String(t).slice(0, 40));
  // A correctly signed but malformed payload is still refused.
  const key = createHmac('sha256', SECRET).update('ferry signaling token v1').digest();
  for (const body of ['not json', '[]', 'null', '{"a":"acc_a","i":"1","e":9e15}', '{"a":"","i":1,"e":9e15}', '{"a":"acc_a","i":1}']) {
    const q = Buffer.from(body).toString('base64url');
    const signed = `st_${q}.${createHmac('sha256', key).update(q).digest('base64url')}`;
    assert.equal(tokens.verify(signed), null, body);
  }
});

test('account state: disabled, deleted, unknown, revoked refuse; minted after revocation works', () => {
  const { tokens, directory, clock } = setup();
  const { token } = tokens.mint('acc_a');
  const cases: [string, Parameters<AccountDirectory['set']>[0] | null, boolean][] = [
    ['active', { id: 'acc_a', status: 'active', credentialsNotBefore: 0 }, true],
    ['revoked at issue time', { id: 'acc_a', status: 'active', credentialsNotBefore: T0 }, true],
    ['revoked 1 ms after issue', { id: 'acc_a', status: 'active', credentialsNotBefore: T0 + 1 }, false],
    ['disabled', { id: 'acc_a', status: 'disabled', credentialsNotBefore: 0 }, false],
    ['deleted', { id: 'acc_a', status: 'deleted', credentialsNotBefore: 0 }, false],
    ['unknown', null, false],
  ];
  for (const [label, state, ok] of cases) {
    if (state) directory.set(state);
    else directory.load([]);
    assert.equal(tokens.verify(token) !== null, ok, label);
  }
  directory.set({ id: 'acc_a', status: 'active', credentialsNotBefore: T0 + 1 });
  clock.t = T0 + 1;
  assert.deepEqual(tokens.verify(tokens.mint('acc_a').token), { accountId: 'acc_a', expiresAt: T0 + 1 + 600_000 });
});

test('secret: missing → no_secret on mint and null on verify; rotation invalidates old tokens', () => {
  const { tokens, setSecret } = setup();
  const { token } = tokens.mint('acc_a');
  setSecret('a-new-secret-after-rotation');
  assert.equal(tokens.verify(token), null);
  assert.ok(tokens.verify(tokens.mint('acc_a').token));
  setSecret(undefined);
  assert.equal(tokens.verify(token), null);
  assert.throws(() => tokens.mint('acc_a'), (e: unknown) => e instanceof CredentialError && e.code === 'no_secret');
});

test('mint: ttl and account validated', () => {
  const { tokens } = setup();
  for (const ttl of [0, -1, 1.5, 86_401, NaN]) {
    assert.throws(() => tokens.mint('acc_a', ttl), (e: unknown) => e instanceof CredentialError && e.code === 'invalid', String(ttl));
  }
  assert.throws(() => tokens.mint(''), (e: unknown) => e instanceof CredentialError && e.code === 'invalid');
  assert.ok(tokens.mint('acc_a', 86_400));
});
