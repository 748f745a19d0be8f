/**
 * The per-packet data path (RFC 8656 §11, §12). Plain synchronous functions called straight
 * from socket listeners: no Promise, no logging, no string building, no per-packet objects
 * beyond what Node itself creates per datagram. Lifetimes are `expiresAt` numbers compared
 * with the server's cached clock. Kept in one file so it can be replaced by a batched or
 * native path without touching request handling. It serves only allocations of TypeScript client
 * links (TCP, TLS, and UDP without the native plane), whose relayed sockets are dgram sockets
 * (RelayEndpoint.socket is null only for the native plane's own).
 */
import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import type { Allocation, RelayEndpoint } from './allocation.js';
import { PORT_LIVE, type Permission } from './permission.js';
import { MIN_PACKET_COST_BYTES, type TokenBucket } from './bandwidth.js';
import {
  ATTR_DATA,
  ATTR_DONT_FRAGMENT,
  ATTR_FINGERPRINT,
  ATTR_XOR_PEER_ADDRESS,
  CLASS_INDICATION,
  MAGIC_COOKIE,
  METHOD_DATA,
  METHOD_SEND,
  isComprehensionRequired,
  isKnownAttribute,
  messageType,
} from './codec/constants.js';
import { FINGERPRINT_XOR, crc32 } from './codec/integrity.js';

const SEND_INDICATION = messageType(METHOD_SEND, CLASS_INDICATION);
const DATA_INDICATION = messageType(METHOD_DATA, CLASS_INDICATION);

/**
 * The largest UDP payload one datagram can carry: over IPv4, 65,535 minus the IPv4 (20) and UDP
 * (8) headers; over IPv6, its 65,535-byte payload length minus the UDP header (no jumbograms).
 * Checked before each send: dgram would fail a bigger one only later, with EMSGSIZE.
 */
export const MAX_UDP_PAYLOAD_V4 = 65507;
export const MAX_UDP_PAYLOAD_V6 = 65527;
/**
 * The largest payload a Data indication can carry: its STUN length field (at most 65,535) counts
 * XOR-PEER-ADDRESS (12 bytes for an IPv4 peer, 24 for IPv6), the DATA attribute's header and the
 * payload padded to 4 bytes.
 */
export const MAX_INDICATION_PAYLOAD_V4 = 65516;
export const MAX_INDICATION_PAYLOAD_V6 = 65504;

/*
 * Counting: bytesTo* and packetsTo* are what was handed to a socket (what is billed); a packet
 * the data path had to drop after it reached a live permission or channel (empty, too big to
 * frame or to send, past a stream client's backlog or a full UDP send queue, a closed
 * connection) goes to droppedTo*; one refused by a bandwidth cap goes to cappedTo*. An error the
 * kernel reports after a UDP send (EPERM, ENETUNREACH) reaches Node only through a callback per
 * send, which would cost an allocation per packet: such a packet is counted as relayed.
 */

/**
 * Datagrams Node may hold for one socket when the kernel's send buffer is full (it queues them
 * rather than fail); past it, packets are dropped and counted, so a client sending faster than the
 * way out drains cannot grow memory without bound. A queue is non-empty only under back-pressure.
 */
export const SEND_QUEUE_LIMIT = 64;

/**
 * Client → peer back-pressure: the relayed socket's queue is read every 64th packet relayed (one
 * call into Node's handle; packetsToPeer counts them), and at every packet while it was over the
 * limit, so it never holds more than SEND_QUEUE_LIMIT + 64 datagrams.
 */
function congestedToPeer(alloc: Allocation, relay: RelayEndpoint): boolean {
  if (!alloc.congestedToPeer && (alloc.packetsToPeer & 63) !== 0) return false;
  const congested = (relay.socket as UdpSocket).getSendQueueCount() > SEND_QUEUE_LIMIT;
  alloc.congestedToPeer = congested;
  return congested;
}

/** Zero padding for 4-byte alignment; never written to, so safe to share with pending sends. */
export const PAD: readonly Buffer[] = [Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(2), Buffer.alloc(3)];

/**
 * The demultiplexing rule of both client transports: true when buf[offset] starts client data
 * (ChannelData: first byte 0x40–0xFF; or a Send indication), which goes through
 * relayClientData(); false for anything else, which is handled as STUN.
 */
export function isClientData(buf: Buffer, offset: number): boolean {
  const b0 = buf[offset];
  return b0 >= 0x40 || (b0 === 0x00 && buf[offset + 1] === (SEND_INDICATION & 0xff));
}

/** Relays (or drops) one unit of client data recognised by isClientData(). */
export function relayClientData(alloc: Allocation, buf: Buffer, offset: number, length: number, now: number): void {
  const b0 = buf[offset];
  if (b0 >= 0x80) return; // neither STUN nor ChannelData
  if (b0 >= 0x40) relayChannelDataToPeer(alloc, buf, offset, length, now);
  else relaySendIndication(alloc, buf, offset, length, now);
}

/**
 * Client → peer ChannelData (RFC 8656 §12.6). `buf[offset..offset+available)` holds one
 * ChannelData message (a UDP datagram or one stream frame). Returns false when dropped.
 */
export function relayChannelDataToPeer(alloc: Allocation, buf: Buffer, offset: number, available: number, now: number): boolean {
  if (available < 4) return false;
  const number = (buf[offset] << 8) | buf[offset + 1];
  const length = (buf[offset + 2] << 8) | buf[offset + 3];
  if (length + 4 > available) return false;
  const ch = alloc.channels.get(number);
  if (ch === undefined || ch.expiresAt <= now) return false;
  const perm = ch.permission;
  if (perm.expiresAt <= now) return false;
  const relay = perm.family === 4 ? alloc.relay4 : alloc.relay6;
  if (relay === null) return false;
  if (length === 0 || length > (perm.family === 4 ? MAX_UDP_PAYLOAD_V4 : MAX_UDP_PAYLOAD_V6)) return dropToPeer(alloc, length);
  const rp = perm.relayPorts; // 'relay-only' (turn/peer-policy.ts): live relayed ports only
  if (rp !== null && rp.table[ch.port] !== PORT_LIVE) { rp.dropped++; return false; }
  if (congestedToPeer(alloc, relay)) return dropToPeer(alloc, length);
  if ((alloc.capToPeer !== null || alloc.accountCaps !== null) && !admitToPeer(alloc, length)) return false;
  (relay.socket as UdpSocket).send(buf, offset + 4, length, ch.port, perm.address);
  alloc.bytesToPeer += length;
  alloc.packetsToPeer++;
  return true;
}

/**
 * Client → peer Send indication (RFC 8656 §11.2), parsed in place without decoding the whole
 * message: XOR-PEER-ADDRESS and DATA are required; unknown comprehension-required attributes
 * (DONT-FRAGMENT included: Ferry cannot set DF) and a bad FINGERPRINT discard it; a missing
 * permission discards it. Never answered. Returns false when dropped.
 */
export function relaySendIndication(alloc: Allocation, buf: Buffer, offset: number, available: number, now: number): boolean {
  if (available < 20) return false;
  const bodyLength = (buf[offset + 2] << 8) | buf[offset + 3];
  if ((bodyLength & 3) !== 0 || bodyLength + 20 !== available) return false;
  if (buf.readUInt32BE(offset + 4) !== MAGIC_COOKIE) return false;
  const end = offset + available;
  let p = offset + 20;
  let peerAt = -1;
  let peerLength = 0;
  let dataAt = -1;
  let dataLength = 0;
  while (p + 4 <= end) {
    const type = (buf[p] << 8) | buf[p + 1];
    const length = (buf[p + 2] << 8) | buf[p + 3];
    const value = p + 4;
    const next = value + ((length + 3) & ~3);
    if (next > end) return false;
    if (type === ATTR_XOR_PEER_ADDRESS) {
      if (peerAt < 0) { peerAt = value; peerLength = length; }
    } else if (type === ATTR_DATA) {
      if (dataAt < 0) { dataAt = value; dataLength = length; }
    } else if (type === ATTR_FINGERPRINT) {
      if (length !== 4 || next !== end) return false;
      const crc = (crc32(buf, offset, p - offset) ^ FINGERPRINT_XOR) >>> 0;
      if (crc !== buf.readUInt32BE(value)) return false;
    } else if (type === ATTR_DONT_FRAGMENT || (isComprehensionRequired(type) && !isKnownAttribute(type))) {
      return false; // Ferry cannot set DF; unknown comprehension-required attributes discard
    }
    p = next;
  }
  if (p !== end || peerAt < 0 || dataAt < 0) return false;
  const family = buf[peerAt + 1];
  const port = ((buf[peerAt + 2] << 8) | buf[peerAt + 3]) ^ (MAGIC_COOKIE >>> 16);
  if (port === 0) return false;
  let perm: Permission | undefined;
  if (family === 1) {
    if (peerLength !== 8) return false;
    const ip = (buf.readUInt32BE(peerAt + 4) ^ MAGIC_COOKIE) >>> 0;
    perm = alloc.permissionsV4.get(ip);
  } else if (family === 2) {
    if (peerLength !== 20) return false;
    perm = findPermissionV6(alloc, buf, peerAt + 4, offset + 4);
  } else {
    return false;
  }
  if (perm === undefined || perm.expiresAt <= now) return false;
  const relay = perm.family === 4 ? alloc.relay4 : alloc.relay6;
  if (relay === null) return false;
  if (dataLength === 0 || dataLength > (perm.family === 4 ? MAX_UDP_PAYLOAD_V4 : MAX_UDP_PAYLOAD_V6)) return dropToPeer(alloc, dataLength);
  const rp = perm.relayPorts; // 'relay-only' (turn/peer-policy.ts): live relayed ports only
  if (rp !== null && rp.table[port] !== PORT_LIVE) { rp.dropped++; return false; }
  if (congestedToPeer(alloc, relay)) return dropToPeer(alloc, dataLength);
  if ((alloc.capToPeer !== null || alloc.accountCaps !== null) && !admitToPeer(alloc, dataLength)) return false;
  (relay.socket as UdpSocket).send(buf, dataAt, dataLength, port, perm.address);
  alloc.bytesToPeer += dataLength;
  alloc.packetsToPeer++;
  return true;
}

/** Counts a client→peer packet that reached a live permission but could not be sent; returns false. */
function dropToPeer(alloc: Allocation, n: number): boolean {
  alloc.droppedBytesToPeer += n;
  alloc.droppedPacketsToPeer++;
  return false;
}

/**
 * Bandwidth caps (turn/bandwidth.ts), called only when the allocation has one: a packet of `n`
 * payload bytes costs max(n, MIN_PACKET_COST_BYTES) tokens, so a flood of tiny packets is capped
 * too; it passes when both its own bucket and its account's (either may be null) have them, and
 * they are taken from both. A refused packet is dropped and counted as capped by the caller.
 */
function admit(own: TokenBucket | null, shared: TokenBucket | null, n: number): boolean {
  const cost = n > MIN_PACKET_COST_BYTES ? n : MIN_PACKET_COST_BYTES;
  if ((own !== null && !own.allows(cost)) || (shared !== null && !shared.allows(cost))) return false;
  if (own !== null) own.tokens -= cost;
  if (shared !== null) shared.tokens -= cost;
  return true;
}

function admitToPeer(alloc: Allocation, n: number): boolean {
  if (admit(alloc.capToPeer, alloc.accountCaps === null ? null : alloc.accountCaps.toPeer, n)) return true;
  alloc.cappedBytesToPeer += n;
  alloc.cappedPacketsToPeer++;
  return false;
}

function admitToClient(alloc: Allocation, n: number): boolean {
  if (admit(alloc.capToClient, alloc.accountCaps === null ? null : alloc.accountCaps.toClient, n)) return true;
  alloc.cappedBytesToClient += n;
  alloc.cappedPacketsToClient++;
  return false;
}

/** IPv6 Send indications compare the XOR-ed bytes with each IPv6 permission: a handful per allocation. */
function findPermissionV6(alloc: Allocation, buf: Buffer, at: number, xorAt: number): Permission | undefined {
  for (const perm of alloc.permissions.values()) {
    if (perm.family !== 6) continue;
    const b = perm.ipBytes;
    let i = 0;
    while (i < 16 && (buf[at + i] ^ buf[xorAt + i]) === b[i]) i++;
    if (i === 16) return perm;
  }
  return undefined;
}

/**
 * Peer → client (RFC 8656 §11.3, §12.7): the datagram from `rinfo` arrived on one of the
 * allocation's relayed sockets. Without a live permission for the peer's IP it is dropped
 * uncounted; an empty one, or one the client link cannot frame or send, is dropped and counted;
 * with a live channel for the peer's transport address it goes as ChannelData, otherwise as a
 * Data indication.
 */
export function relayFromPeer(alloc: Allocation, msg: Buffer, rinfo: RemoteInfo, now: number): void {
  const perm = alloc.permissions.get(rinfo.address);
  if (perm === undefined || perm.expiresAt <= now) return;
  const n = msg.length;
  if (n !== 0) {
    if ((alloc.capToClient !== null || alloc.accountCaps !== null) && !admitToClient(alloc, n)) return;
    const ch = perm.channelsByPort.get(rinfo.port);
    const sent = ch !== undefined && ch.expiresAt > now ? alloc.link.sendChannelData(ch.number, msg) : alloc.link.sendDataIndication(perm, rinfo.port, msg);
    if (sent) {
      alloc.bytesToClient += n;
      alloc.packetsToClient++;
      return;
    }
  }
  alloc.droppedBytesToClient += n;
  alloc.droppedPacketsToClient++;
}

/** Transaction ids of Data indications: 8 random bytes once, then a 32-bit counter. */
const tidBase = Buffer.alloc(8);
for (let i = 0; i < 8; i++) tidBase[i] = Math.floor(Math.random() * 256);
let tidCounter = 0;

/**
 * Writes a Data indication's header (STUN header, XOR-PEER-ADDRESS, DATA attribute header)
 * for a payload of `payloadLength` bytes into `target` at 0; returns the header length
 * (36 for IPv4 peers, 48 for IPv6). The payload and PAD[(4 - len % 4) % 4] follow it.
 * Returns 0 and writes nothing when the payload is too big for one (MAX_INDICATION_PAYLOAD_V4/V6).
 */
export function writeDataIndicationHeader(target: Buffer, peer: Permission, peerPort: number, payloadLength: number): number {
  const v6 = peer.family === 6;
  if (payloadLength > (v6 ? MAX_INDICATION_PAYLOAD_V6 : MAX_INDICATION_PAYLOAD_V4)) return 0;
  const addrLength = v6 ? 20 : 8;
  const padded = (payloadLength + 3) & ~3;
  target[0] = DATA_INDICATION >>> 8;
  target[1] = DATA_INDICATION & 0xff;
  target.writeUInt16BE(4 + addrLength + 4 + padded, 2);
  target.writeUInt32BE(MAGIC_COOKIE, 4);
  for (let i = 0; i < 8; i++) target[8 + i] = tidBase[i];
  tidCounter = (tidCounter + 1) >>> 0;
  target.writeUInt32BE(tidCounter, 16);
  target[20] = ATTR_XOR_PEER_ADDRESS >>> 8;
  target[21] = ATTR_XOR_PEER_ADDRESS & 0xff;
  target.writeUInt16BE(addrLength, 22);
  target[24] = 0;
  target[25] = v6 ? 2 : 1;
  target.writeUInt16BE(peerPort ^ (MAGIC_COOKIE >>> 16), 26);
  const ip = peer.ipBytes;
  // XOR with the cookie and then the transaction id (bytes 4..19 of the header).
  const n = v6 ? 16 : 4;
  for (let i = 0; i < n; i++) target[28 + i] = ip[i] ^ target[4 + i];
  const d = 28 + n;
  target[d] = ATTR_DATA >>> 8;
  target[d + 1] = ATTR_DATA & 0xff;
  target.writeUInt16BE(payloadLength, d + 2);
  return d + 4;
}
