// The per-packet functions allocate nothing on the JavaScript heap (pion/stun's ShouldNotAllocate):
// each is called many times between two reads of the heap, after a full collection, with no
// collection in between, and the growth per call must be ~0. An assertion on allocation, not on
// time. The sockets are stubs that keep nothing, so only the engine's own work is measured
// (bench/data-path.ts prints the same figures with the time per call). Over TCP and TLS the client
// link copies each frame into a buffer of its own (a stream write keeps it), so those sends are
// not measured here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RemoteInfo, Socket } from 'node:dgram';
import { Allocation, type RelayEndpoint } from '../../../turn/allocation.js';
import { UdpLink } from '../../../turn/transports/udp-link.js';
import { relayChannelDataToPeer, relayFromPeer, relaySendIndication } from '../../../turn/data-path.js';
import { BandwidthCaps } from '../../../turn/bandwidth.js';
import { PORT_LIVE } from '../../../turn/permission.js';
import { StunWriter } from '../../../turn/codec/writer.js';
import * as C from '../../../turn/codec/constants.js';

// `node --test FILE` runs this file without --expose-gc: the flag still applies to a new context.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Calls before measuring, so the functions are optimised as they are on a busy relay. */
const WARM_UP_CALLS = 100_000;
/** Calls per window: few enough that the young generation does not fill (no scavenge in between). */
const WINDOW_CALLS = 20_000;
/** Windows measured at most; the least growth counts (see heapBytesPerCall). */
const WINDOWS = 30;
/**
 * Heap growth allowed per call: 20 KB a window, room for the measuring itself (a few hundred bytes)
 * and for what V8 adds of its own while it compiles in the background (a few KB, seen on Node 24
 * with both runtimes' suites running at once), and still a twelfth of what a call allocating
 * anything adds (12 bytes or more per call, in every window).
 */
const MAX_BYTES_PER_CALL = 1;

/** The measured loop, alone in its function so that its optimisation does not depend on the rest. */
function repeat(fn: () => unknown, n: number): void {
  for (let i = 0; i < n; i++) fn();
}

/**
 * Heap bytes per call of `fn`: the least growth of the heap over WINDOWS windows of WINDOW_CALLS
 * calls, each after a full collection. A window in which a collection ran (GCProfiler tells) does
 * not count, as its growth is not all there; none without one gives Infinity. The least, because
 * V8 adds tens of kilobytes of its own in some windows (the loop compiled again for a new `fn`:
 * code and feedback), while an allocation in `fn` shows in every window. Stops at the first window
 * within MAX_BYTES_PER_CALL.
 */
function heapBytesPerCall(fn: () => unknown): number {
  repeat(fn, WARM_UP_CALLS);
  let least = Infinity;
  for (let w = 0; w < WINDOWS && least > MAX_BYTES_PER_CALL; w++) {
    gc();
    const profiler = new GCProfiler();
    profiler.start();
    const before = process.memoryUsage().heapUsed;
    repeat(fn, WINDOW_CALLS);
    const after = process.memoryUsage().heapUsed;
    if (profiler.stop().statistics.length === 0) least = Math.min(least, Math.max(0, after - before) / WINDOW_CALLS);
  }
  return least;
}

// Stub sockets: take the arguments of dgram's send and keep nothing; the send queue is empty.
let sent = 0;
const socket = {
  send(_msg: unknown, _a?: unknown, _b?: unknown, _c?: unknown, _d?: unknown): void {
    sent++;
  },
  getSendQueueCount: () => 0,
} as unknown as Socket;

const now = Date.now();
const link = new UdpLink({ remove() {} }, socket, '127.0.0.1', 40000);
const relay: RelayEndpoint = { socket, fd: -1, family: 4, boundAddress: '127.0.0.1', port: 50000, advertisedAddress: '127.0.0.1' };
const relay6: RelayEndpoint = { socket, fd: -1, family: 6, boundAddress: '::1', port: 50000, advertisedAddress: '::1' };
const peerChannel = { ip: '127.0.0.2', bytes: Buffer.from([127, 0, 0, 2]), port: 7000 };
const peerOther = { ip: '127.0.0.3', bytes: Buffer.from([127, 0, 0, 3]), port: 7001 };
const peer6 = { ip: '2001:db8::3', bytes: Buffer.from('20010db8000000000000000000000003', 'hex'), port: 7002 };

/** An allocation with IPv4 and IPv6 relays, a channel to peerChannel and permissions for the others. */
function allocation(id: number): Allocation {
  const alloc = new Allocation(id, { username: 'u', account: 'u', realm: 'r' }, link, now, 600_000);
  alloc.relay4 = relay;
  alloc.relay6 = relay6;
  alloc.bindChannel(0x4000, peerChannel.ip, 4, peerChannel.bytes, peerChannel.port, now);
  alloc.installPermission(peerOther.ip, 4, peerOther.bytes, now);
  alloc.installPermission(peer6.ip, 6, peer6.bytes, now);
  return alloc;
}

const plain = allocation(1);

// Bandwidth caps so wide they always admit: every packet refills and takes from the allocation's
// own bucket and its account's. The buckets read `clock`, which a timer advances on a relay
// (allocation-manager's CachedClock); here every 1024th call does.
const clock = { ms: now };
const capped = allocation(2);
new BandwidthCaps(clock, { allocationMaxBps: 1e15, accountMaxBps: () => 1e15 }).attach(capped);
let calls = 0;
function advanceClock(): void {
  if ((++calls & 1023) === 0) clock.ms += 1;
}

// A 'relay-only' peer (one of the relay's own addresses): its permission carries the port table.
const relayOnly = allocation(3);
const relayPorts = { table: new Uint8Array(65536), nativeIndex: -1, dropped: 0 };
relayPorts.table[peerChannel.port] = PORT_LIVE;
relayOnly.permissions.get(peerChannel.ip)!.relayPorts = relayPorts;
relayOnly.permissions.get(peerOther.ip)!.relayPorts = relayPorts;

const payload = Buffer.alloc(100, 1);
const channelData = Buffer.concat([Buffer.from([0x40, 0x00, 0x00, payload.length]), payload]);

function sendIndication(peer: { ip: string; port: number }, family: 4 | 6, fingerprint: boolean): Buffer {
  const out = Buffer.alloc(256);
  const w = new StunWriter(out).begin(C.messageType(C.METHOD_SEND, C.CLASS_INDICATION), Buffer.alloc(12, 3), 0);
  w.addXorAddressString(C.ATTR_XOR_PEER_ADDRESS, family, peer.ip, peer.port);
  w.addBytes(C.ATTR_DATA, payload, 0, payload.length);
  if (fingerprint) w.addFingerprint();
  return Buffer.from(out.subarray(0, w.finish()));
}
const send4 = sendIndication(peerOther, 4, false);
const send4Fingerprint = sendIndication(peerOther, 4, true);
const send6 = sendIndication(peer6, 6, false);

function from(peer: { ip: string; port: number }, family: 'IPv4' | 'IPv6'): RemoteInfo {
  return { address: peer.ip, family, port: peer.port, size: payload.length };
}
const fromChannelPeer = from(peerChannel, 'IPv4');
const fromOtherPeer = from(peerOther, 'IPv4');
const fromPeer6 = from(peer6, 'IPv6');

/** Client → peer cases return true when they went the way measured (relayed, or the one dropped); relayFromPeer returns nothing, its counters are checked after. */
const cases: [name: string, fn: () => unknown][] = [
  ['client→peer ChannelData', () => relayChannelDataToPeer(plain, channelData, 0, channelData.length, now)],
  ['client→peer Send indication', () => relaySendIndication(plain, send4, 0, send4.length, now)],
  ['client→peer Send indication with FINGERPRINT', () => relaySendIndication(plain, send4Fingerprint, 0, send4Fingerprint.length, now)],
  ['client→peer Send indication, IPv6 peer', () => relaySendIndication(plain, send6, 0, send6.length, now)],
  ['peer→client as ChannelData', () => relayFromPeer(plain, payload, fromChannelPeer, now)],
  ['peer→client as Data indication', () => relayFromPeer(plain, payload, fromOtherPeer, now)],
  ['peer→client as Data indication, IPv6 peer', () => relayFromPeer(plain, payload, fromPeer6, now)],
  ['client→peer ChannelData through the bandwidth buckets', () => {
    advanceClock();
    return relayChannelDataToPeer(capped, channelData, 0, channelData.length, now);
  }],
  ['peer→client ChannelData through the bandwidth buckets', () => {
    advanceClock();
    relayFromPeer(capped, payload, fromChannelPeer, now);
  }],
  ['client→peer ChannelData, relay-only peer on a live port', () => relayChannelDataToPeer(relayOnly, channelData, 0, channelData.length, now)],
  ['client→peer Send indication, relay-only peer on a port not live (dropped)', () => !relaySendIndication(relayOnly, send4, 0, send4.length, now)],
];

for (const [name, fn] of cases) {
  test(`${name}: no heap allocation per call`, () => {
    assert.notEqual(fn(), false, 'the packet takes the path measured');
    const bytes = heapBytesPerCall(fn);
    const seen = bytes === Infinity ? 'a collection in every window: the calls fill the young generation' : `${bytes.toFixed(2)} heap bytes per call`;
    assert.ok(bytes <= MAX_BYTES_PER_CALL, `${seen} (at most ${MAX_BYTES_PER_CALL})`);
  });
}

test('the measured calls relayed what they should and dropped nothing', () => {
  for (const alloc of [plain, capped, relayOnly]) {
    assert.equal(alloc.droppedPacketsToPeer + alloc.droppedPacketsToClient, 0);
    assert.equal(alloc.cappedPacketsToPeer + alloc.cappedPacketsToClient, 0);
  }
  assert.ok(plain.packetsToPeer > 0 && plain.packetsToClient > 0 && capped.packetsToPeer > 0 && capped.packetsToClient > 0);
  assert.ok(relayOnly.packetsToPeer > 0 && relayPorts.dropped > 0);
  assert.equal(sent, plain.packetsToPeer + plain.packetsToClient + capped.packetsToPeer + capped.packetsToClient + relayOnly.packetsToPeer);
});

test('the measurement sees an allocation: a call that makes one object is far over the limit', () => {
  let keep: unknown = null;
  const bytes = heapBytesPerCall(() => {
    keep = { n: Math.random() };
  });
  assert.ok(bytes >= 12 && keep !== null, `${bytes} heap bytes per call`);
});
