// openStorage on redis://: the bundle (kind, stores over one connection, close() idempotent and
// quitting the connection). Its outbox is a RedisWebhookOutbox on the same connection (its
// contract runs in test/engine/src/store/redis/webhook-outbox.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { openStorage } from '../../../app/storage.js';
import type { Storage } from '../../../src/store/storage.js';
import { StorageUnavailableError } from '../../../src/store/redis/client.js';
import { RedisWebhookOutbox } from '../../../src/store/redis/webhook-outbox.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';

let redis: TestRedis;
let plain: Redis;
const opened: Storage[] = [];
before(async () => {
  redis = await startRedis();
  plain = await redis.client();
});
after(async () => {
  for (const s of opened) await s.close();
  await redis.stop();
});

const clients = async () => String(await plain.call('CLIENT', 'LIST')).split('\n').filter((l) => l.includes('name=ferry:store')).length;

describe('openStorage on Redis', () => {
  it('one connection named ferry:store for the bundle; close() quits it and is idempotent', async () => {
    const s = await openStorage(redis.url);
    assert.equal(s.kind, 'redis');
    assert.equal(await clients(), 1);
    await s.close();
    await s.close();
    for (let i = 0; i < 100 && (await clients()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await clients(), 0);
    await assert.rejects(s.accounts.listAccounts(), StorageUnavailableError, 'a closed bundle fails like a Redis that is down');
  });

  it('the bundle’s outbox is the Redis one, on the bundle’s connection, its lease naming the node', async () => {
    const s = await openStorage(redis.url, { nodeId: 'node-x' });
    opened.push(s);
    assert.ok(s.outbox instanceof RedisWebhookOutbox);
    const url = 'http://127.0.0.1:9/hook';
    await s.outbox.enqueue([{ id: 'evt_bundle_1', webhook: url, type: 'usage.report', body: '{}', createdAt: 1 }]);
    assert.equal(await plain.hget('ferry:webhook:ids', 'evt_bundle_1') !== null, true);
    assert.equal(await s.outbox.claim(url), true);
    const [lease] = await plain.keys('ferry:webhook:*:lease');
    assert.match((await plain.get(lease)) ?? '', /^node-x\//);
    await s.outbox.release(url);
    assert.equal(await clients(), 1, 'no connection of its own');
  });
});
