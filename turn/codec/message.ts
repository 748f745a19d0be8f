/**
 * Zero-copy STUN message decoder (RFC 8489 §5, §14, §14.5-14.7).
 *
 * `decodeMessage` validates the header and walks the attributes once, recording each attribute's
 * type, absolute value offset and length over the ORIGINAL buffer. Nothing is copied; readers in
 * address.ts / attributes.ts parse values lazily. Bad input yields null, never an exception.
 * The message stays valid only as long as the caller does not overwrite the buffer.
 */
import {
  ATTR_FINGERPRINT,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_MESSAGE_INTEGRITY_SHA256,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  MAX_ATTRIBUTES,
  classOf,
  isComprehensionRequired,
  isKnownAttribute,
  methodOf,
} from './constants.js';

export class StunMessage {
  /** Views into `buf`, kept for fast access by the engine. */
  constructor(
    readonly buf: Buffer,
    /** Start of the message in `buf`. */
    readonly offset: number,
    /** Total bytes including the 20-byte header. */
    readonly length: number,
    readonly type: number,
    readonly method: number,
    readonly cls: number,
    /** Absolute offset of the 12-byte transaction id. */
    readonly tidOffset: number,
    readonly attrTypes: number[],
    /** Absolute offsets (into `buf`) of each attribute's value. */
    readonly attrValueOffsets: number[],
    /** Unpadded value lengths. */
    readonly attrLengths: number[],
    /** Index (into attrTypes) of MESSAGE-INTEGRITY, or -1. */
    readonly integrityIndex: number,
    /** Index of MESSAGE-INTEGRITY-SHA256, or -1. */
    readonly integritySha256Index: number,
    /** Index of FINGERPRINT, or -1. */
    readonly fingerprintIndex: number,
  ) {}

  /**
   * Index of the first attribute of `type`, or -1. Attributes that followed MESSAGE-INTEGRITY
   * (other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT) were never recorded, so they are not found.
   */
  index(type: number): number {
    const types = this.attrTypes;
    for (let i = 0; i < types.length; i++) if (types[i] === type) return i;
    return -1;
  }

  has(type: number): boolean {
    return this.index(type) !== -1;
  }

  /** The 12-byte transaction id as a view (no copy) into `buf`. */
  transactionId(): Buffer {
    return this.buf.subarray(this.tidOffset, this.tidOffset + 12);
  }

  /** The value of attribute `index` as a view (no copy), or an empty view when out of range. */
  attrValue(index: number): Buffer {
    if (index < 0 || index >= this.attrTypes.length) return this.buf.subarray(0, 0);
    const start = this.attrValueOffsets[index];
    return this.buf.subarray(start, start + this.attrLengths[index]);
  }

  /** Comprehension-required types (< 0x8000) this codec does not know, each listed once. */
  unknownComprehensionRequired(): number[] {
    const out: number[] = [];
    for (const t of this.attrTypes) {
      if (isComprehensionRequired(t) && !isKnownAttribute(t) && !out.includes(t)) out.push(t);
    }
    return out;
  }
}

/** Cheap demultiplexing test (RFC 7983): first byte < 0x40 and the magic cookie in place. */
export function isStunHeader(buf: Buffer, offset = 0): boolean {
  if (offset < 0 || buf.length - offset < 8) return false;
  return buf[offset] < 0x40 && readU32(buf, offset + 4) === MAGIC_COOKIE;
}

/**
 * For stream framing: the total length (header + body) of the STUN message starting at `offset`
 * given `available` bytes there. Returns -1 when the bytes seen are not STUN-shaped (first two bits
 * not zero, wrong cookie, length not a multiple of 4), and 0 when fewer than 20 bytes are available
 * and nothing seen so far contradicts STUN (read more).
 */
export function stunMessageLength(buf: Buffer, offset: number, available: number): number {
  const avail = Math.min(available, buf.length - offset);
  if (offset < 0 || avail <= 0) return 0;
  if ((buf[offset] & 0xc0) !== 0) return -1;
  if (avail >= 4 && (buf[offset + 3] & 3) !== 0) return -1;
  const n = avail < 8 ? avail : 8;
  for (let i = 4; i < n; i++) {
    if (buf[offset + i] !== ((MAGIC_COOKIE >>> ((7 - i) * 8)) & 0xff)) return -1;
  }
  if (avail < HEADER_LENGTH) return 0;
  return HEADER_LENGTH + ((buf[offset + 2] << 8) | buf[offset + 3]);
}

/**
 * Decodes the STUN message occupying exactly `length` bytes at `offset`. Returns null on any
 * violation: short buffer, first two bits set, wrong cookie, body length not a multiple of 4 or not
 * equal to `length - 20`, an attribute (with its padding) overrunning the body, more than
 * MAX_ATTRIBUTES attributes, MESSAGE-INTEGRITY not 20 bytes, MESSAGE-INTEGRITY-SHA256 not 16..32
 * bytes in steps of 4, FINGERPRINT not 4 bytes, or anything after FINGERPRINT.
 *
 * Per RFC 8489 §14.5/14.6, attributes after MESSAGE-INTEGRITY (or -SHA256) are skipped (not recorded),
 * except a MESSAGE-INTEGRITY-SHA256 following MESSAGE-INTEGRITY and FINGERPRINT.
 */
export function decodeMessage(
  buf: Buffer,
  offset = 0,
  length: number = buf.length - offset,
): StunMessage | null {
  if (!(offset >= 0) || !(length >= HEADER_LENGTH) || offset + length > buf.length) return null;
  const type = (buf[offset] << 8) | buf[offset + 1];
  if ((type & 0xc000) !== 0) return null;
  if (readU32(buf, offset + 4) !== MAGIC_COOKIE) return null;
  const bodyLength = (buf[offset + 2] << 8) | buf[offset + 3];
  if ((bodyLength & 3) !== 0 || HEADER_LENGTH + bodyLength !== length) return null;

  const attrTypes: number[] = [];
  const attrValueOffsets: number[] = [];
  const attrLengths: number[] = [];
  let integrity = -1;
  let integrity256 = -1;
  let fingerprint = -1;
  let walked = 0;
  const end = offset + length;
  let p = offset + HEADER_LENGTH;
  while (p < end) {
    if (end - p < 4) return null;
    if (fingerprint !== -1) return null; // FINGERPRINT must be last
    if (++walked > MAX_ATTRIBUTES) return null;
    const t = (buf[p] << 8) | buf[p + 1];
    const len = (buf[p + 2] << 8) | buf[p + 3];
    const valueOffset = p + 4;
    const next = valueOffset + ((len + 3) & ~3);
    if (next > end) return null;
    p = next;

    let record = true;
    if (t === ATTR_FINGERPRINT) {
      if (len !== 4) return null;
      fingerprint = attrTypes.length;
    } else if (integrity !== -1 || integrity256 !== -1) {
      // After an integrity attribute only MI-SHA256 (once, after MI) counts; the rest is ignored.
      if (t === ATTR_MESSAGE_INTEGRITY_SHA256 && integrity256 === -1) {
        if (!validSha256Length(len)) return null;
        integrity256 = attrTypes.length;
      } else {
        record = false;
      }
    } else if (t === ATTR_MESSAGE_INTEGRITY) {
      if (len !== 20) return null;
      integrity = attrTypes.length;
    } else if (t === ATTR_MESSAGE_INTEGRITY_SHA256) {
      if (!validSha256Length(len)) return null;
      integrity256 = attrTypes.length;
    }
    if (record) {
      attrTypes.push(t);
      attrValueOffsets.push(valueOffset);
      attrLengths.push(len);
    }
  }
  return new StunMessage(
    buf,
    offset,
    length,
    type,
    methodOf(type),
    classOf(type),
    offset + 8,
    attrTypes,
    attrValueOffsets,
    attrLengths,
    integrity,
    integrity256,
    fingerprint,
  );
}

function validSha256Length(len: number): boolean {
  return len >= 16 && len <= 32 && (len & 3) === 0;
}

function readU32(buf: Buffer, o: number): number {
  return ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}
