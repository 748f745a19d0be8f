/**
 * The durable webhook outbox: one entry per (event, webhook), kept until the webhook took it, so
 * whatever is left survives a restart and is delivered later, in order per webhook. This file is
 * the domain's side: what an entry is and the operations the dispatcher needs (WebhookOutbox);
 * src/store/sqlite-webhook-outbox.ts stores it in the accounts database.
 *
 * The interface is synchronous like the SQLite store under it: the dispatcher answers enqueue()
 * with the stored ids, backlog() and update()'s kept count at once (the backlog gauge and the
 * reload log read them synchronously).
 */
import { randomUUID } from 'node:crypto';

export const WEBHOOK_EVENT_TYPES = ['usage.soft_limit', 'usage.hard_limit', 'usage.reset', 'session.closed', 'usage.report'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookConfig {
  readonly url: string;
  readonly secret: string;
  /** Event types delivered to this webhook; '*' for all. */
  readonly events: readonly (WebhookEventType | '*')[];
}

/** One event for one webhook, as enqueued. */
export interface OutboxEvent {
  /** The event id, also the Idempotency-Key header; unique per entry (each webhook gets its own). */
  readonly id: string;
  /** The webhook's URL. */
  readonly webhook: string;
  readonly type: string;
  /** The exact JSON request body: {id, type, created_at, data}. */
  readonly body: string;
  /** ms since the epoch; the entry is due from then. */
  readonly createdAt: number;
}

/** An undelivered entry. */
export interface OutboxEntry extends OutboxEvent {
  /** Failed attempts so far. */
  readonly attempts: number;
  /** ms since the epoch; no attempt before. */
  readonly nextAttemptAt: number;
}

/**
 * Delivery is at least once: an entry leaves the outbox only by delivered(), after the receiver
 * answered 2xx, so a crash in between sends it again with the same id (receivers deduplicate on
 * the Idempotency-Key). Order is per webhook: head() is the oldest entry, due or not, and the
 * next one waits behind it. Marks name the entry by id and do nothing once it is gone, so a late
 * or repeated mark is harmless. There is no give-up: an entry stays until delivered.
 */
export interface WebhookOutbox {
  /** Stores the events, each due at its createdAt, all or none; throws when an id is already stored. */
  enqueue(events: readonly OutboxEvent[]): void;
  /** The oldest undelivered entry of a webhook (by URL). */
  head(webhook: string): OutboxEntry | undefined;
  /** The receiver took the entry: remove it. */
  delivered(id: string): void;
  /** An attempt failed: count it and try again at `nextAttemptAt`; the entry keeps its place. */
  failed(id: string, nextAttemptAt: number, error: string): void;
  /**
   * Undelivered entries of the given webhooks. Entries of a URL no longer configured stay stored
   * (delivered once it is configured again) and are not counted.
   */
  backlog(webhooks: readonly string[]): number;
}

export const matches = (hook: WebhookConfig, type: string): boolean => hook.events.includes('*') || hook.events.includes(type as WebhookEventType);

/** The outbox entries of one event: one per webhook in `hooks` (already filtered), each with its own id. */
export function outboxEvents(hooks: readonly WebhookConfig[], type: string, data: unknown, nowMs: number): OutboxEvent[] {
  const createdAt = new Date(nowMs).toISOString();
  return hooks.map((hook) => {
    const id = `evt_${randomUUID().replaceAll('-', '')}`;
    return { id, webhook: hook.url, type, body: JSON.stringify({ id, type, created_at: createdAt, data }), createdAt: nowMs };
  });
}
