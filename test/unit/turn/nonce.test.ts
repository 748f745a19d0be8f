// Stateless nonces (issue 9): bound to the client's IP and port, stale after the lifetime, shared
// across nodes with the same secret, compared in constant time; reload semantics.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { NonceManager } from '../../../turn/nonce.js';

const T0 = 1_700_000_000_000; // a whole second
const SECRET = Buffer.from('fleet-nonce-secret-0123');

test('a nonce is valid only from the IP and port it was issued to', () => {
  const n = new NonceManager(600_000, SECRET);
  const nonce = n.issue('198.51.100.7', 40000, T0);
  assert.equal(n.check(nonce, '198.51.100.7', 40000, T0 + 1000), 'ok');
  assert.equal(n.check(nonce, '198.51.100.7', 40001, T0 + 1000), 'invalid');
  assert.equal(n.check(nonce, '198.51.100.8', 40000, T0 + 1000), 'invalid');
  assert.equal(n.check(nonce, '2001:db8::7', 40000, T0 + 1000), 'invalid');
  // The port is not the tail of the address: "1.2.3.4" port 56 ≠ "1.2.3.45" port 6.
  assert.equal(n.check(n.issue('1.2.3.4', 56, T0), '1.2.3.45', 6, T0), 'invalid');
});

test('a nonce goes stale once older than the lifetime (fake clock), or dated too far ahead', () => {
  const n = new NonceManager(60_000, SECRET);
  const nonce = n.issue('198.51.100.7', 40000, T0);
  assert.equal(n.check(nonce, '198.51.100.7', 40000, T0 + 59_999), 'ok');
  assert.equal(n.check(nonce, '198.51.100.7', 40000, T0 + 60_000), 'stale');
  assert.equal(n.check(nonce, '198.51.100.7', 40000, T0 + 86_400_000), 'stale');
  // Issued by a node whose clock is ahead: accepted within the lifetime, stale beyond it.
  assert.equal(n.check(nonce, '198.51.100.7', 40000, T0 - 30_000), 'ok');
  assert.equal(n.check(nonce, '198.51.100.7', 40000, T0 - 60_000), 'stale');
});

test('nodes with the same secret accept each other\'s nonces; another secret does not', () => {
  const a = new NonceManager(600_000, Buffer.from(SECRET));
  const b = new NonceManager(600_000, Buffer.from(SECRET));
  const other = new NonceManager(600_000, Buffer.from('another-secret-0123456'));
  const random1 = new NonceManager(600_000);
  const random2 = new NonceManager(600_000);
  const nonce = a.issue('203.0.113.5', 5000, T0);
  assert.equal(b.check(nonce, '203.0.113.5', 5000, T0), 'ok');
  assert.equal(other.check(nonce, '203.0.113.5', 5000, T0), 'invalid');
  assert.equal(random2.check(random1.issue('203.0.113.5', 5000, T0), '203.0.113.5', 5000, T0), 'invalid');
});

test('tampered, truncated and foreign nonces are invalid', () => {
  const n = new NonceManager(600_000, SECRET);
  const nonce = n.issue('203.0.113.5', 5000, T0);
  const flip = (i: number) => nonce.slice(0, i) + (nonce[i] === '0' ? '1' : '0') + nonce.slice(i + 1);
  for (let i = 0; i < nonce.length; i++) assert.notEqual(n.check(flip(i), '203.0.113.5', 5000, T0), 'ok', `char ${i}`);
  assert.equal(n.check(nonce.slice(0, -1), '203.0.113.5', 5000, T0), 'invalid');
  assert.equal(n.check('', '203.0.113.5', 5000, T0), 'invalid');
  assert.equal(n.check('é'.repeat(nonce.length), '203.0.113.5', 5000, T0), 'invalid');
});

test('the MAC is compared with crypto.timingSafeEqual', () => {
  const n = new NonceManager(600_000, SECRET);
  const nonce = n.issue('203.0.113.5', 5000, T0);
  const spy = mock.method(crypto, 'timingSafeEqual');
  syncBuiltinESMExports();
  try {
    assert.equal(n.check(nonce, '203.0.113.5', 5000, T0), 'ok');
    assert.equal(n.check(nonce, '203.0.113.5', 5001, T0), 'invalid');
    assert.equal(spy.mock.callCount(), 2);
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
});

test('reload: a new lifetime applies to issued nonces; a new secret makes them invalid', () => {
  const n = new NonceManager(600_000, SECRET);
  const nonce = n.issue('203.0.113.5', 5000, T0);
  n.update(600_000, Buffer.from(SECRET));
  assert.equal(n.check(nonce, '203.0.113.5', 5000, T0 + 120_000), 'ok', 'the same secret again');
  n.update(60_000, Buffer.from(SECRET));
  assert.equal(n.check(nonce, '203.0.113.5', 5000, T0 + 120_000), 'stale', 'a shorter lifetime');
  n.update(600_000, Buffer.from('another-secret-0123456'));
  assert.equal(n.check(nonce, '203.0.113.5', 5000, T0), 'invalid', 'a new secret');
});

test('reload without a secret keeps the random one, but draws one after a configured secret', () => {
  const random = new NonceManager(600_000);
  const r = random.issue('203.0.113.5', 5000, T0);
  random.update(300_000);
  assert.equal(random.check(r, '203.0.113.5', 5000, T0), 'ok');
  const configured = new NonceManager(600_000, SECRET);
  const c = configured.issue('203.0.113.5', 5000, T0);
  configured.update(600_000);
  assert.equal(configured.check(c, '203.0.113.5', 5000, T0), 'invalid');
  const fresh = configured.issue('203.0.113.5', 5000, T0);
  configured.update(600_000);
  assert.equal(configured.check(fresh, '203.0.113.5', 5000, T0), 'ok');
});
