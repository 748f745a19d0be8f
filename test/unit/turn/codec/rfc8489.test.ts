/**
 * RFC 8489 Appendix B.1: request with long-term authentication, MESSAGE-INTEGRITY-SHA256,
 * USERHASH and PASSWORD-ALGORITHM. The RFC as published has a wrong header length (0x9c, the
 * whole message) and omits PASSWORD-ALGORITHM; this is the corrected vector of Errata ID 6268
 * (length 0x90, PASSWORD-ALGORITHM SHA-256, recomputed HMAC).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import {
  ATTR_MESSAGE_INTEGRITY_SHA256,
  ATTR_NONCE,
  ATTR_REALM,
  ATTR_USERHASH,
  CLASS_REQUEST,
  MAX_NONCE_BYTES,
  MAX_REALM_BYTES,
  METHOD_BINDING,
  PASSWORD_ALGORITHM_SHA256,
  ATTR_PASSWORD_ALGORITHM,
  messageType,
} from '../../../../turn/codec/constants.js';
import { decodeMessage } from '../../../../turn/codec/message.js';
import { checkMessageIntegritySha256, checkMessageIntegrity } from '../../../../turn/codec/integrity.js';
import { readPasswordAlgorithm, readString } from '../../../../turn/codec/attributes.js';
import { StunWriter } from '../../../../turn/codec/writer.js';
import { hex } from '../../../helpers/bytes.js';

const VECTOR = hex(`
  00 01 00 90 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 1e 00 20 4a 3c f3 8f ef 69 92 bd a9 52 c6 78 04 17 da 0f 24 81 94 15 56 9e 60 b2 05 c4 6e 41 40 7f 17 04
  00 15 00 29 6f 62 4d 61 74 4a 6f 73 32 41 41 41 43 66 2f 2f 34 39 39 6b 39 35 34 64
              36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41 00 00 00
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 1d 00 04 00 02 00 00
  00 1c 00 20 b5 c7 bf 00 5b 6c 52 a2 1c 51 c5 e8 92 f8 19 24 13 62 96 cb 92 7c 43 14 93 09 27 8c c6 51 8e 65`);

const USERNAME = '\u30de\u30c8\u30ea\u30c3\u30af\u30b9';
const REALM = 'example.org';
const NONCE = 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA';
/** Password "The<U+00AD>M<U+00AA>tr<U+2168>" is "TheMatrIX" after OpaqueString. */
const KEY = createHash('sha256').update(`${USERNAME}:${REALM}:TheMatrIX`).digest();
const USERHASH = createHash('sha256').update(`${USERNAME}:${REALM}`).digest();

test('B.1: decode and verify MESSAGE-INTEGRITY-SHA256', () => {
  const msg = decodeMessage(VECTOR);
  assert.ok(msg);
  assert.equal(msg.type, messageType(METHOD_BINDING, CLASS_REQUEST));
  assert.deepEqual(msg.attrTypes, [0x001e, 0x0015, 0x0014, 0x001d, 0x001c]);
  assert.deepEqual(msg.attrValue(msg.index(ATTR_USERHASH)), USERHASH);
  assert.equal(readString(msg, msg.index(ATTR_NONCE), MAX_NONCE_BYTES), NONCE);
  assert.equal(readString(msg, msg.index(ATTR_REALM), MAX_REALM_BYTES), REALM);
  const alg = readPasswordAlgorithm(msg, msg.index(ATTR_PASSWORD_ALGORITHM));
  assert.ok(alg);
  assert.equal(alg.algorithm, PASSWORD_ALGORITHM_SHA256);
  assert.equal(alg.params.length, 0);
  assert.equal(msg.integritySha256Index, msg.index(ATTR_MESSAGE_INTEGRITY_SHA256));
  assert.equal(msg.integrityIndex, -1);
  assert.equal(checkMessageIntegritySha256(msg, KEY), true);
  assert.equal(checkMessageIntegritySha256(msg, createHash('md5').update('x').digest()), false);
  assert.equal(checkMessageIntegrity(msg, KEY), false);
  assert.deepEqual(msg.unknownComprehensionRequired(), []);
});

test('B.1: re-encoded byte for byte', () => {
  const out = Buffer.alloc(1500);
  const n = new StunWriter(out)
    .begin(messageType(METHOD_BINDING, CLASS_REQUEST), VECTOR, 8)
    .addBytes(ATTR_USERHASH, USERHASH, 0, 32)
    .addString(ATTR_NONCE, NONCE)
    .addString(ATTR_REALM, REALM)
    .addPasswordAlgorithm(PASSWORD_ALGORITHM_SHA256)
    .addMessageIntegritySha256(KEY)
    .finish();
  assert.equal(out.subarray(0, n).toString('hex'), VECTOR.toString('hex'));
});

test('truncated MESSAGE-INTEGRITY-SHA256 (16..32 bytes, step 4) verifies; other sizes are invalid', () => {
  const prefix = VECTOR.subarray(0, VECTOR.length - 36); // everything before the MI-SHA256 header
  for (const size of [16, 20, 24, 28, 32]) {
    const b = Buffer.alloc(prefix.length + 4 + size);
    prefix.copy(b);
    b.writeUInt16BE(b.length - 20, 2);
    const mac = createHmac('sha256', KEY).update(b.subarray(0, prefix.length)).digest();
    b.writeUInt16BE(ATTR_MESSAGE_INTEGRITY_SHA256, prefix.length);
    b.writeUInt16BE(size, prefix.length + 2);
    mac.copy(b, prefix.length + 4, 0, size);
    if (size === 32) assert.deepEqual(b, VECTOR);
    const msg = decodeMessage(b);
    assert.ok(msg, `size ${size}`);
    assert.equal(checkMessageIntegritySha256(msg, KEY), true, `size ${size}`);
    b[b.length - 1] ^= 1;
    assert.equal(checkMessageIntegritySha256(msg, KEY), false, `size ${size} tampered`);
  }
  for (const size of [0, 12, 18, 36]) {
    const b = Buffer.alloc(prefix.length + 4 + ((size + 3) & ~3));
    prefix.copy(b);
    b.writeUInt16BE(b.length - 20, 2);
    b.writeUInt16BE(ATTR_MESSAGE_INTEGRITY_SHA256, prefix.length);
    b.writeUInt16BE(size, prefix.length + 2);
    assert.equal(decodeMessage(b), null, `size ${size}`);
  }
});
