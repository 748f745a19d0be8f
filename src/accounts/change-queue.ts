/**
 * Applies account changes from other nodes one at a time, coalescing bursts: the changes that
 * arrive while one is applied (or within COALESCE_MS) are merged per account, so a thousand
 * messages about one account cost one reload. Bounded: past MAX_PENDING accounts waiting, the
 * pending ones are dropped for one full resync, which covers them all.
 */
import type { AccountChange } from './change-bus.js';

export const COALESCE_MS = 10;
export const MAX_PENDING = 10_000;
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
  /** A handler failed (logged by the owner); the queue goes on. */
  failed(err: unknown, what: string): void;
}

export class AccountChangeQueue {
  readonly #h: ChangeHandlers;
  readonly #pending = new Map<string, PendingChange>();
  #resync = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(handlers: ChangeHandlers) {
    this.#h = handlers;
  }

  add(change: AccountChange): void {
    let p = this.#pending.get(change.accountId);
    if (p === undefined) {
      if (this.#pending.size >= MAX_PENDING) {
        this.#pending.clear();
        this.#resync = true;
        this.#schedule();
        return;
      }
      p = { accountId: change.accountId, closed: false, apiKeyIds: new Set() };
      this.#pending.set(change.accountId, p);
    }
    if (change.closed === true) p.closed = true;
    if (change.apiKeyId !== undefined) {
      if (p.apiKeyIds.size < MAX_KEYS) p.apiKeyIds.add(change.apiKeyId);
      else p.closed = true;
    }
    this.#schedule();
  }

  resync(): void {
    this.#resync = true;
    this.#schedule();
  }

  /** Resolves once nothing is pending or running (tests, stop). */
  async idle(): Promise<void> {
    for (let i = 0; i < 100 && (this.#running !== undefined || this.#timer !== undefined); i++) {
      await (this.#running ?? new Promise((r) => setTimeout(r, COALESCE_MS)));
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#running !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#drain().finally(() => {
        this.#running = undefined;
        if (this.#resync || this.#pending.size > 0) this.#schedule();
      });
    }, COALESCE_MS);
    this.#timer.unref();
  }

  async #drain(): Promise<void> {
    if (this.#resync) {
      this.#resync = false;
      // A resync reloads every account: what was pending is covered by it.
      this.#pending.clear();
      try {
        await this.#h.resync();
      } catch (err) {
        this.#h.failed(err, 'resync');
      }
      return;
    }
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    for (const change of batch) {
      try {
        await this.#h.apply(change);
      } catch (err) {
        this.#h.failed(err, 'apply');
      }
    }
  }
}
