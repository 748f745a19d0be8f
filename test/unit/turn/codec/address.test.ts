import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import {
  canonicalIp,
  formatIp,
  ipv4ToUint32,
  parseIp,
  readMappedAddress,
  readXorAddress,
  writeIpBytes,
  writeMappedAddress,
  writeXorAddress,
} from '../../../../turn/codec/address.js';
import {
  ATTR_MAPPED_ADDRESS,
  ATTR_XOR_PEER_ADDRESS,
  ATTR_XOR_RELAYED_ADDRESS,
  CLASS_SUCCESS,
  METHOD_ALLOCATE,
  messageType,
} from '../../../../turn/codec/constants.js';
import { decodeMessage } from '../../../../turn/codec/message.js';
import { StunWriter } from '../../../../turn/codec/writer.js';
import { prng, randInt } from '../../../helpers/bytes.js';

/** How Node itself prints an IPv6 address (libuv uv_inet_ntop). */
function nodePrint(address: string): string {
  return new net.SocketAddress({ address, family: 'ipv6' }).address;
}

const TRICKY_V6 = [
  '::', '::1', '::2', '1::', '::ffff:127.0.0.1', '::ffff:7f00:1', '::127.0.0.1', '::7f00:1',
  '::0.0.0.1', '::0.1.0.0', '::1:0', '::2:3', '::ffff:0:0', '::ffff:0.0.0.0', '::ffff', '::fffe:1.2.3.4',
  '::ffff:0:1.2.3.4', '0:0:0:0:0:1:1.2.3.4', '64:ff9b::1.2.3.4', '::0.0.1.0', '::0.0.255.255',
  '1:0:0:1:0:0:0:1', '1:0:0:0:1:0:0:1', '1:0:0:1:1:0:0:1', '2001:DB8:0:0:1::1', '2001:db8::',
  '1:2:3:4:5:6:7:8', '1:0:2:3:4:5:6:7', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '0:0:1::',
  '::1:0:0:0:0:0', 'fe80::1', 'FE80::ABCD:EF01', 'ff02::1:ff00:1', '2001:db8:1234:5678:11:2233:4455:6677',
  '0:1:0:1:0:1:0:1', '1:0:1:0:1:0:1:0', '0:0:1:0:0:1:0:0', '::10.0.0.1', '::ffff:255.255.255.255',
  'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255',
];

test('formatIp prints IPv6 exactly as Node/libuv do (tricky list)', () => {
  for (const s of TRICKY_V6) {
    const ip = parseIp(s);
    assert.ok(ip, s);
    assert.equal(ip.family, 6);
    assert.equal(formatIp(ip.bytes, 0, 6), nodePrint(s), s);
    assert.equal(canonicalIp(s), nodePrint(s), s);
  }
  assert.equal(canonicalIp('::1'), '::1');
  assert.equal(canonicalIp('::ffff:127.0.0.1'), '::ffff:127.0.0.1');
});

test('formatIp matches Node on 5,000 random zero-heavy IPv6 addresses', () => {
  const rand = prng(0x5eed);
  const b = Buffer.alloc(16);
  for (let n = 0; n < 5000; n++) {
    for (let i = 0; i < 8; i++) {
      const r = rand();
      const w = r < 0.55 ? 0 : r < 0.65 ? 0xffff : r < 0.75 ? randInt(rand, 16) : randInt(rand, 0x10000);
      b.writeUInt16BE(w, 2 * i);
    }
    const printed = formatIp(b, 0, 6);
    assert.equal(printed, nodePrint(printed), printed);
    const back = parseIp(printed);
    assert.ok(back, printed);
    assert.deepEqual(back.bytes, b, printed);
  }
});

test('formatIp agrees with rinfo.address of real sockets (::1 and v4-mapped)', async () => {
  const rinfo = (bindAddr: string, sendType: 'udp4' | 'udp6', sendTo: string) =>
    new Promise<string | null>((resolve) => {
      const rx = dgram.createSocket({ type: 'udp6', ipv6Only: false });
      const tx = dgram.createSocket(sendType);
      const done = (v: string | null) => {
        rx.close();
        tx.close();
        resolve(v);
      };
      rx.on('error', () => done(null));
      tx.on('error', () => done(null));
      rx.on('message', (_m, r) => done(r.address));
      rx.bind(0, bindAddr, () => tx.send('x', rx.address().port, sendTo));
      setTimeout(() => done(null), 1000).unref();
    });
  const loop6 = await rinfo('::1', 'udp6', '::1');
  assert.notEqual(loop6, null, 'this test needs an IPv6 loopback (::1), as the IPv6 relay tests do');
  assert.equal(loop6, '::1');
  assert.equal(canonicalIp('0:0:0:0:0:0:0:1'), loop6);
  const mapped = await rinfo('::', 'udp4', '127.0.0.1');
  assert.notEqual(mapped, null, 'this test needs dual-stack sockets');
  assert.equal(mapped, '::ffff:127.0.0.1');
  assert.equal(canonicalIp('::FFFF:7F00:0001'), mapped);
});

test('parseIp / ipv4ToUint32 / writeIpBytes accept and reject what inet_pton does', () => {
  assert.deepEqual(parseIp('192.0.2.1'), { family: 4, bytes: Buffer.from([192, 0, 2, 1]) });
  assert.equal(ipv4ToUint32('255.255.255.255'), 0xffffffff);
  assert.equal(ipv4ToUint32('0.0.0.0'), 0);
  assert.equal(ipv4ToUint32('10.1.2.3'), 0x0a010203);
  const badV4 = ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.', '.1.2.3', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-4', '::1'];
  for (const s of badV4) assert.equal(ipv4ToUint32(s), -1, JSON.stringify(s));
  const badV6 = [
    '', ':', ':::', '1:2', ':1::', '1:::2', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8', 'fe80::1%eth0', 'g::', '1:', ':1', '::1.2.3', '::1.2.3.4:5', '1:2:3:4:5:6:7:1.2.3.4',
    '::256.0.0.1', '1.2.3.4::', '::ffff:01.2.3.4', '[::1]',
  ];
  for (const s of badV6) {
    assert.equal(parseIp(s), null, JSON.stringify(s));
    assert.equal(net.isIPv6(s) && !s.includes('%'), false, `node agrees on ${s}`);
  }
  const t = Buffer.alloc(20, 0xaa);
  assert.equal(writeIpBytes(t, 2, '2001:db8::1', 6), true);
  assert.equal(t.subarray(2, 18).toString('hex'), '20010db8000000000000000000000001');
  assert.equal(t[0], 0xaa);
  assert.equal(t[18], 0xaa);
  assert.equal(writeIpBytes(t, 5, '::1', 6), false, 'does not fit');
  assert.equal(writeIpBytes(t, 0, '1.2.3.4', 6), false, 'wrong family');
  assert.equal(writeIpBytes(t, 0, '::1', 4), false, 'wrong family');
  assert.equal(writeIpBytes(t, 16, '1.2.3.4', 4), true);
  assert.equal(t.readUInt32BE(16), 0x01020304);
  assert.equal(canonicalIp('1.2.3.4'), '1.2.3.4');
  assert.equal(canonicalIp('nope'), null);
});

test('XOR address round trips (IPv4 and IPv6) through writer and reader', () => {
  const rand = prng(42);
  const out = Buffer.alloc(1500);
  const tid = Buffer.from('0123456789abcdef01234567', 'hex');
  for (let n = 0; n < 200; n++) {
    const family: 4 | 6 = n % 2 === 0 ? 4 : 6;
    const ip = Buffer.alloc(family === 4 ? 4 : 16);
    for (let i = 0; i < ip.length; i++) ip[i] = randInt(rand, 256);
    const port = randInt(rand, 65536);
    const w = new StunWriter(out);
    w.begin(messageType(METHOD_ALLOCATE, CLASS_SUCCESS), tid)
      .addXorAddress(ATTR_XOR_RELAYED_ADDRESS, family, ip, port)
      .addMappedAddress(ATTR_MAPPED_ADDRESS, family, ip, port);
    assert.equal(w.addXorAddressString(ATTR_XOR_PEER_ADDRESS, family, formatIp(ip, 0, family), port), true);
    const msg = decodeMessage(out, 0, w.finish());
    assert.ok(msg);
    const expected = { family, address: formatIp(ip, 0, family), port };
    assert.deepEqual(readXorAddress(msg, 0), expected);
    assert.deepEqual(readMappedAddress(msg, 1), expected);
    assert.deepEqual(readXorAddress(msg, 2), expected);
    assert.notDeepEqual(msg.attrValue(0).subarray(4), ip, 'the address really is XORed');
  }
});

test('low-level writers return bytes written and readers reject bad family/length', () => {
  const t = Buffer.alloc(64);
  const tid = Buffer.alloc(12, 7);
  assert.equal(writeXorAddress(t, 0, ATTR_XOR_PEER_ADDRESS, 4, Buffer.from([1, 2, 3, 4]), 0, 80, tid, 0), 12);
  assert.equal(writeXorAddress(t, 0, ATTR_XOR_PEER_ADDRESS, 6, Buffer.alloc(16), 0, 80, tid, 0), 24);
  assert.equal(writeMappedAddress(t, 0, ATTR_MAPPED_ADDRESS, 4, Buffer.from([9, 9, 1, 2, 3, 4]), 2, 80), 12);
  assert.equal(t.subarray(0, 12).toString('hex'), '000100080001005001020304');
  assert.throws(() => writeMappedAddress(t, 50, ATTR_MAPPED_ADDRESS, 6, Buffer.alloc(16), 0, 1), RangeError);

  const w = new StunWriter(Buffer.alloc(200));
  w.begin(0x0101, tid);
  w.addBytes(ATTR_XOR_PEER_ADDRESS, Buffer.from('00010050' + '01020304' + '00', 'hex'), 0, 9); // wrong length
  w.addBytes(ATTR_XOR_PEER_ADDRESS, Buffer.from('0003005001020304', 'hex'), 0, 8); // bad family
  w.addBytes(ATTR_XOR_PEER_ADDRESS, Buffer.from('0002005001020304', 'hex'), 0, 8); // v6 family, v4 length
  const msg = decodeMessage(w.target, 0, w.finish());
  assert.ok(msg);
  for (let i = 0; i < 3; i++) {
    assert.equal(readXorAddress(msg, i), null);
    assert.equal(readMappedAddress(msg, i), null);
  }
  assert.equal(readXorAddress(msg, 3), null);
  assert.equal(readXorAddress(msg, -1), null);
  assert.equal(w.addXorAddressString(ATTR_XOR_PEER_ADDRESS, 4, 'not an ip', 1), false);
});
