// The console's rates from cumulative counters: the difference over the time between readings,
// nothing when the counters went back (a restarted node), and a history bounded in time and size.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rateBetween, RateHistory } from '../../../console/rates.js';

describe('console rates', () => {
  test('the difference of two readings over the seconds between them', () => {
    assert.deepEqual(rateBetween({ atMs: 1_000, toPeer: 100, toClient: 50 }, { atMs: 3_000, toPeer: 2_100, toClient: 50 }), { toPeer: 1_000, toClient: 0 });
  });

  test('no rate for counters that went back or readings at the same time', () => {
    assert.equal(rateBetween({ atMs: 1_000, toPeer: 5_000, toClient: 0 }, { atMs: 3_000, toPeer: 10, toClient: 10 }), null);
    assert.equal(rateBetween({ atMs: 1_000, toPeer: 0, toClient: 0 }, { atMs: 1_000, toPeer: 10, toClient: 10 }), null);
    assert.equal(rateBetween({ atMs: 2_000, toPeer: 0, toClient: 0 }, { atMs: 1_000, toPeer: 10, toClient: 10 }), null);
  });

  test('the history keeps the window and at most maxPoints, oldest first, in seconds', () => {
    const h = new RateHistory(10_000, 4);
    for (let i = 0; i < 6; i++) h.push(1_000_000 + i * 1_000, { toPeer: i, toClient: 2 * i });
    assert.deepEqual(h.series(), { x: [1002, 1003, 1004, 1005], toPeer: [2, 3, 4, 5], toClient: [4, 6, 8, 10] });
    h.push(1_000_000 + 20_000, { toPeer: 9, toClient: 9 });
    assert.deepEqual(h.series().x, [1020], 'points older than the window are dropped');
    h.push(1_000_000 + 19_000, { toPeer: 1, toClient: 1 });
    assert.deepEqual(h.series().x, [1019], 'a clock that went back starts again');
    const copy = h.series();
    copy.x.push(1);
    assert.equal(h.length, 1, 'series() gives copies');
  });
});
