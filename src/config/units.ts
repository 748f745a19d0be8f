/**
 * Parsers for the human-friendly values operators write in config files:
 * sizes (`500MB`, `1.5GiB`), durations (`1h30m`, `250ms`) and percentages (`90%`); formatSize
 * writes sizes back for people (CLI output).
 * Each parser throws a UnitError whose message says what was expected; the zod
 * helpers at the bottom turn that into a validation issue on the key.
 */
import { z } from 'zod';

export class UnitError extends Error {
  override name = 'UnitError';
}

const NUMBER = String.raw`(\d+(?:\.\d+)?|\.\d+)`;

/** Decimal (SI) and binary (IEC) byte units; matched case-insensitively. */
const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ['b', 1],
  ['kb', 1e3],
  ['mb', 1e6],
  ['gb', 1e9],
  ['tb', 1e12],
  ['pb', 1e15],
  ['kib', 2 ** 10],
  ['mib', 2 ** 20],
  ['gib', 2 ** 30],
  ['tib', 2 ** 40],
  ['pib', 2 ** 50],
]);

const SIZE_RE = new RegExp(`^${NUMBER}\\s*([a-z]*)$`, 'i');

/**
 * `2TB` → 2e12, `500MB` → 5e8, `1.5GiB` → 1610612736, `512` → 512 (bytes).
 * kB/MB/GB/TB/PB are powers of 1000, KiB/MiB/GiB/TiB/PiB powers of 1024. Rounds to whole bytes.
 */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) {
      throw new UnitError(`expected a size such as 500MB or 2TB, or a whole number of bytes; got ${input}`);
    }
    return input;
  }
  const m = SIZE_RE.exec(input.trim());
  const unit = m ? (m[2] === '' ? 'b' : m[2].toLowerCase()) : undefined;
  const mult = unit === undefined ? undefined : SIZE_UNITS.get(unit);
  if (!m || mult === undefined) {
    throw new UnitError(
      `expected a size such as 500MB, 1.5GiB or 2TB (units B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB); got ${JSON.stringify(input)}`,
    );
  }
  const bytes = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(bytes)) throw new UnitError(`size too large: ${JSON.stringify(input)}`);
  return bytes;
}

const FORMAT_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

/**
 * The inverse of parseSize for people: bytes in SI units with three significant digits
 * (`999 B`, `1.00 kB`, `45.6 MB`, `789 GB`, `1.50 TB`); parseSize reads it back, rounded.
 */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`expected a number of bytes ≥ 0; got ${bytes}`);
  let v = bytes;
  let i = 0;
  while (v >= 999.5 && i < FORMAT_UNITS.length - 1) {
    v /= 1000;
    i += 1;
  }
  if (i === 0) return `${Math.round(v)} B`;
  return `${v >= 99.95 ? v.toFixed(0) : v >= 9.995 ? v.toFixed(1) : v.toFixed(2)} ${FORMAT_UNITS[i]}`;
}

const DURATION_UNITS: readonly (readonly [string, number])[] = [
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];
const DURATION_PART_RE = new RegExp(`${NUMBER}(ms|[wdhms])`, 'gy');

/**
 * `30d`, `10s`, `1h30m`, `250ms`, `1.5h` → milliseconds. Units w, d, h, m, s, ms; in a compound
 * value each unit appears once, largest first. A bare number is refused (seconds or milliseconds?).
 */
export function parseDuration(input: string): number {
  const s = input.trim();
  const bad = () =>
    new UnitError(
      `expected a duration such as 10s, 1h30m, 30d or 250ms (units w, d, h, m, s, ms); got ${JSON.stringify(input)}`,
    );
  if (s === '') throw bad();
  DURATION_PART_RE.lastIndex = 0;
  let total = 0;
  let lastRank = -1;
  let m: RegExpExecArray | null;
  while (DURATION_PART_RE.lastIndex < s.length && (m = DURATION_PART_RE.exec(s)) !== null) {
    const rank = DURATION_UNITS.findIndex(([u]) => u === m![2]);
    if (rank <= lastRank) {
      throw new UnitError(`units must appear once each, largest first (e.g. 1h30m); got ${JSON.stringify(input)}`);
    }
    lastRank = rank;
    total += Number(m[1]) * DURATION_UNITS[rank][1];
  }
  if (lastRank === -1 || DURATION_PART_RE.lastIndex !== s.length) throw bad();
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw new UnitError(`duration too large: ${JSON.stringify(input)}`);
  return ms;
}

/**
 * An interval that may be switched off: `"0"` → 0 (off), else a duration (parseDuration) of at
 * least 1s, in milliseconds.
 */
export function parseIntervalOrOff(input: string): number {
  if (input.trim() === '0') return 0;
  const ms = parseDuration(input);
  if (ms < 1000) throw new UnitError(`must be at least 1s, or "0"; got ${JSON.stringify(input)}`);
  return ms;
}

/**
 * network_usage.timeframe: `"month"` → 'month' (calendar months, UTC), else a duration of at
 * least 1m, in milliseconds.
 */
export function parseTimeframe(input: string): number | 'month' {
  if (input.trim() === 'month') return 'month';
  let ms: number;
  try {
    ms = parseDuration(input);
  } catch {
    throw new UnitError(`expected a duration such as 30d or 1h (at least 1m), or "month" for calendar months (UTC); got ${JSON.stringify(input)}`);
  }
  if (ms < 60_000) throw new UnitError(`must be at least 1m, or "month"; got ${JSON.stringify(input)}`);
  return ms;
}

const PERCENT_RE = new RegExp(`^${NUMBER}\\s*%$`);

/** `90%` → 0.9, `12.5%` → 0.125. Between 0% and 100%. */
export function parsePercent(input: string): number {
  const m = PERCENT_RE.exec(input.trim());
  if (!m) throw new UnitError(`expected a percentage such as 90%; got ${JSON.stringify(input)}`);
  const pct = Number(m[1]);
  if (pct > 100) throw new UnitError(`expected a percentage between 0% and 100%; got ${JSON.stringify(input)}`);
  return pct / 100;
}

function unitSchema<I extends string | number>(base: z.ZodType<I>, parse: (v: I) => number) {
  return base.transform((value, ctx) => {
    try {
      return parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** Zod schema for a size: a string with a unit or a number of bytes → bytes. */
export const sizeSchema = () =>
  unitSchema(z.union([z.string(), z.number()], { error: 'expected a size such as 500MB or 2TB' }), parseSize);
/** Zod schema for a duration string → milliseconds. */
export const durationSchema = () =>
  unitSchema(z.string({ error: 'expected a duration such as 10s or 1h30m' }), parseDuration);
/** Zod schema for a percentage string → a fraction between 0 and 1. */
export const percentSchema = () =>
  unitSchema(z.string({ error: 'expected a percentage such as 90%' }), parsePercent);
