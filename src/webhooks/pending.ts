/**
 * The way from dispatcher.enqueue() into the outbox. Each enqueue is one outbox.enqueue() call,
 * made in enqueue order by one writer. The first call is made synchronously inside write(), so a
 * store that writes synchronously (SQLite) has the events stored before write() returns. When
 * the store cannot be reached (StorageUnavailableError: Redis down or out of memory) the events
 * wait here, in memory and in order, and the writer tries again every retryMs until they are
 * stored: a short outage loses nothing. What waits is bounded (maxEvents entries, maxBytes of
 * bodies): past either bound a new enqueue is refused (its promise rejects, the caller logs it).
 * Any other error (a duplicate id, a broken database) refuses that enqueue only.
 */
import { isStorageUnavailable, type OutboxEvent, type WebhookOutbox } from './outbox.js';
import type { WebhookLog } from './worker.js';

export interface PendingLimits {
  /** Entries (one per event and webhook) that may wait in memory while the store is away. Default 10 000. */
  readonly maxEvents?: number;
  /** Their bodies' total size in bytes (UTF-16 length, close to the JSON's bytes). Default 16 MiB. */
  readonly maxBytes?: number;
  /** Between two tries while the store is away (ms). Default 250. */
  readonly retryMs?: number;
}

export const PENDING_DEFAULTS = { maxEvents: 10_000, maxBytes: 16 * 1024 * 1024, retryMs: 250 } as const;

interface Item {
  readonly events: readonly OutboxEvent[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class PendingWrites {
  readonly #outbox: WebhookOutbox;
  readonly #log: WebhookLog | undefined;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #retryMs: number;
  readonly #queue: Item[] = [];
  #events = 0;
  #bytes = 0;
  #running = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #drained: (() => void)[] = [];

  constructor(outbox: WebhookOutbox, limits: PendingLimits = {}, log?: WebhookLog) {
    this.#outbox = outbox;
    this.#log = log;
    this.#maxEvents = limits.maxEvents ?? PENDING_DEFAULTS.maxEvents;
    this.#maxBytes = limits.maxBytes ?? PENDING_DEFAULTS.maxBytes;
    this.#retryMs = limits.retryMs ?? PENDING_DEFAULTS.retryMs;
  }

  /** Entries not stored yet (waiting for the store, or being written). */
  get waiting(): number {
    return this.#events;
  }

  /** Entries not stored yet for the given webhooks (for the backlog). */
  waitingFor(webhooks: ReadonlySet<string>): number {
    let n = 0;
    for (const item of this.#queue) for (const e of item.events) if (webhooks.has(e.webhook)) n++;
    return n;
  }

  /** Resolves once the events are stored; rejects when they are not (refused, or dropped by close()). */
  write(events: readonly OutboxEvent[]): Promise<void> {
    const bytes = events.reduce((n, e) => n + e.body.length, 0);
    if (this.#closed) return Promise.reject(new Error('webhook events not stored: the dispatcher has stopped writing'));
    if (this.#queue.length > 0 && (this.#events + events.length > this.#maxEvents || this.#bytes + bytes > this.#maxBytes)) {
      return Promise.reject(
        new Error(`webhook events not stored: the outbox is unreachable and ${this.#events} events (${this.#bytes} bytes) already wait in memory`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ events, bytes, resolve, reject });
      this.#events += events.length;
      this.#bytes += bytes;
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    let failing = false;
    while (this.#queue.length > 0 && !this.#closed) {
      const item = this.#queue[0];
      try {
        await this.#outbox.enqueue(item.events);
        if (this.#queue[0] === item) this.#take(item);
        item.resolve();
        if (failing) this.#log?.warn({ waiting: this.#events }, 'webhook outbox reachable again: storing the events kept in memory');
        failing = false;
      } catch (err) {
        if (isStorageUnavailable(err) && !this.#closed) {
          // Logged once per outage, not once per try.
          if (!failing) this.#log?.warn({ err, waiting: this.#events }, 'webhook outbox unreachable: events wait in memory');
          failing = true;
          await new Promise<void>((r) => {
            this.#wake = r;
            setTimeout(r, this.#retryMs).unref();
          });
          this.#wake = undefined;
          continue;
        }
        if (this.#queue[0] === item) this.#take(item);
        item.reject(err);
      }
    }
    this.#running = false;
    for (const f of this.#drained.splice(0)) f();
  }

  #take(item: Item): void {
    this.#queue.shift();
    this.#events -= item.events.length;
    this.#bytes -= item.bytes;
  }

  /** Resolves when nothing waits (true), or at `deadline` (ms since the epoch per `now`) with events still waiting (false). */
  async flush(deadline: number, now: () => number): Promise<boolean> {
    while (this.#running || this.#queue.length > 0) {
      const left = deadline - now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#drained.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Stops trying: whatever still waits is dropped, its promises rejected; returns how many entries. */
  close(): number {
    this.#closed = true;
    this.#wake?.();
    const dropped = this.#events;
    for (const item of this.#queue.splice(0)) item.reject(new Error('webhook events not stored: the outbox was unreachable until the dispatcher stopped'));
    this.#events = 0;
    this.#bytes = 0;
    return dropped;
  }
}
