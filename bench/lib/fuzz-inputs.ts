// Inputs of the fuzz harness (bench/lib/fuzz-run.ts): random datagrams, mutations of valid STUN
// messages and of ChannelData, TCP streams of such frames, and odd attribute sets for requests that
// are then signed with a live allocation's key. Pure functions of a seeded PRNG (the codec fuzz
// test's mulberry32), so a run is reproducible from its seed. `isGarbage` says which inputs a
// server must never answer.
import { StunWriter } from '../../turn/codec/writer.js';
import { decodeMessage } from '../../turn/codec/message.js';
import { FINGERPRINT_XOR, checkFingerprint, crc32 } from '../../turn/codec/integrity.js';
import { parseIp } from '../../turn/codec/address.js';
import * as C from '../../turn/codec/constants.js';
import { randInt, randomBytes } from '../../test/helpers/bytes.js';

export type Rand = () => number;
export { prng } from '../../test/helpers/bytes.js';

export interface Addr {
  readonly address: string;
  readonly port: number;
}

/** Not a STUN request a server may answer: undecodable (ChannelData included), not a request, or a wrong FINGERPRINT. */
export function isGarbage(buf: Buffer): boolean {
  const m = decodeMessage(buf);
  return m === null || m.cls !== C.CLASS_REQUEST || (m.fingerprintIndex >= 0 && !checkFingerprint(m));
}

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[randInt(rand, xs.length)];

/** Random bytes; sometimes shaped to pass the first demultiplexing test (STUN header or ChannelData byte). */
export function randomDatagram(rand: Rand): Buffer {
  const b = randomBytes(rand, randInt(rand, rand() < 0.9 ? 200 : 1500));
  const r = rand();
  if (b.length >= 20 && r < 0.3) {
    b[0] &= 0x01; // a STUN type, random body behind a real cookie
    b.writeUInt32BE(C.MAGIC_COOKIE, 4);
    if (rand() < 0.5) b.writeUInt16BE((b.length - 20) & ~3, 2);
  } else if (b.length >= 4 && r < 0.5) {
    b[0] = 0x40 | (b[0] & 0x3f); // a ChannelData first byte
  }
  return b;
}

/** Offsets [start, end) of each attribute TLV in a STUN message, walked leniently. */
function attributeSpans(b: Buffer): [number, number][] {
  const out: [number, number][] = [];
  let p = 20;
  while (p + 4 <= b.length && out.length < 64) {
    const next = p + 4 + ((b.readUInt16BE(p + 2) + 3) & ~3);
    out.push([p, Math.min(next, b.length)]);
    p = next;
  }
  return out;
}

/** Recomputes a trailing FINGERPRINT (when there is one) so the mutant reaches the handlers. */
function refingerprint(b: Buffer): void {
  if (b.length < 28 || b.readUInt16BE(b.length - 8) !== C.ATTR_FINGERPRINT) return;
  b.writeUInt16BE(b.length - 20, 2);
  b.writeUInt32BE((crc32(b, 0, b.length - 8) ^ FINGERPRINT_XOR) >>> 0, b.length - 4);
}

function withLength(b: Buffer): Buffer {
  if (b.length >= 4) b.writeUInt16BE((b.length - 20) & 0xffff, 2);
  return b;
}

/** One to three mutations of a valid message: bit flips, truncation, length fields, duplicated, reordered or oversized attributes, bad FINGERPRINT. */
export function mutateStun(rand: Rand, seed: Buffer): Buffer {
  let b: Buffer = Buffer.from(seed);
  const count = 1 + randInt(rand, 3);
  for (let n = 0; n < count && b.length > 0; n++) {
    const spans = attributeSpans(b);
    switch (randInt(rand, 10)) {
      case 0: // bit flips
        for (let i = 1 + randInt(rand, 6); i > 0; i--) b[randInt(rand, b.length)] ^= 1 << randInt(rand, 8);
        break;
      case 1: // byte overwrite
        b[randInt(rand, b.length)] = randInt(rand, 256);
        break;
      case 2: // truncation
        b = b.subarray(0, randInt(rand, b.length));
        break;
      case 3: // wrong message length field
        if (b.length >= 4) b.writeUInt16BE(pick(rand, [0, 4, b.length - 16, b.length - 24, randInt(rand, 0x10000)]) & 0xffff, 2);
        break;
      case 4: { // a duplicated attribute
        if (spans.length === 0) break;
        const [s, e] = pick(rand, spans);
        const at = pick(rand, spans)[0];
        b = withLength(Buffer.concat([b.subarray(0, at), b.subarray(s, e), b.subarray(at)]));
        if (rand() < 0.7) refingerprint(b);
        break;
      }
      case 5: { // two attributes swapped
        if (spans.length < 2) break;
        const i = randInt(rand, spans.length - 1);
        const [a, m] = spans[i];
        const [, e] = spans[i + 1];
        b = Buffer.concat([b.subarray(0, a), b.subarray(m, e), b.subarray(a, m), b.subarray(e)]);
        if (rand() < 0.7) refingerprint(b);
        break;
      }
      case 6: { // an attribute length past the end, or odd
        if (spans.length === 0) break;
        const [s] = pick(rand, spans);
        b.writeUInt16BE(pick(rand, [0xffff, b.length, 1, 3, randInt(rand, 0x10000)]), s + 2);
        break;
      }
      case 7: // bad FINGERPRINT
        if (b.length >= 4) b[b.length - 1 - randInt(rand, 4)] ^= 1 + randInt(rand, 255);
        break;
      case 8: { // junk appended, header length adjusted (or not)
        b = Buffer.concat([b, randomBytes(rand, 1 + randInt(rand, 64))]);
        if (rand() < 0.5) withLength(b);
        break;
      }
      default: // another type: method and class bits
        if (b.length >= 2) b.writeUInt16BE(randInt(rand, 0x4000), 0);
        if (rand() < 0.5) refingerprint(b);
    }
  }
  return b;
}

/** A ChannelData frame with a channel, length field, payload and padding that are each right or wrong. */
export function mutateChannelData(rand: Rand, channel: number, stream = false): Buffer {
  const data = randomBytes(rand, rand() < 0.1 ? 0 : randInt(rand, rand() < 0.9 ? 200 : 1400));
  const pad = stream || rand() < 0.1 ? (4 - (data.length & 3)) & 3 : 0;
  const b = Buffer.alloc(4 + data.length + pad);
  const r = rand();
  const ch = r < 0.6 ? channel : r < 0.8 ? 0x4000 + randInt(rand, 0x1000) : pick(rand, [0x3fff, 0x4fff, 0x5000, 0x7fff, 0x4000 | randInt(rand, 0x4000)]);
  b.writeUInt16BE(ch, 0);
  const lr = rand();
  b.writeUInt16BE(lr < 0.7 ? data.length : lr < 0.8 ? data.length + 1 + randInt(rand, 64) : lr < 0.9 ? randInt(rand, data.length + 1) : randInt(rand, 0x10000), 2);
  data.copy(b, 4);
  return rand() < 0.1 ? b.subarray(0, randInt(rand, b.length)) : b;
}

/** Context of the signed inputs: the echo peer, Ferry's own address, relayed addresses of live allocations. */
export interface SignContext {
  readonly peer: Addr;
  readonly server: Addr;
  readonly relayed: readonly Addr[];
}

const ODD_IPS = ['0.0.0.0', '255.255.255.255', '224.0.0.1', '10.0.0.1', '169.254.1.1', '::', '::1', '::ffff:0.0.0.0',
  '::ffff:127.0.0.1', '::ffff:0:127.0.0.1', '2002:7f00:1::', '64:ff9b::7f00:1', 'fe80::1', 'ff02::1'];

function addPeer(rand: Rand, w: StunWriter, ctx: SignContext): void {
  const r = rand();
  let target: Addr;
  if (r < 0.5) target = ctx.peer;
  else if (r < 0.6) target = { address: ctx.peer.address, port: pick(rand, [0, 1, 65535]) };
  else if (r < 0.7) target = { address: pick(rand, ['0.0.0.0', ctx.server.address, '::', '::ffff:0.0.0.0', '::ffff:0:127.0.0.1']), port: ctx.server.port };
  else if (r < 0.78 && ctx.relayed.length > 0) target = pick(rand, ctx.relayed);
  else if (r < 0.9) target = { address: pick(rand, ODD_IPS), port: ctx.peer.port };
  else {
    // A malformed value: family 0/3, IPv4 family with an IPv6 length and back, short, long, empty.
    const v = randomBytes(rand, pick(rand, [0, 2, 4, 8, 12, 20, 24]));
    if (v.length >= 2) v[1] = pick(rand, [0, 1, 2, 3, 0xff]);
    w.addBytes(C.ATTR_XOR_PEER_ADDRESS, v, 0, v.length);
    return;
  }
  const ip = parseIp(target.address);
  if (ip) w.addXorAddress(C.ATTR_XOR_PEER_ADDRESS, ip.family, ip.bytes, target.port);
}

function addSized(rand: Rand, w: StunWriter, type: number, size: number, fill: () => Buffer): void {
  const v = rand() < 0.85 ? fill() : randomBytes(rand, pick(rand, [0, 1, 2, 3, size + 4, size * 2 + 1]));
  w.addBytes(type, v, 0, v.length);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** Adds one odd attribute (or a few), each a valid value most of the time so handlers go past their first check. */
function addAtom(rand: Rand, w: StunWriter, ctx: SignContext): void {
  switch (randInt(rand, 12)) {
    case 0:
    case 1:
      return addPeer(rand, w, ctx);
    case 2:
      return addSized(rand, w, C.ATTR_LIFETIME, 4, () => u32(pick(rand, [0, 1, 30, 120, 600, 3600, 86400, 0xffffffff, randInt(rand, 2 ** 32)])));
    case 3:
      return addSized(rand, w, C.ATTR_CHANNEL_NUMBER, 4, () => {
        const b = Buffer.alloc(4);
        b.writeUInt16BE(pick(rand, [0x4000 + randInt(rand, 16), 0x3fff, 0x4fff, 0x5000, 0x7fff, 0xffff, 0, randInt(rand, 0x10000)]), 0);
        if (rand() < 0.2) b.writeUInt16BE(randInt(rand, 0x10000), 2); // RFFU bits
        return b;
      });
    case 4:
      return addSized(rand, w, C.ATTR_EVEN_PORT, 1, () => Buffer.from([pick(rand, [0x80, 0x00, 0xff, 0x7f])]));
    case 5:
      return addSized(rand, w, C.ATTR_RESERVATION_TOKEN, 8, () => randomBytes(rand, 8));
    case 6:
      return addSized(rand, w, pick(rand, [C.ATTR_REQUESTED_ADDRESS_FAMILY, C.ATTR_ADDITIONAL_ADDRESS_FAMILY]), 4, () =>
        Buffer.from([pick(rand, [1, 2, 0, 3, 0xff]), 0, 0, 0]));
    case 7:
      return addSized(rand, w, C.ATTR_REQUESTED_TRANSPORT, 4, () => Buffer.from([pick(rand, [17, 6, 0, 255]), 0, 0, 0]));
    case 8:
      if (rand() < 0.5) w.addEmpty(C.ATTR_DONT_FRAGMENT);
      else {
        const d = randomBytes(rand, randInt(rand, rand() < 0.9 ? 100 : 1200));
        w.addBytes(C.ATTR_DATA, d, 0, d.length);
      }
      return;
    case 9: { // unknown attributes: comprehension-required (420) or optional
      const v = randomBytes(rand, randInt(rand, 16));
      w.addBytes(rand() < 0.5 ? 0x0030 + randInt(rand, 0x100) : 0x8030 + randInt(rand, 0x100), v, 0, v.length);
      return;
    }
    case 10: // a run of many small attributes
      for (let i = randInt(rand, 40); i > 0; i--) w.addBytes(C.ATTR_SOFTWARE, Buffer.alloc(0), 0, 0);
      return;
    default:
      w.addString(pick(rand, [C.ATTR_SOFTWARE, C.ATTR_USERHASH, C.ATTR_PASSWORD_ALGORITHM]), 'x'.repeat(randInt(rand, 40)));
  }
}

/** Extras stop past this many bytes, so the largest atom (1.2 kB) and the signature fit TestTurnClient.build's 2 kB. */
const ROOM = 500;

/** The method's usual attributes (each most likely present and valid) plus odd, duplicated and reordered extras. */
export function signedBody(rand: Rand, method: number, ctx: SignContext): (w: StunWriter) => void {
  return (w) => {
    const extras = randInt(rand, 5);
    const usualFirst = rand() < 0.7;
    const usual = (): void => {
      if (method === C.METHOD_ALLOCATE && rand() < 0.85) w.addRequestedTransport(rand() < 0.95 ? C.TRANSPORT_UDP : 6);
      if (method === C.METHOD_CHANNEL_BIND && rand() < 0.85) w.addChannelNumber(0x4000 + randInt(rand, rand() < 0.9 ? 16 : 0x1000));
      if ((method === C.METHOD_CHANNEL_BIND || method === C.METHOD_CREATE_PERMISSION) && rand() < 0.85) {
        for (let i = method === C.METHOD_CREATE_PERMISSION ? 1 + randInt(rand, 3) : 1; i > 0; i--) addPeer(rand, w, ctx);
      }
      if (method === C.METHOD_REFRESH && rand() < 0.5) w.addUint32(C.ATTR_LIFETIME, rand() < 0.1 ? 0 : pick(rand, [60, 600, 3600, 0xffffffff]));
    };
    if (usualFirst) usual();
    for (let i = 0; i < extras && w.length < ROOM; i++) addAtom(rand, w, ctx);
    if (!usualFirst) usual();
  };
}

/** An unsigned Send indication with odd peer and data attributes. */
export function sendIndicationBody(rand: Rand, ctx: SignContext): (w: StunWriter) => void {
  return (w) => {
    if (rand() < 0.9) addPeer(rand, w, ctx);
    for (let i = randInt(rand, 3); i > 0 && w.length < ROOM; i--) addAtom(rand, w, ctx);
    if (rand() < 0.9) {
      const d = randomBytes(rand, rand() < 0.1 ? 0 : randInt(rand, 300));
      w.addBytes(C.ATTR_DATA, d, 0, d.length);
    }
  };
}

/** A byte stream of frames (valid, mutated, ChannelData, random), for one TCP connection. */
export function tcpStream(rand: Rand, seeds: readonly Buffer[], frames: number, channel: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < frames; i++) {
    const r = rand();
    if (r < 0.3) parts.push(pick(rand, seeds));
    else if (r < 0.6) parts.push(mutateStun(rand, pick(rand, seeds)));
    else if (r < 0.85) parts.push(mutateChannelData(rand, channel, true));
    else parts.push(randomDatagram(rand));
  }
  return Buffer.concat(parts);
}
