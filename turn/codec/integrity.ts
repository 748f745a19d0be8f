/**
 * FINGERPRINT (CRC-32, RFC 8489 §14.7) and MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256
 * (HMAC-SHA1 / HMAC-SHA256, RFC 8489 §14.5-14.6) verification. Nothing here mutates the message
 * buffer: the header with its adjusted length is hashed from a private 20-byte copy.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HEADER_LENGTH } from './constants.js';
import type { StunMessage } from './message.js';

/** XOR applied to the CRC-32 in FINGERPRINT ("STUN"). */
export const FINGERPRINT_XOR = 0x5354554e;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC / IEEE 802.3, as zlib) of buf[off, off+len), unsigned. */
export function crc32(buf: Uint8Array, off: number, len: number): number {
  let c = 0xffffffff;
  const end = off + len;
  for (let i = off; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export type IntegrityKey = Buffer | string;

/** True when the message has a FINGERPRINT and it matches. */
export function checkFingerprint(msg: StunMessage): boolean {
  const i = msg.fingerprintIndex;
  if (i < 0 || msg.attrLengths[i] !== 4) return false;
  const vo = msg.attrValueOffsets[i];
  // FINGERPRINT is last, so the header length as sent already covers it.
  const expected = (crc32(msg.buf, msg.offset, vo - 4 - msg.offset) ^ FINGERPRINT_XOR) >>> 0;
  return msg.buf.readUInt32BE(vo) === expected;
}

const header = Buffer.alloc(HEADER_LENGTH);

/**
 * HMAC over the message up to the attribute at `index` (exclusive of its header), with the
 * header length set so the message appears to end right after that attribute.
 */
function hmacUpTo(msg: StunMessage, index: number, algorithm: 'sha1' | 'sha256', key: IntegrityKey): Buffer {
  const vo = msg.attrValueOffsets[index];
  const attrStart = vo - 4;
  const paddedEnd = vo + ((msg.attrLengths[index] + 3) & ~3);
  msg.buf.copy(header, 0, msg.offset, msg.offset + HEADER_LENGTH);
  header.writeUInt16BE(paddedEnd - msg.offset - HEADER_LENGTH, 2);
  const h = createHmac(algorithm, key);
  h.update(header);
  h.update(msg.buf.subarray(msg.offset + HEADER_LENGTH, attrStart));
  return h.digest();
}

/** Verifies MESSAGE-INTEGRITY (HMAC-SHA1, 20 bytes) with `key`, in constant time. */
export function checkMessageIntegrity(msg: StunMessage, key: IntegrityKey): boolean {
  const i = msg.integrityIndex;
  if (i < 0 || msg.attrLengths[i] !== 20) return false;
  const vo = msg.attrValueOffsets[i];
  return timingSafeEqual(hmacUpTo(msg, i, 'sha1', key), msg.buf.subarray(vo, vo + 20));
}

/**
 * Verifies MESSAGE-INTEGRITY-SHA256 with `key`: the value (16..32 bytes, a multiple of 4) must
 * equal the leading bytes of the HMAC-SHA256, compared in constant time.
 */
export function checkMessageIntegritySha256(msg: StunMessage, key: IntegrityKey): boolean {
  const i = msg.integritySha256Index;
  if (i < 0) return false;
  const len = msg.attrLengths[i];
  if (len < 16 || len > 32 || (len & 3) !== 0) return false;
  const vo = msg.attrValueOffsets[i];
  const digest = hmacUpTo(msg, i, 'sha256', key);
  return timingSafeEqual(digest.subarray(0, len), msg.buf.subarray(vo, vo + len));
}
