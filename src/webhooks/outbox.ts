/**
 * The durable webhook outbox: one entry per (event, webhook), kept until the webhook took it, so
 * whatever is left survives a restart (and, with a shared store, the loss of the node that made
 * it) and is delivered later, in order per webhook. This file is the domain's side: what an entry
 * is and the operations the dispatcher needs (WebhookOutbox); src/store/sqlite-webhook-outbox.ts
 * stores it in the accounts database (one node), src/store/redis/webhook-outbox.ts in Redis (a
 * fleet: every node enqueues, one node at a time delivers a given webhook's entries).
 *
 * The interface is asynchronous because a shared store is across the network. The SQLite store
 * still writes synchronously inside enqueue() (before the returned promise exists), which the
 * dispatcher relies on for the session.closed events of a shutdown.
 */
import { randomUUID } from 'node:crypto';
import { StorageUnavailableError } from '../storage-unavailable.js';

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
 * A mark (delivered, failed) refused because this node no longer holds the webhook's delivery
 * claim: another node took it over (this one stalled or lost the store for longer than the
 * lease). Nothing was changed; the holder delivers the entry (again, with the same id).
 */
export class WebhookLeaseLostError extends Error {
  override readonly name = 'WebhookLeaseLostError';
}

/** Whether `err` says the store cannot be reached for now (StorageUnavailableError): worth trying again shortly. */
export const isStorageUnavailable = (err: unknown): boolean => err instanceof StorageUnavailableError;

/**
 * Delivery is at least once: an entry leaves the outbox only by delivered(), after the receiver
 * answered 2xx, so a crash in between sends it again with the same id (receivers deduplicate on
 * the Idempotency-Key). Order is per webhook: head() is the oldest entry, due or not, and the
 * next one waits behind it. Marks name the entry by id and do nothing once it is gone, so a late
 * or repeated mark is harmless. There is no give-up: an entry stays until delivered.
 *
 * Several nodes may share one outbox. Only the node holding a webhook's claim delivers it:
 * claim() before reading its head, marks only while holding it (a store that can lose a claim
 * refuses the marks of a node that lost it with WebhookLeaseLostError, changing nothing), and
 * release() when done with the webhook. A store for one node always grants the claim.
 */
export interface WebhookOutbox {
  /**
   * Stores the events, each due at its createdAt, all or none; rejects when an id is already
   * stored. Rejects with StorageUnavailableError when the store cannot be reached
   * (nothing stored; the caller may try again).
   */
  enqueue(events: readonly OutboxEvent[]): Promise<void>;
  /** The oldest undelivered entry of a webhook (by URL). */
  head(webhook: string): Promise<OutboxEntry | undefined>;
  /** The receiver took the entry: remove it. */
  delivered(id: string): Promise<void>;
  /** An attempt failed: count it and try again at `nextAttemptAt`; the entry keeps its place. */
  failed(id: string, nextAttemptAt: number, error: string): Promise<void>;
  /**
   * Undelivered entries of the given webhooks. Entries of a URL no longer configured stay stored
   * (delivered once it is configured again) and are not counted.
   */
  backlog(webhooks: readonly string[]): Promise<number>;
  /**
   * Whether this node may deliver the webhook's entries now: takes the claim, or keeps it when
   * already held (a lease renewed while held). False while another node holds it.
   */
  claim(webhook: string): Promise<boolean>;
  /** Gives the claim up (this node stops delivering the webhook); another node may take it at once. */
  release(webhook: string): Promise<void>;
  /**
   * ms between two looks of an idle worker, or of one waiting for the claim: other nodes add
   * entries and free claims unseen. Undefined for a store of one node: its dispatcher is woken by
   * its own enqueues.
   */
  readonly pollMs: number | undefined;
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
