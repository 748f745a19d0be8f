// EVEN-PORT reservations (RFC 8656 §7.2) are held like allocations: they count against the
// account's and the server's allocation quotas, end with the allocation that made them, and expire.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { reservePortRange, type PortRange } from '../../helpers/ports.js';
import * as C from '../../../turn/codec/constants.js';

const open: { close(): void }[] = [];
const fixtures: Fixture[] = [];
const ranges: PortRange[] = [];
after(async () => {
  for (const o of open) o.close();
  for (const fx of fixtures) await fx.stop();
  for (const r of ranges) r.release();
});

async function server(o: Parameters<typeof startServer>[0] = {}): Promise<Fixture> {
  const fx = await startServer(o);
  fixtures.push(fx);
  return fx;
}

async function client(fx: Fixture, user = 'alice'): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({ port: fx.udpPort, username: user, password: `${user}-pass` });
  open.push(c);
  return c;
}

function tokenOf(r: Awaited<ReturnType<TestTurnClient['allocate']>>): Buffer {
  const i = r.attr(C.ATTR_RESERVATION_TOKEN);
  assert.ok(i >= 0, 'the response carries a RESERVATION-TOKEN');
  return Buffer.from(r.msg.attrValue(i));
}

test('Allocate with EVEN-PORT R=1 then Refresh 0, in a loop, leaves no reservation behind', async () => {
  // Four relay ports: two even/odd pairs. Orphaned reservations would take both odd ports by the third round.
  const range = await reservePortRange();
  ranges.push(range);
  const lo = range.lo + (range.lo & 1);
  const fx = await server({ portMin: lo, portMax: lo + 3 });
  const a = await client(fx);
  for (let i = 0; i < 12; i++) {
    const r = await a.allocate((w) => w.addEvenPort(true));
    assert.equal(r.code, 0, `round ${i}: the reserving Allocate succeeds`);
    assert.equal((await a.refresh(0)).code, 0);
  }
  // The odd ports are free again: two plain allocations of another user take all four ports between them.
  const b1 = await client(fx, 'bob');
  const b2 = await client(fx, 'bob');
  const b3 = await client(fx, 'bob');
  const b4 = await client(fx, 'bob');
  for (const b of [b1, b2, b3, b4]) assert.equal((await b.allocate()).code, 0);
  for (const b of [b1, b2, b3, b4]) assert.equal((await b.refresh(0)).code, 0);
});

test('a reservation counts against the account quota; redeeming it does not count twice; another account cannot redeem it', async () => {
  const fx = await server({ quotas: { allocationsPerUser: 3 } });
  const a1 = await client(fx);
  const r = await a1.allocate((w) => w.addEvenPort(true));
  assert.equal(r.code, 0);
  const token = tokenOf(r);
  // one allocation and one reservation held: a second R=1 needs two more places
  const a2 = await client(fx);
  assert.equal((await a2.allocate((w) => w.addEvenPort(true))).code, 486);
  assert.equal((await a2.allocate()).code, 0, 'a plain Allocate takes the third place');
  const a3 = await client(fx);
  assert.equal((await a3.allocate()).code, 486, 'the quota is full: the reservation holds a place');
  const stranger = await client(fx, 'bob');
  assert.equal((await stranger.allocate((w) => w.addBytes(C.ATTR_RESERVATION_TOKEN, token, 0, 8))).code, 508, 'the token is alice\'s only');
  const rb = await a3.allocate((w) => w.addBytes(C.ATTR_RESERVATION_TOKEN, token, 0, 8));
  assert.equal(rb.code, 0, 'redeeming turns the reservation into the allocation: no new place needed');
  assert.equal(rb.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!.port, r.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!.port + 1);
  assert.equal(fx.server.allocationCount(), 3);
  for (const c of [a1, a2, a3]) assert.equal((await c.refresh(0)).code, 0);
});

test('a reservation ends with the allocation that made it, and expires on its own after 30 s', async () => {
  const fx = await server({ quotas: { allocationsPerUser: 2, totalAllocations: 2 } });
  const a = await client(fx);
  const r = await a.allocate((w) => w.addEvenPort(true));
  assert.equal(r.code, 0);
  const token = tokenOf(r);
  const bob = await client(fx, 'bob');
  assert.equal((await bob.allocate()).code, 508, 'the reservation holds a place of the server\'s total');
  assert.equal((await a.refresh(0)).code, 0);
  const again = await client(fx);
  assert.equal((await again.allocate((w) => w.addBytes(C.ATTR_RESERVATION_TOKEN, token, 0, 8))).code, 508, 'cancelled with its allocation');
  assert.equal((await bob.allocate()).code, 0, 'both places are free again');
  assert.equal((await bob.refresh(0)).code, 0);

  // Expiry: the allocation stays, its reservation goes after 30 s (the sweep runs every second).
  const held = await client(fx);
  const r2 = await held.allocate((w) => w.addEvenPort(true));
  assert.equal(r2.code, 0);
  const bob2 = await client(fx, 'bob');
  assert.equal((await bob2.allocate()).code, 508);
  fx.clock.advance(31_000);
  await new Promise((res) => setTimeout(res, 1_300));
  assert.equal((await bob2.allocate()).code, 0, 'the expired reservation no longer holds a place');
  const late = await client(fx);
  assert.equal((await late.allocate((w) => w.addBytes(C.ATTR_RESERVATION_TOKEN, tokenOf(r2), 0, 8))).code, 508, 'an expired token is refused');
  for (const c of [held, bob2]) assert.equal((await c.refresh(0)).code, 0);
});
