// The WebhookOutbox contract (src/webhooks/outbox.ts) as tests, run against every implementation:
// call outboxContract(make) inside a describe(); `make` returns a new, empty outbox each time.
// Only the interface is used, so the SQLite store and the Redis one run the same checks. Each
// case claims the webhooks it marks first (a shared store refuses marks without the claim).
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
async function drain(o: WebhookOutbox, webhook: string): Promise<string[]> {
  const ids: string[] = [];
  for (let e = await await o.head(webhook); e !== undefined; e = await await o.head(webhook)) {
    ids.push(e.id);
    await await o.delivered(e.id);
    assert.ok(ids.length <= 1000, 'bounded');
  }
  return ids;
}

/** A new outbox holding the claims of A and B. */
async function claimed(make: () => WebhookOutbox | Promise<WebhookOutbox>): Promise<WebhookOutbox> {
  const o = await make();
  assert.equal(await o.claim(A), true, 'a lone node gets the claim');
  assert.equal(await o.claim(B), true);
  return o;
}

export function outboxContract(make: () => WebhookOutbox | Promise<WebhookOutbox>): void {
  it('a lone node gets a claim and keeps it; released, it gets it again', async () => {
    const o = await make();
    assert.equal(await o.claim(A), true);
    assert.equal(await o.claim(A), true, 'claimed again while held');
    await o.release(A);
    await o.release(A);
    assert.equal(await o.claim(A), true, 'released and claimed again');
    await o.release(A);
  });

  it('a new outbox has no entry and no backlog; an empty enqueue stores nothing', async () => {
    const o = await claimed(make);
    assert.equal(await o.head(A), undefined);
    assert.equal(await o.backlog([A, B]), 0);
    await o.enqueue([]);
    assert.equal(await o.head(A), undefined);
    assert.equal(await o.backlog([A]), 0);
  });

  it('head gives an enqueued event back as stored, due at its createdAt, with no attempt', async () => {
    const o = await claimed(make);
    const e = event(A, T0 + 5);
    await o.enqueue([e]);
    assert.deepEqual(await o.head(A), fresh(e));
    assert.equal(await o.head(B), undefined, 'another webhook has nothing');
  });

  it('order per webhook is enqueue order (not createdAt), within and across enqueues', async () => {
    const o = await claimed(make);
    const batch = [event(A, T0 + 30), event(B, T0 + 20), event(A, T0 + 10)];
    const later = [event(A, T0), event(B, T0), event(A, T0 - 1)];
    await o.enqueue(batch);
    await o.enqueue(later);
    assert.deepEqual(await drain(o, A), [batch[0].id, batch[2].id, later[0].id, later[2].id]);
    assert.deepEqual(await drain(o, B), [batch[1].id, later[1].id]);
  });

  it('many entries of two webhooks interleaved come back in order for each', async () => {
    const o = await claimed(make);
    const all = Array.from({ length: 60 }, (_, i) => event(i % 3 === 0 ? B : A, T0 + i));
    for (let i = 0; i < all.length; i += 7) await o.enqueue(all.slice(i, i + 7));
    assert.equal(await o.backlog([A, B]), 60);
    assert.deepEqual(await drain(o, B), all.filter((e) => e.webhook === B).map((e) => e.id));
    assert.deepEqual(await drain(o, A), all.filter((e) => e.webhook === A).map((e) => e.id));
    assert.equal(await o.backlog([A, B]), 0);
  });

  it('delivered removes that entry only; repeated or unknown marks do nothing', async () => {
    const o = await claimed(make);
    const [a1, a2, b1] = [event(A), event(A), event(B)];
    await o.enqueue([a1, a2, b1]);
    await o.delivered(a1.id);
    assert.deepEqual(await o.head(A), fresh(a2));
    assert.deepEqual(await o.head(B), fresh(b1), 'the other webhook is untouched');
    await o.delivered(a1.id);
    await o.delivered('evt_never_stored');
    await o.failed(a1.id, T0 + 1000, 'late failure of a delivered entry');
    assert.deepEqual(await o.head(A), fresh(a2));
    assert.equal(await o.backlog([A, B]), 2);
    await o.delivered(a2.id);
    assert.equal(await o.head(A), undefined);
    assert.equal(await o.backlog([A, B]), 1);
  });

  it('failed counts the attempt and sets the next time; the entry keeps its place', async () => {
    const o = await claimed(make);
    const [a1, a2] = [event(A), event(A)];
    await o.enqueue([a1, a2]);
    await o.failed(a1.id, T0 + 1000, 'HTTP 500');
    assert.deepEqual(await o.head(A), { ...fresh(a1), attempts: 1, nextAttemptAt: T0 + 1000 }, 'not due, still first');
    await o.failed(a1.id, T0 + 3000, 'connect ECONNREFUSED');
    assert.deepEqual(await o.head(A), { ...fresh(a1), attempts: 2, nextAttemptAt: T0 + 3000 });
    await o.failed('evt_never_stored', T0, 'nothing');
    assert.equal(await o.backlog([A]), 2);
    await o.delivered(a1.id);
    assert.deepEqual(await o.head(A), fresh(a2), 'the next one starts with no attempt');
  });

  it('backlog counts the webhooks asked for only', async () => {
    const o = await claimed(make);
    await o.enqueue([event(A), event(A), event(B)]);
    assert.equal(await o.backlog([A]), 2);
    assert.equal(await o.backlog([B]), 1);
    assert.equal(await o.backlog([A, B]), 3);
    assert.equal(await o.backlog([]), 0);
    assert.equal(await o.backlog(['http://c.example/']), 0);
  });

  it('enqueue is all or none: a batch with an id already stored throws and stores nothing of it', async () => {
    const o = await claimed(make);
    const a1 = event(A);
    await o.enqueue([a1]);
    const b1 = event(B);
    await assert.rejects(() => o.enqueue([b1, { ...event(A), id: a1.id }]));
    assert.equal(await o.head(B), undefined, 'the batch left nothing');
    assert.equal(await o.backlog([A, B]), 1);
    assert.deepEqual(await o.head(A), fresh(a1), 'the stored entry is unchanged');
  });

  it('enqueue is all or none: a batch naming one id twice throws and stores nothing of it', async () => {
    const o = await claimed(make);
    const [a1, b1] = [event(A), event(B)];
    await assert.rejects(() => o.enqueue([a1, b1, { ...event(B), id: a1.id }]));
    assert.equal(await o.backlog([A, B]), 0);
    assert.equal(await o.head(A), undefined);
  });
}
