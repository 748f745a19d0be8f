/**
 * Rates from cumulative counters. The API gives bytes relayed since a start (of the node, of a
 * session), never a rate: the console reads them twice and divides the difference by the time
 * between the two readings. A counter that went back (the node restarted, a session id reused
 * after a restart) gives no rate rather than a negative one.
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

/** The rate between two readings; null when they cannot be compared. */
export function rateBetween(prev: Reading, cur: Reading): Rate | null {
  const seconds = (cur.atMs - prev.atMs) / 1000;
  if (!(seconds > 0)) return null;
  const toPeer = cur.toPeer - prev.toPeer;
  const toClient = cur.toClient - prev.toClient;
  if (toPeer < 0 || toClient < 0) return null;
  return { toPeer: toPeer / seconds, toClient: toClient / seconds };
}

/**
 * The rates of the last `windowMs`, oldest first, for a live chart: at most `maxPoints` kept (a
 * page left open for days stays as small as one open for minutes).
 */
export class RateHistory {
  readonly #x: number[] = [];
  readonly #toPeer: number[] = [];
  readonly #toClient: number[] = [];

  constructor(
    readonly windowMs: number,
    readonly maxPoints: number,
  ) {}

  push(atMs: number, rate: Rate): void {
    const last = this.#x.at(-1);
    // A clock that went back (another node answered, the server's clock was set): start again.
    if (last !== undefined && atMs / 1000 <= last) this.clear();
    this.#x.push(atMs / 1000);
    this.#toPeer.push(rate.toPeer);
    this.#toClient.push(rate.toClient);
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

  /** Copies: x in seconds since the epoch (as the chart takes it), then bytes/s to peer and to client. */
  series(): { x: number[]; toPeer: number[]; toClient: number[] } {
    return { x: [...this.#x], toPeer: [...this.#toPeer], toClient: [...this.#toClient] };
  }
}
