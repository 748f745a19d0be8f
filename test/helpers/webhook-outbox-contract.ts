// The WebhookOutbox contract (src/webhooks/outbox.ts) as tests, run against every implementation:
// call outboxContract(make) inside a describe(); `make` returns a new, empty outbox each time.
// Only the interface is used, so the SQLite store and a later one run the same checks.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutboxEntry, OutboxEvent, WebhookOutbox } from '../../src/webhooks/outbox.js';

const A = 'http://a.example/hook';
const B = 'http://b.example/hook';
const T0 = 1_700_000_000_000;

let n = 0;
/** A distinct event for `webhook`, created at `createdAt`. */
function event(webhook: string, createdAt = T0): OutboxEvent {
  const id = `evt_contract_${++n}`;
  return { id, webhook, type: 'usage.report', body: JSON.stringify({ id, type: 'usage.report', data: { n } }), createdAt };
}

/** As head() returns an event nobody tried yet. */
const fresh = (e: OutboxEvent): OutboxEntry => ({ ...e, attempts: 0, nextAttemptAt: e.createdAt });

/** The ids of a webhook's entries in delivery order, taking each one (the outbox ends empty for it). */
function drain(o: WebhookOutbox, webhook: string): string[] {
  const ids: string[] = [];
  for (let e = o.head(webhook); e !== undefined; e = o.head(webhook)) {
    ids.push(e.id);
    o.delivered(e.id);
  }
  return ids;
}

export function outboxContract(make: () => WebhookOutbox): void {
  it('a new outbox has no entry and no backlog; an empty enqueue stores nothing', () => {
    const o = make();
    assert.equal(o.head(A), undefined);
    assert.equal(o.backlog([A, B]), 0);
    o.enqueue([]);
    assert.equal(o.head(A), undefined);
    assert.equal(o.backlog([A]), 0);
  });

  it('head gives an enqueued event back as stored, due at its createdAt, with no attempt', () => {
    const o = make();
    const e = event(A, T0 + 5);
    o.enqueue([e]);
    assert.deepEqual(o.head(A), fresh(e));
    assert.equal(o.head(B), undefined, 'another webhook has nothing');
  });

  it('order per webhook is enqueue order (not createdAt), within and across enqueues', () => {
    const o = make();
    const batch = [event(A, T0 + 30), event(B, T0 + 20), event(A, T0 + 10)];
    const later = [event(A, T0), event(B, T0), event(A, T0 - 1)];
    o.enqueue(batch);
    o.enqueue(later);
    assert.deepEqual(drain(o, A), [batch[0].id, batch[2].id, later[0].id, later[2].id]);
    assert.deepEqual(drain(o, B), [batch[1].id, later[1].id]);
  });

  it('many entries of two webhooks interleaved come back in order for each', () => {
    const o = make();
    const all = Array.from({ length: 60 }, (_, i) => event(i % 3 === 0 ? B : A, T0 + i));
    for (let i = 0; i < all.length; i += 7) o.enqueue(all.slice(i, i + 7));
    assert.equal(o.backlog([A, B]), 60);
    assert.deepEqual(drain(o, B), all.filter((e) => e.webhook === B).map((e) => e.id));
    assert.deepEqual(drain(o, A), all.filter((e) => e.webhook === A).map((e) => e.id));
    assert.equal(o.backlog([A, B]), 0);
  });

  it('delivered removes that entry only; repeated or unknown marks do nothing', () => {
    const o = make();
    const [a1, a2, b1] = [event(A), event(A), event(B)];
    o.enqueue([a1, a2, b1]);
    o.delivered(a1.id);
    assert.deepEqual(o.head(A), fresh(a2));
    assert.deepEqual(o.head(B), fresh(b1), 'the other webhook is untouched');
    o.delivered(a1.id);
    o.delivered('evt_never_stored');
    o.failed(a1.id, T0 + 1000, 'late failure of a delivered entry');
    assert.deepEqual(o.head(A), fresh(a2));
    assert.equal(o.backlog([A, B]), 2);
    o.delivered(a2.id);
    assert.equal(o.head(A), undefined);
    assert.equal(o.backlog([A, B]), 1);
  });

  it('failed counts the attempt and sets the next time; the entry keeps its place', () => {
    const o = make();
    const [a1, a2] = [event(A), event(A)];
    o.enqueue([a1, a2]);
    o.failed(a1.id, T0 + 1000, 'HTTP 500');
    assert.deepEqual(o.head(A), { ...fresh(a1), attempts: 1, nextAttemptAt: T0 + 1000 }, 'not due, still first');
    o.failed(a1.id, T0 + 3000, 'connect ECONNREFUSED');
    assert.deepEqual(o.head(A), { ...fresh(a1), attempts: 2, nextAttemptAt: T0 + 3000 });
    o.failed('evt_never_stored', T0, 'nothing');
    assert.equal(o.backlog([A]), 2);
    o.delivered(a1.id);
    assert.deepEqual(o.head(A), fresh(a2), 'the next one starts with no attempt');
  });

  it('backlog counts the webhooks asked for only', () => {
    const o = make();
    o.enqueue([event(A), event(A), event(B)]);
    assert.equal(o.backlog([A]), 2);
    assert.equal(o.backlog([B]), 1);
    assert.equal(o.backlog([A, B]), 3);
    assert.equal(o.backlog([]), 0);
    assert.equal(o.backlog(['http://c.example/']), 0);
  });

  it('enqueue is all or none: a batch with an id already stored throws and stores nothing of it', () => {
    const o = make();
    const a1 = event(A);
    o.enqueue([a1]);
    const b1 = event(B);
    assert.throws(() => o.enqueue([b1, { ...event(A), id: a1.id }]));
    assert.equal(o.head(B), undefined, 'the batch left nothing');
    assert.equal(o.backlog([A, B]), 1);
    assert.deepEqual(o.head(A), fresh(a1), 'the stored entry is unchanged');
  });
}
