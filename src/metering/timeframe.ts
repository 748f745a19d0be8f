/**
 * Usage timeframes (network_usage.timeframe): the windows the limits count in and the ledger
 * archives. Either a fixed length (e.g. 30d), windows following each other from when metering
 * first started, or calendar months in UTC ("month"): each window runs from 00:00 UTC on the 1st
 * to 00:00 UTC on the 1st of the next month, 28, 29, 30 or 31 days, as billing systems bill.
 * A window is stored as {start, lengthMs}; a month window's lengthMs is that month's length.
 */
import type { Timeframe } from './types.js';

/** network_usage.timeframe converted: a length in ms, or calendar months. */
export type TimeframeLength = number | 'month';


/** 00:00 UTC on the 1st of the month that contains `t` (ms since the epoch). */
export function monthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** 00:00 UTC on the 1st of the month after the one that contains `t` (December rolls into January). */
export function nextMonthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The calendar month (UTC) that contains `t`, as a window. */
export function monthWindow(t: number): Timeframe {
  const start = monthStart(t);
  return { start, lengthMs: nextMonthStart(t) - start };
}

export const timeframeEnd = (tf: Timeframe): number => tf.start + tf.lengthMs;

/** Whether `tf` is exactly one calendar month. */
export function isMonthWindow(tf: Timeframe): boolean {
  return tf.start === monthStart(tf.start) && timeframeEnd(tf) === nextMonthStart(tf.start);
}

/**
 * The window of this setting that starts at (or, for months, contains) `t`. The first window when
 * metering starts with nothing stored: a fixed window starts now, a month window is this month.
 */
export function windowAt(length: TimeframeLength, t: number): Timeframe {
  return length === 'month' ? monthWindow(t) : { start: t, lengthMs: length };
}

/**
 * The current window when metering starts again with `stored` persisted. The same setting keeps
 * it. A changed setting applies to the stored window from its start: a new fixed length ends it at
 * start + length; a switch to months ends it at the first month boundary after the last moment it
 * can hold usage (its old end, or now if sooner), so everything counted in it stays inside it and
 * the windows after it are calendar months.
 */
export function resumeWindow(length: TimeframeLength, stored: Timeframe, now: number): Timeframe {
  if (length !== 'month') return stored.lengthMs === length ? stored : { start: stored.start, lengthMs: length };
  if (isMonthWindow(stored)) return stored;
  const last = Math.max(stored.start, Math.min(now, timeframeEnd(stored) - 1));
  return { start: stored.start, lengthMs: nextMonthStart(last) - stored.start };
}

/**
 * The window that contains `at`, following `ended` (at ≥ ended's end): fixed windows are
 * ended.start + k × length; a month window is the calendar month of `at` (months with no usage
 * in between, while Ferry was stopped, are skipped as fixed windows are).
 */
export function windowAfter(length: TimeframeLength, ended: Timeframe, at: number): Timeframe {
  if (length === 'month') return monthWindow(at);
  const periods = Math.floor((at - ended.start) / length);
  return { start: ended.start + periods * length, lengthMs: length };
}
