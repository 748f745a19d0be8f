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
  fx.listen({ rateLimited: (kind) => limited.push(kind) });
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
  fx.listen({ rateLimited: (kind) => limited.push(kind) });
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

test('a 5-tuple holding an allocation keeps refreshing while its IP is out of both budgets; a new Allocate from that IP does not get through', async () => {
  // Failures: 3 a minute. Challenges: 2 a second, burst 6. Nonces last 2 minutes.
  const fx = await server({ rateLimits: { challengesPerIp: 2, authFailuresPerIp: 3 }, nonceTtlMs: 120_000 });
  const limited: string[] = [];
  fx.listen({ rateLimited: (kind) => limited.push(kind) });
  const alice = await client(fx.udpPort);
  assert.equal((await alice.allocate()).code, 0);
  const peer = { address: '127.0.0.1', port: 40_000 };

  /** Another socket of the same IP guesses, then asks for challenges, until neither is answered. */
  const exhaust = async () => {
    const guesser = await client(fx.udpPort, { password: 'guess' });
    await challenged(guesser);
    limited.length = 0;
    for (let i = 0; i < 10 && (await answered(guesser, allocateRequest(guesser, true))); i++);
    for (let i = 0; i < 10 && (await answered(guesser, allocateRequest(guesser, false))); i++);
    assert.deepEqual(limited, ['auth-failure', 'challenge'], 'both budgets are spent');
    assert.equal(await answered(guesser, allocateRequest(guesser, true)), false);
  };
  await exhaust();

  assert.equal((await alice.transact(alice.build(C.METHOD_REFRESH, null, true))).code, 0, 'Refresh');
  assert.equal((await alice.createPermission(peer)).code, 0, 'CreatePermission');
  assert.equal((await alice.channelBind(0x4000, peer)).code, 0, 'ChannelBind');

  // Another username on alice's 5-tuple is not exempt: it could be a guess at bob's password.
  alice.opts.username = 'bob';
  assert.equal(await answered(alice, alice.build(C.METHOD_REFRESH, null, true)), false, 'bob on alice\'s 5-tuple');
  alice.opts.username = 'alice';

  // A new 5-tuple of the same IP, with the right password, is still refused.
  const newcomer = await client(fx.udpPort);
  assert.equal(await answered(newcomer, allocateRequest(newcomer, false)), false, 'no 401 for a new Allocate');
  newcomer.realm = alice.realm;
  newcomer.nonce = alice.nonce;
  assert.equal(await answered(newcomer, allocateRequest(newcomer, true)), false, 'no 438 nor 401 for a new Allocate');

  // The nonce goes stale (the budgets refill meanwhile: spend them again): 438, then the Refresh succeeds.
  fx.clock.advance(121_000);
  await exhaust();
  const stale = await alice.transact(alice.build(C.METHOD_REFRESH, null, true));
  assert.equal(stale.code, 438, 'a stale nonce gets its 438');
  alice.nonce = stale.string(C.ATTR_NONCE);
  assert.equal((await alice.transact(alice.build(C.METHOD_REFRESH, null, true))).code, 0, 'Refresh with the fresh nonce');
  assert.equal(await answered(newcomer, allocateRequest(newcomer, false)), false, 'still no 401 for a new Allocate');
});

test('a wrong password from a live allocation\'s 5-tuple is verified (401) and still spends the IP\'s failure budget', async () => {
  const fx = await server({ rateLimits: { challengesPerIp: 0, authFailuresPerIp: 3 } }); // one failure per 20 s
  const alice = await client(fx.udpPort);
  assert.equal((await alice.allocate()).code, 0);
  const guesser = await client(fx.udpPort, { password: 'guess' });
  await challenged(guesser);
  for (let i = 0; i < 3; i++) assert.equal((await guesser.transact(allocateRequest(guesser, true))).code, 401);
  assert.equal(await answered(guesser, allocateRequest(guesser, true)), false, 'out of budget');

  alice.opts.password = 'guess';
  assert.equal((await alice.transact(alice.build(C.METHOD_REFRESH, null, true))).code, 401, 'verified, refused');
  alice.opts.password = 'alice-pass';

  // That failure took a token: 20 s later the IP's slot is back at zero, not at one.
  const newcomer = await client(fx.udpPort);
  await challenged(newcomer);
  fx.clock.advance(20_000);
  assert.equal(await answered(newcomer, allocateRequest(newcomer, true)), false);
  fx.clock.advance(20_000);
  assert.equal((await newcomer.transact(allocateRequest(newcomer, true))).code, 0);
});
