/**
 * WebhookOutbox over better-sqlite3, in the accounts' database file (it shares
 * SqliteAccountStore's connection): table webhook_outbox, created by migration 2 of
 * ./migrations.ts. seq (AUTOINCREMENT) gives the order per webhook; a row is deleted once
 * delivered. One node owns the file, so the delivery claim is always granted. The methods are
 * async for the interface but do their work synchronously when called: enqueue() has stored the
 * rows before it returns its promise.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { OutboxEntry, OutboxEvent, WebhookOutbox } from '../webhooks/outbox.js';

/** last_error is for a person reading the table; a long error message is cut to this. */
const MAX_ERROR_LENGTH = 500;

export class SqliteWebhookOutbox implements WebhookOutbox {
  readonly #db: Database;
  readonly #insert: Statement;
  readonly #head: Statement;
  readonly #delete: Statement;
  readonly #retry: Statement;
  readonly #backlog: Statement;

  /** `db`: an open database with the accounts' migrations applied (SqliteAccountStore.db). */
  constructor(db: Database) {
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO webhook_outbox (id, webhook, type, body, created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
    );
    this.#head = db.prepare(
      `SELECT id, webhook, type, body, created_at AS createdAt, attempts, next_attempt_at AS nextAttemptAt
       FROM webhook_outbox WHERE webhook = ? ORDER BY seq LIMIT 1`,
    );
    this.#delete = db.prepare('DELETE FROM webhook_outbox WHERE id = ?');
    this.#retry = db.prepare('UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?');
    this.#backlog = db.prepare('SELECT webhook, count(*) AS n FROM webhook_outbox GROUP BY webhook');
  }

  readonly pollMs = undefined;

  async enqueue(events: readonly OutboxEvent[]): Promise<void> {
    this.#db.transaction(() => {
      for (const e of events) this.#insert.run(e.id, e.webhook, e.type, e.body, e.createdAt, e.createdAt);
    })();
  }

  async head(webhook: string): Promise<OutboxEntry | undefined> {
    return this.#head.get(webhook) as OutboxEntry | undefined;
  }

  async delivered(id: string): Promise<void> {
    this.#delete.run(id);
  }

  async failed(id: string, nextAttemptAt: number, error: string): Promise<void> {
    this.#retry.run(nextAttemptAt, error.slice(0, MAX_ERROR_LENGTH), id);
  }

  async backlog(webhooks: readonly string[]): Promise<number> {
    const wanted = new Set(webhooks);
    let n = 0;
    for (const r of this.#backlog.all() as { webhook: string; n: number }[]) if (wanted.has(r.webhook)) n += r.n;
    return n;
  }

  async claim(): Promise<boolean> {
    return true;
  }

  async release(): Promise<void> {}
}
