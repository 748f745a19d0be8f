/**
 * Bandwidth caps (coturn's max-bps): token buckets in bytes of application payload per second,
 * one per direction, per allocation and shared by an account's allocations on this relay.
 * Client→peer and peer→client are capped separately; each packet costs at least
 * MIN_PACKET_COST_BYTES. A bucket holds at most one second's worth
 * of tokens (at least one 1500-byte packet), so a flow may burst that much above its rate.
 * Refilled from the data path's cached clock; plain numbers, no allocation per packet.
 */

/** The data path's clock (allocation-manager's CachedClock): read here, never passed per packet. */
export interface BucketClock {
  readonly ms: number;
}

/** The smallest burst a bucket allows, so that one full-size Ethernet payload can always pass. */
export const MIN_BURST_BYTES = 1500;

/**
 * What each relayed packet costs at least, in tokens: a packet of fewer payload bytes (even 0)
 * still costs its headers and a send, so a flood of tiny packets is capped like 64-byte ones.
 * Only the bucket is charged this; billing and the capped counters count payload bytes.
 */
export const MIN_PACKET_COST_BYTES = 64;

export class TokenBucket {
  // Declared with a number (not only typed): a field that starts as undefined is stored as a tagged
  // value, and every store of a double into it would allocate a heap number per packet.
  /** Bytes per second. */
  rate = 0;
  capacity = 0;
  tokens = 0;
  last = 0;
  /**
   * Read inside allows() rather than passed in: a double passed to a call that is not inlined is
   * boxed in a new heap number, which would allocate per packet.
   */
  private readonly clock: BucketClock;

  constructor(rate: number, clock: BucketClock) {
    this.rate = rate;
    this.capacity = Math.max(rate, MIN_BURST_BYTES);
    this.tokens = this.capacity;
    this.clock = clock;
    this.last = clock.ms;
  }

  /** True when `n` bytes may pass now (after refilling); does not take them. */
  allows(n: number): boolean {
    const now = this.clock.ms;
    const dt = now - this.last;
    if (dt !== 0) {
      // A clock that went back only restarts the refill from the new time.
      if (dt > 0) {
        const t = this.tokens + (dt * this.rate) / 1000;
        this.tokens = t < this.capacity ? t : this.capacity;
      }
      this.last = now;
    }
    return this.tokens >= n;
  }

  setRate(rate: number): void {
    this.rate = rate;
    this.capacity = Math.max(rate, MIN_BURST_BYTES);
    if (this.tokens > this.capacity) this.tokens = this.capacity;
  }
}

/** The two buckets of one account on this relay, shared by its live allocations. */
export class AccountBuckets {
  readonly toPeer: TokenBucket;
  readonly toClient: TokenBucket;
  /** Live allocations that hold these buckets. */
  users = 0;

  constructor(rate: number, clock: BucketClock) {
    this.toPeer = new TokenBucket(rate, clock);
    this.toClient = new TokenBucket(rate, clock);
  }

  setRate(rate: number): void {
    this.toPeer.setRate(rate);
    this.toClient.setRate(rate);
  }
}

/**
 * What the caps hold on an allocation (turn/allocation.ts's Allocation): its account and the
 * buckets the data path reads. Declared here so that the buckets do not depend on the allocation.
 */
export interface CappedAllocation {
  readonly account: string;
  capToPeer: TokenBucket | null;
  capToClient: TokenBucket | null;
  accountCaps: AccountBuckets | null;
}

/** Where a cap comes from: bytes per second, 0 for none. */
export interface BandwidthLimits {
  /** Per allocation, each direction. */
  allocationMaxBps: number;
  /** Shared by an account's allocations on this relay, each direction. */
  accountMaxBps(account: string): number;
}

/** Bytes per second (each direction) a value of max_bps allows; 0 or absent: unlimited. */
function checkRate(bps: number, what: string): number {
  if (!Number.isFinite(bps) || bps < 0) throw new RangeError(`${what} must be a non-negative number of bytes per second`);
  return bps;
}

/**
 * Attaches the caps to allocations as they start and end, and applies changed rates to the live
 * ones. Called on the request path and from admin operations, never per packet.
 */
export class BandwidthCaps {
  private allocationMaxBps: number;
  private readonly accountMaxBps: (account: string) => number;
  private readonly accounts = new Map<string, AccountBuckets>();
  private readonly clock: BucketClock;

  constructor(clock: BucketClock, limits?: Partial<BandwidthLimits>) {
    this.clock = clock;
    this.allocationMaxBps = checkRate(limits?.allocationMaxBps ?? 0, 'max_bps');
    this.accountMaxBps = limits?.accountMaxBps ?? (() => 0);
  }

  /** Gives a new allocation its own buckets and its account's shared ones. */
  attach(alloc: CappedAllocation): void {
    const clock = this.clock;
    const own = this.allocationMaxBps;
    if (own > 0) {
      alloc.capToPeer = new TokenBucket(own, clock);
      alloc.capToClient = new TokenBucket(own, clock);
    }
    let shared = this.accounts.get(alloc.account);
    if (shared === undefined) {
      const rate = checkRate(this.accountMaxBps(alloc.account), 'account max_bps');
      if (rate > 0) {
        shared = new AccountBuckets(rate, clock);
        this.accounts.set(alloc.account, shared);
      }
    }
    if (shared !== undefined) {
      shared.users++;
      alloc.accountCaps = shared;
    }
  }

  /** Releases an ended allocation's hold on its account's buckets. */
  detach(alloc: CappedAllocation): void {
    const shared = alloc.accountCaps;
    if (shared === null) return;
    alloc.accountCaps = null;
    if (--shared.users <= 0 && this.accounts.get(alloc.account) === shared) this.accounts.delete(alloc.account);
  }

  /** Changes the per-allocation cap of new and live allocations; 0 removes it. */
  setAllocationMaxBps(bps: number, live: Iterable<CappedAllocation>): void {
    this.allocationMaxBps = checkRate(bps, 'max_bps');
    for (const alloc of live) {
      if (bps === 0) {
        alloc.capToPeer = null;
        alloc.capToClient = null;
      } else if (alloc.capToPeer === null || alloc.capToClient === null) {
        alloc.capToPeer = new TokenBucket(bps, this.clock);
        alloc.capToClient = new TokenBucket(bps, this.clock);
      } else {
        alloc.capToPeer.setRate(bps);
        alloc.capToClient.setRate(bps);
      }
    }
  }

  /** Changes one account's shared cap for its live allocations at once; 0 removes it. */
  setAccountMaxBps(account: string, bps: number, live: Iterable<CappedAllocation>): void {
    checkRate(bps, 'account max_bps');
    const shared = this.accounts.get(account);
    if (shared !== undefined && bps > 0) {
      shared.setRate(bps);
      return;
    }
    if (shared !== undefined) this.accounts.delete(account);
    const next = bps > 0 ? new AccountBuckets(bps, this.clock) : null;
    for (const alloc of live) {
      if (alloc.account !== account) continue;
      alloc.accountCaps = next;
      if (next !== null) next.users++;
    }
    if (next !== null && next.users > 0) this.accounts.set(account, next);
  }

  /** Accounts that currently hold shared buckets (for tests and diagnostics). */
  get accountCount(): number {
    return this.accounts.size;
  }
}
