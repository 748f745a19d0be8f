/**
 * Shared enforcement: the allocation gate the relay asks before every new allocation, decided
 * synchronously from state kept current in the background. In order: the usage limits (the
 * limiter's flags), the fleet's shared state being reachable (cluster mode; else 'unavailable',
 * answered 500), allocations_per_user across the nodes (this relay's count plus the other live
 * nodes' published counts, RemoteCounts), and the rate limits (new allocations per account and
 * per client IP per minute, failed authentications per client IP per minute: blocks in a
 * BlockTable, filled by a RateCounter that counts in memory on one node and in Redis in a fleet).
 * It also splits an account's bandwidth cap (max_bps) between the nodes relaying it.
 */
import { budgetKey, type AllocationAdmission, type AllocationGate, type AllocationInfo, type AllocationRefusal, type TurnEvents } from '../../turn/index.js';
import type { BlockTable } from './block-table.js';
import type { RateCounter } from './rate-counter.js';
import type { RemoteCounts } from './remote-counts.js';

/** The limits this decides on (quotas.allocations_per_user and rate_limits.*; 0: no limit). */
export interface FleetLimitSettings {
  readonly allocationsPerUser: number;
  readonly allocationsPerAccount: number;
  readonly allocationsPerIp: number;
  /** Counted fleet-wide only in a fleet: on one node the engine's own budget does it. */
  readonly authFailuresPerIp: number;
}

/** The fleet side (Redis): where this node's counts go, and whether the shared state is current. */
export interface FleetLink {
  /** This node now holds `count` live allocations of `account`; never throws, never waits. */
  publishCount(account: string, count: number): void;
  /** True while Redis is reachable and the counts and blocks are being received. */
  available(): boolean;
}

/** What the gate only reads: the usage limits (UsageLimiter). */
export interface UsageFlags {
  limited(account: string): boolean;
}

export interface FleetLimitsOptions {
  readonly settings: FleetLimitSettings;
  readonly usage: UsageFlags;
  readonly blocks: BlockTable;
  readonly rates: RateCounter;
  /** Other nodes' counts; absent on one node. */
  readonly remote?: RemoteCounts;
  /** Absent on one node (SQLite storage): nothing is shared, nothing can be unavailable. */
  readonly link?: FleetLink;
  readonly now?: () => number;
  /** Counts each refusal (ferry_allocations_refused_total) and rate-limited request (ferry_rate_limited_total). */
  readonly refused?: (reason: AllocationRefusal) => void;
  readonly rateLimited?: (kind: 'allocations-account' | 'allocations-ip') => void;
}

export class FleetLimits implements AllocationGate {
  #s: FleetLimitSettings;
  readonly #o: FleetLimitsOptions;
  readonly #now: () => number;
  /** This node's live allocations per account (bounded by quotas.total_allocations). */
  readonly #local = new Map<string, number>();

  constructor(o: FleetLimitsOptions) {
    this.#o = o;
    this.#s = o.settings;
    this.#now = o.now ?? Date.now;
  }

  /** New limits (config reload): they apply to the next request; the windows' counts stay. */
  update(settings: FleetLimitSettings): void {
    this.#s = settings;
  }

  settings(): FleetLimitSettings {
    return this.#s;
  }

  mayAllocate(account: string, clientAddress: string, held: number): AllocationAdmission {
    const verdict = this.#admit(account, clientAddress, held);
    if (verdict !== 'ok') {
      this.#o.refused?.(verdict);
      if (verdict === 'rate-account') this.#o.rateLimited?.('allocations-account');
      else if (verdict === 'rate-ip') this.#o.rateLimited?.('allocations-ip');
    }
    return verdict;
  }

  #admit(account: string, clientAddress: string, held: number): AllocationAdmission {
    const o = this.#o;
    if (o.usage.limited(account)) return 'usage-limit';
    if (o.link !== undefined && !o.link.available()) return 'unavailable';
    const s = this.#s;
    if (o.remote !== undefined && held + o.remote.count(account) > s.allocationsPerUser) return 'quota';
    const now = this.#now();
    if (s.allocationsPerAccount > 0 && o.blocks.blocked('allocations-account', account, now)) return 'rate-account';
    if (s.allocationsPerIp > 0 && o.blocks.blocked('allocations-ip', budgetKey(clientAddress), now)) return 'rate-ip';
    return 'ok';
  }

  /** In a fleet, a client IP over the shared failed-authentication budget gets no answer to signed requests. */
  authBlocked(clientAddress: string): boolean {
    return this.#o.link !== undefined && this.#s.authFailuresPerIp > 0 && this.#o.blocks.blocked('auth-failure', budgetKey(clientAddress), this.#now());
  }

  /** True while the account may make no new allocation this minute: POST /v1/ice-servers answers 429. */
  accountRateLimited(account: string): boolean {
    return this.#s.allocationsPerAccount > 0 && this.#o.blocks.blocked('allocations-account', account, this.#now());
  }

  /** Seconds until accountRateLimited(account) lifts (for Retry-After); at least 1. */
  retryAfterSeconds(account: string): number {
    return Math.max(1, Math.ceil(this.#o.blocks.remainingMs('allocations-account', account, this.#now()) / 1000));
  }

  /**
   * This node's share of an account's bandwidth cap: `bps` split evenly between the nodes with
   * live allocations of it (this one counted, as it is about to hold one or holds some).
   */
  shareBps(account: string, bps: number): number {
    if (bps <= 0) return 0;
    const nodes = 1 + (this.#o.remote?.nodes(account) ?? 0);
    return Math.max(1, Math.floor(bps / nodes));
  }

  /** This node's live allocations of `account`. */
  localCount(account: string): number {
    return this.#local.get(account) ?? 0;
  }

  /** The accounts with live allocations here (to re-apply their bandwidth share). */
  localAccounts(): IterableIterator<string> {
    return this.#local.keys();
  }

  /** Listeners for the engine: counts, rate events and failed authentications. */
  turnEvents(): TurnEvents {
    return {
      allocationCreated: (info) => this.#created(info),
      allocationClosed: (info) => this.#closed(info),
      authFailure: (_reason, clientAddress) => {
        // On one node the engine's own per-IP budget counts these; a fleet counts them in Redis too.
        if (this.#o.link !== undefined) this.#o.rates.record('auth-failure', budgetKey(clientAddress), this.#s.authFailuresPerIp);
      },
    };
  }

  #created(info: AllocationInfo): void {
    const n = (this.#local.get(info.account) ?? 0) + 1;
    this.#local.set(info.account, n);
    this.#o.link?.publishCount(info.account, n);
    const s = this.#s;
    this.#o.rates.record('allocations-account', info.account, s.allocationsPerAccount);
    this.#o.rates.record('allocations-ip', budgetKey(info.clientAddress), s.allocationsPerIp);
  }

  #closed(info: AllocationInfo): void {
    const n = (this.#local.get(info.account) ?? 0) - 1;
    if (n > 0) this.#local.set(info.account, n);
    else this.#local.delete(info.account);
    this.#o.link?.publishCount(info.account, Math.max(0, n));
  }
}
