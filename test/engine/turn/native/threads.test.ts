// The native data plane with two relay threads: the kernel spreads clients over the threads'
// SO_REUSEPORT sockets, each allocation is relayed by the thread of its client, and every byte is
// counted once, whichever thread relayed it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../../helpers/turn-server.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import { NativeUdpLink } from '../../../../turn/native/udp-link.js';
import * as C from '../../../../turn/codec/constants.js';

const CLIENTS = 16;
const PACKETS = 20;
const open: { close(): void }[] = [];
let fx: Fixture | undefined;
after(async () => {
  for (const o of open) o.close();
  await fx?.stop();
});

test('sixteen clients over two threads: both threads serve allocations, both directions relay, counters exact', async () => {
  fx = await startServer({ dataPlane: 'native', quotas: { allocationsPerUser: CLIENTS, totalAllocations: CLIENTS + 4 } });
  const peer = await UdpPeer.open('127.0.0.1', true); // echoes every datagram back to its sender
  open.push(peer);
  const clients: TestTurnClient[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = await TestTurnClient.connect({ port: fx.udpPort, transport: 'udp', username: 'alice', password: 'alice-pass' });
    open.push(c);
    assert.equal((await c.allocate()).code, 0);
    assert.equal((await c.channelBind(0x4000, peer.address)).code, 0);
    clients.push(c);
  }
  const threads = new Set<number>();
  for (const alloc of fx.server.allocations.values()) {
    assert.ok(alloc.link instanceof NativeUdpLink, 'a UDP client on the native plane has a native link');
    threads.add(alloc.link.thread);
  }
  // 16 client ports hashed over 2 sockets: all on one thread has odds 2^-15.
  assert.deepEqual([...threads].sort(), [0, 1], 'allocations on both threads');

  // A round at a time: an unpaced burst of 320 overflows the echo peer's socket buffer (Node reads it).
  for (let k = 0; k < PACKETS; k++) {
    for (const [i, c] of clients.entries()) c.sendChannelData(0x4000, Buffer.alloc(100 + i, k));
    assert.ok(await peer.waitFor((k + 1) * CLIENTS, 3000), `round ${k}: ${peer.received.length} at the peer`);
  }
  for (const [i, c] of clients.entries()) {
    let got = 0;
    while (got < PACKETS) {
      const d = await c.nextData(3000);
      assert.ok(d !== null, `client ${i}: ${got} of ${PACKETS} echoes`);
      assert.equal(d.kind, 'channel');
      assert.equal(d.data.length, 100 + i);
      got++;
    }
  }
  const byPort = new Map(fx.server.sessions().map((s) => [s.clientPort, s]));
  for (const [i, c] of clients.entries()) {
    const s = byPort.get(c.localPort)!;
    assert.deepEqual(
      [s.packetsToPeer, s.bytesToPeer, s.packetsToClient, s.bytesToClient, s.droppedPacketsToPeer, s.droppedPacketsToClient],
      [PACKETS, PACKETS * (100 + i), PACKETS, PACKETS * (100 + i), 0, 0],
      `client ${i}`,
    );
  }
  assert.equal(peer.received.length, CLIENTS * PACKETS);
});

test('Send indications and Data indications on the native plane, IPv4 peers, with the XOR-PEER-ADDRESS the peer used', async () => {
  const peer = await UdpPeer.open('127.0.0.1');
  open.push(peer);
  const c = await TestTurnClient.connect({ port: fx!.udpPort, transport: 'udp', username: 'bob', password: 'bob-pass' });
  open.push(c);
  const a = await c.allocate();
  assert.equal(a.code, 0);
  const relayed = a.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  assert.equal((await c.createPermission(peer.address)).code, 0);
  c.sendIndication(peer.address, Buffer.from('to the peer'));
  assert.ok(await peer.waitFor(1, 3000));
  assert.equal(peer.received[0].data.toString(), 'to the peer');
  assert.equal(peer.received[0].from.port, relayed.port);
  peer.send(Buffer.from('odd length'), relayed); // 10 bytes: padded to 12 in the indication
  const d = await c.nextData(3000);
  assert.ok(d !== null && d.kind === 'indication');
  assert.deepEqual([d.peer, d.data.toString()], [{ family: 4, ...peer.address }, 'odd length']);
});
