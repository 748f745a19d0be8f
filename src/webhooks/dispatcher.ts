/**
 * Webhooks: `enqueue(type, data)` writes the event to the durable outbox for every matching
 * webhook; one worker per webhook (./worker.ts) delivers its rows strictly in order (the next
 * waits until the previous one got a 2xx), retrying with jittered exponential backoff. Rows stay
 * in the outbox until delivered, so a restart or a receiver that is down loses nothing. With a
 * shared outbox (Redis) every node runs the workers, and the one holding a webhook's claim
 * delivers it; events wait in memory (bounded, ./pending.ts) while the outbox is unreachable.
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
import { matches, outboxEvents, type WebhookConfig, type WebhookEventType, type WebhookOutbox } from './outbox.js';
import { PendingWrites, type PendingLimits } from './pending.js';
import { Worker, type WebhookLog, type WorkerHost } from './worker.js';

export { backoffMs, type WebhookLog } from './worker.js';

/** How often the backlog figure (the metric) is read again besides after each change (ms). */
const BACKLOG_REFRESH_MS = 5000;

export interface WebhookOptions {
  readonly hooks: readonly WebhookConfig[];
  /** Where events wait until delivered (SqliteWebhookOutbox: in the accounts database; RedisWebhookOutbox: shared by a fleet). */
  readonly outbox: WebhookOutbox;
  /** Bounds on the events kept in memory while the outbox is unreachable. */
  readonly pending?: PendingLimits;
  readonly log?: WebhookLog;
  /** ms since the epoch; Date.now when absent. */
  readonly now?: () => number;
  /** First retry delay (default 1 s), doubling per attempt up to maxBackoffMs (default 5 min). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Per-request timeout (default 10 s). */
  readonly requestTimeoutMs?: number;
  /**
   * How long stop() keeps delivering due rows before it aborts (default 2 s); also how long it
   * waits for events kept in memory to reach the outbox.
   */
  readonly stopGraceMs?: number;
}

export type { WebhookConfig, WebhookEventType } from './outbox.js';

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

/** What update() changed, by URL count. */
export interface WebhookChanges {
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  /** Undelivered rows of the removed URLs, left stored (0 when none removed; undefined when the outbox could not say). */
  readonly kept: Promise<number | undefined>;
}

export class WebhookDispatcher implements WorkerHost {
  readonly outbox: WebhookOutbox;
  readonly log: WebhookLog | undefined;
  readonly now: () => number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly requestTimeoutMs: number;
  readonly abort = new AbortController();
  /** stop() was called: no more config changes. */
  stopping = false;
  /** The workers wind down (after the events kept in memory were written, or given up). */
  ending = false;
  stopDeadline = 0;
  #hooks: readonly WebhookConfig[];
  readonly #stopGraceMs: number;
  readonly #pending: PendingWrites;
  #workers = new Map<string, Worker>();
  #started = false;
  #stopped: Promise<void> | undefined;
  #lastBacklog = 0;
  #refreshing = false;
  #refreshAgain = false;
  #refreshTimer: NodeJS.Timeout | undefined;

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
    this.#pending = new PendingWrites(o.outbox, o.pending, o.log);
  }

  /** Starts one delivery worker per webhook (rows left from an earlier run go first). */
  start(): void {
    if (this.stopping) throw new Error('webhooks: stopped');
    this.#started = true;
    for (const hook of this.#hooks) {
      if (!this.#workers.has(hook.url)) this.#workers.set(hook.url, new Worker(hook.url, this));
    }
    if (this.#refreshTimer === undefined) {
      // Other nodes change a shared outbox unseen: read the figure again now and then.
      this.#refreshTimer = setInterval(() => this.changed(), BACKLOG_REFRESH_MS);
      this.#refreshTimer.unref();
      this.changed();
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
      kept: removed.length === 0 ? Promise.resolve(0) : this.outbox.backlog(removed).catch(() => undefined),
    };
    this.#hooks = [...hooks];
    // Removed URLs' workers wake up and end; the others re-read their config at the next attempt.
    for (const w of this.#workers.values()) w.wake();
    if (this.#started) this.start();
    this.changed();
    return changes;
  }

  /**
   * Stores the event for every webhook subscribed to `type` and wakes their workers. Resolves
   * with the event ids (one per webhook) once stored; with SQLite they are stored before this
   * returns. While the outbox is unreachable the events wait in memory (bounded) and the promise
   * waits with them. Rejects when the events could not be stored (logged here already: callers
   * may ignore the promise). For usage.* events of the metering and limits work as well.
   */
  enqueue(type: WebhookEventType, data: unknown): Promise<string[]> {
    const hooks = this.#hooks.filter((h) => matches(h, type));
    if (hooks.length === 0) return Promise.resolve([]);
    const events = outboxEvents(hooks, type, data, this.now());
    const stored = this.#pending.write(events).then(
      () => {
        for (const h of hooks) this.#workers.get(h.url)?.wake();
        this.changed();
        return events.map((e) => e.id);
      },
      (err: unknown) => {
        this.log?.warn({ err, type, webhooks: hooks.length }, 'cannot store the webhook event');
        throw err;
      },
    );
    stored.catch(() => undefined);
    return stored;
  }

  /** Undelivered events of the configured webhooks: in the outbox, and waiting in memory to get there. */
  async backlog(): Promise<number> {
    const urls = this.#hooks.map((h) => h.url);
    const stored = await this.outbox.backlog(urls);
    return stored + this.#pending.waitingFor(new Set(urls));
  }

  /**
   * The backlog as last read (the ferry_webhook_backlog gauge, read synchronously at scrape
   * time): read again after every change this node makes and every few seconds. With a shared
   * outbox it is the fleet's figure, the same on every node.
   */
  get lastBacklog(): number {
    return this.#lastBacklog;
  }

  /** Reads the backlog again (at most one read at a time; a change during a read reads once more). */
  changed(): void {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return;
    }
    this.#refreshing = true;
    void this.backlog()
      .then(
        (n) => {
          this.#lastBacklog = n;
        },
        () => undefined, // the store is away: keep the last figure
      )
      .finally(() => {
        this.#refreshing = false;
        if (this.#refreshAgain) {
          this.#refreshAgain = false;
          this.changed();
        }
      });
  }

  /** TurnEvents that enqueue session.closed for every closed allocation. */
  turnEvents(): TurnEvents {
    return {
      allocationClosed: (info, reason, endedAt) => {
        try {
          void this.enqueue('session.closed', sessionClosedData(info, reason, endedAt));
        } catch (err) {
          this.log?.warn({ err }, 'cannot store the session.closed webhook event');
        }
      },
    };
  }

  /**
   * Writes the events still waiting in memory (up to the stop grace), delivers what is due for
   * the rest of the grace, then aborts requests in flight, ends the workers and gives their
   * claims up. Undelivered rows stay for the next start (or another node). Idempotent.
   */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.stopping = true;
    this.#stopped = this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.stopDeadline = this.now() + this.#stopGraceMs;
    const timer = setTimeout(() => this.abort.abort(new Error('webhooks stopping')), this.#stopGraceMs);
    if (!(await this.#pending.flush(this.stopDeadline, this.now))) {
      const lost = this.#pending.close();
      this.log?.warn({ lost }, 'webhook events lost: the outbox stayed unreachable through the stop');
    }
    this.ending = true;
    for (const w of this.#workers.values()) w.wake();
    await Promise.all([...this.#workers.values()].map((w) => w.done));
    clearTimeout(timer);
    clearInterval(this.#refreshTimer);
  }
}
