// The relay bench's ratios: one subject's headline figures over another's, from the same run
// (bench/relay.ts). > 1 means the first is higher: better for rates, worse for CPU and bytes.

/** The ladder steps a ratio reads (bench/relay.ts's Step). */
interface LadderStep {
  readonly offered_pps: number;
  readonly server_cpu_pct: number | null;
}

export interface RatioSettings {
  /** The first rate of the coarse ladder: its server CPU is compared. */
  readonly lowRate: number;
  /** The ChannelData vs Send comparison's rate. */
  readonly indicationRate: number;
  /** The fixed-rate CPU comparison's rate. */
  readonly cpuRate: number;
  readonly payloads: readonly number[];
}

/** The number at a dotted path of a report, or null. */
export function get(o: unknown, path: string): number | null {
  let v: unknown = o;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' ? v : null;
}

const div = (x: number | null, y: number | null): number | null => (x !== null && y !== null && y !== 0 ? Math.round((x / y) * 1000) / 1000 : null);

export function ratioAt(a: unknown, b: unknown, path: string): number | null {
  return div(get(a, path), get(b, path));
}

function cpuAtLadderRate(rep: unknown, payload: number, rate: number): number | null {
  const steps = (rep as Record<string, { ladder?: LadderStep[] }> | undefined)?.[`payload_${payload}`]?.ladder;
  return steps?.find((s) => s.offered_pps === rate)?.server_cpu_pct ?? null;
}

/** Every headline ratio of `a` over `b` (e.g. Ferry / coturn). */
export function ratios(a: unknown, b: unknown, s: RatioSettings): Record<string, number | null> {
  const r = (path: string): number | null => ratioAt(a, b, path);
  const out: Record<string, number | null> = {};
  for (const p of s.payloads) {
    out[`saturation_pps_${p}`] = r(`payload_${p}.saturation.delivered_pps`);
    out[`peak_delivered_pps_${p}`] = r(`payload_${p}.peak_delivered_pps`);
  }
  for (const p of s.payloads) {
    out[`server_cpu_at_${s.lowRate}pps_${p}`] = div(cpuAtLadderRate(a, p, s.lowRate), cpuAtLadderRate(b, p, s.lowRate));
  }
  for (const p of s.payloads) {
    out[`fixed_rate_server_cpu_${p}_at_${s.cpuRate}pps`] = r(`fixed_rate.payload_${p}.server_cpu_pct`);
    out[`fixed_rate_cpu_per_round_trip_${p}`] = r(`fixed_rate.payload_${p}.cpu_us_per_round_trip`);
  }
  out[`server_cpu_chandata_100_at_${s.indicationRate}pps`] = r('send_vs_channel.channel_data.server_cpu_pct');
  out[`server_cpu_send_ind_100_at_${s.indicationRate}pps`] = r('send_vs_channel.send_indication.server_cpu_pct');
  out.alloc_seq_per_s = r('allocation.alloc_seq_per_s');
  out.bytes_per_alloc = r('allocation.bytes_per_alloc');
  return out;
}

/** The figures compared with a rate ceiling (node-bare): how much the TURN work costs on top. */
export function ceilingRatios(a: unknown, ceiling: unknown, payloads: readonly number[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const p of payloads) out[`saturation_pps_${p}`] = ratioAt(a, ceiling, `payload_${p}.saturation.delivered_pps`);
  out.peak_delivered_pps_100 = ratioAt(a, ceiling, 'payload_100.peak_delivered_pps');
  return out;
}

/**
 * The ratio sections of the report, each null when one of its two subjects did not run:
 * - ratio / ratio_native: Ferry on the TypeScript path / on the native plane over coturn
 *   (`complete` false when a subject failed part-way: partial ratios stay);
 * - ratio_native_to_js: the native plane over the TypeScript path;
 * - ratio_to_node_bare / ratio_native_to_node_bare: over a bare Node dgram relay (the JS ceiling);
 * - ratio_to_unmetered / ratio_native_to_unmetered: over the same engine without metering (its cost).
 */
export function ratioSections(doc: Record<string, unknown>, s: RatioSettings): Record<string, unknown> {
  const failed = (k: string): boolean => Boolean((doc[k] as Record<string, unknown> | undefined)?.error);
  const both = (x: string, y: string): boolean => doc[x] !== undefined && doc[y] !== undefined;
  const vs = (x: string, y: string, complete = false) =>
    both(x, y) ? { ...(complete ? { complete: !failed(x) && !failed(y) } : {}), ...ratios(doc[x], doc[y], s) } : null;
  return {
    ratio: vs('ferry', 'coturn', true),
    ratio_native: vs('ferry-native', 'coturn', true),
    ratio_native_to_js: vs('ferry-native', 'ferry'),
    ratio_to_node_bare: both('ferry', 'node-bare') ? ceilingRatios(doc.ferry, doc['node-bare'], s.payloads) : null,
    ratio_native_to_node_bare: both('ferry-native', 'node-bare') ? ceilingRatios(doc['ferry-native'], doc['node-bare'], s.payloads) : null,
    ratio_to_unmetered: vs('ferry', 'ferry-unmetered'),
    ratio_native_to_unmetered: vs('ferry-native', 'ferry-native-unmetered'),
  };
}
