// openStorage on redis://: the bundle (kind, stores over one connection, close() idempotent and
// quitting the connection). Its outbox is, until the Redis webhook outbox is merged, a temporary
// in-memory one: it still keeps the WebhookOutbox contract.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { openStorage, TemporaryMemoryOutbox } from '../../../app/storage.js';
import type { Storage } from '../../../src/store/storage.js';
import { StorageUnavailableError } from '../../../src/store/redis/client.js';
import { outboxContract } from '../../helpers/webhook-outbox-contract.js';
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

  describe('the temporary in-memory outbox keeps the WebhookOutbox contract', () => {
    outboxContract(() => new TemporaryMemoryOutbox());
  });

  it('the bundle’s outbox is that temporary one', async () => {
    const s = await openStorage(redis.url);
    opened.push(s);
    assert.ok(s.outbox instanceof TemporaryMemoryOutbox);
  });
});
