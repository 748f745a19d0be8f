/**
 * The durable webhook outbox: one row per (event, webhook) in the accounts database (table
 * webhook_outbox, migration 2). Rows are deleted once delivered, so whatever is left survives a
 * restart and is delivered later, in order (seq) per webhook.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';

export const WEBHOOK_EVENT_TYPES = ['usage.soft_limit', 'usage.hard_limit', 'usage.reset', 'session.closed', 'usage.report'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookConfig {
  readonly url: string;
  readonly secret: string;
  /** Event types delivered to this webhook; '*' for all. */
  readonly events: readonly (WebhookEventType | '*')[];
}

export interface OutboxRow {
  readonly seq: number;
  /** The event id, also the Idempotency-Key header (unique per row). */
  readonly id: string;
  readonly webhook: string;
  readonly type: string;
  /** The exact JSON request body: {id, type, created_at, data}. */
  readonly body: string;
  readonly created_at: number;
  readonly attempts: number;
  readonly next_attempt_at: number;
}

export const matches = (hook: WebhookConfig, type: string): boolean => hook.events.includes('*') || hook.events.includes(type as WebhookEventType);

export class WebhookOutbox {
  readonly #insert: Statement;
  readonly #head: Statement;
  readonly #delete: Statement;
  readonly #retry: Statement;
  readonly #backlog: Statement;
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO webhook_outbox (id, webhook, type, body, created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
    );
    this.#head = db.prepare('SELECT seq, id, webhook, type, body, created_at, attempts, next_attempt_at FROM webhook_outbox WHERE webhook = ? ORDER BY seq LIMIT 1');
    this.#delete = db.prepare('DELETE FROM webhook_outbox WHERE seq = ?');
    this.#retry = db.prepare('UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?');
    this.#backlog = db.prepare('SELECT webhook, count(*) AS n FROM webhook_outbox GROUP BY webhook');
  }

  /** Writes one row per webhook in `hooks` (already filtered); returns the event ids. */
  add(hooks: readonly WebhookConfig[], type: string, data: unknown, nowMs: number): string[] {
    const ids: string[] = [];
    const write = this.#db.transaction(() => {
      for (const hook of hooks) {
        const id = `evt_${randomUUID().replaceAll('-', '')}`;
        const body = JSON.stringify({ id, type, created_at: new Date(nowMs).toISOString(), data });
        this.#insert.run(id, hook.url, type, body, nowMs, nowMs);
        ids.push(id);
      }
    });
    write();
    return ids;
  }

  /** The oldest undelivered row of a webhook (by URL). */
  head(webhook: string): OutboxRow | undefined {
    return this.#head.get(webhook) as OutboxRow | undefined;
  }

  delivered(seq: number): void {
    this.#delete.run(seq);
  }

  failed(seq: number, nextAttemptAt: number, error: string): void {
    this.#retry.run(nextAttemptAt, error.slice(0, 500), seq);
  }

  /**
   * Undelivered rows of the given webhooks. Rows of a URL no longer configured stay in the table
   * (delivered once it is configured again) and are not counted.
   */
  backlog(webhooks: readonly string[]): number {
    const wanted = new Set(webhooks);
    let n = 0;
    for (const r of this.#backlog.all() as { webhook: string; n: number }[]) if (wanted.has(r.webhook)) n += r.n;
    return n;
  }
}
