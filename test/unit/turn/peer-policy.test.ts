import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPeerPolicy, embeddedIpv4, parseCidr } from '../../../turn/peer-policy.js';
import { parseIpInto } from '../../../turn/ip.js';
import type { PeerPolicy } from '../../../turn/interfaces.js';

const fam = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);
const open = createPeerPolicy({ allow: [], deny: [], serverAddresses: [] });
const allowed = (p: PeerPolicy, address: string, family: 4 | 6): boolean => p.check(address, family) === 'allow';

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
  for (const [addr, expected] of DEFAULTS) assert.equal(allowed(open, addr, fam(addr)), expected, addr);
});

test('allow opens 127.0.0.0/8 (also through IPv4-mapped forms); ::1 needs its own entry', () => {
  const p = createPeerPolicy({ allow: ['127.0.0.0/8'], deny: [], serverAddresses: ['127.0.0.1'] });
  assert.equal(allowed(p, '127.0.0.1', 4), true, 'own loopback address opened by the allow range');
  assert.equal(allowed(p, '127.1.2.3', 4), true);
  assert.equal(allowed(p, '::ffff:127.0.0.1', 6), true);
  assert.equal(allowed(p, '::1', 6), false);
  assert.equal(allowed(p, '10.0.0.1', 4), false);
  const p6 = createPeerPolicy({ allow: ['::1'], deny: [], serverAddresses: ['::1'] });
  assert.equal(allowed(p6, '::1', 6), true);
});

test('IPv6 allow entries do not open embedded IPv4 forms; IPv6 deny entries still refuse them', () => {
  const p = createPeerPolicy({ allow: ['::ffff:0:0/96', '2002::/16'], deny: ['64:ff9b::/96'], serverAddresses: [] });
  assert.equal(allowed(p, '::ffff:127.0.0.1', 6), false);
  assert.equal(allowed(p, '2002:7f00:1::1', 6), false);
  assert.equal(allowed(p, '64:ff9b::8.8.8.8', 6), false);
  assert.equal(allowed(p, '8.8.8.8', 4), true);
});

test('allow opens a default range without opening its neighbours; Teredo can be opened', () => {
  const p = createPeerPolicy({ allow: ['10.1.0.0/16', '2001::/32'], deny: [], serverAddresses: [] });
  assert.equal(allowed(p, '10.1.255.255', 4), true);
  assert.equal(allowed(p, '10.2.0.0', 4), false);
  assert.equal(allowed(p, '2001::1', 6), true);
});

test('deny adds ranges and wins over allow, in both families and through mapped forms', () => {
  const p = createPeerPolicy({
    allow: ['10.0.0.0/8', 'fc00::/7'],
    deny: ['10.9.0.0/16', '8.8.4.0/24', 'fd00::/8', '2606:4700::/32'],
    serverAddresses: [],
  });
  assert.equal(allowed(p, '10.1.2.3', 4), true);
  assert.equal(allowed(p, '10.9.2.3', 4), false);
  assert.equal(allowed(p, '::ffff:10.9.2.3', 6), false);
  assert.equal(allowed(p, '8.8.4.4', 4), false);
  assert.equal(allowed(p, '8.8.8.8', 4), true);
  assert.equal(allowed(p, 'fc00::1', 6), true);
  assert.equal(allowed(p, 'fd00::1', 6), false);
  assert.equal(allowed(p, '2606:4700::1111', 6), false);
  const both = createPeerPolicy({ allow: ['192.168.1.5'], deny: ['192.168.1.5'], serverAddresses: [] });
  assert.equal(allowed(both, '192.168.1.5', 4), false);
});

test('server addresses are refused unless a specific allow entry covers them', () => {
  const pub = ['203.0.113.1', '198.51.100.1', '8.8.8.8', '2001:4860::1'];
  const p = createPeerPolicy({ allow: [], deny: [], serverAddresses: pub });
  assert.equal(allowed(p, '8.8.8.8', 4), false);
  assert.equal(allowed(p, '::ffff:8.8.8.8', 6), false);
  assert.equal(allowed(p, '64:ff9b::8.8.8.8', 6), false);
  assert.equal(allowed(p, '8.8.8.9', 4), true);
  assert.equal(allowed(p, '2001:4860::1', 6), false);
  assert.equal(allowed(p, '2001:4860::2', 6), true);
  // The catch-all switches the special-purpose list off but keeps the self-relay guard.
  const all = createPeerPolicy({ allow: ['0.0.0.0/0', '::/0'], deny: [], serverAddresses: ['8.8.8.8', '2001:4860::1'] });
  assert.equal(allowed(all, '10.0.0.1', 4), true);
  assert.equal(allowed(all, 'fe80::1', 6), true);
  assert.equal(allowed(all, '8.8.8.8', 4), false);
  assert.equal(allowed(all, '2001:4860::1', 6), false);
  const named = createPeerPolicy({ allow: ['8.8.8.8/32'], deny: [], serverAddresses: ['8.8.8.8', '::ffff:8.8.4.4'] });
  assert.equal(allowed(named, '8.8.8.8', 4), true);
  assert.equal(allowed(named, '8.8.4.4', 4), false, 'mapped server address counts as its IPv4 form');
});

test('invalid addresses and family mismatches are refused', () => {
  for (const a of ['', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4/32', ':::1', '1::2::3',
    '12345::1', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '::ffff:1.2.3.256', 'fe80::1%', ' 8.8.8.8']) {
    assert.equal(allowed(open, a, fam(a)), false, JSON.stringify(a));
  }
  assert.equal(allowed(open, '8.8.8.8', 6), false);
  assert.equal(allowed(open, '::ffff:8.8.8.8', 4), false);
});

test('invalid CIDR entries throw an error naming the entry and the list', () => {
  const bad: [string, string][] = [['allow', '10.0.0.0/33'], ['deny', 'not-an-ip'], ['allow', '::/129'], ['deny', '10.0.0.0/'],
    ['allow', '1.2.3.4/08'], ['relayAddresses', '10.0.0.0/8'], ['serverAddresses', 'fe80::1%eth0'], ['serverAddresses', '10.0.0.0/33']];
  for (const [list, entry] of bad) {
    const opts = { allow: [] as string[], deny: [] as string[], serverAddresses: [] as string[], relayAddresses: [] as string[] };
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

// Issue 9, finding 5: every form of 0.0.0.0/8 and :: reaches the local host; no allow entry opens it.
const UNSPECIFIED_FORMS = [
  '0.0.0.0', '0.0.0.1', '0.1.2.3', '0.255.255.255',
  '::', '0:0:0:0:0:0:0:0',
  '::ffff:0.0.0.0', '::ffff:0:0', '::ffff:0.1.2.3', // IPv4-mapped
  '::ffff:0:0.0.0.0', '::ffff:0:0:0', // IPv4-translated (SIIT)
  '::0.0.0.2', '::2', '::0.255.255.255', // IPv4-compatible
  '64:ff9b::', '64:ff9b::0.0.0.0', '64:ff9b::1:2', // NAT64 well-known prefix
  '2002::', '2002:0:1::', '2002:0:0:1::1', // 6to4 of 0.0.0.0/8
];

test('0.0.0.0/8 and :: are refused as unspecified in every form, whatever allow says', () => {
  const policies = {
    none: open,
    'catch-all': createPeerPolicy({ allow: ['0.0.0.0/0', '::/0'], deny: [], serverAddresses: [] }),
    specific: createPeerPolicy({ allow: ['0.0.0.0/8', '0.0.0.0', '::/128', '::ffff:0:0/96', '2002::/16', '64:ff9b::/96'], deny: [], serverAddresses: [] }),
    'as relay address': createPeerPolicy({ allow: ['0.0.0.0/0'], deny: [], serverAddresses: ['0.0.0.0'], relayAddresses: ['0.0.0.0', '::'] }),
  };
  for (const [name, p] of Object.entries(policies)) {
    for (const a of UNSPECIFIED_FORMS) assert.equal(p.check(a, fam(a)), 'unspecified', `${name}: ${a}`);
  }
  const all = policies['catch-all'];
  for (const a of ['1.0.0.0', '8.8.8.8', '::1:0:0:2', '::ffff:1.0.0.0', '2002:100::', '64:ff9b::100:0']) assert.equal(all.check(a, fam(a)), 'allow', a);
});

test('server address ranges: a wildcard listener owns 127.0.0.0/8 and ::1 even under a catch-all allow', () => {
  const p = createPeerPolicy({ allow: ['0.0.0.0/0', '::/0'], deny: [], serverAddresses: ['127.0.0.0/8', '::1', '192.0.2.7'] });
  for (const a of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '::ffff:127.1.2.3', '::ffff:0:127.0.0.9', '64:ff9b::7f00:2', '2002:7f00:3::', '192.0.2.7']) {
    assert.equal(p.check(a, fam(a)), 'own-address', a);
  }
  assert.equal(p.check('128.0.0.1', 4), 'allow');
  assert.equal(p.check('::1:0:0:2', 6), 'allow');
  // A mapped range counts as the IPv4 range; a specific allow entry still opens an own range.
  const mapped = createPeerPolicy({ allow: ['0.0.0.0/0'], deny: [], serverAddresses: ['::ffff:10.0.0.0/104'] });
  assert.equal(mapped.check('10.1.2.3', 4), 'own-address');
  assert.equal(mapped.check('11.1.2.3', 4), 'allow');
  const opened = createPeerPolicy({ allow: ['127.0.0.0/8'], deny: [], serverAddresses: ['127.0.0.0/8', '::1'] });
  assert.equal(opened.check('127.0.0.2', 4), 'allow');
  assert.equal(opened.check('::1', 6), 'own-address');
});

// Issue 9, finding 10: IPv4-translated (SIIT, ::ffff:0:a.b.c.d) forms are judged by the embedded IPv4.
test('IPv4-translated forms (::ffff:0:0:0/96) are judged by the embedded IPv4 address', () => {
  const cases: [string, string][] = [
    ['::ffff:0:127.0.0.1', 'special-purpose'], ['::ffff:0:7f00:1', 'special-purpose'], ['::ffff:0:169.254.169.254', 'special-purpose'],
    ['::ffff:0:10.1.2.3', 'special-purpose'], ['::ffff:0:192.168.1.1', 'special-purpose'], ['::ffff:0:224.0.0.1', 'special-purpose'],
    ['::ffff:0:8.8.8.8', 'allow'], ['::ffff:0:808:808', 'allow'],
  ];
  for (const [a, verdict] of cases) assert.equal(open.check(a, 6), verdict, a);
  const p = createPeerPolicy({ allow: ['10.0.0.0/8', '::ffff:0:0:0/96'], deny: ['8.8.4.0/24'], serverAddresses: ['9.9.9.9'] });
  assert.equal(p.check('::ffff:0:10.1.2.3', 6), 'allow', 'the IPv4 allow entry opens it');
  assert.equal(p.check('::ffff:0:127.0.0.1', 6), 'special-purpose', 'an IPv6 allow entry does not');
  assert.equal(p.check('::ffff:0:8.8.4.4', 6), 'denied');
  assert.equal(p.check('::ffff:0:9.9.9.9', 6), 'own-address');
  const siitDenied = createPeerPolicy({ allow: [], deny: ['::ffff:0:0:0/96'], serverAddresses: [] });
  assert.equal(siitDenied.check('::ffff:0:8.8.8.8', 6), 'denied', 'IPv6 deny entries still apply first');
  assert.equal(embeddedIpv4([0, 0, 0xffff0000, 0x08080808]), 0x08080808);
  assert.equal(embeddedIpv4([0, 0, 0xfffe0000, 0x08080808]), -1);
});

test('relay addresses are relay-only by default, plain allow under a specific allow entry, refused when denied', () => {
  const relayAddresses = ['127.0.0.1', '203.0.113.5', '::1', '2001:db8::7'];
  const serverAddresses = [...relayAddresses, '127.0.0.0/8', '192.0.2.1'];
  const p = createPeerPolicy({ allow: [], deny: [], serverAddresses, relayAddresses });
  for (const a of relayAddresses) assert.equal(p.check(a, fam(a)), 'relay-only', a);
  assert.equal(p.check('127.0.0.2', 4), 'own-address', 'another loopback address is not a relay address');
  assert.equal(p.check('192.0.2.1', 4), 'own-address', 'a listening address is not a relay address');
  // Embedded forms cannot reach the IPv4 relay address from an IPv6 relayed socket: refused.
  for (const a of ['::ffff:127.0.0.1', '::ffff:0:127.0.0.1', '64:ff9b::203.0.113.5', '2002:cb00:7105::']) {
    assert.equal(p.check(a, 6), 'own-address', a);
  }
  const catchAll = createPeerPolicy({ allow: ['0.0.0.0/0', '::/0'], deny: [], serverAddresses, relayAddresses });
  assert.equal(catchAll.check('127.0.0.1', 4), 'relay-only', 'a catch-all does not open a relay address');
  assert.equal(catchAll.check('::1', 6), 'relay-only');
  const specific = createPeerPolicy({ allow: ['127.0.0.0/8', '::1'], deny: [], serverAddresses, relayAddresses });
  assert.equal(specific.check('127.0.0.1', 4), 'allow', 'single-host tests reach any port');
  assert.equal(specific.check('::1', 6), 'allow');
  assert.equal(specific.check('203.0.113.5', 4), 'relay-only');
  const denied = createPeerPolicy({ allow: ['127.0.0.0/8'], deny: ['127.0.0.1', '2001:db8::/32'], serverAddresses, relayAddresses });
  assert.equal(denied.check('127.0.0.1', 4), 'denied');
  assert.equal(denied.check('2001:db8::7', 6), 'denied');
  // Not listed among the server addresses: still relay-only.
  const bare = createPeerPolicy({ allow: [], deny: [], serverAddresses: [], relayAddresses: ['198.51.100.9'] });
  assert.equal(bare.check('198.51.100.9', 4), 'relay-only');
  assert.equal(bare.check('198.51.100.10', 4), 'special-purpose');
});

test('refusal reasons', () => {
  const p = createPeerPolicy({ allow: [], deny: ['8.8.4.0/24'], serverAddresses: ['9.9.9.9'] });
  assert.equal(p.check('8.8.4.4', 4), 'denied');
  assert.equal(p.check('9.9.9.9', 4), 'own-address');
  assert.equal(p.check('10.0.0.1', 4), 'special-purpose');
  assert.equal(p.check('fe80::1', 6), 'special-purpose');
  assert.equal(p.check('0.0.0.0', 4), 'unspecified');
  assert.equal(p.check('8.8.8.8', 4), 'allow');
  assert.equal(p.check('not an ip', 4), 'denied');
  assert.equal(p.check('8.8.8.8', 6), 'denied');
});
