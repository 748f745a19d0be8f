// Reads a Prometheus text exposition (format 0.0.4, what GET /metrics answers) into what a query
// can refer to: each sample name (a histogram's `_bucket`, `_sum` and `_count` are names of their
// own) with the label names its series carry, and each family's # TYPE.

export interface Exposition {
  /** Sample name → the label names seen on its series (empty for a series without labels). */
  readonly series: ReadonlyMap<string, ReadonlySet<string>>;
  /** Family name (# TYPE) → counter, gauge, histogram, summary or untyped. */
  readonly types: ReadonlyMap<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/y;

export function parseExposition(text: string): Exposition {
  const series = new Map<string, Set<string>>();
  const types = new Map<string, string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const t = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (t) types.set(t[1], t[2]);
      continue;
    }
    const m = SAMPLE.exec(line);
    // Values as Prometheus reads them (Go's ParseFloat): a number, or NaN / Inf in any case.
    if (m === null || (Number.isNaN(Number(m[3])) && !/^[+-]?(?:inf|infinity|nan)$/i.test(m[3]))) {
      throw new Error(`exposition line ${i + 1} is not a sample: ${line}`);
    }
    const labels = series.get(m[1]) ?? new Set<string>();
    series.set(m[1], labels);
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body);
      if (l === null) throw new Error(`exposition line ${i + 1}: bad labels {${body}}`);
      labels.add(l[1]);
    }
  }
  return { series, types };
}
