// Bandwidth caps (max_bps) on a live server over real loopback sockets. The fixture's clock is fake:
// buckets refill only when the test advances it (the server reads it every 100 ms), so the counts
// of passed and dropped packets are exact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient, type Transport } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import * as C from '../../../turn/codec/constants.js';

let fx: Fixture;
/** Account caps as the composition root would read them (bytes/s by account). */
const accountCaps = new Map<string, number>();
const open: { close(): void }[] = [];

before(async () => {
  fx = await startServer({ maxBps: 2000, accountMaxBps: (account) => accountCaps.get(account) ?? 0, users: { alice: 'alice-pass', bob: 'bob-pass' } });
});
after(async () => {
  for (const o of open) o.close();
  await fx.stop();
});

async function client(transport: Transport, username = 'alice'): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({ port: transport === 'udp' ? fx.udpPort : fx.tcpPort, transport, username, password: `${username}-pass` });
  open.push(c);
  return c;
}
async function peer(): Promise<UdpPeer> {
  const p = await UdpPeer.open('127.0.0.1');
  open.push(p);
  return p;
}
/** Collects what reaches the client until `quietMs` pass with nothing new. */
async function drainClient(c: TestTurnClient, quietMs = 300): Promise<number> {
  let n = 0;
  while ((await c.nextData(quietMs)) !== null) n++;
  return n;
}
/** Waits until the peer has `count` datagrams, then a little longer to see that no more come. */
async function settle(p: UdpPeer, count: number): Promise<number> {
  await p.waitFor(count, 3000);
  await sleep(200);
  return p.received.length;
}

for (const transport of ['udp', 'tcp'] as const) {
  test(`${transport}: max_bps passes one second's burst each way, drops and counts the rest, refills with time`, async () => {
    const c = await client(transport);
    const p = await peer();
    const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
    assert.equal((await c.channelBind(0x4000, p.address)).code, 0);

    for (let i = 0; i < 30; i++) c.sendChannelData(0x4000, Buffer.alloc(100, i));
    assert.equal(await settle(p, 20), 20, '2,000 bytes of 3,000 reach the peer');
    for (let i = 0; i < 25; i++) p.send(Buffer.alloc(100, i), relayed);
    assert.equal(await drainClient(c), 20, 'peer→client has its own 2,000 bytes');

    let s = fx.server.sessions().find((x) => x.clientPort === c.localPort)!;
    assert.deepEqual(
      [s.bytesToPeer, s.packetsToPeer, s.cappedBytesToPeer, s.cappedPacketsToPeer, s.bytesToClient, s.cappedBytesToClient, s.cappedPacketsToClient],
      [2000, 20, 1000, 10, 2000, 500, 5],
    );

    fx.clock.advance(500);
    await sleep(250); // the server's clock tick
    for (let i = 0; i < 30; i++) c.sendChannelData(0x4000, Buffer.alloc(100, i));
    assert.equal(await settle(p, 30), 30, 'half a second refilled 1,000 bytes');
    s = fx.server.sessions().find((x) => x.clientPort === c.localPort)!;
    assert.deepEqual([s.bytesToPeer, s.cappedPacketsToPeer], [3000, 30]);
    assert.equal((await c.refresh(0)).code, 0);
  });
}

test('an account cap is shared by the account\'s allocations and changes live', async () => {
  fx.server.update({ maxBps: 0 });
  const [a, b] = [await client('udp'), await client('udp')];
  const p = await peer();
  for (const c of [a, b]) {
    await c.allocate();
    assert.equal((await c.channelBind(0x4000, p.address)).code, 0);
  }
  for (let i = 0; i < 20; i++) for (const c of [a, b]) c.sendChannelData(0x4000, Buffer.alloc(100));
  assert.equal(await settle(p, 40), 40, 'no cap: everything passes');

  const account = fx.server.sessions().find((x) => x.clientPort === a.localPort)!.account;
  accountCaps.set(account, 2500);
  fx.server.setAccountMaxBps(account, 2500);
  for (let i = 0; i < 20; i++) for (const c of [a, b]) c.sendChannelData(0x4000, Buffer.alloc(100));
  assert.equal((await settle(p, 65)) - 40, 25, 'both allocations together: 2,500 bytes');
  const capped = fx.server.sessions().filter((x) => x.account === account).reduce((n, x) => n + x.cappedPacketsToPeer, 0);
  assert.equal(capped, 15);

  // Another account is not held back by this one.
  const other = await client('udp', 'bob');
  await other.allocate();
  assert.equal((await other.channelBind(0x4000, p.address)).code, 0);
  for (let i = 0; i < 30; i++) other.sendChannelData(0x4000, Buffer.alloc(100));
  assert.equal((await settle(p, 95)) - 65, 30);

  accountCaps.delete(account);
  fx.server.setAccountMaxBps(account, 0);
  for (let i = 0; i < 20; i++) a.sendChannelData(0x4000, Buffer.alloc(100));
  assert.equal((await settle(p, 115)) - 95, 20, 'cap removed');
  for (const c of [a, b, other]) assert.equal((await c.refresh(0)).code, 0);
});
