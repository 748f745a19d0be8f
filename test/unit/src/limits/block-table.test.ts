// The rate limits' local tables under a fake clock: blocks expire at their window's end, the
// tables stay bounded (oldest evicted), counts start afresh each minute, an IPv6 client is keyed
// by its /64.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlockTable, MAX_KEY_LENGTH } from '../../../../src/limits/block-table.js';
import { MemoryRateCounter, RATE_WINDOW_MS, rateWindow } from '../../../../src/limits/rate-counter.js';
import { budgetKey } from '../../../../turn/index.js';

const T0 = Date.UTC(2030, 0, 1, 10, 15); // a window start

describe('BlockTable', () => {
  it('blocks a key until its time, per kind', () => {
    const t = new BlockTable();
    t.block('allocations-ip', '192.0.2.1', T0 + 5000, T0);
    assert.equal(t.blocked('allocations-ip', '192.0.2.1', T0 + 4999), true);
    assert.equal(t.blocked('auth-failure', '192.0.2.1', T0), false, 'another kind is another key');
    assert.equal(t.remainingMs('allocations-ip', '192.0.2.1', T0 + 1000), 4000);
    assert.equal(t.blocked('allocations-ip', '192.0.2.1', T0 + 5000), false, 'lifted at its time');
    assert.equal(t.size, 0, 'an expired block is dropped when read');
  });

  it('keeps the later of two blocks and ignores blocks already past', () => {
    const t = new BlockTable();
    t.block('allocations-account', 'acme', T0 + 9000, T0);
    t.block('allocations-account', 'acme', T0 + 1000, T0);
    assert.equal(t.blocked('allocations-account', 'acme', T0 + 5000), true);
    t.block('allocations-account', 'old', T0 - 1, T0);
    assert.equal(t.blocked('allocations-account', 'old', T0), false);
    t.block('allocations-account', 'x'.repeat(MAX_KEY_LENGTH + 1), T0 + 1000, T0);
    assert.equal(t.size, 1, 'an over-long key is not kept');
  });

  it('stays within its size: expired entries go first, then the oldest', () => {
    const t = new BlockTable(3);
    t.block('allocations-ip', 'a', T0 + 10, T0);
    t.block('allocations-ip', 'b', T0 + 60_000, T0);
    t.block('allocations-ip', 'c', T0 + 60_000, T0);
    t.block('allocations-ip', 'd', T0 + 60_000, T0 + 20); // 'a' has expired: it goes
    assert.equal(t.size, 3);
    assert.deepEqual(['b', 'c', 'd'].map((k) => t.blocked('allocations-ip', k, T0 + 20)), [true, true, true]);
    t.block('allocations-ip', 'e', T0 + 60_000, T0 + 20); // none expired: the oldest ('b') goes
    assert.equal(t.size, 3);
    assert.equal(t.blocked('allocations-ip', 'b', T0 + 20), false);
    assert.equal(t.blocked('allocations-ip', 'e', T0 + 20), true);
  });

  it('a block into a full table of unexpired entries drops only the head: O(1) per insert', () => {
    const max = 65_536;
    const t = new BlockTable(max);
    const until = T0 + 60_000;
    // The Map's own iteration is counted: a walk of the table would show here.
    const proto = Map.prototype as unknown as Record<PropertyKey, (...a: unknown[]) => Iterator<unknown>>;
    let stepped = 0;
    const originals = new Map<PropertyKey, (...a: unknown[]) => Iterator<unknown>>();
    for (const name of ['keys', 'entries', 'values', Symbol.iterator] as PropertyKey[]) {
      const original = proto[name]!;
      originals.set(name, original);
      proto[name] = function (this: Map<unknown, unknown>, ...a: unknown[]) {
        const it = original.apply(this, a);
        return { next: () => (stepped++, it.next()), [Symbol.iterator]() { return this; } } as Iterator<unknown>;
      };
    }
    try {
      for (let i = 0; i < max; i++) t.block('allocations-ip', `k${i}`, until, T0);
      assert.equal(t.size, max);
      assert.equal(stepped, 0, 'no walk while there is room');
      for (let i = max; i < max + 1000; i++) t.block('allocations-ip', `k${i}`, until, T0 + 1);
      assert.ok(stepped <= 1000, `1000 inserts into a full table stepped ${stepped} entries`);
    } finally {
      for (const [name, f] of originals) proto[name] = f;
    }
    assert.equal(t.size, max, 'the bound holds');
    assert.equal(t.evicted, 1000);
    assert.equal(t.blocked('allocations-ip', 'k999', T0 + 1), false, 'the oldest went first');
    assert.equal(t.blocked('allocations-ip', 'k1000', T0 + 1), true);
    assert.equal(t.blocked('allocations-ip', `k${max + 999}`, T0 + 1), true);
  });
});

describe('MemoryRateCounter', () => {
  it('blocks a key once its count reaches the limit, until the window ends', () => {
    const clock = { ms: T0 + 1000 };
    const blocks = new BlockTable();
    const c = new MemoryRateCounter(blocks, () => clock.ms);
    for (let i = 0; i < 2; i++) c.record('allocations-account', 'acme', 3);
    assert.equal(blocks.blocked('allocations-account', 'acme', clock.ms), false, '2 of 3');
    c.record('allocations-account', 'acme', 3);
    assert.equal(blocks.blocked('allocations-account', 'acme', clock.ms), true, '3 of 3: the next one is refused');
    assert.equal(blocks.remainingMs('allocations-account', 'acme', clock.ms), RATE_WINDOW_MS - 1000);
    clock.ms = rateWindow(clock.ms).end;
    assert.equal(blocks.blocked('allocations-account', 'acme', clock.ms), false, 'the next window');
    c.record('allocations-account', 'acme', 3);
    assert.equal(blocks.blocked('allocations-account', 'acme', clock.ms), false, 'counting starts afresh');
  });

  it('counts nothing for limit 0 and stays bounded', () => {
    const clock = { ms: T0 };
    const blocks = new BlockTable();
    const c = new MemoryRateCounter(blocks, () => clock.ms, 4);
    c.record('allocations-ip', '192.0.2.1', 0);
    assert.equal(c.size, 0);
    for (let i = 0; i < 10; i++) c.record('allocations-ip', `192.0.2.${i}`, 5);
    assert.equal(c.size, 4);
  });

  it('an IPv6 client is one key per /64 (budgetKey)', () => {
    const clock = { ms: T0 };
    const blocks = new BlockTable();
    const c = new MemoryRateCounter(blocks, () => clock.ms);
    c.record('allocations-ip', budgetKey('2001:db8:1:2::1'), 2);
    c.record('allocations-ip', budgetKey('2001:db8:1:2:aaaa::9'), 2);
    assert.equal(blocks.blocked('allocations-ip', budgetKey('2001:db8:1:2:ffff::'), clock.ms), true);
    assert.equal(blocks.blocked('allocations-ip', budgetKey('2001:db8:1:3::1'), clock.ms), false);
  });
});
