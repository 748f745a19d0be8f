import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ATTR_ADDITIONAL_ADDRESS_FAMILY,
  ATTR_ADDRESS_ERROR_CODE,
  ATTR_DATA,
  ATTR_DONT_FRAGMENT,
  ATTR_ERROR_CODE,
  ATTR_FINGERPRINT,
  ATTR_LIFETIME,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_MESSAGE_INTEGRITY_SHA256,
  ATTR_NONCE,
  ATTR_PASSWORD_ALGORITHMS,
  ATTR_REALM,
  ATTR_REQUESTED_ADDRESS_FAMILY,
  ATTR_SOFTWARE,
  ATTR_UNKNOWN_ATTRIBUTES,
  ATTR_USERNAME,
  CLASS_ERROR,
  CLASS_REQUEST,
  MAX_ATTRIBUTES,
  METHOD_ALLOCATE,
  PASSWORD_ALGORITHM_MD5,
  PASSWORD_ALGORITHM_SHA256,
  messageType,
} from '../../../../turn/codec/constants.js';
import { decodeMessage, isStunHeader, stunMessageLength } from '../../../../turn/codec/message.js';
import * as A from '../../../../turn/codec/attributes.js';
import {
  checkFingerprint,
  checkMessageIntegrity,
  checkMessageIntegritySha256,
  crc32,
} from '../../../../turn/codec/integrity.js';
import { StunWriter } from '../../../../turn/codec/writer.js';

const TID = Buffer.from('000102030405060708090a0b', 'hex');
const KEY = Buffer.from('0123456789abcdef');

function writer(size = 1500): StunWriter {
  return new StunWriter(Buffer.alloc(size)).begin(messageType(METHOD_ALLOCATE, CLASS_REQUEST), TID);
}

function bytes(w: StunWriter): Buffer {
  return w.target.subarray(0, w.finish());
}

test('header validation', () => {
  const ok = bytes(writer().addUint32(ATTR_LIFETIME, 600));
  assert.ok(decodeMessage(ok));
  assert.equal(decodeMessage(ok.subarray(0, 19)), null, 'short');
  const mutate = (f: (b: Buffer) => void) => {
    const b = Buffer.from(ok);
    f(b);
    return decodeMessage(b);
  };
  assert.equal(mutate((b) => (b[0] |= 0x80)), null, 'top bit');
  assert.equal(mutate((b) => (b[0] |= 0x40)), null, 'second bit');
  assert.equal(mutate((b) => (b[4] ^= 1)), null, 'cookie');
  assert.equal(mutate((b) => b.writeUInt16BE(6, 2)), null, 'length not multiple of 4');
  assert.equal(mutate((b) => b.writeUInt16BE(12, 2)), null, 'length beyond buffer');
  assert.equal(mutate((b) => b.writeUInt16BE(4, 2)), null, 'length shorter than buffer');
  assert.equal(mutate((b) => b.writeUInt16BE(5, 22)), null, 'attribute overruns body');
  assert.equal(decodeMessage(ok, 0, 40), null);
  assert.equal(decodeMessage(ok, -1), null);
  assert.equal(decodeMessage(Buffer.alloc(0)), null);
  const msg = decodeMessage(ok);
  assert.ok(msg);
  assert.equal(msg.method, METHOD_ALLOCATE);
  assert.equal(msg.cls, CLASS_REQUEST);
  assert.deepEqual(msg.transactionId(), TID);
  assert.equal(A.readUint32(msg, msg.index(ATTR_LIFETIME)), 600);
  assert.equal(msg.has(ATTR_LIFETIME), true);
  assert.equal(msg.has(ATTR_USERNAME), false);
});

test('isStunHeader and stunMessageLength', () => {
  const ok = bytes(writer().addUint32(ATTR_LIFETIME, 600));
  assert.equal(isStunHeader(ok, 0), true);
  assert.equal(isStunHeader(ok.subarray(0, 7), 0), false);
  assert.equal(isStunHeader(Buffer.from([0x40, 0, 0, 0, 0x21, 0x12, 0xa4, 0x42]), 0), false);
  assert.equal(stunMessageLength(ok, 0, ok.length), 28);
  assert.equal(stunMessageLength(ok, 0, 20), 28);
  for (let n = 0; n < 20; n++) assert.equal(stunMessageLength(ok, 0, n), 0, `prefix ${n}`);
  const bad = Buffer.from(ok);
  bad[5] = 0;
  assert.equal(stunMessageLength(bad, 0, 6), -1, 'cookie mismatch seen early');
  assert.equal(stunMessageLength(Buffer.from([0x80]), 0, 1), -1);
  assert.equal(stunMessageLength(Buffer.from([0, 1, 0, 3]), 0, 4), -1);
});

test('attributes after MESSAGE-INTEGRITY are ignored except MI-SHA256 and FINGERPRINT', () => {
  const w = writer()
    .addString(ATTR_USERNAME, 'alice')
    .addMessageIntegrity(KEY)
    .addString(ATTR_SOFTWARE, 'ignored')
    .addMessageIntegritySha256(KEY)
    .addUint32(ATTR_LIFETIME, 1)
    .addFingerprint();
  const msg = decodeMessage(bytes(w));
  assert.ok(msg);
  assert.deepEqual(msg.attrTypes, [ATTR_USERNAME, ATTR_MESSAGE_INTEGRITY, ATTR_MESSAGE_INTEGRITY_SHA256, ATTR_FINGERPRINT]);
  assert.equal(msg.index(ATTR_SOFTWARE), -1);
  assert.equal(msg.index(ATTR_LIFETIME), -1);
  assert.equal(msg.integrityIndex, 1);
  assert.equal(msg.integritySha256Index, 2);
  assert.equal(msg.fingerprintIndex, 3);
  assert.equal(checkMessageIntegrity(msg, KEY), true);
  // The ignored SOFTWARE still lies before MI-SHA256, so it is covered by that HMAC.
  assert.equal(checkMessageIntegritySha256(msg, KEY), true);
  assert.equal(checkFingerprint(msg), true);

  const w2 = writer().addString(ATTR_USERNAME, 'bob').addMessageIntegrity(KEY).addMessageIntegritySha256(KEY).addFingerprint();
  const msg2 = decodeMessage(bytes(w2));
  assert.ok(msg2);
  assert.equal(checkMessageIntegrity(msg2, KEY), true);
  assert.equal(checkMessageIntegritySha256(msg2, KEY), true);
  assert.equal(checkMessageIntegritySha256(msg2, Buffer.from('other')), false);
  assert.equal(checkFingerprint(msg2), true);

  // MI-SHA256 first: a later MESSAGE-INTEGRITY is ignored.
  const w3 = writer().addMessageIntegritySha256(KEY).addMessageIntegrity(KEY);
  const msg3 = decodeMessage(bytes(w3));
  assert.ok(msg3);
  assert.equal(msg3.integrityIndex, -1);
  assert.equal(msg3.integritySha256Index, 0);
});

test('anything after FINGERPRINT, bad MI/FP lengths and too many attributes are invalid', () => {
  const after = writer().addFingerprint().addEmpty(ATTR_DONT_FRAGMENT);
  assert.equal(decodeMessage(bytes(after)), null);
  const twoFp = writer().addFingerprint().addFingerprint();
  assert.equal(decodeMessage(bytes(twoFp)), null);
  assert.equal(decodeMessage(bytes(writer().addBytes(ATTR_MESSAGE_INTEGRITY, Buffer.alloc(16), 0, 16))), null);
  assert.equal(decodeMessage(bytes(writer().addBytes(ATTR_FINGERPRINT, Buffer.alloc(8), 0, 8))), null);
  const many = writer();
  for (let i = 0; i < MAX_ATTRIBUTES; i++) many.addEmpty(ATTR_DONT_FRAGMENT);
  assert.ok(decodeMessage(bytes(many)));
  many.addEmpty(ATTR_DONT_FRAGMENT);
  assert.equal(decodeMessage(bytes(many)), null);
});

test('unknown comprehension-required attributes', () => {
  const w = writer().addEmpty(0x0024).addEmpty(0x7fff).addEmpty(0x0024).addEmpty(0xc001).addEmpty(ATTR_DONT_FRAGMENT);
  const msg = decodeMessage(bytes(w));
  assert.ok(msg);
  assert.deepEqual(msg.unknownComprehensionRequired(), [0x0024, 0x7fff]);
});

test('readers and writers for every attribute family', () => {
  const data = Buffer.from('hello relay');
  const w = writer()
    .addUint32(ATTR_LIFETIME, 0xfffffffe)
    .addChannelNumber(0x4001)
    .addRequestedTransport(17)
    .addAddressFamily(ATTR_REQUESTED_ADDRESS_FAMILY, 6)
    .addAddressFamily(ATTR_ADDITIONAL_ADDRESS_FAMILY, 4)
    .addEvenPort(true)
    .addEvenPort(false)
    .addString(ATTR_REALM, 'réalm')
    .addErrorCode(438)
    .addErrorCode(599, 'Custom')
    .addUnknownAttributes([0x0024, 0x7f00, 0x0003])
    .addPasswordAlgorithms([PASSWORD_ALGORITHM_MD5, PASSWORD_ALGORITHM_SHA256])
    .addPasswordAlgorithm(PASSWORD_ALGORITHM_MD5)
    .addBytes(ATTR_DATA, data, 0, data.length)
    .addAddressErrorCode(6, 440);
  const msg = decodeMessage(bytes(w));
  assert.ok(msg);
  assert.equal(A.readUint32(msg, 0), 0xfffffffe);
  assert.equal(A.readChannelNumber(msg, 1), 0x4001);
  assert.equal(A.readRequestedTransport(msg, 2), 17);
  assert.equal(A.readAddressFamily(msg, 3), 6);
  assert.equal(A.readAddressFamily(msg, 4), 4);
  assert.deepEqual(A.readEvenPort(msg, 5), { reserve: true });
  assert.deepEqual(A.readEvenPort(msg, 6), { reserve: false });
  assert.equal(A.readString(msg, 7, 763), 'réalm');
  assert.equal(A.readString(msg, 7, 5), null, '6 bytes > 5');
  assert.deepEqual(A.readErrorCode(msg, 8), { code: 438, reason: 'Stale Nonce' });
  assert.deepEqual(A.readErrorCode(msg, 9), { code: 599, reason: 'Custom' });
  assert.deepEqual(A.readUnknownAttributes(msg, 10), [0x0024, 0x7f00, 0x0003]);
  assert.equal(msg.attrLengths[10], 6);
  const algs = A.readPasswordAlgorithms(msg, 11);
  assert.ok(algs);
  assert.deepEqual(algs.map((a) => a.algorithm), [1, 2]);
  assert.deepEqual(A.readPasswordAlgorithm(msg, 12)?.algorithm, 1);
  assert.deepEqual(msg.attrValue(13), data);
  assert.deepEqual(A.readAddressErrorCode(msg, 14), { family: 6, code: 440, reason: 'Address Family not Supported' });
  // Wrong lengths / types give null, never throw.
  assert.equal(A.readUint32(msg, 5), null);
  assert.equal(A.readChannelNumber(msg, 5), null);
  assert.equal(A.readRequestedTransport(msg, 13), null);
  assert.equal(A.readAddressFamily(msg, 13), null);
  assert.equal(A.readEvenPort(msg, 0), null);
  assert.equal(A.readErrorCode(msg, 5), null);
  assert.equal(A.readUint32(msg, 99), null);
  assert.equal(A.readString(msg, -1, 10), null);
  assert.deepEqual(A.readUnknownAttributes(msg, 99), []);
  assert.equal(A.readPasswordAlgorithm(msg, 5), null);
  assert.equal(A.readPasswordAlgorithms(msg, 5), null);
});

test('malformed values: unknown family, bad error class, overrunning algorithm params', () => {
  const w = writer()
    .addBytes(ATTR_REQUESTED_ADDRESS_FAMILY, Buffer.from([3, 0, 0, 0]), 0, 4)
    .addBytes(ATTR_ERROR_CODE, Buffer.from([0, 0, 2, 0]), 0, 4)
    .addBytes(ATTR_ERROR_CODE, Buffer.from([0, 0, 4, 100]), 0, 4)
    .addBytes(ATTR_PASSWORD_ALGORITHMS, Buffer.from([0, 1, 0, 8, 1, 2, 3, 4]), 0, 8)
    .addBytes(ATTR_PASSWORD_ALGORITHMS, Buffer.from([0, 1, 0, 3, 1, 2, 3, 0, 0, 2, 0, 0]), 0, 12)
    .addBytes(ATTR_ADDRESS_ERROR_CODE, Buffer.from([9, 0, 4, 0]), 0, 4);
  const msg = decodeMessage(bytes(w));
  assert.ok(msg);
  assert.equal(A.readAddressFamily(msg, 0), 0);
  assert.equal(A.readErrorCode(msg, 1), null);
  assert.equal(A.readErrorCode(msg, 2), null);
  assert.equal(A.readPasswordAlgorithms(msg, 3), null);
  const padded = A.readPasswordAlgorithms(msg, 4);
  assert.ok(padded);
  assert.deepEqual(padded.map((a) => [a.algorithm, a.params.toString('hex')]), [[1, '010203'], [2, '']]);
  assert.deepEqual(A.readAddressErrorCode(msg, 5), { family: 0, code: 400, reason: '' });
});

test('writer: RangeError only when the target is too small; finish sets the length', () => {
  const w = new StunWriter(Buffer.alloc(48));
  w.begin(messageType(METHOD_ALLOCATE, CLASS_ERROR), TID).addErrorCode(401);
  assert.throws(() => w.addString(ATTR_NONCE, 'x'.repeat(40)), RangeError);
  assert.throws(() => new StunWriter(Buffer.alloc(10)).begin(1, TID), RangeError);
  assert.throws(() => w.addErrorCode(200), RangeError);
  const n = w.finish();
  assert.equal(n, 20 + 4 + 4 + 'Unauthenticated'.length + 1);
  assert.equal(w.target.readUInt16BE(2), n - 20);
  // A writer can start at an offset and be reused.
  const big = Buffer.alloc(100, 0xff);
  const w2 = new StunWriter(big, 8);
  w2.begin(1, TID).addEmpty(ATTR_DONT_FRAGMENT);
  assert.equal(w2.finish(), 24);
  assert.ok(decodeMessage(big, 8, 24));
  assert.equal(big[7], 0xff);
  w2.begin(1, TID);
  assert.equal(w2.finish(), 20);
});

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(Buffer.from('123456789'), 0, 9), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0), 0, 0), 0);
});
