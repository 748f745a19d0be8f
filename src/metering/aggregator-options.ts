/**
 * The usage aggregator's options and settings (what a config reload may change, validated
 * before anything changes), its view of an allocation, and its default timers.
 */
import { isAbsolute } from 'node:path';
import type { Logger } from '../logger.js';
import type { TimeframeLength } from './timeframe.js';
import type { AccountDelta, Counters, UsageStore } from './types.js';

/** What the aggregator reads of an allocation (a subset of turn/'s AllocationInfo). */
export interface MeteredAllocation extends Readonly<Counters> {
  readonly id: number;
  readonly account: string;
  readonly transport: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly startedAt: number;
}

export interface AggregatorOptions {
  readonly store: UsageStore;
  /** network_usage.timeframe: a length in ms, or 'month' (calendar months, UTC). */
  readonly timeframe: TimeframeLength;
  readonly writeIntervalMs: number;
  readonly archiveDir?: string;
  readonly now?: () => number;
  /** Runs `fn` every `ms`; returns a canceller. Default: an unref'd setInterval. */
  readonly every?: (ms: number, fn: () => void) => () => void;
  /**
   * Runs `fn` once at `time` (ms since the epoch, on the `now` clock); returns a canceller. Used
   * to flush at each timeframe's end. Default: unref'd timers on the real clock, and none when
   * `now` is given without it (a clock of the caller's own: the caller drives the flushes).
   */
  readonly at?: (time: number, fn: () => void) => () => void;
  readonly log?: Logger;
  /**
   * Who writes the batches, unique per process run (FlushBatch.writer): `<node id>:<boot id>` in
   * a fleet. Default: a random id per run (one node).
   */
  readonly writer?: string;
  /** A store write not settled after this long is treated as failed and retried (default 10 s). */
  readonly recordTimeoutMs?: number;
  /** How long stop() keeps retrying the final write while the store is unreachable (default 10 s). */
  readonly stopRetryMs?: number;
}

/** stop()'s default bound on retrying the final write. */
export const DEFAULT_STOP_RETRY_MS = 10_000;

/** The live allocations of a relay (TurnServer.live: live views, read at once and not kept). */
export type SessionSource = () => Iterable<MeteredAllocation>;

/** What a config reload may change (network_usage.write_interval, archive_dir). */
export interface AggregatorSettings {
  readonly writeIntervalMs: number;
  /** Absolute directory for the archive files; absent: archives stay in the store only. */
  readonly archiveDir?: string;
}

/** Throws a RangeError naming the invalid setting; changes nothing. */
export function validateAggregatorSettings(s: AggregatorSettings): void {
  if (!(Number.isSafeInteger(s.writeIntervalMs) && s.writeIntervalMs > 0)) {
    throw new RangeError(`usage aggregator: writeIntervalMs must be a whole number of ms > 0; got ${s.writeIntervalMs}`);
  }
  if (s.archiveDir !== undefined && !(typeof s.archiveDir === 'string' && isAbsolute(s.archiveDir))) {
    throw new RangeError(`usage aggregator: archiveDir must be an absolute path; got ${JSON.stringify(s.archiveDir)}`);
  }
}

/** The not yet written part of the usage (the unacknowledged batch included). */
export interface PendingUsage {
  readonly hour: number;
  readonly timeframeStart: number;
  /** End of the current timeframe (exclusive). */
  readonly timeframeEnd: number;
  readonly deltas: readonly AccountDelta[];
}

export const defaultEvery = (ms: number, fn: () => void) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

/** setTimeout's longest delay; a later time is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const defaultAt = (time: number, fn: () => void) => {
  let t: NodeJS.Timeout;
  const arm = () => {
    // A timer may fire a little before the wall clock reaches `time`: then it waits again.
    t = setTimeout(() => (Date.now() >= time ? fn() : arm()), Math.min(Math.max(time - Date.now(), 0), MAX_TIMER_MS));
    t.unref();
  };
  arm();
  return () => clearTimeout(t);
};
