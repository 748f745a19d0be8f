import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthHandler } from '../../../../src/credentials/auth-handler.js';
import { lookupRestUsername, mintRestCredential, parseRestUsername, restPassword } from '../../../../src/credentials/rest.js';
import { createStaticUsers } from '../../../../src/credentials/static-users.js';
import { deriveLongTermKey } from '../../../../turn/long-term-key.js';

const REALM = 'ferry.test';
const NOW = 1_700_000_000_000; // ms
const S1 = 'n0t-s0-s3cret';
const S2 = 'second-secret';

test('static users: account is the user name; key per realm, cached', () => {
  const users = createStaticUsers({ alice: 'wonderland' });
  assert.equal(users.has('alice'), true);
  assert.equal(users.has('bob'), false);
  assert.equal(users.has('__proto__'), false);
  assert.equal(users.has('constructor'), false);
  const k = users.key('alice', 'ferry');
  assert.equal(k?.md5.toString('hex'), '51535bd7cc94480d9ea920cad9e9e008'); // openssl dgst -md5
  assert.equal(users.key('alice', 'ferry'), k, 'cached');
  assert.notDeepEqual(users.key('alice', 'other')?.md5, k?.md5);
  assert.equal(users.key('bob', 'ferry'), undefined);
});

test('static users: invalid config names the user, never the password', () => {
  assert.throws(() => createStaticUsers({ alice: '' }), /alice/);
  assert.throws(() => createStaticUsers({ '': 'x' }), /non-empty/);
});

test("coturn's scheme: known (secret, username) → password vectors", () => {
  // echo -n user | openssl dgst -sha1 -hmac secret -binary | base64
  assert.equal(restPassword('secret', 'user'), 'An2kjIxkLKTFjrmC7sgZFReed6M=');
  // echo -n 1700000000:alice | openssl dgst -sha1 -hmac n0t-s0-s3cret -binary | base64
  assert.equal(restPassword(S1, '1700000000:alice'), 'TH29TZC3af2qQ16lV2MClETjEJw=');
});

test('mint: username, password, expiresAt', () => {
  const c = mintRestCredential(S1, 'alice', 600, NOW + 999);
  assert.equal(c.username, '1700000600:alice');
  assert.equal(c.password, restPassword(S1, '1700000600:alice'));
  assert.equal(c.expiresAt, 1_700_000_600_000);
  assert.throws(() => mintRestCredential(S1, '', 600, NOW), /account/);
  assert.throws(() => mintRestCredential(S1, 'a'.repeat(257), 600, NOW), /account/);
  assert.throws(() => mintRestCredential(S1, 'alice', 0, NOW), /ttl/);
  assert.throws(() => mintRestCredential('', 'alice', 60, NOW), /secret/);
});

test('mint/verify round trip: the key equals the one derived from the minted password', () => {
  const auth = createAuthHandler({ secrets: [S1] });
  const c = mintRestCredential(S1, 'acct-42', 3600, NOW);
  const r = auth.lookup(c.username, REALM, NOW);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.account, 'acct-42');
  assert.equal(r.keys.length, 1);
  assert.deepEqual(r.keys[0], deriveLongTermKey(c.username, REALM, c.password));
});

test('expired at exactly the expiry second, valid one ms before', () => {
  const c = mintRestCredential(S1, 'alice', 60, NOW);
  const auth = createAuthHandler({ secrets: [S1] });
  assert.equal(auth.lookup(c.username, REALM, c.expiresAt - 1).ok, true);
  assert.deepEqual(auth.lookup(c.username, REALM, c.expiresAt), { ok: false, reason: 'expired' });
  assert.deepEqual(auth.lookup(c.username, REALM, c.expiresAt + 1000), { ok: false, reason: 'expired' });
});

test('rotation: one key per secret, a credential minted with the second secret verifies', () => {
  const auth = createAuthHandler({ secrets: [S1, S2] });
  const c = mintRestCredential(S2, 'alice', 60, NOW);
  const r = auth.lookup(c.username, REALM, NOW);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.keys.length, 2);
  const expected = deriveLongTermKey(c.username, REALM, c.password);
  assert.ok(r.keys.some((k) => k.md5.equals(expected.md5) && k.sha256.equals(expected.sha256)));
  assert.ok(!r.keys[0].md5.equals(expected.md5), 'the first key is the first secret’s');
});

test('account ids may contain colons: everything after the first colon', () => {
  assert.deepEqual(parseRestUsername('1700000600:org:alice'), { expiry: 1_700_000_600, account: 'org:alice' });
  const r = lookupRestUsername('1700000600:org:alice', REALM, [S1], NOW);
  assert.equal(r.ok && r.account, 'org:alice');
});

test('malformed REST usernames', () => {
  const cases = [':alice', '1700000600:', 'abc:alice', '-1:alice', '1.5:alice', ' 170:alice', '17e9:alice',
    '1234567890123456:alice', `1700000600:${'a'.repeat(257)}`, 'nocolon'];
  for (const u of cases) {
    assert.equal(parseRestUsername(u), null, u);
    assert.deepEqual(lookupRestUsername(u, REALM, [S1], NOW), { ok: false, reason: 'malformed' }, u);
  }
  assert.ok(parseRestUsername(`1700000600:${'a'.repeat(256)}`));
});

test('auth handler: static first, REST next, unknown otherwise', () => {
  const auth = createAuthHandler({ users: { alice: 'wonderland', '1800000000:carol': 'pw' }, secrets: [S1] });
  const a = auth.lookup('alice', 'ferry', NOW);
  assert.equal(a.ok, true);
  if (a.ok) {
    assert.equal(a.account, 'alice');
    assert.equal(a.keys[0].md5.toString('hex'), '51535bd7cc94480d9ea920cad9e9e008');
  }
  const s = auth.lookup('1800000000:carol', REALM, NOW);
  assert.deepEqual(s.ok && s.keys, [deriveLongTermKey('1800000000:carol', REALM, 'pw')], 'static user wins over REST shape');
  assert.deepEqual(auth.lookup('bob', REALM, NOW), { ok: false, reason: 'unknown' });
  assert.deepEqual(auth.lookup('x:bob', REALM, NOW), { ok: false, reason: 'malformed' });
  assert.deepEqual(auth.lookup('__proto__', REALM, NOW), { ok: false, reason: 'unknown' });
  // Without secrets, REST-shaped usernames are simply unknown.
  const noRest = createAuthHandler({ users: { alice: 'wonderland' } });
  assert.deepEqual(noRest.lookup(mintRestCredential(S1, 'bob', 60, NOW).username, REALM, NOW), { ok: false, reason: 'unknown' });
});

test('update() replaces users and secrets; a bad update keeps the old state', () => {
  const auth = createAuthHandler({ users: { alice: 'a' }, secrets: [S1] });
  const c1 = mintRestCredential(S1, 'bob', 60, NOW);
  auth.update({ users: { dave: 'd' }, secrets: [S2] });
  assert.deepEqual(auth.lookup('alice', REALM, NOW), { ok: false, reason: 'unknown' });
  assert.equal(auth.lookup('dave', REALM, NOW).ok, true);
  const r = auth.lookup(c1.username, REALM, NOW);
  assert.equal(r.ok, true, 'still REST-shaped and unexpired');
  if (r.ok) assert.ok(!r.keys[0].md5.equals(deriveLongTermKey(c1.username, REALM, c1.password).md5), 'old secret gone');
  assert.throws(() => auth.update({ secrets: [S2, ''] }), /secrets\[1\]/);
  assert.equal(auth.lookup('dave', REALM, NOW).ok, true);
});

test('secrets never appear in error messages', () => {
  for (const fn of [
    () => createAuthHandler({ secrets: ['top-secret-value', ''] }),
    () => mintRestCredential('top-secret-value', '', 60, NOW),
    () => mintRestCredential('top-secret-value', 'a', -1, NOW),
  ]) {
    assert.throws(fn, (e: unknown) => e instanceof Error && !e.message.includes('top-secret-value'));
  }
});

test('parse: a Ferry-minted <expiry>:<account>:<issuedAtMs> username', () => {
  const cases: [string, ReturnType<typeof parseRestUsername>][] = [
    ['1700000600:acc_x:1700000000123', { expiry: 1_700_000_600, account: 'acc_x', issuedAt: 1_700_000_000_123 }],
    ['1700000600:org:alice:5', { expiry: 1_700_000_600, account: 'org:alice', issuedAt: 5 }],
    ['1700000600:alice:123456789012345', { expiry: 1_700_000_600, account: 'alice', issuedAt: 123_456_789_012_345 }],
    // Not an issued-at: too long, not all digits, empty → plain, account = everything after the first colon.
    ['1700000600:alice:1234567890123456', { expiry: 1_700_000_600, account: 'alice:1234567890123456' }],
    ['1700000600:alice:12a', { expiry: 1_700_000_600, account: 'alice:12a' }],
    ['1700000600:alice:', { expiry: 1_700_000_600, account: 'alice:' }],
    ['1700000600:12', { expiry: 1_700_000_600, account: '12' }],
    // An issued-at with nothing in between is malformed.
    ['1700000600::12', null],
    [`1700000600:${'a'.repeat(257)}:12`, null],
  ];
  for (const [u, expected] of cases) assert.deepEqual(parseRestUsername(u), expected, u);
  assert.ok(parseRestUsername(`1700000600:${'a'.repeat(256)}:12`));
});

test('mint with { issuedAt: true }: the username carries the issue time in ms', () => {
  const c = mintRestCredential(S1, 'acc_x', 600, NOW + 999, { issuedAt: true });
  assert.equal(c.username, `1700000600:acc_x:${NOW + 999}`);
  assert.equal(c.issuedAt, NOW + 999);
  assert.equal(c.password, restPassword(S1, c.username));
  assert.equal(c.expiresAt, 1_700_000_600_000);
  assert.equal(mintRestCredential(S1, 'acc_x', 600, NOW).issuedAt, undefined, 'old call shape unchanged');
  assert.equal(mintRestCredential(S1, 'x:42', 600, NOW, { issuedAt: true }).username, `1700000600:x:42:${NOW}`);
  assert.throws(() => mintRestCredential(S1, 'x:42', 600, NOW), /ambiguous/);
  const r = lookupRestUsername(c.username, REALM, [S1], NOW);
  assert.equal(r.ok && r.account, 'acc_x');
  if (r.ok) assert.deepEqual(r.keys[0], deriveLongTermKey(c.username, REALM, c.password));
});
