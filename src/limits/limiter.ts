/**
 * Usage limits: once per second (and right after each usage flush) the limiter adds, per account
 * with a limit and across all accounts (network_usage.global_limit), the timeframe total already
 * written to the ledger and the aggregator's pending (live, not yet written) bytes, both
 * directions. At soft_limit × limit new allocations are refused (the AllocationGate answers 486;
 * /v1/ice-servers answers 429); at hard_limit × limit the live allocations are closed as well.
 * Flags are plain booleans read by the gate: nothing here runs per packet. They lift when the
 * aggregator starts a new timeframe (usage.reset), or when a raised (or removed) limit puts the
 * usage below them again (a config reload through update(), or a changed account limit).
 * With calendar-month timeframes that is at 00:00 UTC on the 1st (at the first flush after it).
 * Every event names its timeframe by start and end (timeframe_start, timeframe_end): month windows
 * differ in length, so a receiver cannot derive the end from the setting.
 */
import type { AllocationAdmission, AllocationGate } from '../../turn/index.js';
import type { Logger } from '../logger.js';
import type { LimitEvent } from '../metrics/metrics.js';
import type { PendingUsage } from '../metering/aggregator.js';
import type { Timeframe, UsageFilter, UsageRow } from '../metering/types.js';
import { timeframeEnd } from '../metering/timeframe.js';
import { remove } from '../subscriptions.js';

/** The limit events counted in the metrics (metrics.ts LIMIT_EVENTS). */
export type LimitKind = LimitEvent;
export type LimitWebhook = 'usage.soft_limit' | 'usage.hard_limit' | 'usage.reset' | 'usage.report';

/** What a config reload may change (network_usage.global_limit, soft_limit, hard_limit, report_interval). */
export interface LimitSettings {
  /** Bytes per timeframe across all accounts; absent: no global limit. */
  readonly globalLimitBytes?: number;
  /** Fractions of the limit (0.9 = 90%); hardLimit ≥ softLimit. */
  readonly softLimit: number;
  readonly hardLimit: number;
  /** usage.report every this many ms; 0 or absent: no reports. */
  readonly reportIntervalMs?: number;
}

export interface LimiterOptions extends LimitSettings {
  /** The ledger (flushed totals); read once per check, never per packet. */
  readonly usage: (filter: UsageFilter) => Promise<UsageRow[]>;
  /** The aggregator's not yet written usage (UsageAggregator.pending). */
  readonly pending: () => PendingUsage;
  /** The aggregator's current timeframe; a new start lifts the limits. */
  readonly timeframe: () => Timeframe;
  /** The accounts with a limit (bytes per timeframe). */
  readonly accountLimits: () => ReadonlyMap<string, number>;
  readonly emit: (type: LimitWebhook, data: unknown) => void;
  readonly metric?: (kind: LimitKind) => void;
  readonly now?: () => number;
  /** Runs `fn` every `ms`; returns a canceller. Default: an unref'd setInterval. */
  readonly every?: (ms: number, fn: () => void) => () => void;
  readonly log?: Logger;
}

interface Flags {
  soft: boolean;
  hard: boolean;
}

export const CHECK_INTERVAL_MS = 1000;

const defaultEvery = (ms: number, fn: () => void) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

const iso = (ms: number) => new Date(ms).toISOString();

/** Throws a RangeError naming the first invalid setting; changes nothing. */
export function validateLimitSettings(s: LimitSettings): void {
  const { globalLimitBytes: g, softLimit: soft, hardLimit: hard, reportIntervalMs: r } = s;
  if (g !== undefined && !(Number.isSafeInteger(g) && g >= 0)) throw new RangeError(`usage limits: globalLimitBytes must be a whole number of bytes ≥ 0; got ${g}`);
  const fraction = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;
  if (!fraction(soft)) throw new RangeError(`usage limits: softLimit must be a fraction between 0 and 1; got ${soft}`);
  if (!fraction(hard)) throw new RangeError(`usage limits: hardLimit must be a fraction between 0 and 1; got ${hard}`);
  if (hard < soft) throw new RangeError(`usage limits: hardLimit (${hard}) must be at least softLimit (${soft})`);
  if (r !== undefined && !(Number.isSafeInteger(r) && r >= 0)) throw new RangeError(`usage limits: reportIntervalMs must be a whole number of ms ≥ 0; got ${r}`);
}

/**
 * Where `usage` bytes stand against a limit of `limit` bytes: from softLimit × limit on
 * 'soft_limit' (new allocations refused), from hardLimit × limit on 'hard_limit' (live ones closed).
 */
export function limitState(usage: number, limit: number, s: Pick<LimitSettings, 'softLimit' | 'hardLimit'>): 'ok' | 'soft_limit' | 'hard_limit' {
  return usage >= s.hardLimit * limit ? 'hard_limit' : usage >= s.softLimit * limit ? 'soft_limit' : 'ok';
}

const settingsOf = (s: LimitSettings): LimitSettings => ({
  ...(s.globalLimitBytes !== undefined ? { globalLimitBytes: s.globalLimitBytes } : {}),
  softLimit: s.softLimit,
  hardLimit: s.hardLimit,
  reportIntervalMs: s.reportIntervalMs ?? 0,
});

export class UsageLimiter implements AllocationGate {
  readonly #o: LimiterOptions;
  readonly #now: () => number;
  readonly #accounts = new Map<string, Flags>();
  readonly #global: Flags = { soft: false, hard: false };
  #s: LimitSettings;
  #timeframeStart: number | undefined;
  #lastReport: number | undefined;
  #cancel: Array<() => void> = [];
  #running: Promise<void> | undefined;
  #again = false;
  readonly #hardLimit: Array<(account: string | null) => void> = [];

  /** Throws (RangeError) when update() would refuse `settings`; changes nothing (a reload checks first). */
  static validate(settings: LimitSettings): void {
    validateLimitSettings(settings);
  }

  constructor(options: LimiterOptions) {
    validateLimitSettings(options);
    this.#o = options;
    this.#s = settingsOf(options);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Calls `listener` on each check that finds `account` (null: every account, the global limit)
   * at its hard limit: the relay subscribes and closes those allocations. It must not throw.
   * Returns the unsubscribe.
   */
  onHardLimit(listener: (account: string | null) => void): () => void {
    this.#hardLimit.push(listener);
    return () => remove(this.#hardLimit, listener);
  }

  /** The settings in force. */
  settings(): LimitSettings {
    return this.#s;
  }

  /**
   * Replaces the limit settings (config reload) and checks at once, so a lowered limit refuses
   * Allocates (or closes allocations) within the check, and a raised or removed one lifts the
   * flags the usage no longer reaches. Events stay once per crossing: a state that holds before
   * and after is not reported again. Enabling reports starts their interval now. Throws
   * (RangeError) on invalid settings without changing anything; the promise never rejects.
   * Before start() (or after stop()) it only stores the settings.
   */
  update(settings: LimitSettings): Promise<void> {
    validateLimitSettings(settings);
    const before = this.#s;
    this.#s = settingsOf(settings);
    if ((before.reportIntervalMs ?? 0) === 0 && (this.#s.reportIntervalMs ?? 0) > 0) this.#lastReport = this.#now();
    return this.#cancel.length > 0 ? this.check() : Promise.resolve();
  }

  /** Checks now, then every second. */
  start(): Promise<void> {
    const every = this.#o.every ?? defaultEvery;
    this.#lastReport = this.#now();
    this.#cancel.push(every(CHECK_INTERVAL_MS, () => void this.check()));
    return this.check();
  }

  stop(): void {
    for (const c of this.#cancel) c();
    this.#cancel = [];
  }

  /** AllocationGate: refused (486) from the soft limit on; the usage limits need no client address. */
  mayAllocate(account: string): AllocationAdmission {
    return this.limited(account) ? 'usage-limit' : 'ok';
  }

  /** Whether the account is over its (or the global) soft limit: /v1/ice-servers answers 429. */
  limited(account: string): boolean {
    return this.#global.soft || this.#accounts.get(account)?.soft === true;
  }

  /** Recomputes the flags; concurrent calls run one more check after the current one. Never rejects. */
  check(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    const run = async () => {
      do {
        this.#again = false;
        try {
          await this.#check();
        } catch (err) {
          this.#o.log?.error({ err }, 'usage limit check failed; retrying in a second');
        }
      } while (this.#again);
    };
    this.#running = run().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #check(): Promise<void> {
    let tf = this.#o.timeframe();
    if (this.#timeframeStart !== undefined && tf.start !== this.#timeframeStart) this.#reset(this.#timeframeStart, tf);
    this.#timeframeStart = tf.start;
    const rows = await this.#o.usage({ granularity: 'timeframe', from: tf.start, to: tf.start + 1 });
    const pending = this.#o.pending();
    tf = this.#o.timeframe();
    if (tf.start !== this.#timeframeStart) return void (this.#again = true); // rolled over meanwhile
    const totals = new Map<string, number>();
    const add = (account: string, bytes: number) => totals.set(account, (totals.get(account) ?? 0) + bytes);
    for (const r of rows) add(r.account, r.bytesToPeer + r.bytesToClient);
    if (pending.timeframeStart === tf.start) for (const d of pending.deltas) add(d.account, d.bytesToPeer + d.bytesToClient);

    // The settings as of now (after the awaits): an update() meanwhile applies in this check.
    const s = this.#s;
    const limits = this.#o.accountLimits();
    for (const account of [...this.#accounts.keys()]) if (!limits.has(account)) this.#accounts.delete(account);
    for (const [account, limit] of limits) {
      let flags = this.#accounts.get(account);
      if (flags === undefined) this.#accounts.set(account, (flags = { soft: false, hard: false }));
      this.#apply(s, flags, account, totals.get(account) ?? 0, limit, tf);
    }
    if (s.globalLimitBytes !== undefined) {
      let all = 0;
      for (const b of totals.values()) all += b;
      this.#apply(s, this.#global, null, all, s.globalLimitBytes, tf);
    } else if (this.#global.soft || this.#global.hard) {
      this.#o.log?.info({ account: null }, 'global usage limit removed: usage limits lifted');
      this.#global.soft = this.#global.hard = false;
    }

    const interval = s.reportIntervalMs ?? 0;
    const now = this.#now();
    if (interval > 0 && this.#lastReport !== undefined && now - this.#lastReport >= interval) {
      this.#lastReport = now;
      for (const [account, bytes] of totals) {
        this.#o.emit('usage.report', { account, timeframe_start: iso(tf.start), timeframe_end: iso(timeframeEnd(tf)), usage_bytes: bytes, limit_bytes: limits.get(account) ?? null });
      }
    }
  }

  #apply(s: LimitSettings, flags: Flags, account: string | null, usage: number, limit: number, tf: Timeframe): void {
    // hardLimit ≥ softLimit (validated), so the hard limit reached implies the soft one.
    const state = limitState(usage, limit, s);
    const soft = state !== 'ok';
    const hard = state === 'hard_limit';
    const data = { account, usage_bytes: usage, limit_bytes: limit, timeframe_start: iso(tf.start), timeframe_end: iso(timeframeEnd(tf)) };
    const who = account === null ? 'global' : 'account';
    if (soft && !flags.soft) {
      this.#o.log?.warn(data, account === null ? 'global soft usage limit reached' : 'account soft usage limit reached');
      this.#o.emit('usage.soft_limit', data);
      this.#o.metric?.('soft_limit');
    }
    if (hard && !flags.hard) {
      this.#o.log?.warn(data, account === null ? 'global hard usage limit reached' : 'account hard usage limit reached');
      this.#o.emit('usage.hard_limit', data);
      this.#o.metric?.('hard_limit');
    }
    // A raised (or removed) limit lifts the flags at once (logged; no webhook event).
    if ((flags.soft && !soft) || (flags.hard && !hard)) {
      this.#o.log?.info({ ...data, soft_limit: soft, hard_limit: hard }, `${who} usage limit raised: ${soft ? 'below the hard limit again (soft still reached)' : 'below the soft limit again'}`);
    }
    flags.soft = soft;
    flags.hard = hard;
    if (hard) for (const listener of this.#hardLimit) listener(account);
  }

  #reset(previous: number, tf: Timeframe): void {
    const lifted: Array<string | null> = [];
    for (const [account, flags] of this.#accounts) {
      if (flags.soft || flags.hard) lifted.push(account);
      flags.soft = flags.hard = false;
    }
    if (this.#global.soft || this.#global.hard) lifted.push(null);
    this.#global.soft = this.#global.hard = false;
    for (const account of lifted) {
      this.#o.emit('usage.reset', { account, timeframe_start: iso(tf.start), timeframe_end: iso(timeframeEnd(tf)), previous_timeframe_start: iso(previous) });
      this.#o.metric?.('reset');
    }
    if (lifted.length > 0) this.#o.log?.info({ lifted: lifted.length }, 'new usage timeframe: usage limits lifted');
  }
}
