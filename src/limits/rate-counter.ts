/**
 * Rate limits in fixed one-minute windows: each event (a new allocation of an account, from a
 * client IP; a failed authentication from a client IP) is counted in the window of its time;
 * once a count reaches its limit the key is blocked (BlockTable) until the window ends. A fleet
 * counts in Redis (src/store/redis/fleet-rates.ts); one node counts here, in memory, and the
 * block takes effect before the next request (no overshoot).
 */
import { type BlockTable, MAX_KEY_LENGTH, type RateKind } from './block-table.js';

export const RATE_WINDOW_MS = 60_000;

/** The window `now` falls in, and when it ends. */
export function rateWindow(now: number): { readonly index: number; readonly end: number } {
  const index = Math.floor(now / RATE_WINDOW_MS);
  return { index, end: (index + 1) * RATE_WINDOW_MS };
}

/** Counts events; a count reaching `limit` (> 0) blocks the key for the rest of its window. */
export interface RateCounter {
  record(kind: RateKind, key: string, limit: number): void;
}

/** The most counts kept at once; past it the oldest goes (its key starts the window afresh). */
export const MAX_COUNTS = 65_536;

export class MemoryRateCounter implements RateCounter {
  readonly #counts = new Map<string, { window: number; n: number }>();
  readonly #blocks: BlockTable;
  readonly #now: () => number;
  readonly #max: number;

  constructor(blocks: BlockTable, now: () => number = Date.now, max: number = MAX_COUNTS) {
    this.#blocks = blocks;
    this.#now = now;
    this.#max = max;
  }

  get size(): number {
    return this.#counts.size;
  }

  record(kind: RateKind, key: string, limit: number): void {
    if (limit <= 0 || key.length > MAX_KEY_LENGTH) return;
    const now = this.#now();
    const w = rateWindow(now);
    const id = `${kind}\n${key}`;
    let c = this.#counts.get(id);
    if (c === undefined || c.window !== w.index) {
      this.#counts.delete(id);
      c = { window: w.index, n: 0 };
      this.#counts.set(id, c);
      if (this.#counts.size > this.#max) this.#evict(w.index);
    }
    c.n++;
    if (c.n >= limit) this.#blocks.block(kind, key, w.end, now);
  }

  #evict(window: number): void {
    for (const [id, c] of this.#counts) {
      if (this.#counts.size <= this.#max) return;
      if (c.window !== window) this.#counts.delete(id);
    }
    for (const id of this.#counts.keys()) {
      if (this.#counts.size <= this.#max) return;
      this.#counts.delete(id);
    }
  }
}
