// The console's figures (console/format.ts): a share of a limit is floored, never rounded up to the
// limit or across a threshold the operator watches.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatShare } from '../../../console/format.js';

describe('console formatShare', () => {
  test('floored to a tenth of a percent: under the limit never reads 100 %', () => {
    assert.equal(formatShare(0.995), '99.5 %');
    assert.equal(formatShare(0.9999), '99.9 %');
    assert.equal(formatShare((1e15 - 1) / 1e15), '99.9 %');
    assert.equal(formatShare(0.89999), '89.9 %');
    assert.equal(formatShare(0.92999), '92.9 %');
    assert.equal(formatShare(0.4567), '45.6 %');
  });

  test('exact tenths stay exact despite binary products', () => {
    for (let t = 1; t < 1000; t++) assert.equal(formatShare(t / 1000), `${(t / 10).toFixed(1)} %`, String(t));
  });

  test('none, the whole and beyond in whole percents; nonsense as a dash', () => {
    assert.equal(formatShare(0), '0 %');
    assert.equal(formatShare(1), '100 %');
    assert.equal(formatShare(1.2345), '123 %');
    // Exact percents above the whole stay exact despite binary products (1.15 * 100 is 114.999…).
    for (let p = 100; p <= 500; p++) assert.equal(formatShare(p / 100), `${p} %`, String(p));
    assert.equal(formatShare(Number.NaN), '–');
  });
});
