// Datagrams that cannot be framed or sent (issue 9, findings 1 and 13) on a live server over real
// loopback sockets: the biggest datagrams a peer can send to IPv6 and IPv4 relayed addresses, and
// the biggest frames a TCP client can send. The server must survive them, keep relaying, count them
// as dropped and not bill them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient, type Transport } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { until } from '../../helpers/wait.js';
import type { AllocationInfo } from '../../../turn/interfaces.js';
import { StunWriter } from '../../../turn/codec/writer.js';
import * as C from '../../../turn/codec/constants.js';

let v4: Fixture;
let v6: Fixture;
const open: { close(): void }[] = [];

before(async () => {
  v4 = await startServer({});
  v6 = await startServer({ host: '::1', ips4: ['127.0.0.1'], ips6: ['::1'] });
});
after(async () => {
  for (const o of open) o.close();
  await v4.stop();
  await v6.stop();
});

async function client(fx: Fixture, transport: Transport, host: string): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({ host, port: transport === 'udp' ? fx.udpPort : fx.tcpPort, transport, username: 'alice', password: 'alice-pass' });
  open.push(c);
  return c;
}
async function peer(host: string): Promise<UdpPeer> {
  const p = await UdpPeer.open(host);
  open.push(p);
  return p;
}
function session(fx: Fixture, c: TestTurnClient): AllocationInfo {
  const s = fx.server.sessions().find((x) => x.clientPort === c.localPort);
  assert.ok(s, 'the allocation is live');
  return s;
}
const counted = (fx: Fixture, c: TestTurnClient) => session(fx, c).packetsToClient + session(fx, c).droppedPacketsToClient;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A Send indication to an IPv4 peer with a DATA of any size (the test client's builder stops at 2 KiB). */
function sendIndication(to: { address: string; port: number }, data: Buffer): Buffer {
  const out = Buffer.alloc(20 + 12 + 4 + data.length + 4);
  const w = new StunWriter(out).begin(C.messageType(C.METHOD_SEND, C.CLASS_INDICATION), randomBytes(12), 0);
  w.addXorAddressString(C.ATTR_XOR_PEER_ADDRESS, 4, to.address, to.port);
  w.addBytes(C.ATTR_DATA, data, 0, data.length);
  return out.subarray(0, w.finish());
}

/**
 * The peer sends `sizes` to the relayed address, then a small datagram; the client must get
 * exactly `delivered` of them (in order) and then the small one: the server survived and relays.
 */
async function peerToClient(fx: Fixture, c: TestTurnClient, p: UdpPeer, relayed: { address: string; port: number }, sizes: number[], delivered: number[]) {
  // One at a time: a burst of 64 KiB datagrams could overflow the relayed socket's receive buffer.
  for (const n of [...sizes, 5]) {
    const before = counted(fx, c);
    p.send(n === 5 ? Buffer.from('alive') : Buffer.alloc(n, 0x5a), relayed);
    await until(() => counted(fx, c) === before + 1, 3000, `the ${n}-byte datagram counted`);
  }
  for (const n of delivered) {
    const d = await c.nextData(3000);
    assert.equal(d?.data.length, n, `the ${n}-byte datagram is relayed`);
  }
  assert.equal((await c.nextData(3000))?.data.toString(), 'alive', 'the server still relays');
  const dropped = sizes.filter((n) => !delivered.includes(n));
  const s = session(fx, c);
  assert.deepEqual(
    [s.bytesToClient, s.packetsToClient, s.droppedBytesToClient, s.droppedPacketsToClient],
    [sum(delivered) + 5, delivered.length + 1, sum(dropped), dropped.length],
    'billed: what was sent; dropped: the rest',
  );
}

test('IPv6 relay, UDP client: Data indications too big for a STUN length or an IPv6 datagram are dropped and counted', async () => {
  const c = await client(v6, 'udp', '::1');
  const relayed = (await c.allocate((w) => w.addAddressFamily(C.ATTR_REQUESTED_ADDRESS_FAMILY, 6))).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  const p = await peer('::1');
  assert.equal((await c.createPermission(p.address)).code, 0);
  // 48 + 65,476 = 65,524 bytes is the biggest Data indication an IPv6 datagram carries; from 65,505
  // bytes on, the STUN length field itself would overflow (the crash of finding 1).
  await peerToClient(v6, c, p, relayed, [65476, 65477, 65504, 65508, 65520, 65527], [65476]);
  assert.equal((await c.refresh(0)).code, 0);
});

test('IPv6 relay, TCP client: a Data indication over 65,535 STUN bytes is dropped and counted', async () => {
  const c = await client(v6, 'tcp', '::1');
  const relayed = (await c.allocate((w) => w.addAddressFamily(C.ATTR_REQUESTED_ADDRESS_FAMILY, 6))).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  const p = await peer('::1');
  assert.equal((await c.createPermission(p.address)).code, 0);
  await peerToClient(v6, c, p, relayed, [65504, 65505, 65508, 65527], [65504]);
  assert.equal((await c.refresh(0)).code, 0);
});

test('IPv6 relay, TCP client with a channel: the biggest datagrams go as ChannelData', async () => {
  const c = await client(v6, 'tcp', '::1');
  const relayed = (await c.allocate((w) => w.addAddressFamily(C.ATTR_REQUESTED_ADDRESS_FAMILY, 6))).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  const p = await peer('::1');
  assert.equal((await c.channelBind(0x4000, p.address)).code, 0);
  await peerToClient(v6, c, p, relayed, [65508, 65527], [65508, 65527]);
  assert.equal((await c.refresh(0)).code, 0);
});

test('IPv4 relay, UDP client: a datagram too big for an IPv4 datagram once framed is dropped, not billed', async () => {
  const c = await client(v4, 'udp', '127.0.0.1');
  const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  const p = await peer('127.0.0.1');
  assert.equal((await c.createPermission(p.address)).code, 0);
  // 36 + 65,468 = 65,504: the biggest Data indication (padded to 4) an IPv4 datagram carries.
  await peerToClient(v4, c, p, relayed, [65468, 65469, 65507], [65468]);
  const q = await peer('127.0.0.1');
  assert.equal((await c.channelBind(0x4000, q.address)).code, 0);
  // 4 + 65,503 = 65,507: the biggest ChannelData to an IPv4 client.
  for (const n of [65503, 65504, 65507]) {
    const before = counted(v4, c);
    q.send(Buffer.alloc(n), relayed);
    await until(() => counted(v4, c) === before + 1, 3000, `the ${n}-byte datagram counted`);
  }
  assert.equal((await c.nextData(3000))?.data.length, 65503);
  const s = session(v4, c);
  assert.deepEqual([s.bytesToClient, s.droppedBytesToClient, s.droppedPacketsToClient], [65468 + 5 + 65503, 65469 + 65507 + 65504 + 65507, 4]);
  assert.equal((await c.refresh(0)).code, 0);
});

test('TCP client → IPv4 peer: ChannelData and Send indications too big for one IPv4 datagram are dropped, not billed', async () => {
  const c = await client(v4, 'tcp', '127.0.0.1');
  await c.allocate();
  const p = await peer('127.0.0.1');
  const q = await peer('127.0.0.1');
  assert.equal((await c.channelBind(0x4000, p.address)).code, 0);
  assert.equal((await c.createPermission(q.address)).code, 0);
  c.sendChannelData(0x4000, Buffer.alloc(65508, 1));
  c.sendRaw(sendIndication(q.address, Buffer.alloc(65510, 2)));
  c.sendChannelData(0x4000, Buffer.alloc(65507, 3));
  c.sendRaw(sendIndication(q.address, Buffer.alloc(65507, 4)));
  assert.ok(await p.waitFor(1, 3000));
  assert.ok(await q.waitFor(1, 3000));
  await until(() => session(v4, c).packetsToPeer + session(v4, c).droppedPacketsToPeer === 4, 3000, 'every frame counted');
  assert.deepEqual([p.received[0].data[0], p.received[0].data.length, q.received[0].data[0], q.received[0].data.length], [3, 65507, 4, 65507]);
  const s = session(v4, c);
  assert.deepEqual(
    [s.bytesToPeer, s.packetsToPeer, s.droppedBytesToPeer, s.droppedPacketsToPeer],
    [2 * 65507, 2, 65508 + 65510, 2],
  );
  assert.equal((await c.refresh(0)).code, 0);
});
