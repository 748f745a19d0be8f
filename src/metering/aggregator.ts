/**
 * The usage aggregator: every write_interval it takes, per live allocation, the payload counted
 * since its previous snapshot, and writes the sum per account to the ledger (hour bucket and
 * timeframe) in one transaction; an ended allocation's last delta and its session record go into
 * the next flush. The per-packet path is never touched: counters are read from TurnServer.live()
 * (live views, read at once) and allocationClosed events. Each byte is counted once: a snapshot moves the
 * allocation's "last seen" counters forward at once into the unwritten deltas, and a flush seals
 * them into a numbered batch (./batches.ts) that the store applies at most once. A failed write is
 * retried as the same batch before anything newer is written (the failure may have been a lost
 * reply to a write that landed), while new deltas keep accumulating; stop() retries it for a
 * bounded time (stopRetryMs, 10 s by default) and then logs what could not be written.
 * Timeframes are of a fixed length or calendar months (./timeframe.ts); a flush runs at each
 * window's end (besides the periodic ones), archives the window and starts the next (the limiter
 * sees the new start and lifts the limits). Without it the bytes of the new window's first
 * write_interval (which may be hours) were billed to the one that ended, and limits lifted late.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  defaultAt,
  defaultEvery,
  DEFAULT_STOP_RETRY_MS,
  validateAggregatorSettings,
  type AggregatorOptions,
  type AggregatorSettings,
  type MeteredAllocation,
  type PendingUsage,
  type SessionSource,
} from './aggregator-options.js';
import { batchTotals, DEFAULT_RECORD_TIMEOUT_MS, MAX_HELD_SESSIONS, MAX_SESSIONS_PER_BATCH, OutgoingBatch, randomWriter } from './batches.js';
import {
  addCounters,
  checkBatchIdentity,
  copyCounters,
  countersJson,
  hourOf,
  zeroCounters,
  type AccountDelta,
  type ArchivedTimeframe,
  type Counters,
  type SessionRecord,
  type Timeframe,
} from './types.js';
import { remove } from '../subscriptions.js';
import { resumeWindow, windowAt, timeframeEnd, windowAfter } from './timeframe.js';

export {
  DEFAULT_STOP_RETRY_MS,
  validateAggregatorSettings,
  type AggregatorOptions,
  type AggregatorSettings,
  type MeteredAllocation,
  type PendingUsage,
  type SessionSource,
} from './aggregator-options.js';

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
  /** The batch sealed but not acknowledged by the store. */
  readonly #out: OutgoingBatch;
  /** Set while stop() retries: no write attempt may run past it (real clock). */
  #deadline: number | undefined;
  /** Failed flushes in a row (for the logs). */
  #failures = 0;
  #timeframe: Timeframe | undefined;
  #writeIntervalMs: number;
  #archiveDir: string | undefined;
  #cancel: (() => void) | undefined;
  #cancelEnd: (() => void) | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #stopping: Promise<void> | undefined;
  readonly #sources: SessionSource[] = [];
  readonly #flushed: Array<() => void> = [];

  /** Throws (RangeError) when update() would refuse `settings`; changes nothing (a reload checks first). */
  static validate(settings: AggregatorSettings): void {
    validateAggregatorSettings(settings);
  }

  constructor(options: AggregatorOptions) {
    validateAggregatorSettings(options);
    for (const [key, v] of [['recordTimeoutMs', options.recordTimeoutMs], ['stopRetryMs', options.stopRetryMs]] as const) {
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`usage aggregator: ${key} must be a whole number of ms ≥ 0; got ${v}`);
    }
    const writer = options.writer ?? randomWriter();
    checkBatchIdentity({ writer, seq: 1 });
    this.#out = new OutgoingBatch(writer);
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
      this.flush().catch((err: unknown) => this.#logFailed(err, 'usage flush failed; retrying the same batch at the next interval'));
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
      this.flush().catch((err: unknown) => this.#logFailed(err, 'usage flush at the timeframe end failed; retrying at the next interval'));
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
    if (this.#ended.length >= MAX_HELD_SESSIONS) {
      const dropped = this.#ended.splice(0, MAX_HELD_SESSIONS / 10).length;
      this.#o.log?.warn({ dropped, held: this.#ended.length }, 'usage store unreachable for long: oldest session records dropped (their bytes stay counted)');
    }
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
    this.#out.addDeltasTo(sums);
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
    for (const s of this.#sessions()) {
      const d = minus(s, this.#last.get(s.id) ?? zeroCounters());
      this.#last.set(s.id, copyCounters(s));
      if (!isZero(d)) addTo(this.#unwritten, s.account, d);
    }
    // An unacknowledged batch goes first, unchanged; the new deltas wait in #unwritten meanwhile.
    await this.#deliver();
    // Bytes counted before the timeframe's end belong to it, in its last hour at the latest.
    // (The rollover below waits for the batches, so a batch always lands in its own timeframe.)
    const hour = hourOf(Math.min(at, timeframeEnd(tf) - 1));
    // The deltas go in the first batch; a backlog of session records may need more than one.
    let deltas: AccountDelta[] | undefined = [...this.#unwritten].map(([account, c]) => ({ account, ...c }));
    while ((deltas !== undefined && deltas.length > 0) || this.#ended.length > 0) {
      const sessions = this.#ended.slice(0, MAX_SESSIONS_PER_BATCH);
      this.#out.seal({ hour, timeframeStart: tf.start, deltas: deltas ?? [], sessions });
      if (deltas !== undefined) this.#unwritten = new Map();
      this.#ended = this.#ended.slice(sessions.length);
      deltas = undefined;
      await this.#deliver();
    }
    await this.#rolloverIfDue(at);
  }

  /** Writes the pending batch, if any; on failure it stays pending and the error is thrown. */
  async #deliver(): Promise<void> {
    const pending = this.#out.pending;
    if (pending === undefined) return;
    const timeout = this.#o.recordTimeoutMs ?? DEFAULT_RECORD_TIMEOUT_MS;
    await this.#out.deliver(this.#o.store, this.#deadline === undefined ? timeout : Math.min(timeout, this.#deadline - Date.now()));
    if (this.#failures > 0) {
      this.#o.log?.info({ writer: pending.writer, seq: pending.seq, failed_attempts: this.#failures }, 'usage write succeeded again; nothing counted was lost');
      this.#failures = 0;
    }
  }

  /** The first failure in a row is an error, the next ones warnings (one a write interval). */
  #logFailed(err: unknown, msg: string): void {
    this.#failures += 1;
    const pending = this.#out.pending;
    const fields = { err, consecutive_failures: this.#failures, writer: this.#out.writer, ...(pending ? { seq: pending.seq } : {}) };
    if (this.#failures === 1) this.#o.log?.error(fields, msg);
    else this.#o.log?.warn(fields, msg);
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
    // The file holds the archive as of this call: another node's batch for the closed window that
    // lands later is added to the store's archive (UsageStore.record), not to a file written
    // already. The store's archive (GET /usage, archives()) is the complete one.
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

  /**
   * Stops the interval and writes what is left; idempotent. While the store is unreachable the
   * final write is retried for up to stopRetryMs (10 s by default); then the usage not written
   * is logged (totals only) as an error and stop() rejects.
   */
  stop(): Promise<void> {
    this.#cancel?.();
    this.#cancelEnd?.();
    this.#cancelEnd = undefined;
    this.#stopping ??= this.#timeframe === undefined ? Promise.resolve() : this.#finalFlush();
    return this.#stopping;
  }

  /** What is not in the ledger yet, as totals (no account names): the unacknowledged batch (it may have landed) and the rest. */
  #notWritten() {
    const p = this.#out.pending;
    const t = (x: ReturnType<typeof batchTotals>) => ({ bytes_to_peer: x.bytesToPeer, bytes_to_client: x.bytesToClient, packets_to_peer: x.packetsToPeer, packets_to_client: x.packetsToClient, accounts: x.accounts, sessions: x.sessions });
    return {
      writer: this.#out.writer,
      unacknowledged: p === undefined ? null : { seq: p.seq, ...t(batchTotals(p.deltas, p.sessions.length)) },
      unwritten: t(batchTotals([...this.#unwritten].map(([account, c]) => ({ account, ...c })), this.#ended.length)),
    };
  }

  async #finalFlush(): Promise<void> {
    const bound = this.#o.stopRetryMs ?? DEFAULT_STOP_RETRY_MS;
    this.#deadline = Date.now() + bound;
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await this.flush();
      } catch (err) {
        const left = this.#deadline - Date.now();
        if (left <= 0) {
          const missing = this.#notWritten();
          if (missing.unacknowledged === null && missing.unwritten.accounts === 0 && missing.unwritten.sessions === 0) {
            this.#o.log?.error({ err }, 'the final usage flush failed (the timeframe rollover); every count is in the ledger');
          } else {
            this.#o.log?.error(
              { err, retried_ms: bound, ...missing },
              `USAGE LOST: the final usage write kept failing for ${bound} ms (storage unreachable); the counts logged here are missing from the ledger`,
            );
          }
          throw err;
        }
        // With the counts, so that a process cut short (a second signal) still logged them.
        this.#o.log?.warn({ err, retry_left_ms: left, ...this.#notWritten() }, 'final usage write failed (storage unreachable); retrying');
        await new Promise((r) => setTimeout(r, Math.min(delay, left)));
      }
    }
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
