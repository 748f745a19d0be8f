import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPeerPolicy, embeddedIpv4, parseCidr } from '../../turn/peer-policy.js';
import { parseIpInto } from '../../turn/ip.js';

const fam = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);
const open = createPeerPolicy({ allow: [], deny: [], serverAddresses: [] });

// [address, allowed by default]
const DEFAULTS: readonly [string, boolean][] = [
  ['8.8.8.8', true],
  ['1.1.1.1', true],
  ['0.0.0.0', false], ['0.255.255.255', false], ['1.0.0.0', true],
  ['9.255.255.255', true], ['10.0.0.0', false], ['10.255.255.255', false], ['11.0.0.0', true],
  ['100.63.255.255', true], ['100.64.0.0', false], ['100.127.255.255', false], ['100.128.0.0', true],
  ['126.255.255.255', true], ['127.0.0.1', false], ['127.255.255.255', false], ['128.0.0.0', true],
  ['169.253.255.255', true], ['169.254.0.0', false], ['169.254.169.254', false], ['169.255.0.0', true],
  ['172.15.255.255', true], ['172.16.0.0', false], ['172.31.255.255', false], ['172.32.0.0', true],
  ['191.255.255.255', true], ['192.0.0.0', false], ['192.0.0.255', false], ['192.0.1.0', true],
  ['192.0.2.0', false], ['192.0.2.255', false], ['192.0.3.0', true],
  ['192.88.98.255', true], ['192.88.99.1', false], ['192.88.100.0', true],
  ['192.167.255.255', true], ['192.168.0.0', false], ['192.168.255.255', false], ['192.169.0.0', true],
  ['198.17.255.255', true], ['198.18.0.0', false], ['198.19.255.255', false], ['198.20.0.0', true],
  ['198.51.99.255', true], ['198.51.100.7', false], ['198.51.101.0', true],
  ['203.0.112.255', true], ['203.0.113.9', false], ['203.0.114.0', true],
  ['223.255.255.255', true], ['224.0.0.0', false], ['239.255.255.255', false],
  ['240.0.0.0', false], ['255.255.255.255', false],
  // IPv6
  ['2001:4860:4860::8888', true], ['2606:4700::1111', true],
  ['::', false], ['::1', false],
  ['fbff:ffff::1', true], ['fc00::', false], ['fd00:ec2::254', false], ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false],
  ['fe7f::1', true], ['fe80::', false], ['fe80::1%eth0', false], ['febf:ffff::1', false],
  ['fec0::1', false], ['feff::1', false], ['ff00::', false], ['ff02::1', false], ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false],
  ['100::1', false], ['100::ffff:ffff:ffff:ffff', false], ['100:0:0:2::', true],
  ['2001::1', false], ['2001:0:ffff:ffff::1', false], ['2001:1::1', true], ['2001:2::1', false], ['2001:10::1', false],
  ['2001:db7:ffff::1', true], ['2001:db8::1', false], ['2001:db8:ffff:ffff::1', false], ['2001:db9::1', true],
  ['3fff::1', false], ['5f00::1', false],
  // IPv4-mapped and IPv4-compatible: judged by the embedded IPv4 address
  ['::ffff:127.0.0.1', false], ['::ffff:8.8.8.8', true], ['::ffff:169.254.169.254', false], ['::ffff:10.1.2.3', false],
  ['::ffff:0:0', false], ['::ffff:7f00:1', false], ['::ffff:808:808', true],
  ['::8.8.8.8', true], ['::808:808', true], ['::127.0.0.1', false], ['::192.168.1.1', false], ['::2', false],
  // NAT64: well-known prefix embeds the IPv4 address; local-use prefix is refused
  ['64:ff9b::8.8.8.8', true], ['64:ff9b::808:808', true], ['64:ff9b::127.0.0.1', false], ['64:ff9b::a9fe:a9fe', false],
  ['64:ff9b:1::808:808', false], ['64:ff9b:1:ffff::1', false], ['64:ff9b:2::1', true],
  // 6to4: 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD
  ['2002:808:808::1', true], ['2002:7f00:1::1', false], ['2002:a9fe:a9fe::', false], ['2002:c0a8:101:1::1', false],
];

test('default-deny table: every range and its edges', () => {
  for (const [addr, expected] of DEFAULTS) assert.equal(open.allows(addr, fam(addr)), expected, addr);
});

test('allow opens 127.0.0.0/8 (also through IPv4-mapped forms); ::1 needs its own entry', () => {
  const p = createPeerPolicy({ allow: ['127.0.0.0/8'], deny: [], serverAddresses: ['127.0.0.1'] });
  assert.equal(p.allows('127.0.0.1', 4), true, 'own loopback address opened by the allow range');
  assert.equal(p.allows('127.1.2.3', 4), true);
  assert.equal(p.allows('::ffff:127.0.0.1', 6), true);
  assert.equal(p.allows('::1', 6), false);
  assert.equal(p.allows('10.0.0.1', 4), false);
  const p6 = createPeerPolicy({ allow: ['::1'], deny: [], serverAddresses: ['::1'] });
  assert.equal(p6.allows('::1', 6), true);
});

test('IPv6 allow entries do not open embedded IPv4 forms; IPv6 deny entries still refuse them', () => {
  const p = createPeerPolicy({ allow: ['::ffff:0:0/96', '2002::/16'], deny: ['64:ff9b::/96'], serverAddresses: [] });
  assert.equal(p.allows('::ffff:127.0.0.1', 6), false);
  assert.equal(p.allows('2002:7f00:1::1', 6), false);
  assert.equal(p.allows('64:ff9b::8.8.8.8', 6), false);
  assert.equal(p.allows('8.8.8.8', 4), true);
});

test('allow opens a default range without opening its neighbours; Teredo can be opened', () => {
  const p = createPeerPolicy({ allow: ['10.1.0.0/16', '2001::/32'], deny: [], serverAddresses: [] });
  assert.equal(p.allows('10.1.255.255', 4), true);
  assert.equal(p.allows('10.2.0.0', 4), false);
  assert.equal(p.allows('2001::1', 6), true);
});

test('deny adds ranges and wins over allow, in both families and through mapped forms', () => {
  const p = createPeerPolicy({
    allow: ['10.0.0.0/8', 'fc00::/7'],
    deny: ['10.9.0.0/16', '8.8.4.0/24', 'fd00::/8', '2606:4700::/32'],
    serverAddresses: [],
  });
  assert.equal(p.allows('10.1.2.3', 4), true);
  assert.equal(p.allows('10.9.2.3', 4), false);
  assert.equal(p.allows('::ffff:10.9.2.3', 6), false);
  assert.equal(p.allows('8.8.4.4', 4), false);
  assert.equal(p.allows('8.8.8.8', 4), true);
  assert.equal(p.allows('fc00::1', 6), true);
  assert.equal(p.allows('fd00::1', 6), false);
  assert.equal(p.allows('2606:4700::1111', 6), false);
  const both = createPeerPolicy({ allow: ['192.168.1.5'], deny: ['192.168.1.5'], serverAddresses: [] });
  assert.equal(both.allows('192.168.1.5', 4), false);
});

test('server addresses are refused unless a specific allow entry covers them', () => {
  const pub = ['203.0.113.1', '198.51.100.1', '8.8.8.8', '2001:4860::1'];
  const p = createPeerPolicy({ allow: [], deny: [], serverAddresses: pub });
  assert.equal(p.allows('8.8.8.8', 4), false);
  assert.equal(p.allows('::ffff:8.8.8.8', 6), false);
  assert.equal(p.allows('64:ff9b::8.8.8.8', 6), false);
  assert.equal(p.allows('8.8.8.9', 4), true);
  assert.equal(p.allows('2001:4860::1', 6), false);
  assert.equal(p.allows('2001:4860::2', 6), true);
  // The catch-all switches the special-purpose list off but keeps the self-relay guard.
  const all = createPeerPolicy({ allow: ['0.0.0.0/0', '::/0'], deny: [], serverAddresses: ['8.8.8.8', '2001:4860::1'] });
  assert.equal(all.allows('10.0.0.1', 4), true);
  assert.equal(all.allows('fe80::1', 6), true);
  assert.equal(all.allows('8.8.8.8', 4), false);
  assert.equal(all.allows('2001:4860::1', 6), false);
  const named = createPeerPolicy({ allow: ['8.8.8.8/32'], deny: [], serverAddresses: ['8.8.8.8', '::ffff:8.8.4.4'] });
  assert.equal(named.allows('8.8.8.8', 4), true);
  assert.equal(named.allows('8.8.4.4', 4), false, 'mapped server address counts as its IPv4 form');
});

test('invalid addresses and family mismatches are refused', () => {
  for (const a of ['', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4/32', ':::1', '1::2::3',
    '12345::1', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '::ffff:1.2.3.256', 'fe80::1%', ' 8.8.8.8']) {
    assert.equal(open.allows(a, fam(a)), false, JSON.stringify(a));
  }
  assert.equal(open.allows('8.8.8.8', 6), false);
  assert.equal(open.allows('::ffff:8.8.8.8', 4), false);
});

test('invalid CIDR entries throw an error naming the entry and the list', () => {
  const bad: [string, string][] = [['allow', '10.0.0.0/33'], ['deny', 'not-an-ip'], ['allow', '::/129'], ['deny', '10.0.0.0/'],
    ['allow', '1.2.3.4/08'], ['serverAddresses', '10.0.0.0/8'], ['serverAddresses', 'fe80::1%eth0']];
  for (const [list, entry] of bad) {
    const opts = { allow: [] as string[], deny: [] as string[], serverAddresses: [] as string[] };
    opts[list as 'allow'].push(entry);
    assert.throws(() => createPeerPolicy(opts), (e: unknown) =>
      e instanceof Error && e.message.includes(JSON.stringify(entry)) && e.message.includes(list), `${list} ${entry}`);
  }
});

test('parseCidr', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { family: 4, words: [0x0a000000], prefix: 8 });
  assert.deepEqual(parseCidr('192.168.1.1/16'), { family: 4, words: [0xc0a80000], prefix: 16 }, 'host bits cleared');
  assert.deepEqual(parseCidr('1.2.3.4'), { family: 4, words: [0x01020304], prefix: 32 });
  assert.deepEqual(parseCidr('0.0.0.0/0'), { family: 4, words: [0], prefix: 0 });
  assert.deepEqual(parseCidr('2001:db8::/32'), { family: 6, words: [0x20010db8, 0, 0, 0], prefix: 32 });
  assert.deepEqual(parseCidr('64:ff9b:1::/48'), { family: 6, words: [0x0064ff9b, 0x00010000, 0, 0], prefix: 48 });
  assert.deepEqual(parseCidr('fe80::1:2/127'), { family: 6, words: [0xfe800000, 0, 0, 0x00010002], prefix: 127 });
  assert.deepEqual(parseCidr('::1'), { family: 6, words: [0, 0, 0, 1], prefix: 128 });
  assert.deepEqual(parseCidr('::ffff:1.2.3.4/128'), { family: 6, words: [0, 0, 0xffff, 0x01020304], prefix: 128 });
  for (const s of ['', '/8', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/8/8', 'fe80::/129', 'x', '10.0.0.0/ 8']) {
    assert.equal(parseCidr(s), null, s);
  }
});

test('IPv6 text forms parse to the same words', () => {
  const w = new Uint32Array(4);
  const words = (s: string) => (parseIpInto(s, w, true) === 6 ? [...w] : null);
  assert.deepEqual(words('2001:DB8:0:0:0:0:0:1'), [0x20010db8, 0, 0, 1]);
  assert.deepEqual(words('2001:db8::1'), [0x20010db8, 0, 0, 1]);
  assert.deepEqual(words('1::'), [0x00010000, 0, 0, 0]);
  assert.deepEqual(words('1:2:3:4:5:6:7::'), [0x00010002, 0x00030004, 0x00050006, 0x00070000]);
  assert.deepEqual(words('::2:3:4:5:6:7:8'), [0x00000002, 0x00030004, 0x00050006, 0x00070008]);
  assert.deepEqual(words('1:2:3:4:5:6:1.2.3.4'), [0x00010002, 0x00030004, 0x00050006, 0x01020304]);
  assert.deepEqual(words('fe80::1%eth0'), [0xfe800000, 0, 0, 1]);
  assert.equal(words('1:2:3:4:5:6:7:1.2.3.4'), null);
  assert.equal(embeddedIpv4([0, 0, 0xffff, 0x7f000001]), 0x7f000001);
  assert.equal(embeddedIpv4([0x20020808, 0x08080000, 0, 1]), 0x08080808);
  assert.equal(embeddedIpv4([0, 0, 0, 1]), -1);
});
