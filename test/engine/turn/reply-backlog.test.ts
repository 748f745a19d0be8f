// Issue 9, finding 2: a TCP client that pipelines requests (unauthenticated Allocates, a 401 each)
// and never reads. Without an allocation it is closed past 64 KiB of unread replies; with one, its
// replies are queued only up to a bound (the connection stops reading) and it is served again once
// it reads. The server keeps serving others either way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import * as C from '../../../turn/codec/constants.js';
import { PAUSE_READING_AT, REPLY_BACKLOG_LIMIT, UNALLOCATED_REPLY_LIMIT } from '../../../turn/transports/stream-backlog.js';

let fx: Fixture;
before(async () => {
  fx = await startServer({});
});
after(async () => {
  await fx.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An unauthenticated Allocate request (REQUESTED-TRANSPORT UDP): 28 bytes, answered with 401. */
function allocateRequest(i: number): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(C.METHOD_ALLOCATE, 0);
  b.writeUInt16BE(8, 2);
  b.writeUInt32BE(C.MAGIC_COOKIE, 4);
  b.writeUInt32BE(i, 16);
  b.writeUInt16BE(C.ATTR_REQUESTED_TRANSPORT, 20);
  b.writeUInt16BE(4, 22);
  b[24] = 17;
  return b;
}

async function bindingOver(transport: 'udp' | 'tcp'): Promise<boolean> {
  const c = await TestTurnClient.connect({ port: transport === 'udp' ? fx.udpPort : fx.tcpPort, transport });
  try {
    return (await c.transact(c.build(C.METHOD_BINDING, null, false))).cls === C.CLASS_SUCCESS;
  } finally {
    c.close();
  }
}

/** Counts whole STUN messages in a byte stream. */
function messageCounter(): { push(chunk: Buffer): void; readonly count: number } {
  let pending: Buffer = Buffer.alloc(0);
  let count = 0;
  return {
    push(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let pos = 0;
      while (pending.length - pos >= 20) {
        const len = 20 + pending.readUInt16BE(pos + 2);
        if (pending.length - pos < len) break;
        pos += len;
        count++;
      }
      pending = pending.subarray(pos);
    },
    get count() {
      return count;
    },
  };
}

test('a client without an allocation that pipelines requests and never reads is closed past 64 KiB of replies; others are served', async () => {
  const N = Math.floor((8 << 20) / 28);
  const requests = Buffer.concat(Array.from({ length: N }, (_, i) => allocateRequest(i)));
  const s: Socket = connect({ host: '127.0.0.1', port: fx.tcpPort });
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  s.pause(); // never reads
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.write(requests);
  let max = 0;
  for (let i = 0; i < 2000 && fx.server.connectionStats().connections > 0; i++) {
    max = Math.max(max, fx.server.connectionStats().queuedBytes);
    await sleep(5);
  }
  assert.equal(fx.server.connectionStats().connections, 0, 'the connection was closed');
  assert.ok(max <= UNALLOCATED_REPLY_LIMIT, `queued replies stay under ${UNALLOCATED_REPLY_LIMIT} bytes; saw ${max}`);
  s.destroy();
  await closed;
  assert.ok(await bindingOver('udp'), 'UDP clients are served');
  assert.ok(await bindingOver('tcp'), 'TCP clients are served');
});

test('a client with an allocation that pipelines requests and never reads: reading pauses, replies stay bounded, every reply comes once it reads', async () => {
  const c = await TestTurnClient.connect({ port: fx.tcpPort, transport: 'tcp', username: 'alice', password: 'alice-pass' });
  try {
    assert.equal((await c.allocate()).code, 0);
    const s = c.streamSocket!;
    s.pause(); // never reads, for now
    const N = Math.floor((8 << 20) / 28);
    s.write(Buffer.concat(Array.from({ length: N }, (_, i) => allocateRequest(i))));
    // Watch the server's queue until it has been over the pause mark for a while (or 20 s pass).
    let max = 0;
    let overSince = 0;
    for (let i = 0; i < 2000; i++) {
      const q = fx.server.connectionStats().queuedBytes;
      max = Math.max(max, q);
      if (q >= PAUSE_READING_AT && overSince === 0) overSince = i;
      if (overSince > 0 && i - overSince >= 50) break;
      await sleep(10);
    }
    assert.ok(overSince > 0, `the queue reached the pause mark (max ${max} bytes)`);
    assert.ok(max <= REPLY_BACKLOG_LIMIT, `queued replies stay under ${REPLY_BACKLOG_LIMIT} bytes; saw ${max}`);
    assert.ok(s.writableLength > 0, 'the server stopped reading: the client could not send everything');
    assert.equal(fx.server.connectionStats().connections, 1, 'the connection is paused, not closed');
    assert.ok(await bindingOver('udp'), 'UDP clients are served meanwhile');
    // The client reads again: the server drains and resumes, every request is answered, and the
    // allocation is still there.
    const before = c.received;
    s.resume();
    for (let i = 0; i < 12_000 && c.received - before < N; i++) await sleep(10);
    assert.equal(c.received - before, N, 'every pipelined request answered once the client reads');
    assert.equal((await c.refresh(0)).code, 0, 'the allocation is still there');
  } finally {
    c.close();
  }
});
