/**
 * StunWriter: builds a STUN message in place in a caller-owned Buffer (callers size it at 1500+
 * bytes). Methods return `this`; the only exception thrown is a RangeError when the target is too
 * small (or a value exceeds the 16-bit length). A writer is reusable: `begin` starts over.
 *
 *   const w = new StunWriter(out);
 *   w.begin(messageType(METHOD_BINDING, CLASS_SUCCESS), req.buf, req.tidOffset)
 *     .addXorAddress(ATTR_XOR_MAPPED_ADDRESS, 4, ipBytes, port)
 *     .addFingerprint();
 *   socket.send(out, 0, w.finish(), ...);
 */
import { createHmac } from 'node:crypto';
import { writeIpBytes, writeMappedAddress, writeXorAddress, type IpFamily } from './address.js';
import {
  ATTR_ADDRESS_ERROR_CODE,
  ATTR_CHANNEL_NUMBER,
  ATTR_ERROR_CODE,
  ATTR_EVEN_PORT,
  ATTR_FINGERPRINT,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_MESSAGE_INTEGRITY_SHA256,
  ATTR_PASSWORD_ALGORITHM,
  ATTR_PASSWORD_ALGORITHMS,
  ATTR_REQUESTED_TRANSPORT,
  ATTR_UNKNOWN_ATTRIBUTES,
  FAMILY_IPV4,
  FAMILY_IPV6,
  HEADER_LENGTH,
  MAGIC_COOKIE,
} from './constants.js';
import { reasonPhrase } from './error-codes.js';
import { FINGERPRINT_XOR, crc32, type IntegrityKey } from './integrity.js';

export class StunWriter {
  /** Byte used for attribute padding. RFC 8489 says zero; only tests reproducing RFC 5769 (0x20) change it. */
  padByte = 0;
  private start: number;
  private pos: number;

  constructor(
    readonly target: Buffer,
    offset = 0,
  ) {
    this.start = offset;
    this.pos = offset;
  }

  /** Bytes written so far (header included). */
  get length(): number {
    return this.pos - this.start;
  }

  /** Starts a message: type, cookie and the transaction id copied from tidBuf[tidOffset, +12). */
  begin(type: number, tidBuf: Buffer, tidOffset = 0): this {
    this.pos = this.start;
    this.ensure(HEADER_LENGTH);
    const t = this.target;
    const s = this.start;
    t.writeUInt16BE(type & 0x3fff, s);
    t.writeUInt16BE(0, s + 2);
    t.writeUInt32BE(MAGIC_COOKIE, s + 4);
    tidBuf.copy(t, s + 8, tidOffset, tidOffset + 12);
    this.pos = s + HEADER_LENGTH;
    return this;
  }

  addXorAddress(attrType: number, family: IpFamily, ipBytes: Buffer, port: number, ipOffset = 0): this {
    const t = this.target;
    this.pos += writeXorAddress(t, this.pos, attrType, family, ipBytes, ipOffset, port, t, this.start + 8);
    return this;
  }

  /**
   * XOR address from IP text (e.g. rinfo.address), parsed straight into the message: no allocation.
   * Returns false (nothing added) when `ip` is not an address of `family`.
   */
  addXorAddressString(attrType: number, family: IpFamily, ip: string, port: number): boolean {
    const ipLen = family === 4 ? 4 : 16;
    this.ensure(8 + ipLen);
    const t = this.target;
    if (!writeIpBytes(t, this.pos + 8, ip, family)) return false;
    this.pos += writeXorAddress(t, this.pos, attrType, family, t, this.pos + 8, port, t, this.start + 8);
    return true;
  }

  addMappedAddress(attrType: number, family: IpFamily, ipBytes: Buffer, port: number, ipOffset = 0): this {
    this.pos += writeMappedAddress(this.target, this.pos, attrType, family, ipBytes, ipOffset, port);
    return this;
  }

  addUint32(attrType: number, value: number): this {
    this.header(attrType, 4);
    this.target.writeUInt32BE(value >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** UTF-8 text attribute (USERNAME, REALM, NONCE, SOFTWARE...), zero-padded. */
  addString(attrType: number, s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.header(attrType, len);
    this.target.write(s, this.pos, len, 'utf8');
    this.pos += len;
    return this.pad(len);
  }

  addBytes(attrType: number, buf: Uint8Array, off: number, len: number): this {
    if (off < 0 || len < 0 || off + len > buf.length) throw new RangeError('addBytes: source out of range');
    this.header(attrType, len);
    this.target.set(buf.subarray(off, off + len), this.pos);
    this.pos += len;
    return this.pad(len);
  }

  /** A zero-length attribute (DONT-FRAGMENT). */
  addEmpty(attrType: number): this {
    this.header(attrType, 0);
    return this;
  }

  addErrorCode(code: number, reason: string = reasonPhrase(code)): this {
    return this.codeAndReason(ATTR_ERROR_CODE, 0, code, reason);
  }

  /** ADDRESS-ERROR-CODE (RFC 8656 §18.12): an error for one family of a dual allocation. */
  addAddressErrorCode(family: IpFamily, code: number, reason: string = reasonPhrase(code)): this {
    return this.codeAndReason(ATTR_ADDRESS_ERROR_CODE, family === 4 ? FAMILY_IPV4 : FAMILY_IPV6, code, reason);
  }

  addUnknownAttributes(types: readonly number[]): this {
    const len = types.length * 2;
    this.header(ATTR_UNKNOWN_ATTRIBUTES, len);
    for (const t of types) {
      this.target.writeUInt16BE(t & 0xffff, this.pos);
      this.pos += 2;
    }
    return this.pad(len);
  }

  addChannelNumber(n: number): this {
    this.header(ATTR_CHANNEL_NUMBER, 4);
    this.target.writeUInt16BE(n & 0xffff, this.pos);
    this.target.writeUInt16BE(0, this.pos + 2);
    this.pos += 4;
    return this;
  }

  /** REQUESTED-TRANSPORT with protocol number `proto` (17 = UDP). */
  addRequestedTransport(proto: number): this {
    this.header(ATTR_REQUESTED_TRANSPORT, 4);
    this.target.writeUInt32BE(((proto & 0xff) << 24) >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY. */
  addAddressFamily(attrType: number, family: IpFamily): this {
    this.header(attrType, 4);
    this.target.writeUInt32BE((family === 4 ? FAMILY_IPV4 : FAMILY_IPV6) * 0x1000000, this.pos);
    this.pos += 4;
    return this;
  }

  addEvenPort(reserve: boolean): this {
    this.header(ATTR_EVEN_PORT, 1);
    this.target[this.pos++] = reserve ? 0x80 : 0;
    return this.pad(1);
  }

  /** PASSWORD-ALGORITHMS listing `algorithms` (no parameters: MD5 and SHA-256 take none). */
  addPasswordAlgorithms(algorithms: readonly number[]): this {
    this.header(ATTR_PASSWORD_ALGORITHMS, algorithms.length * 4);
    for (const a of algorithms) {
      this.target.writeUInt16BE(a & 0xffff, this.pos);
      this.target.writeUInt16BE(0, this.pos + 2);
      this.pos += 4;
    }
    return this;
  }

  addPasswordAlgorithm(algorithm: number): this {
    this.header(ATTR_PASSWORD_ALGORITHM, 4);
    this.target.writeUInt16BE(algorithm & 0xffff, this.pos);
    this.target.writeUInt16BE(0, this.pos + 2);
    this.pos += 4;
    return this;
  }

  /** MESSAGE-INTEGRITY: HMAC-SHA1 over the message so far, header length covering this attribute. */
  addMessageIntegrity(key: IntegrityKey): this {
    return this.hmac(ATTR_MESSAGE_INTEGRITY, 'sha1', key);
  }

  /** MESSAGE-INTEGRITY-SHA256 with the full 32-byte HMAC. */
  addMessageIntegritySha256(key: IntegrityKey): this {
    return this.hmac(ATTR_MESSAGE_INTEGRITY_SHA256, 'sha256', key);
  }

  /** FINGERPRINT: CRC-32 ^ 0x5354554e over the message so far, header length including it. Add it last. */
  addFingerprint(): this {
    this.ensure(8);
    this.setLength(this.pos + 8);
    const crc = (crc32(this.target, this.start, this.pos - this.start) ^ FINGERPRINT_XOR) >>> 0;
    this.header(ATTR_FINGERPRINT, 4);
    this.target.writeUInt32BE(crc, this.pos);
    this.pos += 4;
    return this;
  }

  /** Sets the header length and returns the total message length in bytes. */
  finish(): number {
    this.setLength(this.pos);
    return this.pos - this.start;
  }

  private hmac(attrType: number, algorithm: 'sha1' | 'sha256', key: IntegrityKey): this {
    const size = algorithm === 'sha1' ? 20 : 32;
    this.ensure(4 + size);
    this.setLength(this.pos + 4 + size);
    const digest = createHmac(algorithm, key).update(this.target.subarray(this.start, this.pos)).digest();
    this.header(attrType, size);
    digest.copy(this.target, this.pos);
    this.pos += size;
    return this;
  }

  private codeAndReason(attrType: number, first: number, code: number, reason: string): this {
    if (!(code >= 300 && code <= 699)) throw new RangeError(`error code out of range: ${code}`);
    const rlen = Buffer.byteLength(reason, 'utf8');
    this.header(attrType, 4 + rlen);
    const t = this.target;
    t[this.pos] = first;
    t[this.pos + 1] = 0;
    t[this.pos + 2] = Math.floor(code / 100);
    t[this.pos + 3] = code % 100;
    t.write(reason, this.pos + 4, rlen, 'utf8');
    this.pos += 4 + rlen;
    return this.pad(rlen);
  }

  private setLength(end: number): void {
    this.target.writeUInt16BE(end - this.start - HEADER_LENGTH, this.start + 2);
  }

  /** Writes an attribute header after checking the whole padded attribute fits. */
  private header(attrType: number, len: number): void {
    if (len > 0xffff) throw new RangeError('attribute value longer than 65535 bytes');
    this.ensure(4 + ((len + 3) & ~3));
    this.target.writeUInt16BE(attrType & 0xffff, this.pos);
    this.target.writeUInt16BE(len, this.pos + 2);
    this.pos += 4;
  }

  private pad(len: number): this {
    const n = (4 - (len & 3)) & 3;
    for (let i = 0; i < n; i++) this.target[this.pos++] = this.padByte;
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.target.length || this.pos + n - this.start > HEADER_LENGTH + 0xfffc) {
      throw new RangeError('StunWriter: target buffer too small');
    }
  }
}
