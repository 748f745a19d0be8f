/**
 * Lazy readers for the non-address STUN/TURN attributes. Each takes the decoded message and an
 * attribute index (from msg.index(type)); an index out of range or a malformed value gives null.
 * The matching writers are the StunWriter.add* methods in writer.ts.
 */
import { FAMILY_IPV4, FAMILY_IPV6, MAX_REASON_BYTES } from './constants.js';
import type { StunMessage } from './message.js';

function valueOffset(msg: StunMessage, index: number, exactLength: number): number {
  if (!(index >= 0) || index >= msg.attrTypes.length) return -1;
  if (exactLength >= 0 && msg.attrLengths[index] !== exactLength) return -1;
  return msg.attrValueOffsets[index];
}

/** A 32-bit unsigned value (LIFETIME, or any 4-byte integer attribute). */
export function readUint32(msg: StunMessage, index: number): number | null {
  const vo = valueOffset(msg, index, 4);
  return vo < 0 ? null : msg.buf.readUInt32BE(vo);
}

/** CHANNEL-NUMBER (RFC 8656 §18.1): the 16-bit number; the RFFU half is ignored. No range check. */
export function readChannelNumber(msg: StunMessage, index: number): number | null {
  const vo = valueOffset(msg, index, 4);
  return vo < 0 ? null : msg.buf.readUInt16BE(vo);
}

/** REQUESTED-TRANSPORT (RFC 8656 §18.11): the IANA protocol number (17 = UDP). */
export function readRequestedTransport(msg: StunMessage, index: number): number | null {
  const vo = valueOffset(msg, index, 4);
  return vo < 0 ? null : msg.buf[vo];
}

/**
 * REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.8, §18.9): 4 or 6, 0 for an
 * unknown family value, null when the length is not 4.
 */
export function readAddressFamily(msg: StunMessage, index: number): 4 | 6 | 0 | null {
  const vo = valueOffset(msg, index, 4);
  if (vo < 0) return null;
  const f = msg.buf[vo];
  return f === FAMILY_IPV4 ? 4 : f === FAMILY_IPV6 ? 6 : 0;
}

/** EVEN-PORT (RFC 8656 §18.6): one byte, R bit = reserve the next port too. */
export function readEvenPort(msg: StunMessage, index: number): { reserve: boolean } | null {
  const vo = valueOffset(msg, index, 1);
  return vo < 0 ? null : { reserve: (msg.buf[vo] & 0x80) !== 0 };
}

/**
 * A UTF-8 text attribute (USERNAME, REALM, NONCE, SOFTWARE, ALTERNATE-DOMAIN). Null when the value
 * is longer than `maxBytes` (see MAX_*_BYTES in constants.ts). Invalid UTF-8 decodes with U+FFFD.
 */
export function readString(msg: StunMessage, index: number, maxBytes: number): string | null {
  const vo = valueOffset(msg, index, -1);
  if (vo < 0) return null;
  const len = msg.attrLengths[index];
  if (len > maxBytes) return null;
  return msg.buf.toString('utf8', vo, vo + len);
}

function readCodeAndReason(msg: StunMessage, vo: number, len: number): { code: number; reason: string } | null {
  const b = msg.buf;
  const cls = b[vo + 2] & 0x07;
  const number = b[vo + 3];
  if (cls < 3 || cls > 6 || number > 99) return null;
  return { code: cls * 100 + number, reason: b.toString('utf8', vo + 4, vo + len) };
}

/** ERROR-CODE (RFC 8489 §14.8): code 300..699 and reason phrase. */
export function readErrorCode(msg: StunMessage, index: number): { code: number; reason: string } | null {
  const vo = valueOffset(msg, index, -1);
  if (vo < 0) return null;
  const len = msg.attrLengths[index];
  if (len < 4 || len > 4 + MAX_REASON_BYTES) return null;
  return readCodeAndReason(msg, vo, len);
}

/** ADDRESS-ERROR-CODE (RFC 8656 §18.12): the family it refers to, code and reason. */
export function readAddressErrorCode(
  msg: StunMessage,
  index: number,
): { family: 4 | 6 | 0; code: number; reason: string } | null {
  const vo = valueOffset(msg, index, -1);
  if (vo < 0) return null;
  const len = msg.attrLengths[index];
  if (len < 4 || len > 4 + MAX_REASON_BYTES) return null;
  const r = readCodeAndReason(msg, vo, len);
  if (r === null) return null;
  const f = msg.buf[vo];
  return { family: f === FAMILY_IPV4 ? 4 : f === FAMILY_IPV6 ? 6 : 0, code: r.code, reason: r.reason };
}

/** UNKNOWN-ATTRIBUTES (RFC 8489 §14.9): the listed 16-bit types (a trailing odd byte is ignored). */
export function readUnknownAttributes(msg: StunMessage, index: number): number[] {
  const vo = valueOffset(msg, index, -1);
  if (vo < 0) return [];
  const out: number[] = [];
  const n = msg.attrLengths[index] >> 1;
  for (let i = 0; i < n; i++) out.push(msg.buf.readUInt16BE(vo + 2 * i));
  return out;
}

export interface PasswordAlgorithmValue {
  algorithm: number;
  /** A view into the message buffer (empty for MD5 and SHA-256). */
  params: Buffer;
}

/** PASSWORD-ALGORITHM (RFC 8489 §14.12): one algorithm with its parameters. */
export function readPasswordAlgorithm(msg: StunMessage, index: number): PasswordAlgorithmValue | null {
  const vo = valueOffset(msg, index, -1);
  if (vo < 0) return null;
  const len = msg.attrLengths[index];
  if (len < 4) return null;
  const paramsLength = msg.buf.readUInt16BE(vo + 2);
  if (4 + paramsLength > len) return null;
  return { algorithm: msg.buf.readUInt16BE(vo), params: msg.buf.subarray(vo + 4, vo + 4 + paramsLength) };
}

/**
 * PASSWORD-ALGORITHMS (RFC 8489 §14.11): the list, each entry's parameters padded to 4 bytes
 * (the last entry's padding may fall in the attribute padding). Null when an entry overruns.
 */
export function readPasswordAlgorithms(msg: StunMessage, index: number): PasswordAlgorithmValue[] | null {
  const vo = valueOffset(msg, index, -1);
  if (vo < 0) return null;
  const end = vo + msg.attrLengths[index];
  const out: PasswordAlgorithmValue[] = [];
  let p = vo;
  while (p < end) {
    if (end - p < 4) return null;
    const paramsLength = msg.buf.readUInt16BE(p + 2);
    if (p + 4 + paramsLength > end) return null;
    out.push({ algorithm: msg.buf.readUInt16BE(p), params: msg.buf.subarray(p + 4, p + 4 + paramsLength) });
    p += 4 + ((paramsLength + 3) & ~3);
  }
  return out;
}
