// Bandwidth caps (max_bps) without sockets: token buckets on a fake clock, the caps attached to
// allocations, and the data path dropping and counting what exceeds them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RemoteInfo, Socket } from 'node:dgram';
import { Allocation, type RelayEndpoint } from '../../../turn/allocation.js';
import { BandwidthCaps, MIN_BURST_BYTES, TokenBucket } from '../../../turn/bandwidth.js';
import { relayChannelDataToPeer, relayFromPeer, relaySendIndication } from '../../../turn/data-path.js';
import type { ClientLink } from '../../../turn/client-link.js';
import { StunWriter } from '../../../turn/codec/writer.js';
import * as C from '../../../turn/codec/constants.js';

/** Drains `size`-byte packets from a bucket at one instant; returns how many passed. */
function drain(b: TokenBucket, size: number, max = 10_000): number {
  let n = 0;
  while (n < max && b.allows(size)) {
    b.tokens -= size;
    n++;
  }
  return n;
}

test('a bucket starts full with one second of its rate, refills at that rate, never above it', () => {
  const clock = { ms: 1_000_000 };
  const b = new TokenBucket(10_000, clock);
  assert.equal(drain(b, 100), 100, 'burst: one second of 10,000 B/s');
  clock.ms += 50;
  assert.equal(drain(b, 100), 5, '50 ms refill 500 bytes');
  clock.ms += 7;
  assert.equal(drain(b, 100), 0, '70 bytes are not a packet');
  clock.ms += 3;
  assert.equal(drain(b, 100), 1, 'the fractional tokens were kept');
  clock.ms += 60_000;
  assert.equal(drain(b, 100), 100, 'a long pause refills to the capacity only');
});

test('a slow rate still lets one full-size packet through, at its average rate', () => {
  const clock = { ms: 0 };
  const b = new TokenBucket(100, clock);
  assert.equal(b.capacity, MIN_BURST_BYTES);
  assert.equal(drain(b, 1500), 1);
  clock.ms += 14_000;
  assert.equal(drain(b, 1500), 0, '1,400 bytes after 14 s');
  clock.ms += 1_000;
  assert.equal(drain(b, 1500), 1, '1,500 bytes after 15 s');
});

test('a clock that goes back does not refill; refilling restarts from the new time', () => {
  const clock = { ms: 50_000 };
  const b = new TokenBucket(1000, clock);
  drain(b, 100);
  clock.ms -= 10_000;
  assert.equal(drain(b, 100), 0);
  clock.ms += 300;
  assert.equal(drain(b, 100), 3);
});

test('setRate lowers the capacity at once and refills at the new rate', () => {
  const clock = { ms: 0 };
  const b = new TokenBucket(100_000, clock);
  b.setRate(2000);
  assert.equal(drain(b, 100), 20);
  clock.ms += 500;
  assert.equal(drain(b, 100), 10);
});

// --- allocations and the data path ---------------------------------------------------------------

const sent: number[] = [];
const stubSocket = { send: (_b: Buffer, _o: number, length: number) => void sent.push(length), getSendQueueCount: () => 0 } as unknown as Socket;
const toClient: number[] = [];
const link = {
  transport: 'udp',
  address: '127.0.0.1',
  port: 40000,
  sendChannelData: (_n: number, data: Buffer) => toClient.push(data.length) > 0,
  sendDataIndication: (_p: unknown, _port: number, data: Buffer) => toClient.push(data.length) > 0,
  detach() {},
  close() {},
} as unknown as ClientLink;
const relay: RelayEndpoint = { socket: stubSocket, fd: -1, family: 4, boundAddress: '127.0.0.1', port: 50000, advertisedAddress: '127.0.0.1' };
const peer: RemoteInfo = { address: '127.0.0.2', family: 'IPv4', port: 7000, size: 0 };

let nextId = 1;
function allocation(account: string, clock: { ms: number }): Allocation {
  const a = new Allocation(nextId++, { username: account, account, realm: 'r' }, link, clock.ms, 600_000);
  a.relay4 = relay;
  a.bindChannel(0x4000, peer.address, 4, Buffer.from([127, 0, 0, 2]), peer.port, clock.ms);
  return a;
}
const channelData = (size: number) => Buffer.concat([Buffer.from([0x40, 0x00, size >> 8, size & 0xff]), Buffer.alloc(size, 7)]);

test('data path: each direction has its own bucket; the excess is dropped and counted, not billed', () => {
  const clock = { ms: 1_000 };
  const caps = new BandwidthCaps(clock, { allocationMaxBps: 2000 });
  const a = allocation('acc', clock);
  caps.attach(a);
  sent.length = 0;
  toClient.length = 0;
  const cd = channelData(100);
  let passed = 0;
  for (let i = 0; i < 30; i++) if (relayChannelDataToPeer(a, cd, 0, cd.length, clock.ms)) passed++;
  assert.equal(passed, 20);
  assert.equal(sent.length, 20);
  for (let i = 0; i < 25; i++) relayFromPeer(a, Buffer.alloc(100), peer, clock.ms);
  assert.equal(toClient.length, 20, 'peer→client has its own 2,000 bytes');
  assert.deepEqual(
    [a.bytesToPeer, a.packetsToPeer, a.cappedBytesToPeer, a.cappedPacketsToPeer, a.bytesToClient, a.packetsToClient, a.cappedBytesToClient, a.cappedPacketsToClient],
    [2000, 20, 1000, 10, 2000, 20, 500, 5],
  );
  const info = a.info();
  assert.deepEqual([info.cappedBytesToPeer, info.cappedPacketsToPeer, info.cappedBytesToClient, info.cappedPacketsToClient], [1000, 10, 500, 5]);

  // Send indications take the same bucket: 1 s later, 2,000 bytes more.
  clock.ms += 1000;
  a.installPermission('127.0.0.3', 4, Buffer.from([127, 0, 0, 3]), clock.ms);
  const out = Buffer.alloc(400);
  const w = new StunWriter(out).begin(C.messageType(C.METHOD_SEND, C.CLASS_INDICATION), Buffer.alloc(12, 1), 0);
  w.addXorAddressString(C.ATTR_XOR_PEER_ADDRESS, 4, '127.0.0.3', 7001);
  w.addBytes(C.ATTR_DATA, Buffer.alloc(300), 0, 300);
  const ind = out.subarray(0, w.finish());
  passed = 0;
  for (let i = 0; i < 10; i++) if (relaySendIndication(a, ind, 0, ind.length, clock.ms)) passed++;
  assert.equal(passed, 6, '2,000 bytes of tokens pass six 300-byte indications');
  assert.equal(a.cappedPacketsToPeer, 14);
});

test('an account cap is shared by its allocations, and both caps must admit a packet', () => {
  const clock = { ms: 0 };
  const caps = new BandwidthCaps(clock, { allocationMaxBps: 1500, accountMaxBps: (acc) => (acc === 'shared' ? 2500 : 0) });
  const [a, b, other] = [allocation('shared', clock), allocation('shared', clock), allocation('free', clock)];
  for (const x of [a, b, other]) caps.attach(x);
  assert.equal(a.accountCaps, b.accountCaps);
  assert.equal(other.accountCaps, null);
  assert.equal(caps.accountCount, 1);
  const cd = channelData(100);
  let passedA = 0;
  let passedB = 0;
  for (let i = 0; i < 20; i++) {
    if (relayChannelDataToPeer(a, cd, 0, cd.length, 0)) passedA++;
    if (relayChannelDataToPeer(b, cd, 0, cd.length, 0)) passedB++;
  }
  assert.equal(passedA, 13, 'a: 1,300 bytes while sharing 2,500 with b');
  assert.equal(passedB, 12, 'b: the 1,200 left of the account\'s 2,500');
  assert.equal(a.cappedPacketsToPeer + b.cappedPacketsToPeer, 15);
  let passedOther = 0;
  for (let i = 0; i < 20; i++) if (relayChannelDataToPeer(other, cd, 0, cd.length, 0)) passedOther++;
  assert.equal(passedOther, 15, 'another account has only its allocation cap');

  caps.detach(a);
  assert.equal(caps.accountCount, 1, 'b still holds the shared buckets');
  caps.detach(b);
  assert.equal(caps.accountCount, 0, 'released with the last allocation');
});

test('account caps change live: raised, removed and added for the live allocations', () => {
  const clock = { ms: 0 };
  let limit = 1000;
  const caps = new BandwidthCaps(clock, { accountMaxBps: () => limit });
  const a = allocation('acc', clock);
  const b = allocation('acc', clock);
  caps.attach(a);
  caps.attach(b);
  const shared = a.accountCaps!;
  assert.equal(shared.toPeer.capacity, MIN_BURST_BYTES);

  caps.setAccountMaxBps('acc', 5000, [a, b]);
  assert.equal(a.accountCaps, shared, 'same buckets, new rate');
  assert.equal(shared.toClient.rate, 5000);

  caps.setAccountMaxBps('acc', 0, [a, b]);
  assert.equal(a.accountCaps, null);
  assert.equal(b.accountCaps, null);
  assert.equal(caps.accountCount, 0);
  const cd = channelData(1000);
  for (let i = 0; i < 50; i++) assert.ok(relayChannelDataToPeer(a, cd, 0, cd.length, 0), 'uncapped');

  limit = 3000;
  caps.setAccountMaxBps('acc', 3000, [a, b]);
  assert.ok(a.accountCaps !== null && a.accountCaps === b.accountCaps);
  assert.equal(caps.accountCount, 1);
  let passed = 0;
  for (let i = 0; i < 10; i++) if (relayChannelDataToPeer(b, cd, 0, cd.length, 0)) passed++;
  assert.equal(passed, 3);
  caps.setAccountMaxBps('nobody', 3000, [a, b]);
  assert.equal(caps.accountCount, 1, 'an account without live allocations holds nothing');
  assert.throws(() => caps.setAccountMaxBps('acc', -1, [a, b]), RangeError);
});

test('the per-allocation cap changes live: added, changed and removed', () => {
  const clock = { ms: 0 };
  const caps = new BandwidthCaps(clock);
  const a = allocation('acc', clock);
  caps.attach(a);
  const ownOf = (x: Allocation) => x.capToPeer; // a call, so that the assertion does not narrow the field
  assert.equal(ownOf(a), null);
  caps.setAllocationMaxBps(4000, [a]);
  assert.equal(a.capToPeer?.rate, 4000);
  assert.equal(a.capToClient?.rate, 4000);
  const own = a.capToPeer;
  caps.setAllocationMaxBps(8000, [a]);
  assert.equal(a.capToPeer, own, 'same bucket');
  assert.equal(own?.rate, 8000);
  const b = allocation('acc', clock);
  caps.attach(b);
  assert.equal(b.capToClient?.rate, 8000, 'new allocations take the new cap');
  caps.setAllocationMaxBps(0, [a, b]);
  assert.deepEqual([a.capToPeer, a.capToClient, b.capToPeer, b.capToClient], [null, null, null, null]);
  assert.throws(() => caps.setAllocationMaxBps(Number.NaN, [a]), RangeError);
});
