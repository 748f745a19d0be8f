/**
 * RFC 5769 test vectors, byte for byte. Note: vectors 2.1-2.3 pad SOFTWARE and USERNAME with
 * 0x20 (spaces) on purpose, to show receivers must ignore padding; RFC 8489 has senders pad with
 * zeros. StunWriter pads with zeros; its `padByte` knob is set to 0x20 here only to reproduce
 * those vectors exactly, and a zero-padded re-encoding is checked to differ only in the padding
 * and the (recomputed) MESSAGE-INTEGRITY/FINGERPRINT values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  ATTR_FINGERPRINT,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_NONCE,
  ATTR_REALM,
  ATTR_SOFTWARE,
  ATTR_USERNAME,
  ATTR_XOR_MAPPED_ADDRESS,
  CLASS_REQUEST,
  CLASS_SUCCESS,
  MAX_NONCE_BYTES,
  MAX_REALM_BYTES,
  MAX_SOFTWARE_BYTES,
  MAX_USERNAME_BYTES,
  METHOD_BINDING,
  messageType,
} from '../../../../turn/codec/constants.js';
import { decodeMessage, type StunMessage } from '../../../../turn/codec/message.js';
import { checkFingerprint, checkMessageIntegrity } from '../../../../turn/codec/integrity.js';
import { readString } from '../../../../turn/codec/attributes.js';
import { parseIp, readXorAddress } from '../../../../turn/codec/address.js';
import { StunWriter } from '../../../../turn/codec/writer.js';
import { hex } from '../../../helpers/bytes.js';

const PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';

const REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);

const IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);

const IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

const LONG_TERM_REQUEST = hex(`
  00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
  00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66`);

const LT_USERNAME = '\u30de\u30c8\u30ea\u30c3\u30af\u30b9';
const LT_REALM = 'example.org';
const LT_NONCE = 'f//499k954d6OL34oL9FSTvy64sA';
/** "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep is "TheMatrIX"; key = MD5(user:realm:pass). */
const LT_KEY = createHash('md5').update(`${LT_USERNAME}:${LT_REALM}:TheMatrIX`).digest();

function decode(buf: Buffer): StunMessage {
  const msg = decodeMessage(buf);
  assert.ok(msg, 'decodes');
  return msg;
}

test('2.1 sample request: decode, MESSAGE-INTEGRITY, FINGERPRINT', () => {
  const msg = decode(REQUEST);
  assert.equal(msg.type, messageType(METHOD_BINDING, CLASS_REQUEST));
  assert.equal(msg.length, 108);
  assert.deepEqual(msg.attrTypes, [0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028]);
  assert.equal(msg.transactionId().toString('hex'), 'b7e7a701bc34d686fa87dfae');
  assert.equal(readString(msg, msg.index(ATTR_SOFTWARE), MAX_SOFTWARE_BYTES), 'STUN test client');
  assert.equal(readString(msg, msg.index(ATTR_USERNAME), MAX_USERNAME_BYTES), 'evtj:h6vY');
  assert.equal(msg.integrityIndex, 4);
  assert.equal(msg.fingerprintIndex, 5);
  assert.equal(checkMessageIntegrity(msg, PASSWORD), true);
  assert.equal(checkMessageIntegrity(msg, Buffer.from(PASSWORD)), true);
  assert.equal(checkMessageIntegrity(msg, 'wrong'), false);
  assert.equal(checkFingerprint(msg), true);
  // PRIORITY (0x0024) is an ICE attribute this TURN codec does not know.
  assert.deepEqual(msg.unknownComprehensionRequired(), [0x0024]);
});

test('2.1 sample request: re-encoded byte for byte (0x20 padding)', () => {
  const out = Buffer.alloc(1500);
  const w = new StunWriter(out);
  w.padByte = 0x20;
  w.begin(messageType(METHOD_BINDING, CLASS_REQUEST), REQUEST, 8)
    .addString(ATTR_SOFTWARE, 'STUN test client')
    .addBytes(0x0024, hex('6e0001ff'), 0, 4)
    .addBytes(0x8029, hex('932ff9b151263b36'), 0, 8)
    .addString(ATTR_USERNAME, 'evtj:h6vY')
    .addMessageIntegrity(PASSWORD)
    .addFingerprint();
  const n = w.finish();
  assert.equal(out.subarray(0, n).toString('hex'), REQUEST.toString('hex'));
});

test('2.1 re-encoded with zero padding differs only in padding, MI and FINGERPRINT', () => {
  const out = Buffer.alloc(1500);
  const w = new StunWriter(out);
  const n = w
    .begin(messageType(METHOD_BINDING, CLASS_REQUEST), REQUEST, 8)
    .addString(ATTR_SOFTWARE, 'STUN test client')
    .addBytes(0x0024, hex('6e0001ff'), 0, 4)
    .addBytes(0x8029, hex('932ff9b151263b36'), 0, 8)
    .addString(ATTR_USERNAME, 'evtj:h6vY')
    .addMessageIntegrity(PASSWORD)
    .addFingerprint()
    .finish();
  assert.equal(n, REQUEST.length);
  const msg = decode(out.subarray(0, n));
  assert.equal(checkMessageIntegrity(msg, PASSWORD), true);
  assert.equal(checkFingerprint(msg), true);
  const differing: number[] = [];
  for (let i = 0; i < n; i++) if (out[i] !== REQUEST[i]) differing.push(i);
  const padding = [73, 74, 75]; // USERNAME value is bytes 64..72
  const miValue = Array.from({ length: 20 }, (_, i) => 80 + i);
  const fpValue = [104, 105, 106, 107];
  const allowed = new Set([...padding, ...miValue, ...fpValue]);
  for (const i of differing) assert.ok(allowed.has(i), `byte ${i} differs`);
  for (const i of padding) assert.equal(out[i], 0);
});

function checkResponse(vector: Buffer, family: 4 | 6, address: string): void {
  const msg = decode(vector);
  assert.equal(msg.type, messageType(METHOD_BINDING, CLASS_SUCCESS));
  assert.equal(readString(msg, msg.index(ATTR_SOFTWARE), MAX_SOFTWARE_BYTES), 'test vector');
  assert.deepEqual(readXorAddress(msg, msg.index(ATTR_XOR_MAPPED_ADDRESS)), { family, address, port: 32853 });
  assert.equal(checkMessageIntegrity(msg, PASSWORD), true);
  assert.equal(checkFingerprint(msg), true);
  assert.deepEqual(msg.unknownComprehensionRequired(), []);

  const ip = parseIp(address);
  assert.ok(ip);
  const out = Buffer.alloc(1500);
  const w = new StunWriter(out);
  w.padByte = 0x20;
  const n = w
    .begin(msg.type, vector, 8)
    .addString(ATTR_SOFTWARE, 'test vector')
    .addXorAddress(ATTR_XOR_MAPPED_ADDRESS, family, ip.bytes, 32853)
    .addMessageIntegrity(PASSWORD)
    .addFingerprint()
    .finish();
  assert.equal(out.subarray(0, n).toString('hex'), vector.toString('hex'));

  // Same bytes through the no-allocation string path.
  const w2 = new StunWriter(Buffer.alloc(1500));
  w2.padByte = 0x20;
  w2.begin(msg.type, vector, 8).addString(ATTR_SOFTWARE, 'test vector');
  assert.equal(w2.addXorAddressString(ATTR_XOR_MAPPED_ADDRESS, family, address, 32853), true);
  const n2 = w2.addMessageIntegrity(PASSWORD).addFingerprint().finish();
  assert.equal(w2.target.subarray(0, n2).toString('hex'), vector.toString('hex'));
}

test('2.2 sample IPv4 response: decode, verify, re-encode byte for byte', () => {
  checkResponse(IPV4_RESPONSE, 4, '192.0.2.1');
});

test('2.3 sample IPv6 response: decode, verify, re-encode byte for byte', () => {
  checkResponse(IPV6_RESPONSE, 6, '2001:db8:1234:5678:11:2233:4455:6677');
});

test('2.4 long-term authentication request: decode, verify, re-encode byte for byte', () => {
  const msg = decode(LONG_TERM_REQUEST);
  assert.equal(readString(msg, msg.index(ATTR_USERNAME), MAX_USERNAME_BYTES), LT_USERNAME);
  assert.equal(readString(msg, msg.index(ATTR_NONCE), MAX_NONCE_BYTES), LT_NONCE);
  assert.equal(readString(msg, msg.index(ATTR_REALM), MAX_REALM_BYTES), LT_REALM);
  assert.equal(msg.fingerprintIndex, -1);
  assert.equal(msg.integrityIndex, msg.index(ATTR_MESSAGE_INTEGRITY));
  assert.equal(checkMessageIntegrity(msg, LT_KEY), true);
  assert.equal(checkFingerprint(msg), false);

  // 2.4 pads with zeros, so the default writer reproduces it exactly.
  const out = Buffer.alloc(1500);
  const n = new StunWriter(out)
    .begin(msg.type, LONG_TERM_REQUEST, 8)
    .addString(ATTR_USERNAME, LT_USERNAME)
    .addString(ATTR_NONCE, LT_NONCE)
    .addString(ATTR_REALM, LT_REALM)
    .addMessageIntegrity(LT_KEY)
    .finish();
  assert.equal(out.subarray(0, n).toString('hex'), LONG_TERM_REQUEST.toString('hex'));
});

test('vectors decode at an offset inside a larger buffer', () => {
  for (const v of [REQUEST, IPV4_RESPONSE, IPV6_RESPONSE]) {
    const big = Buffer.concat([Buffer.alloc(13, 0xee), v, Buffer.alloc(7, 0xee)]);
    const msg = decodeMessage(big, 13, v.length);
    assert.ok(msg);
    assert.equal(msg.offset, 13);
    assert.equal(msg.tidOffset, 21);
    assert.equal(checkMessageIntegrity(msg, PASSWORD), true);
    assert.equal(checkFingerprint(msg), true);
    assert.equal(decodeMessage(big, 13, v.length + 1), null, 'exact length required');
  }
});

test('any flipped bit breaks MESSAGE-INTEGRITY or FINGERPRINT, and the input is not mutated', () => {
  const copy = Buffer.from(REQUEST);
  for (let i = 0; i < REQUEST.length; i++) {
    const b = Buffer.from(REQUEST);
    b[i] ^= 0x01;
    const msg = decodeMessage(b);
    if (msg === null) continue; // header/structure damage
    const bothOk = checkMessageIntegrity(msg, PASSWORD) && checkFingerprint(msg);
    assert.equal(bothOk, false, `byte ${i}`);
  }
  const msg = decode(REQUEST);
  checkMessageIntegrity(msg, PASSWORD);
  checkFingerprint(msg);
  assert.deepEqual(REQUEST, copy);
  assert.equal(msg.fingerprintIndex, msg.attrTypes.indexOf(ATTR_FINGERPRINT));
});
