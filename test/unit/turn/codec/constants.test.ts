import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as C from '../../../../turn/codec/constants.js';
import * as E from '../../../../turn/codec/error-codes.js';

test('IANA STUN method numbers', () => {
  assert.equal(C.MAGIC_COOKIE, 0x2112a442);
  assert.equal(C.METHOD_BINDING, 0x001);
  assert.equal(C.METHOD_ALLOCATE, 0x003);
  assert.equal(C.METHOD_REFRESH, 0x004);
  assert.equal(C.METHOD_SEND, 0x006);
  assert.equal(C.METHOD_DATA, 0x007);
  assert.equal(C.METHOD_CREATE_PERMISSION, 0x008);
  assert.equal(C.METHOD_CHANNEL_BIND, 0x009);
  assert.deepEqual([C.CLASS_REQUEST, C.CLASS_INDICATION, C.CLASS_SUCCESS, C.CLASS_ERROR], [0, 1, 2, 3]);
});

test('IANA STUN attribute numbers (RFC 8489 §18.3, RFC 8656 §18)', () => {
  const expected: Record<string, number> = {
    ATTR_MAPPED_ADDRESS: 0x0001,
    ATTR_USERNAME: 0x0006,
    ATTR_MESSAGE_INTEGRITY: 0x0008,
    ATTR_ERROR_CODE: 0x0009,
    ATTR_UNKNOWN_ATTRIBUTES: 0x000a,
    ATTR_CHANNEL_NUMBER: 0x000c,
    ATTR_LIFETIME: 0x000d,
    ATTR_XOR_PEER_ADDRESS: 0x0012,
    ATTR_DATA: 0x0013,
    ATTR_REALM: 0x0014,
    ATTR_NONCE: 0x0015,
    ATTR_XOR_RELAYED_ADDRESS: 0x0016,
    ATTR_REQUESTED_ADDRESS_FAMILY: 0x0017,
    ATTR_EVEN_PORT: 0x0018,
    ATTR_REQUESTED_TRANSPORT: 0x0019,
    ATTR_DONT_FRAGMENT: 0x001a,
    ATTR_MESSAGE_INTEGRITY_SHA256: 0x001c,
    ATTR_PASSWORD_ALGORITHM: 0x001d,
    ATTR_USERHASH: 0x001e,
    ATTR_XOR_MAPPED_ADDRESS: 0x0020,
    ATTR_RESERVATION_TOKEN: 0x0022,
    ATTR_ADDITIONAL_ADDRESS_FAMILY: 0x8000,
    ATTR_ADDRESS_ERROR_CODE: 0x8001,
    ATTR_PASSWORD_ALGORITHMS: 0x8002,
    ATTR_ALTERNATE_DOMAIN: 0x8003,
    ATTR_ICMP: 0x8004,
    ATTR_SOFTWARE: 0x8022,
    ATTR_ALTERNATE_SERVER: 0x8023,
    ATTR_FINGERPRINT: 0x8028,
  };
  const mod = C as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(mod[name], value, name);
    assert.ok(C.isKnownAttribute(value), name);
  }
  // Every exported ATTR_* is in the table above and in KNOWN_ATTRIBUTES, and nothing else is.
  const exported = Object.keys(mod).filter((k) => k.startsWith('ATTR_')).sort();
  assert.deepEqual(exported, Object.keys(expected).sort());
  assert.equal(C.KNOWN_ATTRIBUTES.size, exported.length);
  for (const unknown of [0x0000, 0x0002, 0x0003, 0x0024, 0x8029, 0x802a, 0xffff]) {
    assert.equal(C.isKnownAttribute(unknown), false, unknown.toString(16));
  }
});

test('comprehension-required range', () => {
  assert.equal(C.isComprehensionRequired(0x0000), true);
  assert.equal(C.isComprehensionRequired(0x7fff), true);
  assert.equal(C.isComprehensionRequired(0x8000), false);
  assert.equal(C.isComprehensionRequired(0xffff), false);
});

test('password algorithms and family wire values', () => {
  assert.equal(C.PASSWORD_ALGORITHM_MD5, 1);
  assert.equal(C.PASSWORD_ALGORITHM_SHA256, 2);
  assert.equal(C.FAMILY_IPV4, 1);
  assert.equal(C.FAMILY_IPV6, 2);
});

test('messageType interleaves method and class bits (RFC 8489 §5)', () => {
  assert.equal(C.messageType(C.METHOD_BINDING, C.CLASS_REQUEST), 0x0001);
  assert.equal(C.messageType(C.METHOD_BINDING, C.CLASS_INDICATION), 0x0011);
  assert.equal(C.messageType(C.METHOD_BINDING, C.CLASS_SUCCESS), 0x0101);
  assert.equal(C.messageType(C.METHOD_BINDING, C.CLASS_ERROR), 0x0111);
  assert.equal(C.messageType(C.METHOD_ALLOCATE, C.CLASS_REQUEST), 0x0003);
  assert.equal(C.messageType(C.METHOD_ALLOCATE, C.CLASS_SUCCESS), 0x0103);
  assert.equal(C.messageType(C.METHOD_ALLOCATE, C.CLASS_ERROR), 0x0113);
  assert.equal(C.messageType(C.METHOD_SEND, C.CLASS_INDICATION), 0x0016);
  assert.equal(C.messageType(C.METHOD_DATA, C.CLASS_INDICATION), 0x0017);
  assert.equal(C.messageType(C.METHOD_CHANNEL_BIND, C.CLASS_SUCCESS), 0x0109);
  assert.equal(C.messageType(0xfff, 3), 0x3fff);
  for (let m = 0; m < 0x1000; m++) {
    for (let c = 0; c < 4; c++) {
      const t = C.messageType(m, c);
      assert.ok(t >= 0 && t < 0x4000);
      if (C.methodOf(t) !== m || C.classOf(t) !== c) assert.fail(`round trip ${m}/${c}`);
    }
  }
});

test('error codes and RFC reason phrases', () => {
  const expected: [number, number, string][] = [
    [E.ERROR_TRY_ALTERNATE, 300, 'Try Alternate'],
    [E.ERROR_BAD_REQUEST, 400, 'Bad Request'],
    [E.ERROR_UNAUTHENTICATED, 401, 'Unauthenticated'],
    [E.ERROR_FORBIDDEN, 403, 'Forbidden'],
    [E.ERROR_UNKNOWN_ATTRIBUTE, 420, 'Unknown Attribute'],
    [E.ERROR_ALLOCATION_MISMATCH, 437, 'Allocation Mismatch'],
    [E.ERROR_STALE_NONCE, 438, 'Stale Nonce'],
    [E.ERROR_ADDRESS_FAMILY_NOT_SUPPORTED, 440, 'Address Family not Supported'],
    [E.ERROR_WRONG_CREDENTIALS, 441, 'Wrong Credentials'],
    [E.ERROR_UNSUPPORTED_TRANSPORT_PROTOCOL, 442, 'Unsupported Transport Protocol'],
    [E.ERROR_PEER_ADDRESS_FAMILY_MISMATCH, 443, 'Peer Address Family Mismatch'],
    [E.ERROR_CONNECTION_ALREADY_EXISTS, 446, 'Connection Already Exists'],
    [E.ERROR_CONNECTION_TIMEOUT_OR_FAILURE, 447, 'Connection Timeout or Failure'],
    [E.ERROR_ALLOCATION_QUOTA_REACHED, 486, 'Allocation Quota Reached'],
    [E.ERROR_SERVER_ERROR, 500, 'Server Error'],
    [E.ERROR_INSUFFICIENT_CAPACITY, 508, 'Insufficient Capacity'],
  ];
  for (const [constant, code, phrase] of expected) {
    assert.equal(constant, code);
    assert.equal(E.reasonPhrase(code), phrase);
  }
  assert.equal(E.reasonPhrase(599), 'Error');
});
