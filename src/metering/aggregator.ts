/**
 * The usage aggregator: every write_interval it takes, per live allocation, the payload counted
 * since its previous snapshot, and writes the sum per account to the ledger (hour bucket and
 * timeframe) in one transaction; an ended allocation's last delta and its session record go into
 * the next flush. The per-packet path is never touched: counters are read from TurnServer.live()
 * (live views, read at once) and allocationClosed events. Each byte is counted once: a snapshot moves the
 * allocation's "last seen" counters forward at once, and a failed write puts its deltas back.
 * Timeframes are of a fixed length or calendar months (./timeframe.ts); a flush runs at each
 * window's end (besides the periodic ones), archives the window and starts the next (the limiter
 * sees the new start and lifts the limits). Without it the bytes of the new window's first
 * write_interval (which may be hours) were billed to the one that ended, and limits lifted late.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Logger } from '../logger.js';
import {
  addCounters,
  copyCounters,
  countersJson,
  hourOf,
  zeroCounters,
  type AccountDelta,
  type ArchivedTimeframe,
  type Counters,
  type SessionRecord,
  type Timeframe,
  type UsageStore,
} from './types.js';
import { remove } from '../subscriptions.js';
import { resumeWindow, windowAt, timeframeEnd, windowAfter, type TimeframeLength } from './timeframe.js';

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
}

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

/** The not yet written part of the usage. */
export interface PendingUsage {
  readonly hour: number;
  readonly timeframeStart: number;
  /** End of the current timeframe (exclusive). */
  readonly timeframeEnd: number;
  readonly deltas: readonly AccountDelta[];
}

const defaultEvery = (ms: number, fn: () => void) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

/** setTimeout's longest delay; a later time is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const defaultAt = (time: number, fn: () => void) => {
  let t: NodeJS.Timeout;
  const arm = () => {
    // A timer may fire a little before the wall clock reaches `time`: then it waits again.
    t = setTimeout(() => (Date.now() >= time ? fn() : arm()), Math.min(Math.max(time - Date.now(), 0), MAX_TIMER_MS));
    t.unref();
  };
  arm();
  return () => clearTimeout(t);
};

const minus = (a: Counters, b: Counters): Counters => ({
  bytesToPeer: a.bytesToPeer - b.bytesToPeer,
  bytesToClient: a.bytesToClient - b.bytesToClient,
  packetsToPeer: a.packetsToPeer - b.packetsToPeer,
  packetsToClient: a.packetsToClient - b.packetsToClient,
});
const isZero = (c: Counters) => c.bytesToPeer === 0 && c.bytesToClient === 0 && c.packetsToPeer === 0 && c.packetsToClient === 0;

function addTo(map: Map<string, Counters>, account: string, c: Counters): void {
  let acc = map.get(account);
  if (acc === undefined) map.set(account, (acc = zeroCounters()));
  addCounters(acc, c);
}

export class UsageAggregator {
  readonly #o: AggregatorOptions;
  readonly #now: () => number;
  /** Counters of each live allocation as of its last snapshot. */
  readonly #last = new Map<number, Counters>();
  /** Deltas taken but not written yet, per account. */
  #unwritten = new Map<string, Counters>();
  #ended: SessionRecord[] = [];
  #timeframe: Timeframe | undefined;
  #writeIntervalMs: number;
  #archiveDir: string | undefined;
  #cancel: (() => void) | undefined;
  #cancelEnd: (() => void) | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  /** The batches' writer and last seq (FlushBatch): one writer per aggregator. */
  readonly #writer = `aggregator:${randomUUID()}`;
  #seq = 0;
  #stopping: Promise<void> | undefined;
  readonly #sources: SessionSource[] = [];
  readonly #flushed: Array<() => void> = [];

  /** Throws (RangeError) when update() would refuse `settings`; changes nothing (a reload checks first). */
  static validate(settings: AggregatorSettings): void {
    validateAggregatorSettings(settings);
  }

  constructor(options: AggregatorOptions) {
    validateAggregatorSettings(options);
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#writeIntervalMs = options.writeIntervalMs;
    this.#archiveDir = options.archiveDir;
  }

  /**
   * Meters the live allocations of `source` from now on (allocation ids must be unique across the
   * sources). The relay adds itself when it is built: after the aggregator, whose pending usage
   * the relay's allocation gate (the limiter) reads. Returns the unsubscribe.
   */
  addSessions(source: SessionSource): () => void {
    this.#sources.push(source);
    return () => remove(this.#sources, source);
  }

  /** Calls `listener` after each flush (and rollover), successful or not; it must not throw. Returns the unsubscribe. */
  onFlushed(listener: () => void): () => void {
    this.#flushed.push(listener);
    return () => remove(this.#flushed, listener);
  }

  *#sessions(): Generator<MeteredAllocation> {
    for (const source of this.#sources) yield* source();
  }

  /** The settings in force. */
  settings(): AggregatorSettings {
    return { writeIntervalMs: this.#writeIntervalMs, ...(this.#archiveDir !== undefined ? { archiveDir: this.#archiveDir } : {}) };
  }

  /**
   * Config reload: a changed write interval restarts the flush timer (the next write one new
   * interval from now; nothing counted is lost or written twice); a changed archive_dir takes
   * effect at the next rollover. Throws (RangeError) on invalid settings, changing nothing.
   */
  update(settings: AggregatorSettings): void {
    validateAggregatorSettings(settings);
    this.#archiveDir = settings.archiveDir;
    if (settings.writeIntervalMs === this.#writeIntervalMs) return;
    this.#writeIntervalMs = settings.writeIntervalMs;
    if (this.#cancel !== undefined && this.#stopping === undefined) {
      this.#cancel();
      this.#schedule();
    }
  }

  #schedule(): void {
    const every = this.#o.every ?? defaultEvery;
    this.#cancel = every(this.#writeIntervalMs, () => {
      this.flush().catch((err: unknown) => this.#o.log?.error({ err }, 'usage flush failed; retrying at the next interval'));
    });
  }

  /** Arms the flush at the current timeframe's end (re-armed at each rollover). */
  #scheduleEnd(): void {
    this.#cancelEnd?.();
    this.#cancelEnd = undefined;
    const at = this.#o.at ?? (this.#o.now === undefined ? defaultAt : undefined);
    if (at === undefined || this.#stopping !== undefined) return;
    this.#cancelEnd = at(timeframeEnd(this.timeframe()), () => {
      this.#cancelEnd = undefined;
      this.flush().catch((err: unknown) => this.#o.log?.error({ err }, 'usage flush at the timeframe end failed; retrying at the next interval'));
    });
  }

  /** Reads (or starts) the persisted timeframe, rolls it over when it has ended, starts the interval. */
  async start(): Promise<void> {
    const stored = await this.#o.store.timeframe();
    // A changed network_usage.timeframe applies to the current window, from its start.
    const tf = stored === null ? windowAt(this.#o.timeframe, this.#now()) : resumeWindow(this.#o.timeframe, stored, this.#now());
    if (stored === null || tf.start !== stored.start || tf.lengthMs !== stored.lengthMs) await this.#o.store.setTimeframe(tf);
    this.#timeframe = tf;
    await this.#rolloverIfDue(this.#now());
    this.#schedule();
    this.#scheduleEnd();
  }

  /** The current timeframe (after start()). */
  timeframe(): Timeframe {
    if (this.#timeframe === undefined) throw new Error('UsageAggregator: not started');
    return this.#timeframe;
  }

  /** TurnEvents.allocationClosed: the final delta and the session record wait for the next flush. */
  allocationClosed(info: MeteredAllocation, reason: string, endedAt: number): void {
    const last = this.#last.get(info.id) ?? zeroCounters();
    this.#last.delete(info.id);
    const delta = minus(info, last);
    if (!isZero(delta)) addTo(this.#unwritten, info.account, delta);
    this.#ended.push({
      allocationId: info.id,
      account: info.account,
      transport: info.transport,
      clientAddress: info.clientAddress,
      clientPort: info.clientPort,
      startedAt: info.startedAt,
      endedAt,
      reason,
      ...copyCounters(info),
    });
  }

  /** Usage counted but not written yet (live allocations included), per account; changes nothing. */
  pending(): PendingUsage {
    const at = this.#now();
    const sums = new Map<string, Counters>();
    for (const [account, c] of this.#unwritten) addTo(sums, account, c);
    for (const s of this.#sessions()) {
      const d = minus(s, this.#last.get(s.id) ?? zeroCounters());
      if (!isZero(d)) addTo(sums, s.account, d);
    }
    const tf = this.timeframe();
    return { hour: hourOf(at), timeframeStart: tf.start, timeframeEnd: timeframeEnd(tf), deltas: [...sums].map(([account, c]) => ({ account, ...c })) };
  }

  /** Writes everything counted so far; flushes run one at a time. */
  flush(): Promise<void> {
    const run = this.#chain.then(() => this.#flush()).finally(() => {
      for (const listener of this.#flushed) listener();
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #flush(): Promise<void> {
    const tf = this.timeframe();
    const at = this.#now();
    const live = new Set<number>();
    for (const s of this.#sessions()) {
      live.add(s.id);
      const d = minus(s, this.#last.get(s.id) ?? zeroCounters());
      this.#last.set(s.id, copyCounters(s));
      if (!isZero(d)) addTo(this.#unwritten, s.account, d);
    }
    const deltas = [...this.#unwritten].map(([account, c]) => ({ account, ...c }));
    const sessions = this.#ended;
    this.#unwritten = new Map();
    this.#ended = [];
    const end = timeframeEnd(tf);
    if (deltas.length > 0 || sessions.length > 0) {
      try {
        // Bytes counted before the timeframe's end belong to it, in its last hour at the latest.
        await this.#o.store.record({ writer: this.#writer, seq: ++this.#seq, hour: hourOf(Math.min(at, end - 1)), timeframeStart: tf.start, deltas, sessions });
      } catch (err) {
        for (const d of deltas) addTo(this.#unwritten, d.account, d);
        this.#ended = [...sessions, ...this.#ended];
        throw err;
      }
    }
    await this.#rolloverIfDue(at);
  }

  async #rolloverIfDue(at: number): Promise<ArchivedTimeframe | undefined> {
    const tf = this.timeframe();
    if (at < timeframeEnd(tf)) return undefined;
    const next = windowAfter(this.#o.timeframe, tf, at);
    const archived = await this.#o.store.rollover(tf, next, at);
    this.#timeframe = next;
    if (this.#cancel !== undefined) this.#scheduleEnd();
    this.#o.log?.info(
      { timeframe_start: new Date(archived.start).toISOString(), timeframe_end: new Date(archived.end).toISOString(), accounts: archived.accounts.length },
      'usage timeframe closed and archived',
    );
    const dir = this.#archiveDir;
    if (dir !== undefined) {
      const file = join(dir, `usage-${new Date(archived.start).toISOString().replace(/:/g, '-')}.json`);
      try {
        await mkdir(dir, { recursive: true });
        await writeFile(file, `${JSON.stringify(archiveJson(archived), null, 2)}\n`);
      } catch (err) {
        this.#o.log?.error({ err, file }, 'cannot write the usage archive file (the archive row is in the store)');
      }
    }
    return archived;
  }

  /** Stops the interval and writes what is left; idempotent. */
  stop(): Promise<void> {
    this.#cancel?.();
    this.#cancelEnd?.();
    this.#cancelEnd = undefined;
    this.#stopping ??= this.#timeframe === undefined ? Promise.resolve() : this.flush();
    return this.#stopping;
  }
}

/** The archive file's content: ISO times, snake_case counters (as the usage API). */
export function archiveJson(a: ArchivedTimeframe) {
  return {
    timeframe_start: new Date(a.start).toISOString(),
    timeframe_end: new Date(a.end).toISOString(),
    archived_at: new Date(a.archivedAt).toISOString(),
    accounts: a.accounts.map((r) => ({ account: r.account, ...countersJson(r) })),
  };
}
