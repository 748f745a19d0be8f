// Closing a native allocation under traffic: the counters the close reports are exactly the bytes
// that reached the other side, each way, and nothing is relayed after the close (the slot's last
// counters are read under the thread's lock, after its last datagram).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type Fixture } from '../../../helpers/turn-server.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import * as C from '../../../../turn/codec/constants.js';

let fx: Fixture | undefined;
const open: { close(): void }[] = [];
after(async () => {
  for (const o of open) o.close();
  await fx?.stop();
});

test('closed under traffic both ways: bytes reported = bytes delivered, none after', async () => {
  fx = await startServer({ dataPlane: 'native' });
  const peer = await UdpPeer.open('127.0.0.1');
  open.push(peer);
  const c = await TestTurnClient.connect({ port: fx.udpPort, transport: 'udp', username: 'alice', password: 'alice-pass' });
  open.push(c);
  const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  assert.equal((await c.channelBind(0x4000, peer.address)).code, 0);
  let clientGot = 0;
  // Count what reaches the client without keeping it.
  const drain = (async () => {
    for (;;) {
      const d = await c.nextData(1000);
      if (d === null) return;
      clientGot += d.data.length;
    }
  })();
  // 5 datagrams each way every 10 ms until the close, sizes varying (paced: the receivers are Node
  // sockets, whose buffers a burst overflows, and a datagram the kernel took counts as relayed).
  let n = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < 5; i++, n++) {
      c.sendChannelData(0x4000, Buffer.alloc(40 + (n % 200), 1));
      peer.send(Buffer.alloc(30 + (n % 150), 2), relayed);
    }
  }, 10);
  await sleep(800);
  const closed = fx.server.closeAllocations(() => true, 'admin');
  clearInterval(timer);
  assert.equal(closed, 1);
  await drain; // a second without data
  const info = fx.closed.at(-1)!.info;
  const peerGot = peer.received.reduce((sum, r) => sum + r.data.length, 0);
  assert.ok(info.packetsToPeer > 100 && info.packetsToClient > 100, JSON.stringify(info));
  assert.equal(info.bytesToPeer, peerGot, 'client → peer: reported = delivered');
  assert.equal(info.bytesToClient, clientGot, 'peer → client: reported = delivered');
  assert.equal(info.droppedPacketsToPeer + info.droppedPacketsToClient, 0, JSON.stringify(info));
});
