/**
 * Which relays a new peer is sent to: the power of two random choices (Mitzenmacher). Two live,
 * non-draining relays are sampled at random and the less loaded one is taken; repeated without
 * the ones taken for a second relay. Sampling two rather than taking the least loaded of all
 * keeps nodes that read slightly old loads from all piling onto the same one, while never picking
 * the more loaded of the two sampled. A requested region is preferred: its relays are picked
 * first, others only fill up when it has too few.
 */
import type { RelayEntry } from './types.js';

/** Negative when `a` is less loaded than `b`: live allocations first, then relayed bytes/s. */
export function compareLoad(a: RelayEntry, b: RelayEntry): number {
  return a.load.allocations - b.load.allocations || a.load.bps - b.load.bps;
}

/** The lighter of two random distinct entries of `pool` (the only one when it has one); its index. */
function twoChoices(pool: readonly RelayEntry[], random: () => number): number {
  if (pool.length === 1) return 0;
  const i = Math.min(pool.length - 1, Math.floor(random() * pool.length));
  let j = Math.min(pool.length - 2, Math.floor(random() * (pool.length - 1)));
  if (j >= i) j += 1;
  return compareLoad(pool[j]!, pool[i]!) < 0 ? j : i;
}

export interface PickOptions {
  /** How many relays to return at most (2 for /v1/ice-servers). */
  readonly count: number;
  /** Preferred region: its relays first. */
  readonly region?: string;
  /** Uniform in [0, 1); Math.random by default (injectable for tests). */
  readonly random?: () => number;
}

/** Up to `count` distinct active relays of `relays`, chosen by load (preferred region first). */
export function pickRelays(relays: readonly RelayEntry[], opts: PickOptions): RelayEntry[] {
  const random = opts.random ?? Math.random;
  const active = relays.filter((r) => r.state === 'active');
  const preferred = opts.region === undefined ? [] : active.filter((r) => r.region === opts.region);
  const others = opts.region === undefined ? active : active.filter((r) => r.region !== opts.region);
  const out: RelayEntry[] = [];
  for (const pool of [preferred, others]) {
    while (out.length < opts.count && pool.length > 0) {
      const k = twoChoices(pool, random);
      out.push(pool[k]!);
      pool.splice(k, 1);
    }
  }
  return out;
}
