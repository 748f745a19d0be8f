// Measures Ferry's per-packet functions in isolation: nanoseconds per call and heap bytes
// allocated per call by our code (the sockets are stubs, so Node's own per-datagram work is
// excluded). Prints one JSON document. Run: node --expose-gc dist/bench/data-path.js
import type { RemoteInfo, Socket } from 'node:dgram';
import { Allocation, type RelayEndpoint } from '../turn/allocation.js';
import { UdpLink } from '../turn/transports/udp-link.js';
import { relayChannelDataToPeer, relayFromPeer, relaySendIndication } from '../turn/data-path.js';
import { StunWriter } from '../turn/codec/writer.js';
import { BandwidthCaps } from '../turn/bandwidth.js';
import * as C from '../turn/codec/constants.js';
import { PORT_LIVE } from '../turn/permission.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

let sink = 0;
const stub = {
  send(_buf: unknown, a?: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    sink = (sink + (typeof a === 'number' ? 1 : 2)) & 0xffff;
    void b;
    void c;
    void d;
  },
  getSendQueueCount: () => 0,
} as unknown as Socket;

const now = Date.now();
const link = new UdpLink({ remove() {} }, stub, '127.0.0.1', 40000);
const alloc = new Allocation(1, { username: 'u', account: 'u', realm: 'r' }, link, now, 600_000);
const relay: RelayEndpoint = { socket: stub, fd: -1, family: 4, boundAddress: '127.0.0.1', port: 50000, advertisedAddress: '127.0.0.1' };
alloc.relay4 = relay;
alloc.bindChannel(0x4000, '127.0.0.2', 4, Buffer.from([127, 0, 0, 2]), 7000, now);
alloc.installPermission('127.0.0.3', 4, Buffer.from([127, 0, 0, 3]), now);

const payload = Buffer.alloc(100, 1);
const channelData = Buffer.concat([Buffer.from([0x40, 0x00, 0x00, 100]), payload]);
const sendInd = (() => {
  const out = Buffer.alloc(256);
  const w = new StunWriter(out).begin(C.messageType(C.METHOD_SEND, C.CLASS_INDICATION), Buffer.alloc(12, 3), 0);
  w.addXorAddressString(C.ATTR_XOR_PEER_ADDRESS, 4, '127.0.0.3', 7001);
  w.addBytes(C.ATTR_DATA, payload, 0, payload.length);
  return Buffer.from(out.subarray(0, w.finish()));
})();
const fromChannelPeer: RemoteInfo = { address: '127.0.0.2', family: 'IPv4', port: 7000, size: 100 };
const fromOtherPeer: RemoteInfo = { address: '127.0.0.3', family: 'IPv4', port: 7001, size: 100 };

// The same allocation shape with bandwidth caps (own and account buckets) so wide they always admit.
const cappedAlloc = new Allocation(2, { username: 'u', account: 'u', realm: 'r' }, link, now, 600_000);
cappedAlloc.relay4 = relay;
cappedAlloc.bindChannel(0x4000, '127.0.0.2', 4, Buffer.from([127, 0, 0, 2]), 7000, now);
// A clock like the relay's CachedClock: one object whose field a timer advances.
const clock = { ms: now };
let calls = 0;
const tick = () => ((++calls & 1023) === 0 ? ++clock.ms : clock.ms);
new BandwidthCaps(clock, { allocationMaxBps: 1e15, accountMaxBps: () => 1e15 }).attach(cappedAlloc);

// The same shape with relay-only permissions (a peer on one of the relay's own addresses): the
// channel's port is a live relayed port, the Send indication's port is not (dropped and counted).
const relayOnlyAlloc = new Allocation(3, { username: 'u', account: 'u', realm: 'r' }, link, now, 600_000);
relayOnlyAlloc.relay4 = relay;
const relayPorts = { table: new Uint8Array(65536), nativeIndex: -1, dropped: 0 };
relayPorts.table[7000] = PORT_LIVE;
relayOnlyAlloc.bindChannel(0x4000, '127.0.0.2', 4, Buffer.from([127, 0, 0, 2]), 7000, now).permission.relayPorts = relayPorts;
relayOnlyAlloc.installPermission('127.0.0.3', 4, Buffer.from([127, 0, 0, 3]), now).relayPorts = relayPorts;

const cases: Record<string, () => void> = {
  'client→peer ChannelData': () => relayChannelDataToPeer(alloc, channelData, 0, channelData.length, now),
  'client→peer Send indication': () => relaySendIndication(alloc, sendInd, 0, sendInd.length, now),
  'peer→client ChannelData': () => relayFromPeer(alloc, payload, fromChannelPeer, now),
  'peer→client Data indication': () => relayFromPeer(alloc, payload, fromOtherPeer, now),
  // The clock advances every 1024 calls, so the buckets refill as they do on a live relay.
  'client→peer ChannelData, capped': () => relayChannelDataToPeer(cappedAlloc, channelData, 0, channelData.length, tick()),
  'peer→client ChannelData, capped': () => relayFromPeer(cappedAlloc, payload, fromChannelPeer, tick()),
  'client→peer ChannelData, relay-only, live port': () => relayChannelDataToPeer(relayOnlyAlloc, channelData, 0, channelData.length, now),
  'client→peer Send indication, relay-only, dropped': () => relaySendIndication(relayOnlyAlloc, sendInd, 0, sendInd.length, now),
};

function measure(fn: () => void): { ns_per_call: number; bytes_per_call: number } {
  for (let i = 0; i < 200_000; i++) fn(); // warm up and optimise
  // allocation: a run short enough that no scavenge runs in between
  const n = 50_000;
  gc!();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) fn();
  const bytes = Math.max(0, process.memoryUsage().heapUsed - before) / n;
  const m = 2_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < m; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0) / m;
  return { ns_per_call: Math.round(ns * 10) / 10, bytes_per_call: Math.round(bytes * 10) / 10 };
}

const results: Record<string, { ns_per_call: number; bytes_per_call: number }> = {};
for (const [name, fn] of Object.entries(cases)) results[name] = measure(fn);
const counted = alloc.packetsToPeer + alloc.packetsToClient + cappedAlloc.packetsToPeer + cappedAlloc.packetsToClient;
if (cappedAlloc.cappedPacketsToPeer + cappedAlloc.cappedPacketsToClient !== 0) throw new Error('the wide caps dropped packets');
const dropped = alloc.droppedPacketsToPeer + alloc.droppedPacketsToClient + cappedAlloc.droppedPacketsToPeer + cappedAlloc.droppedPacketsToClient;
if (dropped !== 0) throw new Error('the data path dropped packets it should have relayed');
if (relayOnlyAlloc.packetsToPeer === 0 || relayPorts.dropped === 0) throw new Error('the relay-only cases did not relay and drop');
console.log(JSON.stringify({ node: process.version, payload_bytes: 100, results, packets_counted: counted, sink: sink >= 0 }, null, 2));
