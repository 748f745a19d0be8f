// Calendar-month timeframes (network_usage.timeframe "month"): boundaries at 00:00 UTC on the 1st,
// whatever the month's length (31, 30, 28, 29 days) and across the year end.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isMonthWindow, monthStart, monthWindow, nextMonthStart, resumeWindow, windowAfter, windowAt } from '../../../../src/metering/timeframe.js';
import { parseTimeframe } from '../../../../src/config/units.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const at = (s: string) => Date.parse(s);

describe('calendar months (UTC)', () => {
  it('a month runs from 00:00 UTC on the 1st to 00:00 UTC on the next 1st: 31, 30, 28 and 29 days', () => {
    const cases: [string, string, string, number][] = [
      ['2026-01-15T12:00:00Z', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', 31],
      ['2026-04-30T23:59:59.999Z', '2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', 30],
      ['2026-02-14T00:00:00Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', 28],
      ['2028-02-29T18:00:00Z', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z', 29], // leap year
      ['2100-02-10T00:00:00Z', '2100-02-01T00:00:00.000Z', '2100-03-01T00:00:00.000Z', 28], // divisible by 100: not a leap year
      ['2000-02-10T00:00:00Z', '2000-02-01T00:00:00.000Z', '2000-03-01T00:00:00.000Z', 29], // divisible by 400: a leap year
      ['2026-12-31T23:59:59.999Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 31], // year end
      ['2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z', 31], // on the boundary: the new month
    ];
    for (const [t, start, end, days] of cases) {
      assert.equal(iso(monthStart(at(t))), start, t);
      assert.equal(iso(nextMonthStart(at(t))), end, t);
      const w = monthWindow(at(t));
      assert.deepEqual([iso(w.start), iso(w.start + w.lengthMs), w.lengthMs / DAY], [start, end, days], t);
      assert.ok(isMonthWindow(w));
      assert.deepEqual(windowAt('month', at(t)), w);
    }
  });

  it('one instant before a boundary is the old month, the boundary itself the new one', () => {
    for (const boundary of ['2026-02-01', '2026-03-01', '2028-03-01', '2026-05-01', '2027-01-01']) {
      const b = at(`${boundary}T00:00:00Z`);
      assert.equal(nextMonthStart(b - 1), b, boundary);
      assert.equal(monthStart(b), b, boundary);
      assert.equal(monthStart(b - 1) < b, true);
    }
  });

  it('twelve months in a row cover the year without gap or overlap', () => {
    let w = monthWindow(at('2028-01-01T00:00:00Z'));
    const lengths: number[] = [];
    for (let i = 0; i < 12; i++) {
      lengths.push(w.lengthMs / DAY);
      const next = windowAfter('month', w, w.start + w.lengthMs);
      assert.equal(next.start, w.start + w.lengthMs, 'the next month starts where the last ended');
      w = next;
    }
    assert.deepEqual(lengths, [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    assert.equal(iso(w.start), '2029-01-01T00:00:00.000Z');
  });

  it('after a stop of several months the next window is the month of now (as fixed windows skip too)', () => {
    const jan = monthWindow(at('2026-01-10T00:00:00Z'));
    assert.deepEqual(windowAfter('month', jan, at('2026-04-03T05:00:00Z')), monthWindow(at('2026-04-03T05:00:00Z')));
    const fixed = { start: at('2026-01-01T10:00:00Z'), lengthMs: 7 * DAY };
    assert.deepEqual(windowAfter(7 * DAY, fixed, fixed.start + 15 * DAY), { start: fixed.start + 14 * DAY, lengthMs: 7 * DAY });
  });

  it('a restart with a changed setting keeps the stored window\'s start', () => {
    const month = monthWindow(at('2026-03-05T00:00:00Z'));
    assert.deepEqual(resumeWindow('month', month, at('2026-03-20T00:00:00Z')), month, 'the same setting keeps it');
    // From 30d to months: the window keeps its start and ends at the first month boundary after its usage.
    const fixed = { start: at('2026-03-17T09:00:00Z'), lengthMs: 30 * DAY };
    const now = at('2026-03-20T00:00:00Z');
    assert.deepEqual(resumeWindow('month', fixed, now), { start: fixed.start, lengthMs: at('2026-04-01T00:00:00Z') - fixed.start });
    // A fixed window that ended long before now (Ferry stopped): it ends at the boundary after its own end.
    assert.equal(iso(fixed.start + resumeWindow('month', fixed, at('2026-09-01T00:00:00Z')).lengthMs), '2026-05-01T00:00:00.000Z');
    // From months to a fixed length: from the month's start.
    assert.deepEqual(resumeWindow(DAY, month, now), { start: month.start, lengthMs: DAY });
  });

  it('the config value: "month" or a duration of at least 1m', () => {
    assert.equal(parseTimeframe('month'), 'month');
    assert.equal(parseTimeframe(' month '), 'month');
    assert.equal(parseTimeframe('30d'), 30 * DAY);
    assert.equal(parseTimeframe('1m'), 60_000);
    assert.throws(() => parseTimeframe('59s'), /must be at least 1m, or "month"/);
    assert.throws(() => parseTimeframe('1mo'), /expected a duration such as 30d or 1h \(at least 1m\), or "month"/);
  });
});
