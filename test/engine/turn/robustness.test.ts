import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import * as C from '../../../turn/codec/constants.js';
import { prng } from '../../helpers/bytes.js';

let fx: Fixture;
before(async () => {
  fx = await startServer({});
});
after(async () => {
  await fx.stop();
});

async function bindingWorks(): Promise<boolean> {
  const c = await TestTurnClient.connect({ port: fx.udpPort });
  try {
    const r = await c.transact(c.build(C.METHOD_BINDING, null, false));
    return r.cls === C.CLASS_SUCCESS;
  } finally {
    c.close();
  }
}

test('random and mutated datagrams: no crash, no answer to garbage, Binding still answered', async () => {
  const rand = prng(0xfe11);
  const c = await TestTurnClient.connect({ port: fx.udpPort, username: 'alice', password: 'alice-pass' });
  assert.equal((await c.allocate()).code, 0);
  const seeds = [
    c.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(17), true),
    c.build(C.METHOD_CHANNEL_BIND, (w) => w.addChannelNumber(0x4000).addXorAddressString(C.ATTR_XOR_PEER_ADDRESS, 4, '127.0.0.1', 9), true),
    c.build(C.METHOD_BINDING, null, false),
    Buffer.from('40000004deadbeef', 'hex'),
  ];
  const raw = createSocket('udp4');
  let answers = 0;
  raw.on('message', () => answers++);
  await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
  // pure garbage: first byte outside STUN/ChannelData, or bad cookie: never answered
  for (let i = 0; i < 2000; i++) {
    const len = 1 + Math.floor(rand() * 200);
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
    b[0] |= 0x80;
    raw.send(b, fx.udpPort, '127.0.0.1');
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(answers, 0, 'garbage gets no answer');
  // mutated valid messages: any outcome but a crash
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.from(seeds[i % seeds.length]);
    const flips = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < flips; k++) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
    const cut = rand() < 0.2 ? Math.floor(rand() * b.length) : b.length;
    c.sendRaw(b.subarray(0, cut));
    if (i % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 300));
  raw.close();
  assert.equal(fx.server.allocationCount(), 1, 'no allocation leaked or lost');
  assert.equal((await c.refresh(0)).code, 0);
  c.close();
  assert.ok(await bindingWorks());
});

test('random bytes and mutated frames on TCP: the connection may close, the server keeps serving', async () => {
  const rand = prng(0xc0ffee);
  for (let i = 0; i < 50; i++) {
    const s = connect({ host: '127.0.0.1', port: fx.tcpPort });
    s.on('error', () => {});
    await new Promise<void>((r) => s.once('connect', () => r()));
    const len = 1 + Math.floor(rand() * 3000);
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
    if (i % 2 === 0) b[0] = 0x40; // starts like ChannelData, then garbage
    s.write(b);
    await new Promise((r) => setTimeout(r, 5));
    s.destroy();
  }
  assert.ok(await bindingWorks());
  assert.equal(fx.server.allocationCount(), 0);
  const t = await TestTurnClient.connect({ port: fx.tcpPort, transport: 'tcp' });
  const r = await t.transact(t.build(C.METHOD_BINDING, null, false));
  assert.equal(r.cls, C.CLASS_SUCCESS);
  t.close();
});

test('a bad FINGERPRINT is not answered', async () => {
  const c = await TestTurnClient.connect({ port: fx.udpPort });
  const b = c.build(C.METHOD_BINDING, null, false);
  b[b.length - 1] ^= 0xff;
  await assert.rejects(c.transact(b, 600), /no response/);
  c.close();
});

test('stop() ends idle TCP connections and live TCP allocations at once', async () => {
  const own = await startServer({});
  const idle = connect({ host: '127.0.0.1', port: own.tcpPort });
  idle.on('error', () => {});
  await new Promise<void>((r) => idle.once('connect', () => r()));
  const c = await TestTurnClient.connect({ port: own.tcpPort, transport: 'tcp', username: 'alice', password: 'alice-pass' });
  assert.equal((await c.allocate()).code, 0);
  const closed = new Promise<void>((r) => idle.once('close', () => r()));
  const t0 = Date.now();
  await own.stop();
  await closed;
  assert.ok(Date.now() - t0 < 1000, `stop took ${Date.now() - t0} ms`);
  assert.equal(own.closed.at(-1)?.reason, 'shutdown');
  c.close();
});
