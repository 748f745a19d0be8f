// The console's rates from cumulative counters: the difference over the time between readings,
// nothing when the counters went back (a restarted node), a history bounded in time and size with
// gaps, and the previous reading kept per node (a load balancer alternating nodes, a restart).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RATE_GAP_MS, NodeReadings, rateBetween, RateHistory } from '../../../console/rates.js';

describe('console rates', () => {
  test('the difference of two readings over the seconds between them', () => {
    assert.deepEqual(rateBetween({ atMs: 1_000, toPeer: 100, toClient: 50 }, { atMs: 3_000, toPeer: 2_100, toClient: 50 }), { toPeer: 1_000, toClient: 0 });
  });

  test('no rate for counters that went back or readings at the same time', () => {
    assert.equal(rateBetween({ atMs: 1_000, toPeer: 5_000, toClient: 0 }, { atMs: 3_000, toPeer: 10, toClient: 10 }), null);
    assert.equal(rateBetween({ atMs: 1_000, toPeer: 0, toClient: 0 }, { atMs: 1_000, toPeer: 10, toClient: 10 }), null);
    assert.equal(rateBetween({ atMs: 2_000, toPeer: 0, toClient: 0 }, { atMs: 1_000, toPeer: 10, toClient: 10 }), null);
    // Further apart than MAX_RATE_GAP_MS (a hidden tab, a node away): an average over the gap is no rate now.
    assert.deepEqual(rateBetween({ atMs: 0, toPeer: 0, toClient: 0 }, { atMs: MAX_RATE_GAP_MS, toPeer: 10_000, toClient: 0 }), { toPeer: 1_000, toClient: 0 });
    assert.equal(rateBetween({ atMs: 0, toPeer: 0, toClient: 0 }, { atMs: MAX_RATE_GAP_MS + 1, toPeer: 10_000, toClient: 0 }), null);
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

  test('a null rate is a gap in the history, not a reason to forget it; the same time twice adds nothing', () => {
    const h = new RateHistory(60_000, 100);
    h.push(10_000, { toPeer: 1, toClient: 2 });
    h.push(12_000, null);
    h.push(14_000, { toPeer: 3, toClient: 4 });
    h.push(14_000, { toPeer: 9, toClient: 9 });
    assert.deepEqual(h.series(), { x: [10, 12, 14], toPeer: [1, null, 3], toClient: [2, null, 4] });
    assert.equal(h.rates, 2);
  });

  test('per node: the same at is skipped; A, B, A gives A its rate from its own previous reading', () => {
    const r = new NodeReadings();
    const at = (s: number, toPeer: number, toClient = 0) => ({ atMs: s * 1000, toPeer, toClient });
    assert.deepEqual(r.take('a', 'T0', at(100, 1_000)), { fresh: true, rate: null }, 'first reading of a: no rate');
    assert.deepEqual(r.take('a', 'T0', at(100, 1_000)), { fresh: false }, 'the same at again: skipped');
    assert.deepEqual(r.take('b', 'T1', at(102, 900_000)), { fresh: true, rate: null }, 'first reading of b: no rate, not a - b');
    assert.deepEqual(r.take('a', 'T0', at(104, 5_000, 400)), { fresh: true, rate: { toPeer: 1_000, toClient: 100 } }, "a's rate over a's own 4 s");
    assert.deepEqual(r.take('b', 'T1', at(106, 902_000)), { fresh: true, rate: { toPeer: 500, toClient: 0 } });
    assert.deepEqual(r.take(null, 'T2', at(106, 7)), { fresh: true, rate: null }, 'a node without an id is one more node');
  });

  test('a restarted node (another started_at) starts afresh: no rate, even with counters above the old ones', () => {
    const r = new NodeReadings();
    r.take('a', '2030-01-01T00:00:00.000Z', { atMs: 10_000, toPeer: 100, toClient: 100 });
    assert.deepEqual(r.take('a', '2030-01-01T00:05:00.000Z', { atMs: 12_000, toPeer: 5_000, toClient: 5_000 }), { fresh: true, rate: null });
    assert.deepEqual(r.take('a', '2030-01-01T00:05:00.000Z', { atMs: 14_000, toPeer: 7_000, toClient: 5_000 }), { fresh: true, rate: { toPeer: 1_000, toClient: 0 } });
  });

  test('at most maxNodes are kept: the one that answered least recently goes first', () => {
    const r = new NodeReadings(2);
    r.take('a', 'T', { atMs: 1_000, toPeer: 0, toClient: 0 });
    r.take('b', 'T', { atMs: 1_000, toPeer: 0, toClient: 0 });
    r.take('a', 'T', { atMs: 2_000, toPeer: 10, toClient: 10 });
    r.take('c', 'T', { atMs: 2_000, toPeer: 0, toClient: 0 });
    assert.equal(r.size, 2);
    assert.deepEqual(r.take('b', 'T', { atMs: 3_000, toPeer: 10, toClient: 10 }), { fresh: true, rate: null }, 'b was dropped');
    assert.deepEqual(r.take('c', 'T', { atMs: 3_000, toPeer: 10, toClient: 10 }), { fresh: true, rate: { toPeer: 10, toClient: 10 } }, 'c was kept');
  });
});
