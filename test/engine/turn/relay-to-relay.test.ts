// Relay-to-relay on the default peer policy (issue 9): two allocations on one server reach each
// other's relayed addresses with no peers.allow, while every other port of the relay address (a
// local echo service, the TURN port itself, an EVEN-PORT placeholder, a closed allocation's port)
// stays unreachable through the relay. Also finding 5: 0.0.0.0 is refused under a catch-all allow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { createSocket } from 'node:dgram';
import { UdpPeer } from '../../helpers/udp-peer.js';
import type { PeerRefusal } from '../../../turn/interfaces.js';
import * as C from '../../../turn/codec/constants.js';

let fx: Fixture;
const refused: PeerRefusal[] = [];
const open: { close(): void }[] = [];
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));

async function client(): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({ port: fx.udpPort, username: 'alice', password: 'alice-pass' });
  open.push(c);
  return c;
}

async function allocated(): Promise<{ c: TestTurnClient; relayed: { address: string; port: number } }> {
  const c = await client();
  const r = await c.allocate();
  assert.equal(r.code, 0);
  const a = r.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  return { c, relayed: { address: a.address, port: a.port } };
}

before(async () => {
  // As buildRelayPlan makes it on a server relaying from 127.0.0.1, with no peers.allow.
  fx = await startServer({ allow: [], serverAddresses: ['127.0.0.1'], relayAddresses: ['127.0.0.1'] });
  fx.listen({ peerRefused: (reason) => refused.push(reason) });
});
after(async () => {
  for (const o of open) o.close();
  await fx.stop();
});

test('two allocations exchange data through each other\'s relayed addresses; other ports stay unreachable', async () => {
  const a = await allocated();
  const b = await allocated();
  assert.equal(a.relayed.address, '127.0.0.1');
  assert.equal((await a.c.createPermission(b.relayed)).code, 0, 'permission toward B\'s relayed address');
  assert.equal((await b.c.createPermission(a.relayed)).code, 0);
  assert.equal((await a.c.channelBind(0x4000, b.relayed)).code, 0, 'channel toward B\'s relayed address');
  assert.equal((await b.c.channelBind(0x4001, a.relayed)).code, 0);

  a.c.sendChannelData(0x4000, Buffer.from('a to b'));
  assert.deepEqual(await b.c.nextData(), { kind: 'channel', channel: 0x4001, data: Buffer.from('a to b') });
  b.c.sendChannelData(0x4001, Buffer.from('b to a'));
  assert.deepEqual(await a.c.nextData(), { kind: 'channel', channel: 0x4000, data: Buffer.from('b to a') });
  b.c.sendIndication(a.relayed, Buffer.from('indication b to a'));
  assert.deepEqual(await a.c.nextData(), { kind: 'channel', channel: 0x4000, data: Buffer.from('indication b to a') });

  // A local service on the relay address: neither a channel nor a Send indication reaches it.
  const echo = await UdpPeer.open('127.0.0.1', true);
  open.push(echo);
  const before403 = refused.length;
  assert.equal((await a.c.channelBind(0x4002, echo.address)).code, 403, 'ChannelBind to a non-relayed port');
  assert.equal((await a.c.channelBind(0x4003, { address: '127.0.0.1', port: fx.udpPort })).code, 403, 'ChannelBind to the TURN port');
  assert.deepEqual(refused.slice(before403), ['not-relay-port', 'not-relay-port']);
  const drops = fx.server.relayOnlyDrops();
  a.c.sendIndication(echo.address, Buffer.from('to the echo service'));
  a.c.sendIndication({ address: '127.0.0.1', port: fx.udpPort }, Buffer.from('to the TURN port'));
  await settle();
  assert.equal(echo.received.length, 0, 'the echo socket received nothing');
  assert.equal(fx.server.relayOnlyDrops(), drops + 2);
  assert.equal(await a.c.nextData(500), null, 'no echo came back either');
  assert.equal(fx.server.allocationCount(), 2, 'no nested allocation');

  // B closes: its port stops being a relayed address at once, even for A's live channel.
  assert.equal((await b.c.refresh(0)).code, 0);
  const taker = await bindAt(b.relayed.port); // another local service takes B's former port
  a.c.sendChannelData(0x4000, Buffer.from('after close'));
  a.c.sendIndication(b.relayed, Buffer.from('after close'));
  await settle();
  assert.equal(taker.received.length, 0, 'the closed allocation\'s port is unreachable');
  assert.equal(fx.server.relayOnlyDrops(), drops + 4);
  assert.equal((await a.c.channelBind(0x4004, b.relayed)).code, 403);
  assert.equal((await a.c.refresh(0)).code, 0);
});

test('an EVEN-PORT reservation placeholder is not a relayed address', async () => {
  const a = await allocated();
  const c = await client();
  const r = await c.allocate((w) => w.addEvenPort(true));
  assert.equal(r.code, 0);
  const reservedPort = r.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!.port + 1;
  assert.equal((await a.c.channelBind(0x4000, { address: '127.0.0.1', port: reservedPort })).code, 403);
  assert.equal((await c.refresh(0)).code, 0);
  assert.equal((await a.c.refresh(0)).code, 0);
});

test('CreatePermission to 0.0.0.0 and :: forms is refused under a catch-all allow (finding 5)', async () => {
  const wide = await startServer({ allow: ['0.0.0.0/0', '::/0'] });
  const seen: PeerRefusal[] = [];
  wide.listen({ peerRefused: (reason) => seen.push(reason) });
  try {
    const c = await TestTurnClient.connect({ port: wide.udpPort, username: 'alice', password: 'alice-pass' });
    open.push(c);
    assert.equal((await c.allocate()).code, 0);
    for (const address of ['0.0.0.0', '0.1.2.3']) {
      assert.equal((await c.createPermission({ address })).code, 403, address);
      assert.equal((await c.channelBind(0x4000, { address, port: wide.udpPort })).code, 403, address);
    }
    assert.deepEqual(seen, ['unspecified', 'unspecified', 'unspecified', 'unspecified']);
    assert.equal((await c.createPermission({ address: '8.8.8.8' })).code, 0, 'the catch-all still opens public peers');
  } finally {
    await wide.stop();
  }
});

/** A UDP socket bound to 127.0.0.1:port that records what it receives. */
async function bindAt(port: number): Promise<{ received: Buffer[] }> {
  const s = createSocket('udp4');
  const received: Buffer[] = [];
  s.on('message', (m) => received.push(m));
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve());
  });
  open.push({ close: () => s.close() });
  return { received };
}
