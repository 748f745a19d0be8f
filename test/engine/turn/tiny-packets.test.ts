// Empty and tiny packets (issue 9, finding 7) on a live server over real loopback sockets: empty
// ChannelData, Send indications and peer datagrams are not relayed and are counted as dropped; with
// max_bps, every packet costs at least MIN_PACKET_COST_BYTES of tokens, so a flood of 1-byte
// packets is capped. The fixture's clock is fake: buckets refill only when a test advances it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient, type Transport } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { until } from '../../helpers/wait.js';
import type { AllocationInfo } from '../../../turn/interfaces.js';
import { MIN_PACKET_COST_BYTES } from '../../../turn/bandwidth.js';
import * as C from '../../../turn/codec/constants.js';

/** 100 packets' worth of minimum costs a second (the burst is one second's worth). */
const MAX_BPS = 100 * MIN_PACKET_COST_BYTES;
let fx: Fixture;
const open: { close(): void }[] = [];

before(async () => {
  fx = await startServer({ maxBps: MAX_BPS });
});
after(async () => {
  for (const o of open) o.close();
  await fx.stop();
});

async function client(transport: Transport): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({ port: transport === 'udp' ? fx.udpPort : fx.tcpPort, transport, username: 'alice', password: 'alice-pass' });
  open.push(c);
  return c;
}
async function peer(): Promise<UdpPeer> {
  const p = await UdpPeer.open('127.0.0.1');
  open.push(p);
  return p;
}
function session(c: TestTurnClient): AllocationInfo {
  const s = fx.server.sessions().find((x) => x.clientPort === c.localPort);
  assert.ok(s, 'the allocation is live');
  return s;
}

for (const transport of ['udp', 'tcp'] as const) {
  test(`${transport}: empty ChannelData, Send indications and peer datagrams are dropped and counted, not relayed`, async () => {
    const c = await client(transport);
    const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
    const p = await peer();
    const q = await peer();
    assert.equal((await c.channelBind(0x4000, p.address)).code, 0);
    assert.equal((await c.createPermission(q.address)).code, 0);
    c.sendChannelData(0x4000, Buffer.alloc(0));
    c.sendIndication(q.address, Buffer.alloc(0));
    c.sendChannelData(0x4000, Buffer.from('x'));
    c.sendIndication(q.address, Buffer.from('y'));
    assert.ok(await p.waitFor(1));
    assert.ok(await q.waitFor(1));
    // The first datagram each peer got is the non-empty one: the empty ones went nowhere.
    assert.deepEqual([p.received[0].data.toString(), q.received[0].data.toString()], ['x', 'y']);
    await until(() => session(c).packetsToPeer + session(c).droppedPacketsToPeer === 4, 3000, 'every packet counted');

    p.send(Buffer.alloc(0), relayed);
    q.send(Buffer.alloc(0), relayed);
    p.send(Buffer.from('z'), relayed);
    assert.deepEqual(await c.nextData(), { kind: 'channel', channel: 0x4000, data: Buffer.from('z') });
    await until(() => session(c).packetsToClient + session(c).droppedPacketsToClient === 3, 3000, 'every datagram counted');
    const s = session(c);
    assert.deepEqual(
      [s.bytesToPeer, s.packetsToPeer, s.droppedBytesToPeer, s.droppedPacketsToPeer, s.bytesToClient, s.packetsToClient, s.droppedBytesToClient, s.droppedPacketsToClient],
      [2, 2, 0, 2, 1, 1, 0, 2],
    );
    assert.equal(s.cappedPacketsToPeer + s.cappedPacketsToClient, 0, 'empty packets never reach the cap');
    assert.equal((await c.refresh(0)).code, 0);
  });
}

test('max_bps caps a flood of 1-byte packets: each costs MIN_PACKET_COST_BYTES of tokens, each way', async () => {
  const c = await client('udp');
  const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  const p = await peer();
  assert.equal((await c.channelBind(0x4000, p.address)).code, 0);
  // In small batches, each counted before the next, so no socket buffer can lose any.
  for (let batch = 0; batch < 6; batch++) {
    for (let i = 0; i < 50; i++) c.sendChannelData(0x4000, Buffer.from([i]));
    await until(() => session(c).packetsToPeer + session(c).cappedPacketsToPeer === 50 * (batch + 1), 3000, 'client→peer batch counted');
  }
  for (let batch = 0; batch < 6; batch++) {
    for (let i = 0; i < 50; i++) p.send(Buffer.from([i]), relayed);
    await until(() => session(c).packetsToClient + session(c).cappedPacketsToClient === 50 * (batch + 1), 3000, 'peer→client batch counted');
  }
  let s = session(c);
  assert.deepEqual(
    [s.packetsToPeer, s.bytesToPeer, s.cappedPacketsToPeer, s.cappedBytesToPeer, s.packetsToClient, s.bytesToClient, s.cappedPacketsToClient, s.cappedBytesToClient],
    [100, 100, 200, 200, 100, 100, 200, 200],
    'one second of tokens passes 100 packets each way, however small; billing counts payload bytes',
  );
  assert.ok(await p.waitFor(100, 3000));

  fx.clock.advance(500);
  await until(() => {
    c.sendChannelData(0x4000, Buffer.from([1]));
    return session(c).packetsToPeer > 100;
  }, 3000, 'the bucket refills with the clock (the server reads it every 100 ms)');
  s = session(c);
  assert.ok(s.packetsToPeer <= 150, `half a second refills at most 50 packets, got ${s.packetsToPeer - 100}`);
  assert.equal((await c.refresh(0)).code, 0);
});
