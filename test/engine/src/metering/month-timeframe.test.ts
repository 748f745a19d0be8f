// network_usage.timeframe "month": the aggregator rolls over at 00:00 UTC on the 1st whatever the
// month's length (a leap February, 31- and 30-day months, the year end), the ledger's timeframe rows
// end where their month ends, and the limiter lifts the limits at the month boundary (usage.reset).
// A flush runs at each timeframe's end, so the new window's bytes are not billed to the old one
// however long network_usage.write_interval is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageAggregator, type MeteredAllocation } from '../../../../src/metering/aggregator.js';
import { liveUsage } from '../../../../src/metering/query.js';
import { UsageLimiter } from '../../../../src/limits/limiter.js';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../../../../src/store/sqlite-usage-store.js';

const at = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 86_400_000;

function allocation(bytesToPeer: number): MeteredAllocation {
  return {
    id: 1, account: 'acme', transport: 'udp', clientAddress: '192.0.2.1', clientPort: 5000, startedAt: at('2028-01-01T00:00:00Z'),
    bytesToPeer, bytesToClient: 0, packetsToPeer: 1, packetsToClient: 0,
  };
}

describe('calendar-month timeframes', () => {
  it('roll over at each 1st 00:00 UTC (29-, 31-, 30-day months, the year end); rows end with their month; limits reset then', async (t) => {
    const db = openSqliteStore('sqlite::memory:');
    t.after(() => db.close());
    const store = new SqliteUsageStore(db.db);
    const clock = { ms: at('2028-01-31T23:59:50Z') };
    let live = [allocation(600)];
    const agg = new UsageAggregator({ store, timeframe: 'month', writeIntervalMs: 10_000, now: () => clock.ms, every: () => () => {} });
    agg.addSessions(() => live);
    await agg.start();
    assert.deepEqual(await store.timeframe(), { start: at('2028-01-01T00:00:00Z'), lengthMs: 31 * DAY }, 'the first window is this calendar month');

    const events: { type: string; data: Record<string, unknown> }[] = [];
    const limiter = new UsageLimiter({
      usage: (f) => store.usage(f),
      pending: () => agg.pending(),
      timeframe: () => agg.timeframe(),
      accountLimits: () => new Map([['acme', 1000]]),
      softLimit: 0.5,
      hardLimit: 0.8,
      emit: (type, data) => events.push({ type, data: data as Record<string, unknown> }),
      now: () => clock.ms,
      every: () => () => {},
    });
    await limiter.start();
    assert.equal(limiter.mayAllocate('acme'), 'usage-limit', '600 of 1000 bytes: over the soft limit (50%)');
    assert.deepEqual(events.map((e) => [e.type, e.data.timeframe_start, e.data.timeframe_end]), [
      ['usage.soft_limit', '2028-01-01T00:00:00.000Z', '2028-02-01T00:00:00.000Z'],
    ]);

    // One second before the boundary: still January.
    clock.ms = at('2028-01-31T23:59:59Z');
    await agg.flush();
    assert.equal(iso(agg.timeframe().start), '2028-01-01T00:00:00.000Z');

    // The first flush after 00:00 UTC on the 1st closes January and opens February (2028: 29 days).
    live = [allocation(700)];
    clock.ms = at('2028-02-01T00:00:05Z');
    await agg.flush();
    assert.deepEqual(agg.timeframe(), { start: at('2028-02-01T00:00:00Z'), lengthMs: 29 * DAY });
    const [january] = await store.archives();
    assert.deepEqual([iso(january.start), iso(january.end), january.accounts.map((a) => [a.account, a.bytesToPeer])], [
      '2028-01-01T00:00:00.000Z', '2028-02-01T00:00:00.000Z', [['acme', 700]],
    ]);
    await limiter.check();
    assert.equal(limiter.mayAllocate('acme'), 'ok', 'the limits lift with the new month');
    assert.deepEqual(events.at(-1), {
      type: 'usage.reset',
      data: { account: 'acme', timeframe_start: '2028-02-01T00:00:00.000Z', timeframe_end: '2028-03-01T00:00:00.000Z', previous_timeframe_start: '2028-01-01T00:00:00.000Z' },
    });

    // February's usage: its row (the part not written yet included) ends on March 1st.
    live = [allocation(750)];
    const rows = await liveUsage(store, agg).usage({ granularity: 'timeframe' });
    assert.deepEqual(rows.map((r) => [iso(r.start), iso(r.end), r.bytesToPeer]), [
      ['2028-01-01T00:00:00.000Z', '2028-02-01T00:00:00.000Z', 700],
      ['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z', 50],
    ]);
    await agg.flush();
    assert.deepEqual((await store.usage({ granularity: 'timeframe', from: at('2028-02-01T00:00:00Z') })).map((r) => [iso(r.start), iso(r.end), r.bytesToPeer]), [
      ['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z', 50],
    ]);

    // Leap day, then March (31 days), April (30 days).
    clock.ms = at('2028-02-29T23:59:59.999Z');
    await agg.flush();
    assert.equal(iso(agg.timeframe().start), '2028-02-01T00:00:00.000Z', 'the 29th of February is still February');
    clock.ms = at('2028-03-01T00:00:00Z');
    await agg.flush();
    assert.deepEqual(agg.timeframe(), { start: at('2028-03-01T00:00:00Z'), lengthMs: 31 * DAY });
    clock.ms = at('2028-04-01T00:00:09Z');
    await agg.flush();
    assert.deepEqual(agg.timeframe(), { start: at('2028-04-01T00:00:00Z'), lengthMs: 30 * DAY });

    // Stopped over the summer, back in December: the window is December; then the year end.
    clock.ms = at('2028-12-31T23:59:59Z');
    await agg.flush();
    assert.deepEqual(agg.timeframe(), { start: at('2028-12-01T00:00:00Z'), lengthMs: 31 * DAY });
    clock.ms = at('2029-01-01T00:00:01Z');
    await agg.flush();
    assert.deepEqual(agg.timeframe(), { start: at('2029-01-01T00:00:00Z'), lengthMs: 31 * DAY });
    assert.deepEqual((await store.archives()).map((a) => [iso(a.start), (a.end - a.start) / DAY]), [
      ['2028-01-01T00:00:00.000Z', 31],
      ['2028-02-01T00:00:00.000Z', 29],
      ['2028-03-01T00:00:00.000Z', 31],
      ['2028-04-01T00:00:00.000Z', 30],
      ['2028-12-01T00:00:00.000Z', 31],
    ]);
    limiter.stop();
    await agg.stop();

    // A restart in the same month keeps the window.
    const again = new UsageAggregator({ store, timeframe: 'month', writeIntervalMs: 10_000, now: () => at('2029-01-15T00:00:00Z'), every: () => () => {} });
    await again.start();
    assert.deepEqual(again.timeframe(), { start: at('2029-01-01T00:00:00Z'), lengthMs: 31 * DAY });
    await again.stop();
  });

  it('switching a fixed timeframe to months: the stored window keeps its start and ends at the next month boundary', async (t) => {
    const db = openSqliteStore('sqlite::memory:');
    t.after(() => db.close());
    const store = new SqliteUsageStore(db.db);
    await store.setTimeframe({ start: at('2026-11-17T09:30:00Z'), lengthMs: 30 * DAY });
    const agg = new UsageAggregator({ store, timeframe: 'month', writeIntervalMs: 10_000, now: () => at('2026-12-03T06:00:00Z'), every: () => () => {} });
    await agg.start();
    assert.deepEqual(agg.timeframe(), { start: at('2026-11-17T09:30:00Z'), lengthMs: at('2027-01-01T00:00:00Z') - at('2026-11-17T09:30:00Z') });
    assert.deepEqual(await store.timeframe(), agg.timeframe(), 'persisted');
    await agg.stop();
  });

  it('a flush runs at the window\'s end: bytes after 00:00 UTC on the 1st are the new month\'s, whatever write_interval is', async (t) => {
    const db = openSqliteStore('sqlite::memory:');
    t.after(() => db.close());
    const store = new SqliteUsageStore(db.db);
    const clock = { ms: at('2028-01-31T23:00:00Z') };
    const armed: { time: number; fn: () => void }[] = [];
    let live = [allocation(100)];
    // write_interval 1h: without the flush at the end, the periodic one at 00:59 would bill January.
    const agg = new UsageAggregator({
      store, timeframe: 'month', writeIntervalMs: 3_600_000, now: () => clock.ms, every: () => () => {},
      at: (time, fn) => (armed.push({ time, fn }), () => void armed.splice(armed.findIndex((a) => a.fn === fn), 1)),
    });
    agg.addSessions(() => live);
    await agg.start();
    assert.deepEqual(armed.map((a) => iso(a.time)), ['2028-02-01T00:00:00.000Z'], 'armed at the end of January');
    clock.ms = at('2028-02-01T00:00:00Z');
    armed.shift()!.fn();
    await agg.flush(); // waits for the flush the timer started (flushes run one at a time)
    assert.equal(iso(agg.timeframe().start), '2028-02-01T00:00:00.000Z');
    assert.deepEqual(armed.map((a) => iso(a.time)), ['2028-03-01T00:00:00.000Z'], 're-armed for the end of February');
    live = [allocation(160)];
    clock.ms = at('2028-02-01T00:59:00Z');
    await agg.flush();
    const rows = await store.usage({ granularity: 'timeframe' });
    assert.deepEqual(rows.map((r) => [iso(r.start), r.bytesToPeer]), [['2028-01-01T00:00:00.000Z', 100], ['2028-02-01T00:00:00.000Z', 60]]);
    await agg.stop();
    assert.deepEqual(armed, [], 'stop cancels it');
  });

  it('on the real clock the end-of-window flush needs no periodic flush', async (t) => {
    const db = openSqliteStore('sqlite::memory:');
    t.after(() => db.close());
    const store = new SqliteUsageStore(db.db);
    // 300 ms windows, a periodic flush only every minute: the rollovers come from the end timers.
    const agg = new UsageAggregator({ store, timeframe: 300, writeIntervalMs: 60_000 });
    agg.addSessions(() => [allocation(10)]);
    await agg.start();
    t.after(() => agg.stop());
    const first = agg.timeframe().start;
    const deadline = Date.now() + 5000;
    while ((await store.archives()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok((await store.archives()).length >= 2, 'two windows archived within 5 s');
    assert.ok(agg.timeframe().start >= first + 600);
  });
});
