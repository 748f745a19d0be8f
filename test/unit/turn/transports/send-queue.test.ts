// Back-pressure on UDP sends (issue 9 review): when the kernel's send buffer is full, Node queues
// datagrams instead of failing them. Past SEND_QUEUE_LIMIT queued datagrams, the data path drops
// (and counts) packets instead of letting the queue, and memory, grow without bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket as UdpSocket } from 'node:dgram';
import { Allocation, type RelayEndpoint } from '../../../../turn/allocation.js';
import { Permission } from '../../../../turn/permission.js';
import { UdpLink } from '../../../../turn/transports/udp-link.js';
import { relayChannelDataToPeer, SEND_QUEUE_LIMIT } from '../../../../turn/data-path.js';

/** A datagram socket stub whose send queue is what the test says; counts sends. */
function queueSocket() {
  const s = {
    queued: 0,
    sent: 0,
    send() {
      s.sent++;
    },
    getSendQueueCount: () => s.queued,
  };
  return s;
}

const peer4 = new Permission('127.0.0.2', 4, Buffer.from([127, 0, 0, 2]), Infinity);

test('UdpLink: past SEND_QUEUE_LIMIT queued datagrams, packets to the client are refused until the queue drains', () => {
  const s = queueSocket();
  const link = new UdpLink({ remove() {} }, s as unknown as UdpSocket, '127.0.0.1', 40000);
  assert.equal(link.sendChannelData(0x4000, Buffer.alloc(10)), true);
  s.queued = SEND_QUEUE_LIMIT + 1;
  assert.equal(link.sendChannelData(0x4000, Buffer.alloc(10)), true, 'the send that finds the queue over the limit still went');
  assert.equal(link.sendChannelData(0x4000, Buffer.alloc(10)), false);
  assert.equal(link.sendDataIndication(peer4, 7000, Buffer.alloc(10)), false);
  assert.equal(s.sent, 2);
  s.queued = SEND_QUEUE_LIMIT;
  assert.equal(link.sendDataIndication(peer4, 7000, Buffer.alloc(10)), true, 'sent again once the queue is back at the limit');
  assert.equal(s.sent, 3);
});

test('client → peer: a relayed socket over SEND_QUEUE_LIMIT drops and counts (read every 64th packet and while over)', () => {
  const s = queueSocket();
  const now = Date.now();
  const link = new UdpLink({ remove() {} }, queueSocket() as unknown as UdpSocket, '127.0.0.1', 40000);
  const alloc = new Allocation(1, { username: 'u', account: 'u', realm: 'r' }, link, now, 600_000);
  const relay: RelayEndpoint = { socket: s as unknown as UdpSocket, fd: -1, family: 4, boundAddress: '127.0.0.1', port: 50000, advertisedAddress: '127.0.0.1' };
  alloc.relay4 = relay;
  alloc.bindChannel(0x4000, '127.0.0.2', 4, Buffer.from([127, 0, 0, 2]), 7000, now);
  const frame = Buffer.concat([Buffer.from([0x40, 0x00, 0x00, 10]), Buffer.alloc(10)]);
  const send = () => relayChannelDataToPeer(alloc, frame, 0, frame.length, now);

  s.queued = SEND_QUEUE_LIMIT + 1;
  assert.equal(send(), false, 'the first packet reads the queue: over the limit, dropped');
  assert.deepEqual([alloc.packetsToPeer, alloc.droppedPacketsToPeer, alloc.droppedBytesToPeer, s.sent], [0, 1, 10, 0]);
  s.queued = 0;
  for (let i = 0; i < 64; i++) assert.equal(send(), true);
  s.queued = SEND_QUEUE_LIMIT + 1;
  assert.equal(send(), false, 'the 64th relayed packet reads the queue again');
  assert.equal(send(), false, 'and every packet while it is over');
  assert.deepEqual([alloc.packetsToPeer, alloc.droppedPacketsToPeer, s.sent], [64, 3, 64]);
  s.queued = 3;
  assert.equal(send(), true);
  assert.equal(alloc.bytesToPeer, 650, 'only what was sent is billed');
});
