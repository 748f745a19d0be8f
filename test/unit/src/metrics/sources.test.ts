// What /metrics reads at scrape time comes from the parts that observe (FerryMetrics.observe):
// each figure is the sum over the sources that give it, and a part that stops takes its away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryMetrics } from '../../../../src/metrics/metrics.js';

const line = async (metrics: FerryMetrics, name: string): Promise<string | undefined> =>
  (await metrics.render()).body.split('\n').find((l) => l.startsWith(`${name} `));

test('figures from several sources add up; an ended observation no longer counts', async () => {
  const metrics = new FerryMetrics({ defaultMetrics: false });
  const endA = metrics.observe({ webhookBacklog: () => 3, engineFaults: () => 1 });
  const endB = metrics.observe({ webhookBacklog: () => 4, signalingPeers: () => 7 });
  assert.equal(await line(metrics, 'ferry_webhook_backlog'), 'ferry_webhook_backlog 7');
  assert.equal(await line(metrics, 'ferry_engine_faults_total'), 'ferry_engine_faults_total 1');
  assert.equal(await line(metrics, 'ferry_signaling_connections'), 'ferry_signaling_connections 7');
  endA();
  endA(); // ending twice is harmless
  assert.equal(await line(metrics, 'ferry_webhook_backlog'), 'ferry_webhook_backlog 4');
  assert.equal(await line(metrics, 'ferry_engine_faults_total'), 'ferry_engine_faults_total 0');
  endB();
  assert.equal(await line(metrics, 'ferry_webhook_backlog'), 'ferry_webhook_backlog 0');
  assert.equal(await line(metrics, 'ferry_signaling_connections'), 'ferry_signaling_connections 0');
});
