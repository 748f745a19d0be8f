/**
 * Webhooks: `enqueue(type, data)` writes the event to the durable outbox for every matching
 * webhook; one worker per webhook delivers its rows strictly in order (the next waits until the
 * previous one got a 2xx), retrying with jittered exponential backoff. Rows stay in the outbox
 * until delivered, so a restart or a receiver that is down loses nothing.
 *
 * `update(hooks)` (config reload) replaces the webhook list while running. A worker reads its
 * webhook's config at each attempt, so a changed secret signs every later attempt (stored rows
 * included) and changed events apply to the events enqueued from then on. A removed URL's worker
 * ends after the request in flight, if any; its undelivered rows stay stored, are no longer
 * delivered nor counted in the backlog, and go out (in order, with the secret then configured)
 * once the URL is configured again, by a reload or at a restart — as for a URL dropped from the
 * config across a restart.
 */
import type { AllocationInfo, CloseReason, TurnEvents } from '../../turn/index.js';
import { matches, outboxEvents, type OutboxEntry, type WebhookConfig, type WebhookEventType, type WebhookOutbox } from './outbox.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

export interface WebhookLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface WebhookOptions {
  readonly hooks: readonly WebhookConfig[];
  /** Where events wait until delivered (SqliteWebhookOutbox: in the accounts database). */
  readonly outbox: WebhookOutbox;
  readonly log?: WebhookLog;
  /** ms since the epoch; Date.now when absent. */
  readonly now?: () => number;
  /** First retry delay (default 1 s), doubling per attempt up to maxBackoffMs (default 5 min). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Per-request timeout (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** How long stop() keeps delivering due rows before it aborts (default 2 s). */
  readonly stopGraceMs?: number;
}

export type { WebhookConfig, WebhookEventType } from './outbox.js';

/** Retry delay after `attempts` failed attempts (1-based): initial·2^(n-1), capped, ±20 % jitter. */
export function backoffMs(attempts: number, initialMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempts - 1, 30));
  return Math.min(maxMs, Math.round(base * (0.8 + 0.4 * random())));
}

/** The session.closed payload: no credentials, no username (the account id identifies the customer). */
export function sessionClosedData(info: AllocationInfo, reason: CloseReason, endedAt: number) {
  return {
    session_id: info.id,
    account: info.account,
    transport: info.transport,
    client: { address: info.clientAddress, port: info.clientPort },
    started_at: new Date(info.startedAt).toISOString(),
    ended_at: new Date(endedAt).toISOString(),
    duration_ms: Math.max(0, endedAt - info.startedAt),
    bytes_to_peer: info.bytesToPeer,
    packets_to_peer: info.packetsToPeer,
    bytes_to_client: info.bytesToClient,
    packets_to_client: info.packetsToClient,
    capped_bytes_to_peer: info.cappedBytesToPeer,
    capped_packets_to_peer: info.cappedPacketsToPeer,
    capped_bytes_to_client: info.cappedBytesToClient,
    capped_packets_to_client: info.cappedPacketsToClient,
    dropped_bytes_to_peer: info.droppedBytesToPeer,
    dropped_packets_to_peer: info.droppedPacketsToPeer,
    dropped_bytes_to_client: info.droppedBytesToClient,
    dropped_packets_to_client: info.droppedPacketsToClient,
    reason,
  };
}

/** Throws (TypeError) when the list is not a valid webhook list: each needs a URL (unique), a secret and events. */
export function validateWebhooks(hooks: readonly WebhookConfig[]): void {
  const seen = new Set<string>();
  for (const [i, h] of hooks.entries()) {
    if (typeof h?.url !== 'string' || !URL.canParse(h.url)) throw new TypeError(`webhooks[${i}]: expected a URL`);
    if (seen.has(h.url)) throw new TypeError(`webhooks[${i}]: the url ${h.url} appears twice`);
    seen.add(h.url);
    if (typeof h.secret !== 'string' || h.secret.length === 0) throw new TypeError(`webhooks[${i}]: expected a secret`);
    if (!Array.isArray(h.events) || h.events.length === 0) throw new TypeError(`webhooks[${i}]: expected a list of event types`);
  }
}

/** What update() changed, by URL count; `kept` = undelivered rows of removed URLs left stored. */
export interface WebhookChanges {
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  readonly kept: number;
}

class Worker {
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly done: Promise<void>;

  constructor(
    readonly url: string,
    private readonly svc: WebhookDispatcher,
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
    for (;;) {
      try {
        if (await this.#step()) return;
      } catch (err) {
        // A storage error (e.g. SQLITE_BUSY): log it and try again a little later.
        this.svc.log?.warn({ err }, 'webhook outbox error');
        if (this.svc.stopping) return;
        await this.#sleep(this.svc.initialBackoffMs);
      }
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
    const row = svc.outbox.head(this.url);
    const now = svc.now();
    if (svc.stopping) {
      if (row === undefined || row.nextAttemptAt > now || now >= svc.stopDeadline) return true;
    }
    if (row === undefined) {
      await this.#sleep(undefined);
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
        svc.outbox.delivered(row.id);
        svc.log?.debug({ event: row.id, type: row.type, attempts: row.attempts + 1 }, 'webhook delivered');
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
    }
    const attempts = row.attempts + 1;
    const delay = backoffMs(attempts, svc.initialBackoffMs, svc.maxBackoffMs);
    svc.outbox.failed(row.id, svc.now() + delay, error);
    svc.log?.warn({ event: row.id, type: row.type, attempts, retry_in_ms: delay, error }, 'webhook delivery failed');
  }
}

export class WebhookDispatcher {
  readonly outbox: WebhookOutbox;
  readonly log: WebhookLog | undefined;
  readonly now: () => number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly requestTimeoutMs: number;
  readonly abort = new AbortController();
  stopping = false;
  stopDeadline = 0;
  #hooks: readonly WebhookConfig[];
  readonly #stopGraceMs: number;
  #workers = new Map<string, Worker>();
  #started = false;
  #stopped: Promise<void> | undefined;

  /** Throws (TypeError) when update() would refuse `hooks`; changes nothing (a reload checks first). */
  static validate(hooks: readonly WebhookConfig[]): void {
    validateWebhooks(hooks);
  }

  constructor(o: WebhookOptions) {
    validateWebhooks(o.hooks);
    this.outbox = o.outbox;
    this.#hooks = [...o.hooks];
    this.log = o.log;
    this.now = o.now ?? Date.now;
    this.initialBackoffMs = o.initialBackoffMs ?? 1000;
    this.maxBackoffMs = o.maxBackoffMs ?? 5 * 60_000;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 10_000;
    this.#stopGraceMs = o.stopGraceMs ?? 2000;
  }

  /** Starts one delivery worker per webhook (rows left from an earlier run go first). */
  start(): void {
    if (this.stopping) throw new Error('webhooks: stopped');
    this.#started = true;
    for (const hook of this.#hooks) {
      if (!this.#workers.has(hook.url)) this.#workers.set(hook.url, new Worker(hook.url, this));
    }
  }

  /** The configured webhook with this URL, as of now (workers read it per attempt). */
  hook(url: string): WebhookConfig | undefined {
    return this.#hooks.find((h) => h.url === url);
  }

  /** A worker whose URL was removed ends: forget it (unless a newer worker took its place). */
  retire(worker: Worker): void {
    if (this.#workers.get(worker.url) === worker) this.#workers.delete(worker.url);
  }

  /**
   * Replaces the webhook list (config reload); see the module comment for what happens to each
   * kind of change. Throws (TypeError) on an invalid list, or once stopping, changing nothing.
   */
  update(hooks: readonly WebhookConfig[]): WebhookChanges {
    validateWebhooks(hooks);
    if (this.stopping) throw new Error('webhooks: stopped');
    const before = new Map(this.#hooks.map((h) => [h.url, h]));
    const after = new Set(hooks.map((h) => h.url));
    const same = (a: WebhookConfig, b: WebhookConfig) =>
      a.secret === b.secret && a.events.length === b.events.length && a.events.every((e, i) => e === b.events[i]);
    const removed = [...before.keys()].filter((url) => !after.has(url));
    const changes: WebhookChanges = {
      added: hooks.filter((h) => !before.has(h.url)).length,
      removed: removed.length,
      changed: hooks.filter((h) => before.has(h.url) && !same(before.get(h.url)!, h)).length,
      kept: removed.length === 0 ? 0 : this.outbox.backlog(removed),
    };
    this.#hooks = [...hooks];
    // Removed URLs' workers wake up and end; the others re-read their config at the next attempt.
    for (const w of this.#workers.values()) w.wake();
    if (this.#started) this.start();
    return changes;
  }

  /**
   * Stores the event for every webhook subscribed to `type` and wakes their workers; returns the
   * event ids (one per webhook). For usage.* events of the metering and limits work as well.
   */
  enqueue(type: WebhookEventType, data: unknown): string[] {
    const hooks = this.#hooks.filter((h) => matches(h, type));
    if (hooks.length === 0) return [];
    const events = outboxEvents(hooks, type, data, this.now());
    this.outbox.enqueue(events);
    for (const h of hooks) this.#workers.get(h.url)?.wake();
    return events.map((e) => e.id);
  }

  /** Undelivered events of the configured webhooks (the webhook backlog metric). */
  backlog(): number {
    return this.outbox.backlog(this.#hooks.map((h) => h.url));
  }

  /** TurnEvents that enqueue session.closed for every closed allocation. */
  turnEvents(): TurnEvents {
    return {
      allocationClosed: (info, reason, endedAt) => {
        try {
          this.enqueue('session.closed', sessionClosedData(info, reason, endedAt));
        } catch (err) {
          this.log?.warn({ err }, 'cannot store the session.closed webhook event');
        }
      },
    };
  }

  /**
   * Delivers what is due for up to the stop grace, then aborts requests in flight and ends the
   * workers. Undelivered rows stay for the next start. Idempotent.
   */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.stopping = true;
    this.stopDeadline = this.now() + this.#stopGraceMs;
    const timer = setTimeout(() => this.abort.abort(new Error('webhooks stopping')), this.#stopGraceMs);
    for (const w of this.#workers.values()) w.wake();
    this.#stopped = Promise.all([...this.#workers.values()].map((w) => w.done)).then(() => clearTimeout(timer));
    return this.#stopped;
  }
}
