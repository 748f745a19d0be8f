// The relay bench's CPU comparison at one fixed rate that every subject carries (bench/relay.ts):
// the same offered rate, run a few times per subject (alternating subjects), summarized by medians
// so that one noisy window does not decide the figure.

/** The figures of one run that the summary reads (bench/relay.ts's Step). */
export interface FixedRateRun {
  readonly delivered_pps: number | null;
  readonly loss_pct: number | null;
  readonly server_cpu_pct: number | null;
  readonly error?: string;
}

export interface FixedRateSummary<R extends FixedRateRun> {
  /** Every run lost < 1% (else the CPU figures compare unequal work: look at the runs). */
  readonly held: boolean;
  /** Median server CPU over the runs (those that held, when any did), % of one core. */
  readonly server_cpu_pct: number | null;
  /**
   * Median server CPU per round trip (one packet client → peer and its echo back, two relayed
   * datagrams), in microseconds of one core: server_cpu_pct × 10,000 / delivered_pps.
   */
  readonly cpu_us_per_round_trip: number | null;
  readonly runs: readonly R[];
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round2 = (x: number | null): number | null => (x === null ? null : Math.round(x * 100) / 100);

const held = (r: FixedRateRun): boolean => !r.error && r.loss_pct !== null && r.loss_pct < 1;

/**
 * The medians are over the runs that held when any did (a run that lost packets under background
 * load relayed less and so used less CPU: it would pull the median down), else over every run.
 */
export function summarizeFixedRate<R extends FixedRateRun>(runs: readonly R[]): FixedRateSummary<R> {
  const figures = runs.filter((r) => !r.error && r.server_cpu_pct !== null && (r.delivered_pps ?? 0) > 0);
  const measured = figures.some(held) ? figures.filter(held) : figures;
  return {
    held: runs.length > 0 && runs.every(held),
    server_cpu_pct: round2(median(measured.map((r) => r.server_cpu_pct!))),
    cpu_us_per_round_trip: round2(median(measured.map((r) => (r.server_cpu_pct! * 10_000) / r.delivered_pps!))),
    runs,
  };
}
