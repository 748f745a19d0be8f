// ferry_engine_faults_total: exceptions the engine caught in its socket callbacks, read at scrape time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryMetrics } from '../../../../src/metrics/metrics.js';

test('ferry_engine_faults_total reads the engine\'s count at scrape time (0 without a source)', async () => {
  const metrics = new FerryMetrics({ defaultMetrics: false });
  assert.match((await metrics.render()).body, /^ferry_engine_faults_total 0$/m);
  let faults = 2;
  metrics.observe({ engineFaults: () => faults });
  assert.match((await metrics.render()).body, /^ferry_engine_faults_total 2$/m);
  faults = 5;
  assert.match((await metrics.render()).body, /^ferry_engine_faults_total 5$/m);
});
