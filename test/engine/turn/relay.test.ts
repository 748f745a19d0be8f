import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient, type Transport } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import * as C from '../../../turn/codec/constants.js';

let fx: Fixture;
const open: { close(): void }[] = [];
async function client(transport: Transport = 'udp'): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({
    port: transport === 'udp' ? fx.udpPort : fx.tcpPort,
    transport,
    username: 'alice',
    password: 'alice-pass',
  });
  open.push(c);
  return c;
}
async function peer(echo = false): Promise<UdpPeer> {
  const p = await UdpPeer.open('127.0.0.1', echo);
  open.push(p);
  return p;
}

before(async () => {
  fx = await startServer({ quotas: { permissionsPerAllocation: 3, channelsPerAllocation: 2 } });
});
after(async () => {
  for (const o of open) o.close();
  await fx.stop();
});

for (const transport of ['udp', 'tcp'] as const) {
  test(`${transport}: Send/Data indications need a permission and are counted exactly`, async () => {
    const c = await client(transport);
    const p = await peer();
    const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
    c.sendIndication(p.address, Buffer.from('before permission'));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(p.received.length, 0, 'no permission: discarded');

    assert.equal((await c.createPermission(p.address)).code, 0);
    c.sendIndication(p.address, Buffer.from('hello'));
    assert.ok(await p.waitFor(1));
    assert.equal(p.received[0].data.toString(), 'hello');
    assert.equal(p.received[0].from.port, relayed.port);

    p.send(Buffer.from('reply!'), relayed);
    const d = await c.nextData();
    assert.deepEqual(d, { kind: 'indication', peer: { family: 4, ...p.address }, data: Buffer.from('reply!') });

    const s = fx.server.sessions().find((x) => x.clientPort === c.localPort)!;
    assert.deepEqual([s.bytesToPeer, s.packetsToPeer, s.bytesToClient, s.packetsToClient], [5, 1, 6, 1]);
    assert.equal((await c.refresh(0)).code, 0);
  });

  test(`${transport}: ChannelData both ways, odd lengths padded on streams`, async () => {
    const c = await client(transport);
    const p = await peer();
    const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
    assert.equal((await c.channelBind(0x4001, p.address)).code, 0);
    // An empty one is dropped and counted (issue 9, finding 7): it would cost a send, unbilled.
    for (const size of [0, 1, 3, 5, 1000]) c.sendChannelData(0x4001, Buffer.alloc(size, size & 0xff));
    assert.ok(await p.waitFor(4));
    assert.deepEqual(p.received.map((r) => r.data.length), [1, 3, 5, 1000]);
    for (const size of [7, 2]) p.send(Buffer.alloc(size, 9), relayed);
    assert.deepEqual(await c.nextData(), { kind: 'channel', channel: 0x4001, data: Buffer.alloc(7, 9) });
    assert.deepEqual(await c.nextData(), { kind: 'channel', channel: 0x4001, data: Buffer.alloc(2, 9) });
    const s = fx.server.sessions().find((x) => x.clientPort === c.localPort)!;
    assert.deepEqual([s.bytesToPeer, s.packetsToPeer, s.bytesToClient, s.packetsToClient, s.droppedPacketsToPeer], [1009, 4, 9, 2, 1]);
    assert.equal((await c.refresh(0)).code, 0);
  });
}

test('peer datagrams from an IP without permission are dropped', async () => {
  const c = await client();
  const p = await peer();
  const stranger = await peer();
  const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  assert.equal((await c.createPermission({ address: '127.0.0.2' })).code, 0);
  p.send(Buffer.from('x'), relayed);
  stranger.send(Buffer.from('y'), relayed);
  assert.equal(await c.nextData(300), null);
  assert.equal((await c.refresh(0)).code, 0);
});

test('ChannelBind rules: range, one peer per number, one number per peer, refresh', async () => {
  const c = await client();
  const p1 = await peer();
  const p2 = await peer();
  await c.allocate();
  assert.equal((await c.channelBind(0x3fff, p1.address)).code, 400);
  assert.equal((await c.channelBind(0x8000, p1.address)).code, 400);
  assert.equal((await c.channelBind(0x4000, p1.address)).code, 0);
  assert.equal((await c.channelBind(0x4000, p1.address)).code, 0, 'rebinding the same pair refreshes');
  assert.equal((await c.channelBind(0x4000, p2.address)).code, 400, 'number bound to another peer');
  assert.equal((await c.channelBind(0x4002, p1.address)).code, 400, 'peer bound to another number');
  assert.equal((await c.channelBind(0x4002, p2.address)).code, 0);
  assert.equal((await c.channelBind(0x4003, { address: '127.0.0.1', port: 9 })).code, 508, 'channel quota (2)');
  assert.equal((await c.channelBind(0x4004, { address: '127.0.0.1', port: 0 })).code, 400, 'port 0');
  assert.equal((await c.refresh(0)).code, 0);
});

test('CreatePermission is all-or-nothing; quota → 508; bad peers → 400', async () => {
  const c = await client();
  await c.allocate();
  assert.equal((await c.request(C.METHOD_CREATE_PERMISSION, null)).code, 400, 'no XOR-PEER-ADDRESS');
  assert.equal((await c.createPermission({ address: '127.0.0.2' }, { address: '10.0.0.1' })).code, 403);
  const s = () => fx.server.sessions().find((x) => x.clientPort === c.localPort)!;
  assert.ok(s());
  assert.equal((await c.createPermission({ address: '127.0.0.2' }, { address: '127.0.0.3' }, { address: '127.0.0.4' })).code, 0);
  assert.equal((await c.createPermission({ address: '127.0.0.5' })).code, 508, 'permission quota (3)');
  assert.equal((await c.createPermission({ address: '127.0.0.2' })).code, 0, 'refreshing an existing one is fine');
  assert.equal((await c.refresh(0)).code, 0);
});

test('permissions expire after 300 s (fake clock, cached clock on the data path)', async () => {
  const c = await client();
  const p = await peer();
  const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  assert.equal((await c.createPermission(p.address)).code, 0);
  fx.clock.advance(301_000);
  await new Promise((r) => setTimeout(r, 250)); // the cached clock ticks every 100 ms
  c.sendIndication(p.address, Buffer.from('late'));
  p.send(Buffer.from('late too'), relayed);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(p.received.length, 0);
  assert.equal(await c.nextData(100), null);
  assert.equal((await c.refresh(0)).code, 0);
});

test('a channel expires after 600 s: its traffic stops while the refreshed permission still carries indications', async () => {
  const c = await client();
  const p = await peer();
  const relayed = (await c.allocate((w) => w.addUint32(C.ATTR_LIFETIME, 3600))).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  assert.equal((await c.channelBind(0x4005, p.address)).code, 0);
  fx.clock.advance(400_000);
  assert.equal((await c.createPermission(p.address)).code, 0); // permission now lives to t+700 s
  fx.clock.advance(201_000); // t+601 s: the channel has expired
  await new Promise((r) => setTimeout(r, 250));
  c.sendChannelData(0x4005, Buffer.from('on a dead channel'));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(p.received.length, 0);
  p.send(Buffer.from('via indication'), relayed);
  assert.deepEqual(await c.nextData(), { kind: 'indication', peer: { family: 4, ...p.address }, data: Buffer.from('via indication') });
  assert.equal((await c.channelBind(0x4006, p.address)).code, 400, 'the peer stays reserved for 0x4005 during the cool-down');
  assert.equal((await c.channelBind(0x4005, p.address)).code, 0, 'the same binding may be renewed');
  assert.equal((await c.refresh(0)).code, 0);
});

test('a peer IPv6 address on an IPv4-only allocation → 443', async () => {
  const c = await client();
  await c.allocate();
  assert.equal((await c.createPermission({ address: '::1' })).code, 443);
  assert.equal((await c.refresh(0)).code, 0);
});

test('garbage between valid ChannelData on a TCP stream closes that connection only', async () => {
  const c = await client('tcp');
  const other = await client('tcp');
  await c.allocate();
  c.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fx.server.sessions().some((x) => x.clientPort === c.localPort), false, 'allocation closed with its connection');
  const r = await other.transact(other.build(C.METHOD_BINDING, null, false));
  assert.equal(r.cls, C.CLASS_SUCCESS);
});
