/**
 * One webhook's delivery loop: while this node holds the webhook's claim, take the outbox's head,
 * POST it, and mark it delivered (2xx) or failed (anything else: retried after a jittered
 * exponential backoff, keeping its place, so nothing overtakes it). Without the claim (another
 * node delivers this webhook) the worker looks again every outbox.pollMs, and takes over once
 * the holder released the claim or died with it.
 *
 * A 2xx whose delivered() mark did not reach the store (it was away) is remembered: the worker
 * marks it before sending anything again, so a store outage does not send an event twice. It is
 * sent again (same id) only when this node dies, or loses the claim, between the receiver's 2xx
 * and the mark.
 */
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';
import { WebhookLeaseLostError, type OutboxEntry, type WebhookConfig, type WebhookOutbox } from './outbox.js';

export interface WebhookLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** What a worker reads of its dispatcher. */
export interface WorkerHost {
  readonly outbox: WebhookOutbox;
  readonly log: WebhookLog | undefined;
  readonly now: () => number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly requestTimeoutMs: number;
  readonly abort: AbortController;
  /** stop() has written what waited in memory: end once nothing due is left (or at the deadline). */
  readonly ending: boolean;
  readonly stopDeadline: number;
  /** The configured webhook with this URL, as of now. */
  hook(url: string): WebhookConfig | undefined;
  /** The worker ends: its URL is no longer configured. */
  retire(worker: Worker): void;
  /** The backlog changed (an entry delivered). */
  changed(): void;
}

/** Retry delay after `attempts` failed attempts (1-based): initial·2^(n-1), capped, ±20 % jitter. */
export function backoffMs(attempts: number, initialMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempts - 1, 30));
  return Math.min(maxMs, Math.round(base * (0.8 + 0.4 * random())));
}

export class Worker {
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The id of an entry the receiver took (2xx) whose delivered() mark failed. */
  #unmarked: string | undefined;
  readonly done: Promise<void>;

  constructor(
    readonly url: string,
    private readonly svc: WorkerHost,
  ) {
    this.done = this.#run();
  }

  wake(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Sleeps until woken or `ms` elapsed (forever when undefined). */
  #sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      if (ms !== undefined) {
        this.#timer = setTimeout(() => this.wake(), ms);
        this.#timer.unref();
      }
    });
  }

  async #run(): Promise<void> {
    const svc = this.svc;
    let failing = false;
    try {
      for (;;) {
        try {
          if (await this.#step()) return;
          failing = false;
        } catch (err) {
          if (svc.ending) return;
          if (err instanceof WebhookLeaseLostError) {
            // Another node delivers this webhook now; it sends the unmarked entry again if any.
            this.#unmarked = undefined;
            svc.log?.debug({ webhook: this.url }, 'webhook delivery claim lost to another node');
            await this.#sleep(svc.outbox.pollMs ?? svc.initialBackoffMs);
            continue;
          }
          // The store is away (or SQLITE_BUSY): say so once per outage, try again a little later.
          if (failing) svc.log?.debug({ err, webhook: this.url }, 'webhook outbox error');
          else svc.log?.warn({ err, webhook: this.url }, 'webhook outbox error');
          failing = true;
          await this.#sleep(svc.initialBackoffMs);
        }
      }
    } finally {
      // Right after retire() (no macrotask between): a re-added URL's new worker claims after this
      // release started, and the store orders the two.
      await svc.outbox.release(this.url).catch((err: unknown) => svc.log?.debug({ err, webhook: this.url }, 'webhook claim not released (it expires)'));
    }
  }

  /** One turn of the delivery loop; true when the worker should end. */
  async #step(): Promise<boolean> {
    const svc = this.svc;
    // Removed by a reload: end here (synchronously with the check, so a re-added URL gets a new worker).
    const hook = svc.hook(this.url);
    if (hook === undefined) {
      svc.retire(this);
      return true;
    }
    if (svc.ending && svc.now() >= svc.stopDeadline) return true;
    if (!(await svc.outbox.claim(this.url))) {
      if (svc.ending) return true;
      await this.#sleep(svc.outbox.pollMs ?? svc.initialBackoffMs);
      return false;
    }
    if (this.#unmarked !== undefined) {
      await svc.outbox.delivered(this.#unmarked);
      this.#unmarked = undefined;
      svc.changed();
    }
    const row = await svc.outbox.head(this.url);
    const now = svc.now();
    if (svc.ending) {
      if (row === undefined || row.nextAttemptAt > now || now >= svc.stopDeadline) return true;
    }
    if (row === undefined) {
      await this.#sleep(svc.outbox.pollMs);
      return false;
    }
    if (row.nextAttemptAt > now) {
      await this.#sleep(row.nextAttemptAt - now);
      return false;
    }
    await this.#attempt(hook, row);
    return false;
  }

  /** One delivery, signed with the webhook's secret as configured now. */
  async #attempt(hook: WebhookConfig, row: OutboxEntry): Promise<void> {
    const svc = this.svc;
    const t = Math.floor(svc.now() / 1000);
    let error: string;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(svc.requestTimeoutMs), svc.abort.signal]);
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signatureHeader(hook.secret, row.body, t),
          'Idempotency-Key': row.id,
          'user-agent': 'ferry-webhooks',
        },
        body: row.body,
        signal,
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        this.#unmarked = row.id;
        await svc.outbox.delivered(row.id);
        this.#unmarked = undefined;
        svc.changed();
        svc.log?.debug({ event: row.id, type: row.type, attempts: row.attempts + 1 }, 'webhook delivered');
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      if (this.#unmarked !== undefined || err instanceof WebhookLeaseLostError) throw err;
      error = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
    }
    const attempts = row.attempts + 1;
    const delay = backoffMs(attempts, svc.initialBackoffMs, svc.maxBackoffMs);
    await svc.outbox.failed(row.id, svc.now() + delay, error);
    svc.log?.warn({ event: row.id, type: row.type, attempts, retry_in_ms: delay, error }, 'webhook delivery failed');
  }
}
