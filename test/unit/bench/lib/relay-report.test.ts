// The relay bench's report arithmetic and subjects (bench/lib/relay-fixed-rate.ts,
// relay-ratios.ts, relay-subjects.ts): medians and CPU per round trip at the fixed rate, which
// runs count, the ratio sections and their keys, and each subject's data plane keys (a wrong one
// would measure the other plane under the subject's name).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { median, summarizeFixedRate } from '../../../../bench/lib/relay-fixed-rate.js';
import { ratios, ratioSections, type RatioSettings } from '../../../../bench/lib/relay-ratios.js';
import { defaultKinds, KINDS, planeConfig, threadsOf } from '../../../../bench/lib/relay-subjects.js';

const run = (cpu: number | null, delivered: number | null, loss: number | null, error?: string) => ({
  server_cpu_pct: cpu, delivered_pps: delivered, loss_pct: loss, ...(error ? { error } : {}),
});

describe('summarizeFixedRate', () => {
  it('medians of odd and even counts; none of nothing', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([]), null);
  });

  it('CPU per round trip = cpu % x 10,000 / delivered, median over the runs', () => {
    const s = summarizeFixedRate([run(40, 20_000, 0), run(30, 20_000, 0), run(50, 20_000, 0.5)]);
    assert.equal(s.held, true);
    assert.equal(s.server_cpu_pct, 40);
    assert.equal(s.cpu_us_per_round_trip, 20);
    assert.equal(s.runs.length, 3);
  });

  it('a run with loss >= 1% or an error: not held; runs without a figure are left out of the medians', () => {
    const s = summarizeFixedRate([run(40, 20_000, 1), run(null, 20_000, 0), run(90, 0, 100, 'loadgen code 1; setup 0/10')]);
    assert.equal(s.held, false);
    assert.equal(s.server_cpu_pct, 40);
    assert.equal(s.cpu_us_per_round_trip, 20);
    // a lossy run (less relayed, less CPU) is left out when others held
    const mixed = summarizeFixedRate([run(60, 20_000, 0), run(20, 10_000, 47), run(50, 20_000, 0)]);
    assert.equal(mixed.held, false);
    assert.equal(mixed.server_cpu_pct, 55);
    assert.equal(mixed.cpu_us_per_round_trip, 27.5);
    assert.equal(summarizeFixedRate([]).held, false);
    assert.equal(summarizeFixedRate([]).server_cpu_pct, null);
  });
});

const settings: RatioSettings = { lowRate: 50_000, indicationRate: 25_000, cpuRate: 20_000, payloads: [100, 1000] };

function report(sat100: number, cpu20k: number, bytes: number) {
  return {
    payload_100: { saturation: { delivered_pps: sat100 }, peak_delivered_pps: sat100, ladder: [{ offered_pps: 50_000, server_cpu_pct: cpu20k * 2 }] },
    payload_1000: { saturation: null, peak_delivered_pps: 0, ladder: [] },
    fixed_rate: { offered_pps: 20_000, payload_100: { server_cpu_pct: cpu20k, cpu_us_per_round_trip: cpu20k / 2 } },
    allocation: { alloc_seq_per_s: 1000, bytes_per_alloc: bytes },
  };
}

describe('ratios', () => {
  it('each headline figure of a over b, rounded to 3 decimals; null where either has none or b is 0', () => {
    const r = ratios(report(90_000, 30, 20_000), report(60_000, 40, 30_000), settings);
    assert.equal(r.saturation_pps_100, 1.5);
    assert.equal(r.saturation_pps_1000, null);
    assert.equal(r.peak_delivered_pps_1000, null);
    assert.equal(r.server_cpu_at_50000pps_100, 0.75);
    assert.equal(r.server_cpu_at_50000pps_1000, null);
    assert.equal(r['fixed_rate_server_cpu_100_at_20000pps'], 0.75);
    assert.equal(r.fixed_rate_cpu_per_round_trip_100, 0.75);
    assert.equal(r.fixed_rate_cpu_per_round_trip_1000, null);
    assert.equal(r.alloc_seq_per_s, 1);
    assert.equal(r.bytes_per_alloc, 0.667);
  });

  it('sections: native over coturn, the js plane and its unmetered engine; null when a subject did not run', () => {
    const doc: Record<string, unknown> = {
      coturn: report(60_000, 40, 30_000),
      'ferry-native': report(90_000, 30, 20_000),
      'ferry-native-unmetered': { ...report(90_000, 20, 10_000), error: 'exited' },
    };
    const s = ratioSections(doc, settings);
    assert.deepEqual(Object.keys(s), [
      'ratio', 'ratio_native', 'ratio_native_to_js', 'ratio_to_node_bare', 'ratio_native_to_node_bare', 'ratio_to_unmetered', 'ratio_native_to_unmetered',
    ]);
    assert.equal(s.ratio, null);
    assert.equal(s.ratio_native_to_js, null);
    const native = s.ratio_native as Record<string, unknown>;
    assert.equal(native.complete, true);
    assert.equal(native.saturation_pps_100, 1.5);
    const unmetered = s.ratio_native_to_unmetered as Record<string, unknown>;
    assert.equal(unmetered.fixed_rate_server_cpu_100_at_20000pps, 1.5);
    assert.equal('complete' in unmetered, false);
    doc.coturn = { ...(doc.coturn as object), error: 'coturn exited' };
    assert.equal((ratioSections(doc, settings).ratio_native as Record<string, unknown>).complete, false);
  });
});

describe('relay bench subjects', () => {
  it('the data plane is always explicit: js for the TypeScript subjects, native with the threads for the native ones', () => {
    assert.deepEqual(planeConfig('ferry', 2), { data_plane: 'js' });
    assert.deepEqual(planeConfig('ferry-unmetered', 2), { data_plane: 'js' });
    assert.deepEqual(planeConfig('ferry-native', 2), { data_plane: 'native', relay_threads: 2 });
    assert.deepEqual(planeConfig('ferry-native-unmetered', 1), { data_plane: 'native', relay_threads: 1 });
  });

  it('threads: coturn and the native plane take them, the JS ones have one; more than one runs coturn and ferry-native', () => {
    assert.deepEqual(KINDS.map((k) => threadsOf(k, 2)), [2, 1, 1, 2, 2, 1]);
    assert.deepEqual(defaultKinds(1), [...KINDS]);
    assert.deepEqual(defaultKinds(2), ['coturn', 'ferry-native']);
  });
});
