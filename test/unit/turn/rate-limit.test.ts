// The fixed-size per-IP token bucket table of turn/rate-limit.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetKey, CHALLENGE_BURST_SECONDS, IP_TABLE_SLOTS, IpBuckets, RequestRateLimits } from '../../../turn/rate-limit.js';

const T0 = 1_700_000_000_000;

/** Spends every token of `ip`'s slot at `now`; returns how many there were. */
function drain(b: IpBuckets, ip: string, now: number): number {
  const slot = b.slotOf(ip);
  let n = 0;
  while (b.available(slot, now)) {
    b.take(slot);
    n++;
  }
  return n;
}

test('a bucket holds its burst, refills at its rate and never beyond the burst', () => {
  const b = new IpBuckets(2, 6, 1);
  assert.equal(drain(b, '192.0.2.1', T0), 6);
  assert.equal(drain(b, '192.0.2.1', T0 + 499), 0);
  assert.equal(drain(b, '192.0.2.1', T0 + 500), 1);
  assert.equal(drain(b, '192.0.2.1', T0 + 3_600_000), 6);
  const slot = b.slotOf('192.0.2.1');
  assert.equal(b.waitMs(slot), 500);
  // A clock that goes back refills nothing.
  assert.equal(drain(b, '192.0.2.1', T0), 0);
});

test('the table never grows: 200,000 addresses share its 4096 slots', () => {
  const b = new IpBuckets(1, 1);
  const internals = b as unknown as { tokens: Float64Array; refilledAt: Float64Array };
  const seen = new Set<number>();
  for (let i = 0; i < 200_000; i++) {
    const ip = i % 2 === 0 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `2001:db8::${i.toString(16)}`;
    const slot = b.slotOf(ip);
    assert.ok(Number.isInteger(slot) && slot >= 0 && slot < IP_TABLE_SLOTS);
    seen.add(slot);
    if (b.available(slot, T0)) b.take(slot);
  }
  assert.equal(b.slots, IP_TABLE_SLOTS);
  assert.equal(internals.tokens.length, IP_TABLE_SLOTS);
  assert.equal(internals.refilledAt.length, IP_TABLE_SLOTS);
  assert.ok(seen.size > IP_TABLE_SLOTS * 0.99, `the hash spreads: ${seen.size} slots used`);
});

test('addresses in one slot share its budget (stricter, never looser); others keep theirs', () => {
  const b = new IpBuckets(1, 3, 42);
  const first = '198.51.100.1';
  let twin = '';
  let stranger = '';
  for (let i = 2; (twin === '' || stranger === '') && i < 1_000_000; i++) {
    const ip = `198.51.${(i >> 8) & 255}.${i & 255}`;
    if (ip === first) continue;
    if (b.slotOf(ip) === b.slotOf(first)) twin ||= ip;
    else stranger ||= ip;
  }
  assert.notEqual(twin, '');
  assert.equal(drain(b, first, T0), 3);
  assert.equal(drain(b, twin, T0), 0);
  assert.equal(drain(b, stranger, T0), 3);
});

test('the seed decides which addresses share a slot', () => {
  const a = new IpBuckets(1, 1, 1);
  const b = new IpBuckets(1, 1, 2);
  let differ = 0;
  for (let i = 0; i < 100; i++) if (a.slotOf(`10.0.0.${i}`) !== b.slotOf(`10.0.0.${i}`)) differ++;
  assert.ok(differ > 90, String(differ));
});

test('RequestRateLimits: challenges per second with a burst, failures per minute; 0 is off; set() resets what changed', () => {
  const r = new RequestRateLimits({ challengesPerIp: 5, authFailuresPerIp: 6 });
  assert.equal(drain(r.challenges, '192.0.2.9', T0), 5 * CHALLENGE_BURST_SECONDS);
  assert.equal(drain(r.authFailures, '192.0.2.9', T0), 6);
  assert.equal(drain(r.authFailures, '192.0.2.9', T0 + 10_000), 1);
  r.set({ challengesPerIp: 5, authFailuresPerIp: 6 });
  assert.equal(drain(r.authFailures, '192.0.2.9', T0 + 10_000), 0, 'the same budget: a reload keeps the state');
  r.set({ challengesPerIp: 5, authFailuresPerIp: 7 });
  assert.equal(drain(r.authFailures, '192.0.2.9', T0 + 10_000), 7, 'a new budget starts afresh');
  assert.equal(drain(r.challenges, '192.0.2.9', T0 + 10), 0, 'the unchanged table keeps its state');
  r.set({ challengesPerIp: 0, authFailuresPerIp: 0 });
  assert.equal(r.challenges.enabled, false);
  assert.equal(r.authFailures.enabled, false);
  assert.throws(() => new IpBuckets(-1, 1), RangeError);
});

test('an IPv6 budget is kept per /64; an IPv4 (or IPv4-mapped) one per address', () => {
  assert.equal(budgetKey('192.0.2.1'), '192.0.2.1');
  assert.equal(budgetKey('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
  for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2:0:1:0:5', '2001:db8:1:2::9%eth0']) {
    assert.equal(budgetKey(ip), '2001:db8:1:2', ip);
  }
  assert.equal(budgetKey('2001:db8::1'), '2001:db8:0:0');
  assert.equal(budgetKey('::1'), '0:0:0:0');
  assert.equal(budgetKey('fe80::1:2:3:4'), 'fe80:0:0:0');
  assert.equal(budgetKey('1:2:3::'), '1:2:3:0');

  const b = new IpBuckets(1, 2, 7);
  assert.equal(drain(b, '2001:db8:1:2::1', T0), 2);
  assert.equal(drain(b, '2001:db8:1:2:abcd::77', T0), 0, 'another address of the same /64');
  let other = '';
  for (let i = 3; other === '' && i < 10_000; i++) {
    const ip = `2001:db8:1:${i.toString(16)}::1`;
    if (b.slotOf(ip) !== b.slotOf('2001:db8:1:2::1')) other = ip;
  }
  assert.equal(drain(b, other, T0), 2, 'another /64');
});
