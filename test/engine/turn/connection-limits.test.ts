// Issue 9, finding 4: TCP connections are capped per client IP and in total (counted at accept,
// refusals reported through TurnEvents), and must hold an allocation by an absolute deadline from
// accept, and again from the end of their allocation; traffic does not extend it.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import * as C from '../../../turn/codec/constants.js';
import type { ConnectionLimits } from '../../../turn/options.js';
import { closesWithin, openTcp } from '../../helpers/tcp-socket.js';

let fx: Fixture;
const refused: string[] = [];
const sockets: Socket[] = [];
const LONG = 60_000;

before(async () => {
  fx = await startServer({});
});
after(async () => {
  for (const s of sockets) s.destroy();
  await fx.stop();
});
beforeEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await until(() => fx.server.connectionStats().connections === 0);
  refused.length = 0;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; !cond(); await sleep(10)) if (Date.now() > end) return false;
  return true;
}

function limits(l: Partial<ConnectionLimits>): void {
  fx.server.update({ connections: { perIp: 100, total: 100, allocateTimeoutMs: LONG, ...l } });
  fx.listen({ connectionRefused: (reason) => refused.push(reason) });
}

/** A raw TCP connection from `from` (a 127/8 address), once connected; destroyed after the tests. */
async function open(from = '127.0.0.1'): Promise<Socket> {
  const s = await openTcp(fx.tcpPort, from);
  sockets.push(s);
  return s;
}

async function bindingFrom(from: string): Promise<boolean> {
  const s = await open(from);
  const req = Buffer.alloc(20);
  req.writeUInt16BE(C.METHOD_BINDING, 0);
  req.writeUInt32BE(C.MAGIC_COOKIE, 4);
  const answered = new Promise<boolean>((r) => {
    s.once('data', (d: Buffer) => r(d.readUInt16BE(0) === 0x0101));
    s.once('close', () => r(false));
  });
  s.write(req);
  return answered;
}

test('the connection past connections_per_ip from one address is closed at once; other addresses are served', async () => {
  limits({ perIp: 2 });
  const [a] = [await open(), await open()];
  const third = await open();
  assert.ok(await closesWithin(third, 5000), 'the third connection from 127.0.0.1 is closed');
  assert.deepEqual(refused, ['per-ip']);
  assert.ok(await bindingFrom('127.0.0.2'), 'another address is served');
  assert.equal(fx.server.connectionStats().connections, 3);

  a.destroy();
  assert.ok(await until(() => fx.server.connectionStats().connections === 2), 'the closed connection is uncounted');
  assert.ok(await bindingFrom('127.0.0.1'), 'a slot freed: 127.0.0.1 is served again');
});

test('the connection past total_connections is closed, whatever its address', async () => {
  limits({ perIp: 10, total: 3 });
  await open('127.0.0.1');
  await open('127.0.0.2');
  await open('127.0.0.3');
  const fourth = await open('127.0.0.4');
  assert.ok(await closesWithin(fourth, 5000), 'the fourth connection is closed');
  assert.deepEqual(refused, ['total']);
});

test('the per-client table empties as connections close (it holds no entry at 0)', async () => {
  limits({});
  for (let i = 1; i <= 20; i++) await open(`127.0.0.${i}`);
  assert.deepEqual({ ...fx.server.connectionStats(), queuedBytes: 0 }, { connections: 20, clients: 20, queuedBytes: 0 });
  for (const s of sockets.splice(0)) s.destroy();
  assert.ok(await until(() => fx.server.connectionStats().clients === 0), 'no client left in the table');
  assert.equal(fx.server.connectionStats().connections, 0);
});

test('a connection trickling a byte every 200 ms is closed at its allocate deadline (1 s)', async () => {
  limits({ allocateTimeoutMs: 1000 });
  const s = await open();
  // A STUN header announcing a long body, one byte at a time: never a whole frame.
  const header = Buffer.alloc(20);
  header.writeUInt16BE(C.METHOD_ALLOCATE, 0);
  header.writeUInt16BE(1000, 2);
  header.writeUInt32BE(C.MAGIC_COOKIE, 4);
  let sent = 0;
  const trickle = setInterval(() => {
    if (!s.destroyed && sent < header.length) s.write(header.subarray(sent, ++sent));
  }, 200);
  try {
    assert.ok(await closesWithin(s, 6000), 'closed although bytes kept coming');
    assert.ok(sent >= 5, `it was still trickling past the deadline (${sent} bytes sent)`);
  } finally {
    clearInterval(trickle);
  }
});

test('a connection holding an allocation outlives the deadline; once the allocation ends the deadline applies again', async () => {
  limits({ allocateTimeoutMs: 1000 });
  const c = await TestTurnClient.connect({ port: fx.tcpPort, transport: 'tcp', username: 'alice', password: 'alice-pass' });
  try {
    assert.equal((await c.allocate()).code, 0);
    await sleep(2000); // twice the deadline
    assert.equal((await c.refresh()).code, 0, 'still open, the allocation answers');
    assert.equal((await c.refresh(0)).code, 0, 'the allocation ends, the connection stays');
    const closed = await Promise.race([c.streamClosed().then(() => true), sleep(6000).then(() => false)]);
    assert.ok(closed, 'closed by the deadline after the allocation ended');
  } finally {
    c.close();
  }
});

test('a lowered cap applies to new connections (update)', async () => {
  limits({ perIp: 5 });
  await open();
  await open();
  limits({ perIp: 1 });
  const s = await open();
  assert.ok(await closesWithin(s, 5000));
  assert.deepEqual(refused, ['per-ip']);
});
