/**
 * IP text <-> bytes helpers and the (XOR-)MAPPED-ADDRESS family of attributes
 * (RFC 8489 §14.1-14.2; XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS of RFC 8656 share the encoding).
 *
 * `formatIp` prints exactly what Node/libuv print (rinfo.address, socket.remoteAddress): the BSD
 * inet_ntop6 rules — lowercase hex, the longest run (>= 2) of zero groups compressed, the first run
 * on ties, and dotted IPv4 for ::ffff:a.b.c.d and for ::a.b.c.d (IPv4-compatible: the first six
 * groups zero, which also prints ::0.2.0.3 for ::2:3, while ::1 stays ::1).
 */
import { FAMILY_IPV4, FAMILY_IPV6, MAGIC_COOKIE } from './constants.js';
import type { StunMessage } from './message.js';

export type IpFamily = 4 | 6;

export interface TransportAddress {
  family: IpFamily;
  address: string;
  port: number;
}

/**
 * Parses `s[start, end)` as dotted-quad IPv4 (four decimal octets 0-255, no leading zeros, as
 * inet_pton). Returns the address as an unsigned 32-bit number or -1.
 */
function parseIpv4Range(s: string, start: number, end: number): number {
  let value = 0;
  let parts = 0;
  let octet = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || parts === 3) return -1;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (digits === 0 || parts !== 3) return -1;
  return value * 256 + octet;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 text (with `::` and a trailing dotted IPv4 part, no zone id) into t[off, off+16). */
function parseIpv6Into(s: string, t: Buffer, off: number): boolean {
  const n = s.length;
  if (n < 2 || n > 45) return false;
  const end = off + 16;
  let p = off;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    i = 1;
  }
  let tokenStart = i;
  let sawDigit = false;
  let digits = 0;
  let val = 0;
  while (i < n) {
    const c = s.charCodeAt(i++);
    const h = hexValue(c);
    if (h >= 0) {
      if (++digits > 4) return false;
      val = (val << 4) | h;
      sawDigit = true;
    } else if (c === 58) {
      tokenStart = i;
      if (!sawDigit) {
        if (gap !== -1) return false;
        gap = p;
        continue;
      }
      if (i >= n || p + 2 > end) return false;
      t[p++] = val >> 8;
      t[p++] = val & 0xff;
      sawDigit = false;
      digits = 0;
      val = 0;
    } else if (c === 46 && p + 4 <= end) {
      const v4 = parseIpv4Range(s, tokenStart, n);
      if (v4 < 0) return false;
      t.writeUInt32BE(v4, p);
      p += 4;
      sawDigit = false;
      break;
    } else {
      return false;
    }
  }
  if (sawDigit) {
    if (p + 2 > end) return false;
    t[p++] = val >> 8;
    t[p++] = val & 0xff;
  }
  if (gap !== -1) {
    if (p === end) return false;
    const tail = p - gap;
    t.copyWithin(end - tail, gap, p);
    t.fill(0, gap, end - tail);
    p = end;
  }
  return p === end;
}

/** Parses an IP string (IPv4 dotted quad, or IPv6 without zone id) into fresh bytes. */
export function parseIp(str: string): { family: IpFamily; bytes: Buffer } | null {
  if (typeof str !== 'string') return null;
  if (str.indexOf(':') === -1) {
    const v = parseIpv4Range(str, 0, str.length);
    if (v < 0) return null;
    const bytes = Buffer.allocUnsafe(4);
    bytes.writeUInt32BE(v, 0);
    return { family: 4, bytes };
  }
  const bytes = Buffer.allocUnsafe(16);
  return parseIpv6Into(str, bytes, 0) ? { family: 6, bytes } : null;
}

/** IPv4 dotted quad as an unsigned 32-bit number, -1 if `str` is not IPv4. No allocation. */
export function ipv4ToUint32(str: string): number {
  return parseIpv4Range(str, 0, str.length);
}

/**
 * Parses `str` as an address of `family` straight into target[offset...] (4 or 16 bytes). Returns
 * false (target possibly partly written) if it does not parse or does not fit. No allocation.
 */
export function writeIpBytes(target: Buffer, offset: number, str: string, family: IpFamily): boolean {
  if (!(offset >= 0)) return false;
  if (family === 4) {
    if (offset + 4 > target.length) return false;
    const v = parseIpv4Range(str, 0, str.length);
    if (v < 0) return false;
    target.writeUInt32BE(v, offset);
    return true;
  }
  if (family !== 6 || offset + 16 > target.length) return false;
  return parseIpv6Into(str, target, offset);
}

/** Prints bytes[offset...] (4 or 16 bytes) as Node/libuv print an address of `family`. */
export function formatIp(bytes: Buffer, offset: number, family: IpFamily): string {
  if (family === 4) {
    if (offset < 0 || offset + 4 > bytes.length) throw new RangeError('formatIp: out of range');
    return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  }
  if (family !== 6 || offset < 0 || offset + 16 > bytes.length) {
    throw new RangeError('formatIp: bad family or out of range');
  }
  // Longest run of >= 2 zero groups; the first one wins ties.
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  for (let i = 0; i <= 8; i++) {
    const zero = i < 8 && bytes[offset + 2 * i] === 0 && bytes[offset + 2 * i + 1] === 0;
    if (zero) {
      if (curBase === -1) curBase = i;
    } else if (curBase !== -1) {
      if (i - curBase > bestLen) {
        bestBase = curBase;
        bestLen = i - curBase;
      }
      curBase = -1;
    }
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    const word = (bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1];
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && word5(bytes, offset) === 0xffff))) {
      out += formatIp(bytes, offset + 12, 4);
      return out;
    }
    out += word.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

function word5(bytes: Buffer, offset: number): number {
  return (bytes[offset + 10] << 8) | bytes[offset + 11];
}

/** The canonical (Node-printed) form of an IP string, or null if it does not parse. */
export function canonicalIp(str: string): string | null {
  const ip = parseIp(str);
  return ip === null ? null : formatIp(ip.bytes, 0, ip.family);
}

// ---- Attributes ----

const scratch = Buffer.alloc(16);

function addressValue(msg: StunMessage, index: number): number {
  if (!(index >= 0) || index >= msg.attrTypes.length) return -1;
  const vo = msg.attrValueOffsets[index];
  const len = msg.attrLengths[index];
  const fam = msg.buf[vo + 1];
  if ((fam === FAMILY_IPV4 && len === 8) || (fam === FAMILY_IPV6 && len === 20)) return vo;
  return -1;
}

/** MAPPED-ADDRESS-style attribute (plain). Null on an unknown family or a wrong length. */
export function readMappedAddress(msg: StunMessage, index: number): TransportAddress | null {
  const vo = addressValue(msg, index);
  if (vo < 0) return null;
  const b = msg.buf;
  const family: IpFamily = b[vo + 1] === FAMILY_IPV4 ? 4 : 6;
  return { family, address: formatIp(b, vo + 4, family), port: (b[vo + 2] << 8) | b[vo + 3] };
}

/** XOR-MAPPED/PEER/RELAYED-ADDRESS. Null on an unknown family or a wrong length. */
export function readXorAddress(msg: StunMessage, index: number): TransportAddress | null {
  const vo = addressValue(msg, index);
  if (vo < 0) return null;
  const b = msg.buf;
  const port = ((b[vo + 2] << 8) | b[vo + 3]) ^ (MAGIC_COOKIE >>> 16);
  if (b[vo + 1] === FAMILY_IPV4) {
    scratch.writeUInt32BE((b.readUInt32BE(vo + 4) ^ MAGIC_COOKIE) >>> 0, 0);
    return { family: 4, address: formatIp(scratch, 0, 4), port };
  }
  scratch.writeUInt32BE((b.readUInt32BE(vo + 4) ^ MAGIC_COOKIE) >>> 0, 0);
  for (let i = 0; i < 12; i++) scratch[4 + i] = b[vo + 8 + i] ^ b[msg.tidOffset + i];
  return { family: 6, address: formatIp(scratch, 0, 6), port };
}

function writeAddressHeader(t: Buffer, o: number, attrType: number, family: IpFamily, port: number): number {
  const ipLen = family === 4 ? 4 : 16;
  if (!(o >= 0) || o + 8 + ipLen > t.length) throw new RangeError('address attribute does not fit');
  t.writeUInt16BE(attrType, o);
  t.writeUInt16BE(4 + ipLen, o + 2);
  t[o + 4] = 0;
  t[o + 5] = family === 4 ? FAMILY_IPV4 : FAMILY_IPV6;
  t.writeUInt16BE(port & 0xffff, o + 6);
  return ipLen;
}

/** Writes a plain address attribute at target[offset]; returns bytes written incl. the 4-byte header. */
export function writeMappedAddress(
  target: Buffer,
  offset: number,
  attrType: number,
  family: IpFamily,
  ipBytes: Buffer,
  ipOffset: number,
  port: number,
): number {
  const ipLen = writeAddressHeader(target, offset, attrType, family, port);
  ipBytes.copy(target, offset + 8, ipOffset, ipOffset + ipLen);
  return 8 + ipLen;
}

/**
 * Writes an XOR address attribute at target[offset]: port ^ cookie>>16, address ^ cookie (IPv4) or
 * ^ cookie||transaction id (IPv6). `ipBytes` may be `target` itself with the plain address already
 * at target[offset+8] (XORed in place). Returns bytes written incl. the 4-byte header (12 or 24).
 */
export function writeXorAddress(
  target: Buffer,
  offset: number,
  attrType: number,
  family: IpFamily,
  ipBytes: Buffer,
  ipOffset: number,
  port: number,
  tidBuf: Buffer,
  tidOffset: number,
): number {
  const ipLen = writeAddressHeader(target, offset, attrType, family, port ^ (MAGIC_COOKIE >>> 16));
  const a = offset + 8;
  for (let i = 0; i < 4; i++) target[a + i] = ipBytes[ipOffset + i] ^ ((MAGIC_COOKIE >>> (24 - 8 * i)) & 0xff);
  for (let i = 4; i < ipLen; i++) target[a + i] = ipBytes[ipOffset + i] ^ tidBuf[tidOffset + i - 4];
  return 8 + ipLen;
}
