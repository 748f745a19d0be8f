/**
 * The aggregator's outgoing batch: numbered per writer (1, 2, 3...) and, once sealed, never
 * changed. A write whose outcome is unknown (an error, a timeout, a reply lost with the
 * connection) may have been applied, so it is retried as the very same batch (same writer, seq,
 * hour, timeframe, deltas and sessions): the store applies a seq at most once, and the retry adds
 * nothing when the first attempt had landed. Merging it into a newer batch instead would count it
 * twice in that case. Newer deltas wait (in the aggregator) until this batch is acknowledged; so
 * at most one batch is ever outstanding and the store sees a writer's seqs in order.
 */
import { randomBytes } from 'node:crypto';
import { addCounters, zeroCounters, type Counters, type FlushBatch, type UsageStore } from './types.js';

/** A writer id for one run of a process that has no fleet identity (one node on SQLite). */
export const randomWriter = (): string => `run-${randomBytes(8).toString('hex')}`;

/** Session records per batch at most: a long store outage's backlog goes out in several batches. */
export const MAX_SESSIONS_PER_BATCH = 1000;

/**
 * Session records held while the store is unreachable at most; beyond it the oldest tenth are
 * dropped (logged). Their bytes are not: those are in the per-account deltas, which stay exact.
 */
export const MAX_HELD_SESSIONS = 100_000;

/** A record() that has not settled after this long counts as failed (it may still land: the seq makes that harmless). */
export const DEFAULT_RECORD_TIMEOUT_MS = 10_000;

export class RecordTimeoutError extends Error {
  override readonly name = 'RecordTimeoutError';
}

/** `p`, or a RecordTimeoutError after `ms`; a late rejection of `p` is swallowed (the batch is retried anyway). */
function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RecordTimeoutError(`usage write did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Byte and packet totals of a batch (or several), for logs. */
export interface BatchTotals extends Counters {
  readonly accounts: number;
  readonly sessions: number;
}

export class OutgoingBatch {
  readonly writer: string;
  #seq = 0;
  #pending: FlushBatch | undefined;
  /** Failed attempts of the pending batch. */
  #attempts = 0;

  constructor(writer: string) {
    this.writer = writer;
  }

  /** The batch written but not acknowledged yet, if any. */
  get pending(): FlushBatch | undefined {
    return this.#pending;
  }

  /** Failed attempts to write the pending batch so far. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Numbers the next batch; only when none is pending (the aggregator waits for it first). */
  seal(parts: Omit<FlushBatch, 'writer' | 'seq'>): FlushBatch {
    if (this.#pending !== undefined) throw new Error('OutgoingBatch: a batch is still pending');
    this.#seq += 1;
    this.#pending = { writer: this.writer, seq: this.#seq, hour: parts.hour, timeframeStart: parts.timeframeStart, deltas: parts.deltas, sessions: parts.sessions };
    this.#attempts = 0;
    return this.#pending;
  }

  /**
   * Writes the pending batch (if any) once; resolves when the store has acknowledged it, rejects
   * (keeping it pending, unchanged) when the write fails or takes longer than `timeoutMs`.
   */
  async deliver(store: UsageStore, timeoutMs: number): Promise<void> {
    const batch = this.#pending;
    if (batch === undefined) return;
    try {
      await withTimeout(store.record(batch), Math.max(1, timeoutMs));
    } catch (err) {
      this.#attempts += 1;
      throw err;
    }
    if (this.#pending === batch) this.#pending = undefined;
  }

  /** Adds the pending batch's deltas to `into`, per account. */
  addDeltasTo(into: Map<string, Counters>): void {
    for (const d of this.#pending?.deltas ?? []) {
      let acc = into.get(d.account);
      if (acc === undefined) into.set(d.account, (acc = zeroCounters()));
      addCounters(acc, d);
    }
  }
}

/** What `deltas` and `sessions` carry in all, for logs (counts and totals only). */
export function batchTotals(deltas: Iterable<Counters & { readonly account: string }>, sessions: number): BatchTotals {
  const sum = zeroCounters();
  const accounts = new Set<string>();
  for (const d of deltas) {
    addCounters(sum, d);
    accounts.add(d.account);
  }
  return { ...sum, accounts: accounts.size, sessions };
}
