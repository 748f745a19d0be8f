import { randomBytes } from 'node:crypto';

/**
 * Slots of every per-IP table: a power of two, fixed at construction. Each slot is two doubles
 * (tokens, last refill), so a table is 64 KiB whatever the number of source addresses seen.
 * Keeping every slot drained takes `slots × rate` requests a second (4096 × 50 ≈ 200,000 for the
 * challenge default) from as many distinct sources; below that, a client only shares its budget
 * with the few addresses that hash to its slot.
 */
export const IP_TABLE_SLOTS = 4096;

/** How many seconds' worth of challenge answers one IP may get at once. */
export const CHALLENGE_BURST_SECONDS = 3;

/**
 * What a budget is kept for: an IPv4 address (also IPv4-mapped), or the /64 of an IPv6 address,
 * as one subscriber usually holds a whole /64 and could otherwise take a fresh address per try.
 * `ip` is as Node prints it (canonical: no leading zeros, `::` for the longest zero run; maybe with
 * a zone), so one /64 has one key.
 */
export function budgetKey(ip: string): string {
  if (!ip.includes(':') || ip.includes('.')) return ip;
  const zone = ip.indexOf('%');
  const addr = zone < 0 ? ip : ip.slice(0, zone);
  const gap = addr.indexOf('::');
  // Most global addresses: no "::" among the first four groups, the key is a prefix of the text.
  let end = -1;
  for (let n = 0; n < 4; n++) {
    end = addr.indexOf(':', end + 1);
    if (end < 0) break;
  }
  if (end > 0 && (gap < 0 || gap >= end)) return addr.slice(0, end);
  const head = (gap < 0 ? addr : addr.slice(0, gap)).split(':').filter((g) => g !== '');
  const tail = gap < 0 ? [] : addr.slice(gap + 2).split(':').filter((g) => g !== '');
  const groups = [...head, ...new Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  return groups.slice(0, 4).join(':');
}

/**
 * Token buckets per source IP (IPv6: per /64, budgetKey) in a fixed-size table: a key picks its
 * slot by a seeded hash (the seed is random per table, so which addresses share a slot cannot be
 * planned from outside). Two keys in one slot share a budget, which only makes limiting stricter;
 * the table never grows. A zeroed slot reads as full. Used on the request path only, never per
 * relayed packet.
 */
export class IpBuckets {
  readonly slots = IP_TABLE_SLOTS;
  private readonly tokens = new Float64Array(IP_TABLE_SLOTS);
  private readonly refilledAt = new Float64Array(IP_TABLE_SLOTS);
  private readonly seed: number;
  private perMs = 0;
  private burst = 0;

  /** `perSecond` 0: off (`enabled` is false; callers then skip the table). */
  constructor(perSecond: number, burst: number, seed: number = randomBytes(4).readUInt32LE(0)) {
    this.seed = seed >>> 0;
    this.setRate(perSecond, burst);
  }

  get enabled(): boolean {
    return this.perMs > 0;
  }

  /** New rate and burst: every slot starts full again (nothing changes when they are the same). */
  setRate(perSecond: number, burst: number): void {
    if (!(perSecond >= 0) || !(burst >= 0)) throw new RangeError('IpBuckets: rate and burst must be >= 0');
    const perMs = perSecond / 1000;
    const full = Math.max(1, burst);
    if (perMs === this.perMs && full === this.burst) return;
    this.perMs = perMs;
    this.burst = full;
    this.tokens.fill(0);
    this.refilledAt.fill(0);
  }

  /** The slot of `ip` (FNV-1a over the characters of its budgetKey, seeded, then folded). */
  slotOf(ip: string): number {
    const key = budgetKey(ip);
    let h = 0x811c9dc5 ^ this.seed;
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= h >>> 15;
    return h & (IP_TABLE_SLOTS - 1);
  }

  /** Refills the slot up to `now` and tells whether it holds a whole token. */
  available(slot: number, now: number): boolean {
    const last = this.refilledAt[slot];
    // A zeroed slot (never used, or reset) is full; a clock that went back refills nothing.
    const t = last === 0 ? this.burst : Math.min(this.burst, this.tokens[slot] + Math.max(0, now - last) * this.perMs);
    this.tokens[slot] = t;
    this.refilledAt[slot] = now > 0 ? now : 1;
    return t >= 1;
  }

  /** Spends one token of the slot (after available()); may go below zero, never below -burst. */
  take(slot: number): void {
    this.tokens[slot] = Math.max(-this.burst, this.tokens[slot] - 1);
  }

  /** Milliseconds until the slot holds a whole token again (0 when it does), as of its last refill. */
  waitMs(slot: number): number {
    const missing = 1 - this.tokens[slot];
    return missing <= 0 || this.perMs === 0 ? 0 : Math.ceil(missing / this.perMs);
  }
}

/** Budgets of unauthenticated work per source IP; 0 switches a budget off. */
export interface RateLimitOptions {
  /** 401/438 answers per second (sustained), with a burst of CHALLENGE_BURST_SECONDS' worth. */
  readonly challengesPerIp: number;
  /** Failed authentications (unknown user, bad integrity...) per minute; also the burst. */
  readonly authFailuresPerIp: number;
}

export type RateLimitKind = 'challenge' | 'auth-failure';

/** The two tables the request handlers consult. */
export class RequestRateLimits {
  readonly challenges = new IpBuckets(0, 0);
  readonly authFailures = new IpBuckets(0, 0);

  constructor(o: RateLimitOptions = { challengesPerIp: 0, authFailuresPerIp: 0 }) {
    this.set(o);
  }

  /** Applies new budgets (config reload); a table whose budget changed starts afresh, the other keeps its state. */
  set(o: RateLimitOptions): void {
    this.challenges.setRate(o.challengesPerIp, o.challengesPerIp * CHALLENGE_BURST_SECONDS);
    this.authFailures.setRate(o.authFailuresPerIp / 60, o.authFailuresPerIp);
  }
}
