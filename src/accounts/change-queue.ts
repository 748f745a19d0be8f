/**
 * Applies account changes from other nodes one at a time, coalescing bursts: the changes that
 * arrive while one is applied (or within COALESCE_MS) are merged per account, so a thousand
 * messages about one account cost one reload. Bounded: past MAX_PENDING accounts waiting, the
 * pending ones are dropped for one full resync, which covers them all.
 *
 * Nothing is dropped on failure: a change whose reload fails (the store unreachable) is kept and
 * a full resync is marked as needed; both are tried again after RETRY_MIN_MS, doubling up to
 * RETRY_MAX_MS, until the store answers. And every RESYNC_EVERY_MS a full resync runs anyway:
 * the net for pub/sub messages lost without a reconnect to tell.
 */
import type { AccountChange } from './change-bus.js';

export const COALESCE_MS = 10;
export const MAX_PENDING = 10_000;
export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 10_000;
export const RESYNC_EVERY_MS = 60_000;
/** API key revocations remembered per pending account (more: the account's sockets are all closed). */
const MAX_KEYS = 100;

export interface PendingChange {
  readonly accountId: string;
  closed: boolean;
  readonly apiKeyIds: Set<string>;
}

export interface ChangeHandlers {
  apply(change: PendingChange): Promise<void>;
  resync(): Promise<void>;
  /** A handler failed (logged by the owner); it is tried again in `retryMs`. */
  failed(err: unknown, what: string, retryMs: number): void;
}

export interface ChangeQueueOptions {
  /** The periodic resync's interval (ms); 0: none. Default RESYNC_EVERY_MS. */
  readonly resyncEveryMs?: number;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

export class AccountChangeQueue {
  readonly #h: ChangeHandlers;
  readonly #pending = new Map<string, PendingChange>();
  readonly #retryMin: number;
  readonly #retryMax: number;
  #resync = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** The delay before the next try after a failure; 0 while the last try succeeded. */
  #backoff = 0;
  readonly #periodic: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(handlers: ChangeHandlers, options: ChangeQueueOptions = {}) {
    this.#h = handlers;
    this.#retryMin = options.retryMinMs ?? RETRY_MIN_MS;
    this.#retryMax = options.retryMaxMs ?? RETRY_MAX_MS;
    const every = options.resyncEveryMs ?? RESYNC_EVERY_MS;
    if (every > 0) {
      this.#periodic = setInterval(() => this.resync(), every);
      this.#periodic.unref();
    }
  }

  add(change: AccountChange): void {
    this.#merge(change.accountId, change.closed === true, change.apiKeyId === undefined ? [] : [change.apiKeyId]);
    this.#schedule();
  }

  resync(): void {
    this.#resync = true;
    this.#schedule();
  }

  /** Stops the timers; what is pending is dropped (the node stops). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#periodic);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
  }

  /** Resolves once nothing is pending or running (tests, stop); bounded (a retry may still wait). */
  async idle(): Promise<void> {
    for (let i = 0; i < 100 && (this.#running !== undefined || this.#timer !== undefined); i++) {
      await (this.#running ?? new Promise((r) => setTimeout(r, COALESCE_MS)));
    }
  }

  #merge(accountId: string, closed: boolean, keys: Iterable<string>): void {
    let p = this.#pending.get(accountId);
    if (p === undefined) {
      if (this.#pending.size >= MAX_PENDING) {
        this.#pending.clear();
        this.#resync = true;
        return;
      }
      p = { accountId, closed: false, apiKeyIds: new Set() };
      this.#pending.set(accountId, p);
    }
    if (closed) p.closed = true;
    for (const key of keys) {
      if (p.apiKeyIds.size < MAX_KEYS) p.apiKeyIds.add(key);
      else p.closed = true;
    }
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined || this.#running !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#drain().finally(() => {
        this.#running = undefined;
        if (this.#resync || this.#pending.size > 0) this.#schedule();
      });
    }, this.#backoff > 0 ? this.#backoff : COALESCE_MS);
    this.#timer.unref();
  }

  /** After a failure: the next try waits RETRY_MIN_MS, then twice as long each time, up to RETRY_MAX_MS. */
  #failed(err: unknown, what: string): void {
    this.#backoff = this.#backoff === 0 ? this.#retryMin : Math.min(this.#backoff * 2, this.#retryMax);
    this.#h.failed(err, what, this.#backoff);
  }

  async #drain(): Promise<void> {
    if (this.#resync) {
      this.#resync = false;
      // A resync reloads every account: what was pending is covered by it...
      const covered = [...this.#pending.values()];
      this.#pending.clear();
      try {
        await this.#h.resync();
        this.#backoff = 0;
      } catch (err) {
        // ...unless it fails: then it is needed again, and the key revocations are kept for it.
        for (const c of covered) this.#merge(c.accountId, c.closed, c.apiKeyIds);
        this.#resync = true;
        this.#failed(err, 'resync');
      }
      return;
    }
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    for (const [i, change] of batch.entries()) {
      try {
        await this.#h.apply(change);
      } catch (err) {
        // The store did not answer: this change and the rest of the batch wait for the retry,
        // which resyncs too (messages sent while the store was away may be lost as well).
        for (const c of batch.slice(i)) this.#merge(c.accountId, c.closed, c.apiKeyIds);
        this.#resync = true;
        this.#failed(err, 'apply');
        return;
      }
    }
    this.#backoff = 0;
  }
}
