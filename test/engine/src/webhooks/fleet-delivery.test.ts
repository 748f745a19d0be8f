// Webhook delivery by a fleet: two dispatchers ("nodes", each with its own Redis connection and
// RedisWebhookOutbox) on one real redis-server, one real HTTP receiver. One node delivers a
// receiver at a time, in enqueue order across nodes; when it dies (its connection cut, no
// release) the other takes over within the lease time and delivers the rest, each event once.
// Redis going away: events wait in memory (bounded) and are delivered once it is back.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { createRedis } from '../../../../src/store/redis/client.js';
import { RedisWebhookOutbox } from '../../../../src/store/redis/webhook-outbox.js';
import { WebhookDispatcher, verifySignature, type WebhookConfig } from '../../../../src/webhooks/index.js';
import { Receiver } from '../../../helpers/webhook-receiver.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';
import { sleep, until } from '../../../helpers/wait.js';

const SECRET = 'whsec-fleet-0123456789';
const LEASE_MS = 800;
const POLL_MS = 50;

let redis: TestRedis;
let admin: Redis;
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  redis = await startRedis();
  admin = await redis.client();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await redis?.stop();
});

interface Node {
  readonly conn: Redis;
  readonly outbox: RedisWebhookOutbox;
  readonly d: WebhookDispatcher;
}

async function node(nodeId: string, hooks: WebhookConfig[], pending?: { maxEvents: number }): Promise<Node> {
  const conn = createRedis(redis.url, { role: nodeId, commandTimeoutMs: 1000 });
  conn.on('error', () => undefined);
  await conn.connect();
  const outbox = new RedisWebhookOutbox(conn, { nodeId, leaseMs: LEASE_MS, pollMs: POLL_MS });
  const d = new WebhookDispatcher({ hooks, outbox, initialBackoffMs: 50, maxBackoffMs: 200, stopGraceMs: 300, ...(pending ? { pending } : {}) });
  d.start();
  cleanups.push(async () => {
    await d.stop();
    outbox.close();
    conn.disconnect();
  });
  return { conn, outbox, d };
}

async function leaseValue(): Promise<string | null> {
  const [key] = await admin.keys('ferry:webhook:*:lease');
  return key === undefined ? null : admin.get(key);
}

/** The ids the receiver answered 2xx, in arrival order. */
const accepted = (r: Receiver, ok: (n: number) => boolean) => r.received.filter((_, i) => ok(i + 1)).map((x) => x.json.id);

describe('webhook delivery by a fleet on Redis', () => {
  beforeEach(async () => {
    await admin.flushdb();
  });

  it('one node delivers; it dies; the other takes over within the lease and delivers the rest in order, each once', async (t) => {
    const r = new Receiver();
    cleanups.push(() => r.close());
    // Which requests were answered 2xx, by request number.
    const answered = new Map<number, number>();
    let status = 200;
    r.status = (n) => {
      answered.set(n, status);
      return status;
    };
    const hooks = [{ url: `http://127.0.0.1:${await r.listen()}/hook`, secret: SECRET, events: ['*'] as const }] as WebhookConfig[];
    const n1 = await node('node-1', hooks);
    for (let i = 0; i < 50 && (await leaseValue()) !== n1.outbox.token; i++) await sleep(20);
    assert.equal(await leaseValue(), n1.outbox.token, 'node 1 took the lease');
    const n2 = await node('node-2', hooks);
    await sleep(3 * POLL_MS);
    assert.equal(await leaseValue(), n1.outbox.token, 'node 2 does not take a held lease');

    // Events made on both nodes: delivered by the holder, in enqueue order.
    const ids: string[] = [];
    for (let i = 1; i <= 6; i++) ids.push(...(await (i % 2 ? n1 : n2).d.enqueue('usage.report', { i })));
    assert.ok(await r.waitFor(6), `6 requests (got ${r.received.length})`);
    assert.deepEqual(r.received.map((x) => x.json.id), ids);
    for (const x of r.received) assert.ok(verifySignature(SECRET, x.headers['ferry-signature'] as string, x.body, 60));

    // The receiver fails; node 1 keeps the next event at the head, then dies without releasing.
    status = 503;
    const held = await n1.d.enqueue('usage.report', { i: 7 });
    await until(() => r.received.some((x) => x.json.id === held[0]), 3000, 'node 1 tried event 7');
    n1.conn.disconnect();
    const died = Date.now();
    status = 200;
    ids.push(...held);
    for (let i = 8; i <= 9; i++) ids.push(...(await n2.d.enqueue('usage.report', { i })));
    await until(() => new Set(accepted(r, (n) => answered.get(n) === 200)).size === 9, LEASE_MS + 3000, 'all 9 accepted');
    const first2xxAfterDeath = r.received.find((x, i) => x.receivedAt >= died && answered.get(i + 1) === 200)!;
    const takeover = first2xxAfterDeath.receivedAt - died;
    t.diagnostic(`takeover ${takeover} ms after the death (lease ${LEASE_MS} ms, poll ${POLL_MS} ms)`);
    assert.ok(takeover <= LEASE_MS + POLL_MS + 400, `taken over ${takeover} ms after the death (lease ${LEASE_MS} ms)`);
    assert.equal(await leaseValue(), n2.outbox.token, 'node 2 holds the lease now');

    const ok = accepted(r, (n) => answered.get(n) === 200);
    assert.deepEqual(ok, ids, 'each event accepted once, in enqueue order');
    assert.equal(new Set(r.received.map((x) => x.json.id)).size, 9);
    await until(() => n2.d.lastBacklog === 0, 6000, 'backlog 0');
    assert.equal(await n2.d.backlog(), 0);
  });

  it('a stopping node releases its receivers: the other takes over at its next look, not at the lease expiry', async () => {
    const r = new Receiver();
    cleanups.push(() => r.close());
    const hooks = [{ url: `http://127.0.0.1:${await r.listen()}/hook`, secret: SECRET, events: ['*'] }] as WebhookConfig[];
    const n1 = await node('node-1', hooks);
    for (let i = 0; i < 50 && (await leaseValue()) !== n1.outbox.token; i++) await sleep(20);
    const n2 = await node('node-2', hooks);
    await n1.d.stop();
    const stopped = Date.now();
    const [id] = await n2.d.enqueue('session.closed', { n: 1 });
    assert.ok(await r.waitFor(1, 3000));
    assert.equal(r.received[0].json.id, id);
    assert.ok(r.received[0].receivedAt - stopped < LEASE_MS, `${r.received[0].receivedAt - stopped} ms`);
    assert.equal(await leaseValue(), n2.outbox.token);
  });

  it('Redis down: events wait in memory (bounded) and go out in order once it is back, each once', async () => {
    const r = new Receiver();
    cleanups.push(() => r.close());
    const hooks = [{ url: `http://127.0.0.1:${await r.listen()}/hook`, secret: SECRET, events: ['*'] }] as WebhookConfig[];
    const n1 = await node('node-1', hooks, { maxEvents: 5 });
    const first = await n1.d.enqueue('usage.report', { i: 0 });
    assert.ok(await r.waitFor(1));
    await redis.down();
    const waiting = [1, 2, 3, 4, 5].map((i) => n1.d.enqueue('usage.report', { i }));
    await assert.rejects(() => n1.d.enqueue('usage.report', { i: 6 }), /already wait in memory/, 'past the bound');
    assert.equal(await n1.d.backlog().catch(() => 'unreachable'), 'unreachable');
    await sleep(300);
    assert.equal(r.received.length, 1, 'nothing delivered while Redis is away');
    await redis.start(); // an empty Redis on the same port
    const ids = (await Promise.all(waiting)).flat();
    assert.ok(await r.waitFor(6, 5000), `6 requests (got ${r.received.length})`);
    await sleep(100);
    assert.deepEqual(r.received.map((x) => x.json.id), [...first, ...ids]);
    assert.deepEqual(r.received.map((x) => x.json.data.i), [0, 1, 2, 3, 4, 5]);
  });

  it('stop() while Redis is down: waits the stop grace for it, then gives the waiting events up, saying so', async () => {
    const hooks = [{ url: 'http://127.0.0.1:9/never', secret: SECRET, events: ['*'] }] as WebhookConfig[];
    const n1 = await node('node-1', hooks);
    await redis.down();
    try {
      const waiting = n1.d.enqueue('usage.report', { i: 1 });
      const t0 = Date.now();
      await n1.d.stop();
      const took = Date.now() - t0;
      assert.ok(took >= 250 && took < 2000, `${took} ms (grace 300 ms)`);
      await assert.rejects(waiting, /unreachable until the dispatcher stopped/);
    } finally {
      await redis.start();
    }
  });
});

describe('webhook delivery when Redis goes away between the receiver\'s 2xx and the mark', () => {
  let persisted: TestRedis;
  before(async () => {
    persisted = await startRedis({ persist: true });
  });
  after(async () => {
    await persisted?.stop();
  });

  it('the worker marks the entry once Redis is back, before sending anything: no second delivery', async () => {
    const { createServer } = await import('node:http');
    const got: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push((JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id);
        // The first request: Redis goes down before the answer, so the delivered() mark fails.
        const answer = () => res.writeHead(200, { connection: 'close' }).end('ok');
        if (got.length === 1) void persisted.down().then(answer);
        else answer();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const conn = createRedis(persisted.url, { role: 'node-1', commandTimeoutMs: 1000 });
    conn.on('error', () => undefined);
    await conn.connect();
    const outbox = new RedisWebhookOutbox(conn, { nodeId: 'node-1', leaseMs: LEASE_MS, pollMs: POLL_MS });
    const d = new WebhookDispatcher({ hooks: [{ url: `http://127.0.0.1:${port}/`, secret: SECRET, events: ['*'] }], outbox, initialBackoffMs: 50, maxBackoffMs: 200, stopGraceMs: 300 });
    cleanups.push(async () => {
      await d.stop();
      outbox.close();
      conn.disconnect();
    });
    const ids = [...(await d.enqueue('usage.report', { i: 1 })), ...(await d.enqueue('usage.report', { i: 2 }))];
    d.start();
    await until(() => got.length === 1, 3000, 'the first event sent');
    await sleep(300); // Redis down: the mark fails, the worker retries it
    assert.deepEqual(got, [ids[0]]);
    await persisted.start(); // with its data: the entry is still there
    await until(() => got.length >= 2, 5000, 'the second event sent');
    await until(() => d.lastBacklog === 0, 6000, 'backlog 0');
    await sleep(200);
    assert.deepEqual(got, ids, 'the first event once, then the second');
    assert.equal(await d.backlog(), 0);
  });
});
