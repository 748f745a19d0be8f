// The client links' per-packet sends (issue 9, findings 1 and 13) over stub sockets: what cannot be
// framed, does not fit one datagram, is past a stream client's backlog or meets a closed connection
// is refused (false) without a throw and without a write, and the data path then counts it as
// dropped instead of billing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket as UdpSocket, RemoteInfo } from 'node:dgram';
import type { Socket as TcpSocket } from 'node:net';
import { Allocation } from '../../../../turn/allocation.js';
import { Permission } from '../../../../turn/permission.js';
import { StreamLink } from '../../../../turn/transports/stream-link.js';
import { UdpLink } from '../../../../turn/transports/udp-link.js';
import { relayFromPeer, writeDataIndicationHeader, MAX_INDICATION_PAYLOAD_V4, MAX_INDICATION_PAYLOAD_V6 } from '../../../../turn/data-path.js';

const peer4 = new Permission('127.0.0.2', 4, Buffer.from([127, 0, 0, 2]), Infinity);
const peer6 = new Permission('::1', 6, Buffer.from('00000000000000000000000000000001', 'hex'), Infinity);

/** A stream socket stub: records writes; `writable` and `writableLength` as a test sets them. */
function streamSocket() {
  const writes: Buffer[] = [];
  const s = { writable: true, writableLength: 0, destroyed: false, writes, write: (b: Buffer) => writes.push(b) > 0 };
  return s;
}
/** A datagram socket stub: records the total size of each datagram (a gather list or one buffer). */
function datagramSocket() {
  const sizes: number[] = [];
  const s = {
    sizes,
    send(b: Buffer | Buffer[]) {
      sizes.push(Array.isArray(b) ? b.reduce((n, x) => n + x.length, 0) : b.length);
    },
    getSendQueueCount: () => 0,
  };
  return s;
}

test('writeDataIndicationHeader refuses (0, nothing written) a payload whose STUN length would pass 65,535', () => {
  const target = Buffer.alloc(48, 0xee);
  assert.equal(writeDataIndicationHeader(target, peer4, 7000, MAX_INDICATION_PAYLOAD_V4), 36);
  assert.equal(target.readUInt16BE(2), 65532);
  assert.equal(writeDataIndicationHeader(target, peer6, 7000, MAX_INDICATION_PAYLOAD_V6), 48);
  assert.equal(target.readUInt16BE(2), 65532);
  target.fill(0xee);
  assert.equal(writeDataIndicationHeader(target, peer4, 7000, MAX_INDICATION_PAYLOAD_V4 + 1), 0);
  assert.equal(writeDataIndicationHeader(target, peer6, 7000, MAX_INDICATION_PAYLOAD_V6 + 1), 0);
  assert.equal(writeDataIndicationHeader(target, peer6, 7000, 65527), 0);
  assert.ok(target.every((b) => b === 0xee), 'nothing written');
});

test('StreamLink: refuses past the backlog, on a closed connection and past the Data indication size; writes otherwise', () => {
  const s = streamSocket();
  const link = new StreamLink('tcp', s as unknown as TcpSocket, '127.0.0.1', 40000);
  assert.equal(link.sendChannelData(0x4000, Buffer.alloc(5)), true);
  assert.equal(s.writes[0].length, 12, 'padded to 4');
  assert.equal(link.sendDataIndication(peer6, 7000, Buffer.alloc(MAX_INDICATION_PAYLOAD_V6)), true);
  assert.equal(s.writes[1].readUInt16BE(2), 65532);
  assert.equal(link.sendDataIndication(peer6, 7000, Buffer.alloc(MAX_INDICATION_PAYLOAD_V6 + 1)), false);
  assert.equal(link.sendDataIndication(peer4, 7000, Buffer.alloc(MAX_INDICATION_PAYLOAD_V4 + 1)), false);
  assert.equal(s.writes.length, 2);

  s.writableLength = (1 << 20) + 1;
  assert.equal(link.sendChannelData(0x4000, Buffer.alloc(5)), false, 'past the backlog');
  assert.equal(link.sendDataIndication(peer4, 7000, Buffer.alloc(5)), false);
  s.writableLength = 0;
  s.writable = false; // ended or destroyed
  assert.equal(link.sendChannelData(0x4000, Buffer.alloc(5)), false, 'connection closed');
  assert.equal(link.sendDataIndication(peer4, 7000, Buffer.alloc(5)), false);
  assert.equal(s.writes.length, 2, 'nothing written after');
});

test('UdpLink: refuses a datagram bigger than the client\'s family allows (65,507 IPv4, 65,527 IPv6), padding included', () => {
  const s4 = datagramSocket();
  const v4 = new UdpLink({ remove() {} }, s4 as unknown as UdpSocket, '127.0.0.1', 40000);
  assert.equal(v4.sendChannelData(0x4000, Buffer.alloc(65503)), true);
  assert.equal(v4.sendChannelData(0x4000, Buffer.alloc(65504)), false);
  assert.equal(v4.sendDataIndication(peer4, 7000, Buffer.alloc(65468)), true);
  assert.equal(v4.sendDataIndication(peer4, 7000, Buffer.alloc(65469)), false, '36 + 65,472 padded > 65,507');
  assert.equal(v4.sendDataIndication(peer6, 7000, Buffer.alloc(65456)), true);
  assert.equal(v4.sendDataIndication(peer6, 7000, Buffer.alloc(65457)), false);
  assert.deepEqual(s4.sizes, [65507, 65504, 65504]);

  const s6 = datagramSocket();
  const v6 = new UdpLink({ remove() {} }, s6 as unknown as UdpSocket, '::1', 40000);
  assert.equal(v6.sendChannelData(0x4000, Buffer.alloc(65523)), true);
  assert.equal(v6.sendChannelData(0x4000, Buffer.alloc(65524)), false);
  assert.equal(v6.sendDataIndication(peer6, 7000, Buffer.alloc(65476)), true);
  assert.equal(v6.sendDataIndication(peer6, 7000, Buffer.alloc(65477)), false);
  assert.equal(v6.sendDataIndication(peer6, 7000, Buffer.alloc(65527)), false, 'the STUN length would overflow too');
  assert.deepEqual(s6.sizes, [65527, 65524]);
});

test('data path: a packet the stream link refuses (backlog, closed) is counted as dropped, not billed', () => {
  const s = streamSocket();
  const link = new StreamLink('tcp', s as unknown as TcpSocket, '127.0.0.1', 40000);
  const alloc = new Allocation(1, { username: 'u', account: 'u', realm: 'r' }, link, 0, 600_000);
  alloc.installPermission('127.0.0.2', 4, Buffer.from([127, 0, 0, 2]), 0);
  const from: RemoteInfo = { address: '127.0.0.2', family: 'IPv4', port: 7000, size: 100 };
  relayFromPeer(alloc, Buffer.alloc(100), from, 1);
  s.writableLength = (1 << 20) + 1;
  relayFromPeer(alloc, Buffer.alloc(200), from, 1);
  s.writableLength = 0;
  s.writable = false;
  relayFromPeer(alloc, Buffer.alloc(300), from, 1);
  assert.deepEqual(
    [alloc.bytesToClient, alloc.packetsToClient, alloc.droppedBytesToClient, alloc.droppedPacketsToClient],
    [100, 1, 500, 2],
  );
  const info = alloc.info();
  assert.deepEqual([info.droppedBytesToClient, info.droppedPacketsToClient, info.droppedBytesToPeer, info.droppedPacketsToPeer], [500, 2, 0, 0]);
});
