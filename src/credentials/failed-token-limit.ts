/**
 * Slows down guessing of a bearer token (the admin token): failed attempts per client IP in a
 * fixed-size table of token buckets (turn/rate-limit.ts's IpBuckets: 4096 slots whatever the
 * number of clients; addresses sharing a slot share a budget, which only makes it stricter).
 */
import { IpBuckets } from '../../turn/index.js';

/** Failed admin tokens one client IP may present per minute (and at once). */
export const ADMIN_FAILURES_PER_MINUTE = 10;

export class FailedTokenLimit {
  private readonly buckets: IpBuckets;

  constructor(perMinute: number = ADMIN_FAILURES_PER_MINUTE) {
    this.buckets = new IpBuckets(perMinute / 60, perMinute);
  }

  /**
   * Milliseconds until `ip` may present a token again; 0 when it may now. While it is over its
   * budget, no token of its is checked at all (a right one neither), so a 429 tells nothing.
   */
  blockedFor(ip: string, now: number): number {
    const slot = this.buckets.slotOf(ip);
    return this.buckets.available(slot, now) ? 0 : this.buckets.waitMs(slot);
  }

  /** Counts a wrong token from `ip`. */
  failed(ip: string, now: number): void {
    const slot = this.buckets.slotOf(ip);
    if (this.buckets.available(slot, now)) this.buckets.take(slot);
  }
}
