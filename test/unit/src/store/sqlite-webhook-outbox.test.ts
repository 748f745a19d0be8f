import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore, type SqliteAccountStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteWebhookOutbox } from '../../../../src/store/sqlite-webhook-outbox.js';
import { outboxContract } from '../../../helpers/webhook-outbox-contract.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const dir = tempDir('ferry-outbox');
const open: SqliteAccountStore[] = [];
after(async () => {
  for (const s of open) await s.close();
});

function store(url: string): SqliteAccountStore {
  const s = openSqliteStore(url);
  open.push(s);
  return s;
}

let n = 0;
describe('SqliteWebhookOutbox on :memory: (the WebhookOutbox contract)', () => {
  outboxContract(() => new SqliteWebhookOutbox(store('sqlite::memory:').db));
});
describe('SqliteWebhookOutbox on a temp file (the WebhookOutbox contract)', () => {
  outboxContract(() => new SqliteWebhookOutbox(store(`sqlite:${join(dir, `contract-${n++}.db`)}`).db));
});

const HOOK = 'http://a.example/hook';
const event = (id: string, createdAt: number) => ({ id, webhook: HOOK, type: 'session.closed', body: `{"id":"${id}"}`, createdAt });

describe('SqliteWebhookOutbox on the webhook_outbox table', () => {
  it('reads rows written before it existed (migration 2, inserted as the old code did), in seq order', async () => {
    const file = join(dir, 'old-rows.db');
    const first = openSqliteStore(`sqlite:${file}`);
    const insert = first.db.prepare(
      'INSERT INTO webhook_outbox (id, webhook, type, body, created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
    );
    insert.run('evt_z', HOOK, 'usage.report', '{"id":"evt_z"}', 2000, 2000);
    insert.run('evt_a', HOOK, 'usage.report', '{"id":"evt_a"}', 1000, 1000);
    await first.close();

    const o = new SqliteWebhookOutbox(store(`sqlite:${file}`).db);
    assert.deepEqual(await o.head(HOOK), { id: 'evt_z', webhook: HOOK, type: 'usage.report', body: '{"id":"evt_z"}', createdAt: 2000, attempts: 0, nextAttemptAt: 2000 });
    await o.delivered('evt_z');
    assert.equal((await o.head(HOOK))?.id, 'evt_a');
  });

  it('entries survive closing the database; a reopened outbox continues the order', async () => {
    const file = join(dir, 'reopen.db');
    const first = openSqliteStore(`sqlite:${file}`);
    await new SqliteWebhookOutbox(first.db).enqueue([event('evt_1', 10), event('evt_2', 20)]);
    await first.close();
    const o = new SqliteWebhookOutbox(store(`sqlite:${file}`).db);
    await o.enqueue([event('evt_3', 5)]);
    const order: string[] = [];
    for (let e = await o.head(HOOK); e !== undefined; e = await o.head(HOOK)) {
      order.push(e.id);
      await o.delivered(e.id);
    }
    assert.deepEqual(order, ['evt_1', 'evt_2', 'evt_3']);
  });

  it('failed keeps the last error for a person reading the table, cut to 500 characters', async () => {
    const s = store('sqlite::memory:');
    const o = new SqliteWebhookOutbox(s.db);
    await o.enqueue([event('evt_e', 1)]);
    const lastError = () => (s.db.prepare('SELECT last_error FROM webhook_outbox WHERE id = ?').get('evt_e') as { last_error: string | null }).last_error;
    assert.equal(lastError(), null);
    await o.failed('evt_e', 100, 'HTTP 503');
    assert.equal(lastError(), 'HTTP 503');
    await o.failed('evt_e', 200, 'x'.repeat(2000));
    assert.equal(lastError(), 'x'.repeat(500));
  });
});
