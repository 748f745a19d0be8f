import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import * as C from '../../../turn/codec/constants.js';
import { checkMessageIntegrity } from '../../../turn/codec/integrity.js';
import { readUnknownAttributes } from '../../../turn/codec/attributes.js';
import { deriveLongTermKey } from '../../../turn/long-term-key.js';
import { mintRestCredential } from '../../../src/credentials/rest.js';

let fx: Fixture;
const clients: TestTurnClient[] = [];
async function client(o: { username?: string; password?: string; transport?: 'udp' | 'tcp' } = {}): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({
    port: o.transport === 'tcp' ? fx.tcpPort : fx.udpPort,
    transport: o.transport ?? 'udp',
    username: o.username ?? 'alice',
    password: o.password ?? 'alice-pass',
  });
  clients.push(c);
  return c;
}

before(async () => {
  fx = await startServer({ quotas: { allocationsPerUser: 2, totalAllocations: 3 }, secrets: ['rest-secret-0123456789'] });
});
after(async () => {
  for (const c of clients) c.close();
  await fx.stop();
});

test('Binding answers with the client reflexive address over UDP and TCP', async () => {
  for (const transport of ['udp', 'tcp'] as const) {
    const c = await client({ transport });
    const r = await c.transact(c.build(C.METHOD_BINDING, null, false));
    assert.equal(r.cls, C.CLASS_SUCCESS);
    assert.deepEqual(r.xorAddress(C.ATTR_XOR_MAPPED_ADDRESS), { family: 4, address: '127.0.0.1', port: c.localPort });
    c.close();
  }
});

test('Allocate without credentials gets a 401 challenge with REALM and NONCE, unsigned', async () => {
  const c = await client();
  const r = await c.transact(c.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(17), false));
  assert.equal(r.code, 401);
  assert.equal(r.string(C.ATTR_REALM), 'ferry.test');
  assert.ok((r.string(C.ATTR_NONCE) ?? '').length > 8);
  assert.equal(r.attr(C.ATTR_MESSAGE_INTEGRITY), -1);
});

test('a wrong password and an unknown user get 401', async () => {
  assert.equal((await (await client({ password: 'wrong' })).allocate()).code, 401);
  assert.equal((await (await client({ username: 'mallory', password: 'x' })).allocate()).code, 401);
});

test('Allocate succeeds: relayed address in range, lifetime, mapped address, signed response', async () => {
  const c = await client();
  const r = await c.allocate();
  assert.equal(r.code, 0);
  const relayed = r.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  assert.equal(relayed.address, '127.0.0.1');
  assert.ok(relayed.port >= fx.portMin && relayed.port <= fx.portMax, `relayed port ${relayed.port} outside ${fx.portMin}-${fx.portMax}`);
  assert.equal(r.uint32(C.ATTR_LIFETIME), 600);
  assert.deepEqual(r.xorAddress(C.ATTR_XOR_MAPPED_ADDRESS), { family: 4, address: '127.0.0.1', port: c.localPort });
  const key = deriveLongTermKey('alice', 'ferry.test', 'alice-pass').md5;
  assert.ok(checkMessageIntegrity(r.msg, key));
  assert.equal(fx.server.sessions().find((s) => s.clientPort === c.localPort)?.account, 'alice');
  assert.equal((await c.refresh(0)).code, 0);
});

test('a retransmitted Allocate gets the same answer; a new one on the same 5-tuple gets 437', async () => {
  const c = await client();
  await c.allocate(); // learns realm and nonce
  assert.equal((await c.refresh(0)).code, 0);
  const tid = randomBytes(12);
  const req = c.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(17), true, tid);
  const first = await c.transact(req);
  const again = await c.transact(req);
  assert.equal(first.code, 0);
  assert.ok(first.msg.buf.equals(again.msg.buf));
  assert.equal((await c.allocate()).code, 437);
  assert.equal((await c.refresh(0)).code, 0);
});

test('REQUESTED-TRANSPORT missing → 400, TCP → 442; DONT-FRAGMENT → 420', async () => {
  const c = await client();
  assert.equal((await c.request(C.METHOD_ALLOCATE, null)).code, 400);
  assert.equal((await c.request(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(6))).code, 442);
  const df = await c.allocate((w) => w.addEmpty(C.ATTR_DONT_FRAGMENT));
  assert.equal(df.code, 420);
  assert.deepEqual(readUnknownAttributes(df.msg, df.attr(C.ATTR_UNKNOWN_ATTRIBUTES)), [C.ATTR_DONT_FRAGMENT]);
});

test('an unknown comprehension-required attribute → 420 listing it', async () => {
  const c = await client();
  const r = await c.transact(c.build(C.METHOD_BINDING, (w) => w.addBytes(0x7777, Buffer.from('x'), 0, 1), false));
  assert.equal(r.code, 420);
  assert.deepEqual(readUnknownAttributes(r.msg, r.attr(C.ATTR_UNKNOWN_ATTRIBUTES)), [0x7777]);
});

test('requested lifetimes are clamped to [default, max]; Refresh 0 deletes', async () => {
  const c = await client();
  assert.equal((await c.allocate((w) => w.addUint32(C.ATTR_LIFETIME, 30))).uint32(C.ATTR_LIFETIME), 600);
  assert.equal((await c.refresh(7200)).uint32(C.ATTR_LIFETIME), 3600);
  assert.equal((await c.refresh(1200)).uint32(C.ATTR_LIFETIME), 1200);
  assert.equal((await c.refresh(0)).uint32(C.ATTR_LIFETIME), 0);
  assert.equal((await c.refresh(600)).code, 437);
  assert.equal(fx.closed.at(-1)?.reason, 'refresh');
});

test('a stale nonce gets 438 with a fresh nonce, and the retry succeeds', async () => {
  const c = await client();
  assert.equal((await c.allocate()).code, 0);
  const old = c.nonce;
  fx.clock.advance(11 * 60_000); // past the 10-minute nonce lifetime
  const raw = await c.transact(c.build(C.METHOD_REFRESH, null, true));
  assert.equal(raw.code, 438);
  assert.notEqual(raw.string(C.ATTR_NONCE), old);
  assert.equal((await c.refresh(0)).code, 0); // request() takes the new nonce
});

test('another user on an allocated 5-tuple gets 441', async () => {
  const c = await client();
  assert.equal((await c.allocate()).code, 0);
  const other = await TestTurnClient.connect({ port: fx.udpPort, username: 'bob', password: 'bob-pass' });
  clients.push(other);
  // bob signs requests from alice's 5-tuple: reuse alice's socket with bob's credentials
  (c as unknown as { opts: { username: string; password: string } }).opts.username = 'bob';
  (c as unknown as { opts: { username: string; password: string } }).opts.password = 'bob-pass';
  assert.equal((await c.refresh(600)).code, 441);
  (c as unknown as { opts: { username: string; password: string } }).opts.username = 'alice';
  (c as unknown as { opts: { username: string; password: string } }).opts.password = 'alice-pass';
  assert.equal((await c.refresh(0)).code, 0);
});

test('per-user quota → 486, total quota → 508', async () => {
  const a1 = await client();
  const a2 = await client();
  const a3 = await client();
  assert.equal((await a1.allocate()).code, 0);
  assert.equal((await a2.allocate()).code, 0);
  assert.equal((await a3.allocate()).code, 486);
  const b1 = await client({ username: 'bob', password: 'bob-pass' });
  const b2 = await client({ username: 'bob', password: 'bob-pass' });
  assert.equal((await b1.allocate()).code, 0);
  assert.equal((await b2.allocate()).code, 508);
  for (const c of [a1, a2, b1]) assert.equal((await c.refresh(0)).code, 0);
});

test('REST credentials: the account is attributed; expired ones get 401', async () => {
  const now = fx.clock.now;
  const good = mintRestCredential('rest-secret-0123456789', 'acct-7', 3600, now);
  const c = await client({ username: good.username, password: good.password });
  assert.equal((await c.allocate()).code, 0);
  assert.equal(fx.server.sessions().find((s) => s.clientPort === c.localPort)?.account, 'acct-7');
  assert.equal((await c.refresh(0)).code, 0);
  const expired = mintRestCredential('rest-secret-0123456789', 'acct-7', 60, now - 120_000);
  const e = await client({ username: expired.username, password: expired.password });
  assert.equal((await e.allocate()).code, 401);
});

test('an allocation expires after its lifetime and is reported as expired', async () => {
  const c = await client();
  assert.equal((await c.allocate()).code, 0);
  const port = c.localPort;
  fx.clock.advance(601_000);
  await new Promise((r) => setTimeout(r, 1300)); // one sweep
  assert.equal(fx.server.sessions().some((s) => s.clientPort === port), false);
  assert.equal(fx.closed.at(-1)?.reason, 'expired');
});
