// RedisWebhookOutbox against a real redis-server: the WebhookOutbox contract, the delivery lease
// between two outboxes ("nodes", each with its own connection), bounds, malformed data, and Redis
// going away. The fleet delivery with dispatchers and a real receiver is in fleet-delivery.test.ts.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { createRedis, StorageUnavailableError } from '../../../../../src/store/redis/client.js';
import { MAX_BODY_BYTES, MAX_ENQUEUE_ENTRIES, RedisWebhookOutbox } from '../../../../../src/store/redis/webhook-outbox.js';
import { WebhookLeaseLostError, type OutboxEvent } from '../../../../../src/webhooks/outbox.js';
import { outboxContract } from '../../../../helpers/webhook-outbox-contract.js';
import { startRedis, type TestRedis } from '../../../../helpers/redis.js';
import { sleep } from '../../../../helpers/wait.js';

const A = 'http://a.example/hook';
let redis: TestRedis;
let admin: Redis;
const conns: Redis[] = [];

async function connect(role: string): Promise<Redis> {
  const r = createRedis(redis.url, { role, commandTimeoutMs: 1000 });
  r.on('error', () => undefined);
  await r.connect();
  conns.push(r);
  return r;
}

before(async () => {
  redis = await startRedis();
  admin = await redis.client();
});
after(async () => {
  for (const c of conns) c.disconnect();
  await redis?.stop();
});

let n = 0;
const event = (webhook = A, body?: string): OutboxEvent => {
  const id = `evt_redis_${++n}`;
  return { id, webhook, type: 'usage.report', body: body ?? JSON.stringify({ id, n }), createdAt: 1_700_000_000_000 + n };
};

describe('RedisWebhookOutbox (the WebhookOutbox contract)', () => {
  let conn: Redis;
  let last: RedisWebhookOutbox | undefined;
  before(async () => {
    conn = await connect('contract');
  });
  after(() => last?.close());
  outboxContract(async () => {
    // The last case's outbox stops renewing its leases (it would take them again after the flush).
    last?.close();
    await admin.flushdb();
    last = new RedisWebhookOutbox(conn, { nodeId: 'contract', leaseMs: 5000, pollMs: 50 });
    return last;
  });
});

describe('RedisWebhookOutbox in Redis', () => {
  let c1: Redis;
  let c2: Redis;
  beforeEach(async () => {
    await admin.flushdb();
  });
  before(async () => {
    c1 = await connect('node-1');
    c2 = await connect('node-2');
  });

  it('keeps one stream per receiver under ferry:webhook:<hash>, the lease naming the node', async () => {
    const o = new RedisWebhookOutbox(c1, { nodeId: 'node-a', leaseMs: 5000 });
    await o.enqueue([event(), event('http://b.example/')]);
    assert.ok(await o.claim(A));
    const keys = (await admin.keys('ferry:*')).sort();
    assert.equal(keys.length, 4, keys.join(' '));
    assert.ok(keys.includes('ferry:webhook:ids'));
    const lease = keys.find((k) => k.endsWith(':lease'))!;
    assert.match(lease, /^ferry:webhook:[0-9a-f]{32}:lease$/);
    assert.match((await admin.get(lease))!, /^node-a\/[0-9a-f]{16}$/);
    assert.equal(await admin.get(lease), o.token);
    const ttl = await admin.pttl(lease);
    assert.ok(ttl > 4000 && ttl <= 5000, String(ttl));
    o.close();
  });

  it('one node holds a receiver\'s lease; the other cannot mark; released, the other takes it', async () => {
    const o1 = new RedisWebhookOutbox(c1, { nodeId: 'n1', leaseMs: 5000 });
    const o2 = new RedisWebhookOutbox(c2, { nodeId: 'n2', leaseMs: 5000 });
    const [e1, e2] = [event(), event()];
    await o1.enqueue([e1]);
    await o2.enqueue([e2]);
    assert.equal(await o1.claim(A), true);
    assert.equal(await o2.claim(A), false);
    assert.equal(await o2.claim(A), false, 'still not');
    assert.equal((await o2.head(A))?.id, e1.id, 'reading is free; enqueue order across nodes');
    await assert.rejects(() => o2.delivered(e1.id), WebhookLeaseLostError);
    await assert.rejects(() => o2.failed(e1.id, 1, 'x'), WebhookLeaseLostError);
    assert.deepEqual({ id: (await o1.head(A))?.id, attempts: (await o1.head(A))?.attempts }, { id: e1.id, attempts: 0 }, 'nothing changed');
    await o1.delivered(e1.id);
    await o1.release(A);
    assert.equal(await o2.claim(A), true, 'free after the release');
    assert.equal(await o1.claim(A), false);
    await assert.rejects(() => o1.failed(e2.id, 1, 'late'), WebhookLeaseLostError, 'the old holder cannot mark');
    await o2.delivered(e2.id);
    assert.equal(await o2.backlog([A]), 0);
    o1.close();
    o2.close();
  });

  it('a holder that dies (stops renewing, no release) loses the lease at its expiry; renewals keep a live one', async () => {
    const dying = await connect('dying');
    const o1 = new RedisWebhookOutbox(dying, { nodeId: 'n1', leaseMs: 600 });
    const o2 = new RedisWebhookOutbox(c2, { nodeId: 'n2', leaseMs: 600 });
    assert.equal(await o1.claim(A), true);
    await sleep(1000); // past the lease time: renewed meanwhile
    assert.equal(await o2.claim(A), false, 'renewed while alive');
    const died = Date.now();
    dying.disconnect();
    await assert.rejects(() => o1.head(A), StorageUnavailableError);
    let took = 0;
    for (let i = 0; i < 100 && took === 0; i++) {
      if (await o2.claim(A)) took = Date.now();
      else await sleep(20);
    }
    const leaseKey = (await admin.keys('ferry:webhook:*:lease'))[0];
    assert.ok(took > 0, `taken over (lease ${leaseKey}: ${await admin.get(leaseKey)}, ${await admin.pttl(leaseKey)} ms left; o1 ${o1.token}, o2 ${o2.token})`);
    assert.ok(took - died <= 600 + 200, `taken over ${took - died} ms after the death`);
    assert.equal(await admin.get((await admin.keys('ferry:webhook:*:lease'))[0]), o2.token);
    o1.close();
    o2.close();
  });

  it('bounds what one enqueue accepts; an over-long batch or body stores nothing', async () => {
    const o = new RedisWebhookOutbox(c1, { nodeId: 'n1' });
    const many = Array.from({ length: MAX_ENQUEUE_ENTRIES + 1 }, () => event());
    await assert.rejects(() => o.enqueue(many), RangeError);
    await assert.rejects(() => o.enqueue([event(), event(A, 'x'.repeat(MAX_BODY_BYTES + 1))]), RangeError);
    await assert.rejects(() => o.enqueue(Array.from({ length: 20 }, () => event(A, 'y'.repeat(60 * 1024)))), /bytes of bodies/);
    assert.equal(await o.backlog([A]), 0);
    await o.enqueue(many.slice(0, MAX_ENQUEUE_ENTRIES));
    assert.equal(await o.backlog([A]), MAX_ENQUEUE_ENTRIES);
  });

  it('a malformed entry in the stream is a clear error, not a delivery', async () => {
    const o = new RedisWebhookOutbox(c1, { nodeId: 'n1' });
    await o.enqueue([event()]);
    const stream = (await admin.keys('ferry:webhook:*:events'))[0];
    await admin.del(stream);
    await admin.xadd(stream, '*', 'id', 'evt_x', 'type', 'usage.report', 'created', 'soon');
    await assert.rejects(() => o.head(A), /malformed entry in ferry:webhook:[0-9a-f]{32}:events/);
    await admin.del(stream);
    await admin.xadd(stream, '*', 'id', 'evt_y', 'webhook', 'http://other.example/', 'type', 'usage.report', 'body', '{}', 'created', '1');
    await assert.rejects(() => o.head(A), /names another webhook/);
  });

  it('Redis down: every call rejects with StorageUnavailableError at once; back up, it works again', async () => {
    const o = new RedisWebhookOutbox(c1, { nodeId: 'n1' });
    await redis.down();
    try {
      const t0 = Date.now();
      await assert.rejects(() => o.enqueue([event()]), StorageUnavailableError);
      await assert.rejects(() => o.head(A), StorageUnavailableError);
      await assert.rejects(() => o.claim(A), StorageUnavailableError);
      await assert.rejects(() => o.backlog([A]), StorageUnavailableError);
      assert.ok(Date.now() - t0 < 1000, 'no waiting for a timeout');
    } finally {
      await redis.start();
    }
    const e = event();
    for (let i = 0; ; i++) {
      try {
        await o.enqueue([e]);
        break;
      } catch (err) {
        assert.ok(err instanceof StorageUnavailableError && i < 100, String(err));
        await sleep(50);
      }
    }
    assert.equal((await o.head(A))?.id, e.id);
  });
});
