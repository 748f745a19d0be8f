/**
 * Rates from cumulative counters. The API gives bytes relayed since a start (of the node, of a
 * session), never a rate: the console reads them twice and divides the difference by the time
 * between the two readings (the server's `at`, not the browser's clock). Counters that went back
 * give no rate rather than a negative one; readings of another node, or of the same node since it
 * restarted, are never compared (see NodeReadings).
 */

/** Bytes each way at one moment (milliseconds since the epoch). */
export interface Reading {
  readonly atMs: number;
  readonly toPeer: number;
  readonly toClient: number;
}

/** Bytes per second each way. */
export interface Rate {
  readonly toPeer: number;
  readonly toClient: number;
}

/** Two readings further apart than this give no rate (the polls are every 2 s). */
export const MAX_RATE_GAP_MS = 10_000;

/** The rate between two readings; null when they cannot be compared. */
export function rateBetween(prev: Reading, cur: Reading): Rate | null {
  const seconds = (cur.atMs - prev.atMs) / 1000;
  // Readings further apart than a few polls (a hidden tab, a node that did not answer for a
  // while) would give an average over the gap, not a rate "now": no rate, a gap in the chart.
  if (!(seconds > 0) || seconds * 1000 > MAX_RATE_GAP_MS) return null;
  const toPeer = cur.toPeer - prev.toPeer;
  const toClient = cur.toClient - prev.toClient;
  if (toPeer < 0 || toClient < 0) return null;
  return { toPeer: toPeer / seconds, toClient: toClient / seconds };
}

/**
 * The rates of the last `windowMs`, oldest first, for a live chart: at most `maxPoints` kept (a
 * page left open for days stays as small as one open for minutes). A null rate is a gap in the
 * line, not a reason to forget what was drawn.
 */
export class RateHistory {
  readonly #x: number[] = [];
  readonly #toPeer: (number | null)[] = [];
  readonly #toClient: (number | null)[] = [];

  constructor(
    readonly windowMs: number,
    readonly maxPoints: number,
  ) {}

  push(atMs: number, rate: Rate | null): void {
    const last = this.#x.at(-1);
    // The chart's x must grow: a reading at the same time adds nothing, a clock that went back
    // (the server's clock was set) starts again.
    if (last !== undefined && atMs / 1000 === last) return;
    if (last !== undefined && atMs / 1000 < last) this.clear();
    this.#x.push(atMs / 1000);
    this.#toPeer.push(rate?.toPeer ?? null);
    this.#toClient.push(rate?.toClient ?? null);
    const oldest = (atMs - this.windowMs) / 1000;
    let drop = 0;
    while (drop < this.#x.length && (this.#x[drop]! < oldest || this.#x.length - drop > this.maxPoints)) drop++;
    if (drop > 0) {
      this.#x.splice(0, drop);
      this.#toPeer.splice(0, drop);
      this.#toClient.splice(0, drop);
    }
  }

  clear(): void {
    this.#x.length = 0;
    this.#toPeer.length = 0;
    this.#toClient.length = 0;
  }

  get length(): number {
    return this.#x.length;
  }

  /** Readings that gave a rate (gaps not counted). */
  get rates(): number {
    return this.#toPeer.filter((v) => v !== null).length;
  }

  /** Copies: x in seconds since the epoch (as the chart takes it), then bytes/s to peer and to client (null: a gap). */
  series(): { x: number[]; toPeer: (number | null)[]; toClient: (number | null)[] } {
    return { x: [...this.#x], toPeer: [...this.#toPeer], toClient: [...this.#toClient] };
  }
}

/** What NodeReadings.take says of a reading. */
export type Taken =
  /** The same `at` as that node's previous reading (the same answer, or one made in the same ms): nothing new. */
  | { readonly fresh: false }
  /** A new reading; rate null when it is that node's first since the page opened or since it (re)started. */
  | { readonly fresh: true; readonly rate: Rate | null };

/**
 * The previous reading of each node, by node id and start. Behind a load balancer, answers come
 * from several nodes in turn: each node's rate is computed from its own previous reading, and a
 * node that restarted (another `started_at`, counters from zero) starts afresh. At most
 * `maxNodes` are kept; the one that answered least recently goes first.
 */
export class NodeReadings {
  readonly #nodes = new Map<string, { readonly startedAt: string; readonly reading: Reading }>();

  constructor(readonly maxNodes = 16) {}

  take(nodeId: string | null, startedAt: string, reading: Reading): Taken {
    const key = nodeId ?? '';
    const prev = this.#nodes.get(key);
    const same = prev !== undefined && prev.startedAt === startedAt;
    if (same && prev.reading.atMs === reading.atMs) return { fresh: false };
    // Delete then set: the Map's order is the order of the last answers, oldest first.
    this.#nodes.delete(key);
    this.#nodes.set(key, { startedAt, reading });
    while (this.#nodes.size > this.maxNodes) this.#nodes.delete(this.#nodes.keys().next().value!);
    return { fresh: true, rate: same ? rateBetween(prev.reading, reading) : null };
  }

  get size(): number {
    return this.#nodes.size;
  }
}
