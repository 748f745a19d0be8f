/**
 * Keys refused until a time: the rate limits' verdicts (an account, a client IP or /64 over its
 * budget for the rest of a one-minute window), checked synchronously on the request path. In a
 * fleet every node holds the blocks any node published (src/store/redis/fleet-rates.ts), so the
 * check never waits for Redis. Bounded: at most `max` entries (65,536 by default); past it the
 * entry added (or extended) longest ago goes first, in O(1), which can only let a blocked key
 * through early.
 */

/** What a rate limit counts: new allocations per account or per client IP, failed authentications per client IP. */
export const RATE_KINDS = ['allocations-account', 'allocations-ip', 'auth-failure'] as const;
export type RateKind = (typeof RATE_KINDS)[number];

export const MAX_BLOCKS = 65_536;

/** The longest key kept: an account id or an IP text; a longer one is not from Ferry. */
export const MAX_KEY_LENGTH = 256;

const idOf = (kind: RateKind, key: string) => `${kind}\n${key}`;

export class BlockTable {
  /** kind+key → blocked until (ms since the epoch); Map order is insertion order (oldest first). */
  readonly #until = new Map<string, number>();
  readonly #max: number;
  #evicted = 0;

  constructor(max: number = MAX_BLOCKS) {
    if (!(Number.isSafeInteger(max) && max > 0)) throw new RangeError(`BlockTable: max must be a whole number > 0; got ${max}`);
    this.#max = max;
  }

  get size(): number {
    return this.#until.size;
  }

  /** Blocks `key` until `until`; an earlier or equal block already held stays as it is. */
  block(kind: RateKind, key: string, until: number, now: number): void {
    if (!(until > now) || key.length > MAX_KEY_LENGTH) return;
    const id = idOf(kind, key);
    const held = this.#until.get(id);
    if (held !== undefined && held >= until) return;
    this.#until.delete(id);
    this.#until.set(id, until);
    // Full: the head goes (the entry added or extended longest ago; expired or not), one per
    // insert, so a full table costs O(1) per block, never a walk of the whole map.
    while (this.#until.size > this.#max) {
      const oldest = this.#until.keys().next();
      if (oldest.done === true) break;
      this.#until.delete(oldest.value);
      this.#evicted++;
    }
  }

  /** Entries dropped to stay within the bound (each visited once: the cost of keeping it). */
  get evicted(): number {
    return this.#evicted;
  }

  blocked(kind: RateKind, key: string, now: number): boolean {
    const id = idOf(kind, key);
    const until = this.#until.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#until.delete(id);
    return false;
  }

  /** Milliseconds until `key` is let through again; 0 when it is not blocked. */
  remainingMs(kind: RateKind, key: string, now: number): number {
    const until = this.#until.get(idOf(kind, key));
    return until === undefined || until <= now ? 0 : until - now;
  }
}
