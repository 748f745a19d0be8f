// Issue 9's defences on a real UDP server: nonces bound to the client's port and shared by nodes
// with one secret; per-IP budgets of 401/438 answers and of failed authentications.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import * as C from '../../../turn/codec/constants.js';

const open: { close(): void }[] = [];
const servers: Fixture[] = [];
after(async () => {
  for (const c of open) c.close();
  for (const s of servers) await s.stop();
});

async function server(o: Parameters<typeof startServer>[0] = {}): Promise<Fixture> {
  const fx = await startServer(o);
  servers.push(fx);
  return fx;
}

async function client(port: number, o: { username?: string; password?: string; localAddress?: string } = {}): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({ port, username: 'alice', password: 'alice-pass', ...o });
  open.push(c);
  return c;
}

const allocateRequest = (c: TestTurnClient, signed: boolean) =>
  c.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(C.TRANSPORT_UDP), signed);

/**
 * Sends `request` once (no retransmission) and tells whether anything came back for it: a Binding
 * request sent right after is answered after it (one socket each side, loopback, handled in order),
 * so when the Binding response is in, the answer to `request` would be too.
 */
async function answered(c: TestTurnClient, request: Buffer): Promise<boolean> {
  const before = c.received;
  c.sendRaw(request);
  await c.transact(c.build(C.METHOD_BINDING, null, false));
  return c.received > before + 1;
}

/** Takes the 401 challenge's realm and nonce into the client. */
async function challenged(c: TestTurnClient): Promise<void> {
  const r = await c.transact(allocateRequest(c, false));
  assert.equal(r.code, 401);
  c.realm = r.string(C.ATTR_REALM);
  c.nonce = r.string(C.ATTR_NONCE);
}

test('a nonce replayed from another port of the same IP gets 438 with a fresh nonce', async () => {
  const fx = await server();
  const a = await client(fx.udpPort);
  assert.equal((await a.allocate()).code, 0);
  const b = await client(fx.udpPort);
  b.realm = a.realm;
  b.nonce = a.nonce;
  const r = await b.transact(allocateRequest(b, true));
  assert.equal(r.code, 438);
  const fresh = r.string(C.ATTR_NONCE);
  assert.ok(fresh !== null && fresh !== a.nonce);
  b.nonce = fresh;
  assert.equal((await b.transact(allocateRequest(b, true))).code, 0);
});

test('two servers with the same nonce secret accept each other\'s nonces', async () => {
  const secret = Buffer.from('fleet-nonce-secret-0123');
  const one = await server({ nonceSecret: secret });
  const two = await server({ nonceSecret: Buffer.from(secret) });
  const other = await server();
  const c = await client(one.udpPort);
  await challenged(c); // a nonce from server one
  c.opts.port = two.udpPort;
  assert.equal((await c.transact(allocateRequest(c, true))).code, 0, 'server two takes it');
  c.opts.port = other.udpPort;
  assert.equal((await c.transact(allocateRequest(c, true))).code, 438, 'a server with its own secret does not');
});

test('challenges per IP: past the budget no 401/438 comes back; it refills; another IP is unaffected', async () => {
  // 2 a second, a burst of 3 seconds' worth: 6.
  const fx = await server({ rateLimits: { challengesPerIp: 2, authFailuresPerIp: 0 } });
  const limited: string[] = [];
  fx.server.update({ events: { rateLimited: (kind) => limited.push(kind) } });
  const c = await client(fx.udpPort);
  for (let i = 0; i < 6; i++) assert.equal(await answered(c, allocateRequest(c, false)), true, `challenge ${i + 1}`);
  assert.equal(await answered(c, allocateRequest(c, false)), false, 'the 7th gets no 401');
  c.realm = 'ferry.test';
  c.nonce = 'f2-not-a-nonce';
  assert.equal(await answered(c, allocateRequest(c, true)), false, 'nor a 438');
  assert.deepEqual(limited, ['challenge', 'challenge']);

  const elsewhere = await client(fx.udpPort, { localAddress: '127.0.0.2' });
  assert.equal((await elsewhere.allocate()).code, 0, '127.0.0.2 has its own budget');

  fx.clock.advance(1000); // two more
  assert.equal(await answered(c, allocateRequest(c, false)), true);
  assert.equal(await answered(c, allocateRequest(c, false)), true);
  assert.equal(await answered(c, allocateRequest(c, false)), false);
});

test('failed authentications per IP: past the budget signed requests are not verified nor answered until it refills', async () => {
  // 3 a minute: three at once, then one every 20 s.
  const fx = await server({ rateLimits: { challengesPerIp: 0, authFailuresPerIp: 3 } });
  const limited: string[] = [];
  fx.server.update({ events: { rateLimited: (kind) => limited.push(kind) } });
  const guesser = await client(fx.udpPort, { password: 'guess' });
  await challenged(guesser);
  for (let i = 0; i < 3; i++) assert.equal((await guesser.transact(allocateRequest(guesser, true))).code, 401, `guess ${i + 1}`);
  assert.equal(await answered(guesser, allocateRequest(guesser, true)), false, 'the 4th guess gets no answer');

  // The right password from the same IP is not even checked meanwhile; unsigned requests still get 401.
  const alice = await client(fx.udpPort);
  await challenged(alice);
  assert.equal(await answered(alice, allocateRequest(alice, true)), false);
  assert.deepEqual(limited, ['auth-failure', 'auth-failure']);

  const elsewhere = await client(fx.udpPort, { localAddress: '127.0.0.2' });
  assert.equal((await elsewhere.allocate()).code, 0, '127.0.0.2 has its own budget');

  fx.clock.advance(20_000); // one failure's worth
  assert.equal((await alice.transact(allocateRequest(alice, true))).code, 0, 'verified again once refilled');
});

test('with both budgets off (0), nothing is limited', async () => {
  const fx = await server({ rateLimits: { challengesPerIp: 0, authFailuresPerIp: 0 } });
  const c = await client(fx.udpPort, { password: 'guess' });
  await challenged(c);
  for (let i = 0; i < 50; i++) assert.equal(await answered(c, allocateRequest(c, i % 2 === 0)), true);
});
