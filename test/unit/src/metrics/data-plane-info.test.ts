// ferry_data_plane_info (src/metrics/metrics.ts): one series, value 1, with the plane and its
// threads as labels, from the relay that observes; none before it does or after it stops. And the
// native plane's own counters (NativeStats), read at scrape time, 0 without a native plane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryMetrics } from '../../../../src/metrics/metrics.js';

const series = async (metrics: FerryMetrics): Promise<string[]> =>
  (await metrics.render()).body.split('\n').filter((l) => l.startsWith('ferry_data_plane_info'));

test('the plane and its threads in the labels, value 1; nothing without a relay', async () => {
  const metrics = new FerryMetrics({ defaultMetrics: false });
  assert.deepEqual(await series(metrics), []);
  assert.match((await metrics.render()).body, /^# TYPE ferry_data_plane_info gauge$/m);
  let plane: { plane: 'native' | 'js'; threads: number } = { plane: 'native', threads: 4 };
  const end = metrics.observe({ dataPlane: () => plane });
  metrics.observe({ webhookBacklog: () => 0 }); // a source without a data plane adds no series
  assert.deepEqual(await series(metrics), ['ferry_data_plane_info{plane="native",threads="4"} 1']);
  plane = { plane: 'js', threads: 1 };
  assert.deepEqual(await series(metrics), ['ferry_data_plane_info{plane="js",threads="1"} 1'], 'read at scrape time, the old series gone');
  end();
  assert.deepEqual(await series(metrics), []);
});

test('the native plane\'s own counts: handed up, and dropped by reason; 0 without a native plane', async () => {
  const metrics = new FerryMetrics({ defaultMetrics: false });
  const lines = async () => (await metrics.render()).body.split('\n').filter((l) => l.startsWith('ferry_native_'));
  const zeros = [
    'ferry_native_datagrams_up_total 0',
    'ferry_native_dropped_total{reason="queue-full"} 0',
    'ferry_native_dropped_total{reason="no-allocation"} 0',
    'ferry_native_dropped_total{reason="malformed"} 0',
  ];
  assert.deepEqual(await lines(), zeros);
  metrics.observe({ nativeStats: () => null }); // the TypeScript path
  assert.deepEqual(await lines(), zeros);
  let up = 10;
  const end = metrics.observe({ nativeStats: () => ({ up, upDropped: 1, noAllocation: 2, malformed: 3, relayOnlyDropped: 4 }) });
  assert.deepEqual(await lines(), [
    'ferry_native_datagrams_up_total 10',
    'ferry_native_dropped_total{reason="queue-full"} 1',
    'ferry_native_dropped_total{reason="no-allocation"} 2',
    'ferry_native_dropped_total{reason="malformed"} 3',
  ]);
  up = 12;
  assert.match((await lines())[0], / 12$/, 'read at scrape time');
  end();
  assert.deepEqual(await lines(), zeros);
});
