/**
 * The export page's ranges in UTC: the ledger's hours, days and months are UTC, so a range is a
 * pair of instants, `from` included and `to` excluded (GET /v1/usage/export.csv: buckets starting
 * at or after `from` and before `to`). The date inputs hold UTC days; a quick choice may give exact
 * instants (the current timeframe need not start at midnight).
 */
export interface Range {
  /** ms since the epoch, included. */
  readonly from: number;
  /** ms since the epoch, excluded. */
  readonly to: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Rows per hour, per UTC day or per timeframe (GET /v1/usage/export.csv's `granularity`). */
export type Granularity = 'hour' | 'day' | 'timeframe';

/** "2026-12-03" → 00:00 UTC that day, or undefined for anything that is not such a date. */
export function parseDay(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m === null) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls 2026-02-31 over into March: only a day that exists is a day.
  return new Date(ms).toISOString().slice(0, 10) === value ? ms : undefined;
}

/** The UTC day of `ms` as a date input's value: "2026-12-03". */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** 00:00 UTC of the day `ms` is in. */
export function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** Whether `ms` is 00:00 UTC (a range the date inputs show exactly). */
export function isMidnight(ms: number): boolean {
  return ms % DAY_MS === 0;
}

/** The last 7 UTC days, today included. */
export function lastSevenDays(now: number): Range {
  const tomorrow = startOfDay(now) + DAY_MS;
  return { from: tomorrow - 7 * DAY_MS, to: tomorrow };
}

/** This calendar month in UTC. */
export function thisMonth(now: number): Range {
  const d = new Date(now);
  return { from: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), to: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

/** The calendar month before this one in UTC. */
export function lastMonth(now: number): Range {
  const d = new Date(now);
  return { from: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1), to: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) };
}

/**
 * How an instant goes into the file name: the day when it is midnight, else the day and the UTC
 * time without colons (which some file systems refuse): 2026-12-03 or 2026-12-03T1530Z.
 */
export function fileStamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return isMidnight(ms) ? iso.slice(0, 10) : `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
}

/**
 * The range to ask for with rows per `granularity`: the API keeps only the buckets that START at or
 * after `from`, so a From inside an hour or a day (a timeframe starting at 15:37) would drop the
 * bucket holding it, the first of the billing period. From is rounded down to its bucket's start
 * and To up to the next one; rows per timeframe start at the timeframe's exact start, kept as it is.
 */
export function alignRange(r: Range, granularity: Granularity): Range {
  if (granularity === 'timeframe') return r;
  const size = granularity === 'hour' ? HOUR_MS : DAY_MS;
  return { from: Math.floor(r.from / size) * size, to: Math.ceil(r.to / size) * size };
}
