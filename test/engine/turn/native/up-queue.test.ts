// The queue that carries requests from the native threads up to the JS thread is bounded
// (kUpQueueLimit datagrams, 4 MiB): while the JS thread is busy, a flood past the bound is dropped
// and counted, and the server answers again once the JS thread is free. Datagrams that reach no
// allocation or are too short are dropped natively and counted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type Fixture } from '../../../helpers/turn-server.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import * as C from '../../../../turn/codec/constants.js';

/** kUpQueueLimit in native/src/plane.h. */
const UP_QUEUE_LIMIT = 4096;
const FLOOD = 3 * UP_QUEUE_LIMIT;

let fx: Fixture | undefined;
const sock = createSocket('udp4');
after(async () => {
  sock.close();
  await fx?.stop();
});

function bindingRequest(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(C.messageType(C.METHOD_BINDING, C.CLASS_REQUEST), 0);
  b.writeUInt32BE(C.MAGIC_COOKIE, 4);
  randomBytes(12).copy(b, 8);
  return b;
}

test('a request flood while the JS thread is busy: at most the queue bound goes up, the rest is dropped and counted; then it answers again', async () => {
  fx = await startServer({ dataPlane: 'native' });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.setRecvBufferSize(8 << 20);
  let answers = 0;
  sock.on('message', () => answers++);
  const before = fx.server.nativeStats()!;
  // The loop holds the JS thread: nothing the threads queue is taken until it ends.
  const started = Date.now();
  let sent = 0;
  while (sent < FLOOD && Date.now() - started < 5000) {
    sock.send(bindingRequest(), fx.udpPort, '127.0.0.1');
    sent++;
  }
  const spin = Date.now() + 300; // the threads read what the kernel holds
  while (Date.now() < spin);
  await sleep(500);
  const after1 = fx.server.nativeStats()!;
  const up = after1.up - before.up;
  const dropped = after1.upDropped - before.upDropped;
  assert.ok(dropped > 0, `some dropped at the bound (up ${up}, dropped ${dropped}, sent ${sent})`);
  assert.ok(up <= sent - dropped, `up ${up} dropped ${dropped} sent ${sent}`);
  // The JS thread answers what went up, 256 per wake-up: under load that may take a while.
  const answerDeadline = Date.now() + 10_000;
  while (answers === 0 && Date.now() < answerDeadline) await sleep(50);
  await sleep(200);
  assert.ok(answers <= up && answers > 0, `answers ${answers}, up ${up}`);
  // Free again: a client gets its answers.
  const c = await TestTurnClient.connect({ port: fx.udpPort, transport: 'udp', username: 'alice', password: 'alice-pass' });
  try {
    assert.equal((await c.allocate()).code, 0);
  } finally {
    c.close();
  }
});

test('ChannelData from a 5-tuple without an allocation and datagrams too short are dropped natively, counted', async () => {
  const before = fx!.server.nativeStats()!;
  for (let i = 0; i < 10; i++) sock.send(Buffer.from([0x40, 0x00, 0x00, 0x01, 0xaa]), fx!.udpPort, '127.0.0.1');
  for (let i = 0; i < 7; i++) sock.send(Buffer.from([0x01, 0x02]), fx!.udpPort, '127.0.0.1');
  for (let i = 0; i < 5; i++) sock.send(Buffer.from([0x90, 0, 0, 0, 0, 0]), fx!.udpPort, '127.0.0.1'); // neither STUN nor ChannelData
  const deadline = Date.now() + 3000;
  let s = fx!.server.nativeStats()!;
  while ((s.noAllocation - before.noAllocation < 10 || s.malformed - before.malformed < 12) && Date.now() < deadline) {
    await sleep(20);
    s = fx!.server.nativeStats()!;
  }
  assert.deepEqual([s.noAllocation - before.noAllocation, s.malformed - before.malformed, s.up - before.up], [10, 12, 0]);
});
