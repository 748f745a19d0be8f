/**
 * The usage ledger's model: relayed application payload (bytes and packets, each way) per
 * account, per hour bucket and per timeframe, plus one record per ended allocation. The store
 * interface is async so a Redis store can implement it later.
 */

/** Payload counters, client→peer ("to peer") and peer→client ("to client"). */
export interface Counters {
  bytesToPeer: number;
  bytesToClient: number;
  packetsToPeer: number;
  packetsToClient: number;
}

export interface AccountDelta extends Counters {
  readonly account: string;
}

/** One ended allocation. */
export interface SessionRecord extends Counters {
  readonly allocationId: number;
  readonly account: string;
  readonly transport: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** ms since the epoch. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly reason: string;
}

/**
 * What one flush writes, in one transaction. A batch is numbered by its writer: a store applies
 * it at most once (UsageStore.record), so a batch retried after a failure whose outcome is
 * unknown (a lost reply, a timeout) adds nothing the second time.
 */
export interface FlushBatch {
  /**
   * Who wrote the batch, unique per process run: `<node id>:<boot id>` in a fleet, a random id
   * per run for one node. At most 256 characters.
   */
  readonly writer: string;
  /** The batch's number for its writer: 1, 2, 3... (a safe integer), never reused. */
  readonly seq: number;
  /** Start of the hour bucket (ms since the epoch, UTC) the deltas are added to. */
  readonly hour: number;
  /** Start of the timeframe the deltas are added to. */
  readonly timeframeStart: number;
  readonly deltas: readonly AccountDelta[];
  readonly sessions: readonly SessionRecord[];
}

export interface Timeframe {
  /** ms since the epoch. */
  readonly start: number;
  readonly lengthMs: number;
}

export type Granularity = 'hour' | 'day' | 'timeframe';

export interface UsageFilter {
  readonly account?: string;
  /** Buckets starting at or after `from` (ms), and before `to`. */
  readonly from?: number;
  readonly to?: number;
  readonly granularity: Granularity;
}

/** One account's usage in one bucket (an hour, a UTC day or a timeframe) from `start` to `end`. */
export interface UsageRow extends Counters {
  readonly account: string;
  readonly start: number;
  /** End of the bucket (exclusive): start + 1 h, start + 1 day, or the timeframe's end. */
  readonly end: number;
}

/** A closed timeframe, archived at rollover. */
export interface ArchivedTimeframe {
  readonly start: number;
  readonly end: number;
  readonly archivedAt: number;
  readonly accounts: readonly UsageRow[];
}

export interface UsageStore {
  /** The persisted current timeframe; null before metering ever started. */
  timeframe(): Promise<Timeframe | null>;
  setTimeframe(tf: Timeframe): Promise<void>;
  /**
   * Adds the deltas and the session records in one transaction, at most once per batch: only
   * when `batch.seq` is greater than the last seq applied for `batch.writer`, and then stores
   * `seq` as that writer's watermark, atomically with the deltas. A replayed or older batch adds
   * nothing and resolves normally. Rejects (RangeError) on a batch without a valid writer or seq.
   */
  record(batch: FlushBatch): Promise<void>;
  usage(filter: UsageFilter): Promise<UsageRow[]>;
  /**
   * Archives a timeframe (its totals from the ledger) and makes `next` current, in one transaction.
   * Idempotent: when `closed` is archived already (another node of a fleet, a retry), returns that
   * archive and changes nothing.
   */
  rollover(closed: Timeframe, next: Timeframe, archivedAt: number): Promise<ArchivedTimeframe>;
  archives(): Promise<ArchivedTimeframe[]>;
  sessions(account?: string): Promise<SessionRecord[]>;
}

export const zeroCounters = (): Counters => ({ bytesToPeer: 0, bytesToClient: 0, packetsToPeer: 0, packetsToClient: 0 });

/** The four counters of `c` (an allocation, a delta, a row) as a plain Counters object. */
export const copyCounters = (c: Counters): Counters => ({
  bytesToPeer: c.bytesToPeer, bytesToClient: c.bytesToClient, packetsToPeer: c.packetsToPeer, packetsToClient: c.packetsToClient,
});

export function addCounters(into: Counters, c: Counters): void {
  into.bytesToPeer += c.bytesToPeer;
  into.bytesToClient += c.bytesToClient;
  into.packetsToPeer += c.packetsToPeer;
  into.packetsToClient += c.packetsToClient;
}

/** The counters as the usage API, the archive files and `ferry usage --json` write them (snake_case). */
export function countersJson(c: Counters) {
  return {
    bytes_to_peer: c.bytesToPeer,
    bytes_to_client: c.bytesToClient,
    packets_to_peer: c.packetsToPeer,
    packets_to_client: c.packetsToClient,
  };
}

/** The longest FlushBatch.writer. */
export const MAX_WRITER_LENGTH = 256;

/** Throws a RangeError unless `batch` has a writer (1 to 256 characters) and a seq (a safe integer ≥ 1). */
export function checkBatchIdentity(batch: Pick<FlushBatch, 'writer' | 'seq'>): void {
  const { writer, seq } = batch;
  if (!(typeof writer === 'string' && writer.length > 0 && writer.length <= MAX_WRITER_LENGTH)) {
    throw new RangeError(`usage batch: writer must be a string of 1 to ${MAX_WRITER_LENGTH} characters`);
  }
  if (!(Number.isSafeInteger(seq) && seq >= 1)) throw new RangeError(`usage batch: seq must be a whole number ≥ 1; got ${String(seq)}`);
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const hourOf = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS;
export const dayOf = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;

/** Hour rows summed per account and UTC day (granularity 'day'), in the order first seen. */
export function rollUpDays(hours: readonly UsageRow[]): UsageRow[] {
  const days = new Map<string, UsageRow & Counters>();
  for (const r of hours) {
    const start = dayOf(r.start);
    const key = `${start}\u0000${r.account}`;
    const d = days.get(key);
    if (d === undefined) days.set(key, { ...r, start, end: start + DAY_MS });
    else addCounters(d, r);
  }
  return [...days.values()];
}
