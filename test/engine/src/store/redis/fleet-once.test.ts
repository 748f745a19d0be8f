// Once-per-fleet usage events on a real redis-server: the claim is given back when the claiming
// node cannot store the event, so another node (one whose claim lost, on its recheck) sends it,
// once; a release removes only its own claim.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { claimOnce } from '../../../../../src/store/redis/fleet-once.js';
import { createRedis } from '../../../../../src/store/redis/client.js';
import { oncePerFleet } from '../../../../../src/limits/once-per-fleet.js';
import { startRedis, type TestRedis } from '../../../../helpers/redis.js';
import { sleep, until } from '../../../../helpers/wait.js';

const tf = { timeframe_start: '2030-01-01T00:00:00.000Z', timeframe_end: '2030-01-02T00:00:00.000Z' };
const NOW = Date.UTC(2030, 0, 1, 10);

describe('once per fleet over Redis', () => {
  let redis: TestRedis;
  let r: Redis;
  let plain: Redis;
  before(async () => {
    redis = await startRedis();
    r = createRedis(redis.url, { role: 'test-once' });
    r.on('error', () => {});
    await r.connect();
    plain = await redis.client();
  });
  after(async () => {
    r?.disconnect();
    await redis?.stop();
  });

  it('a node that cannot store the event gives its claim back; another node sends it, once', async () => {
    const claim = (name: string, ttlMs: number) => claimOnce(r, name, ttlMs);
    const sent: string[] = [];
    // Node A claims first but its pending queue is full: emit rejects.
    const a = oncePerFleet({ claim, emit: async () => { throw new Error('webhook events not stored: 10000 events already wait'); }, reportIntervalMs: () => 0, now: () => NOW, retryMs: 5, recheckMs: 300 });
    const b = oncePerFleet({ claim, emit: (t) => void sent.push(`b:${t}`), reportIntervalMs: () => 0, now: () => NOW, retryMs: 5, recheckMs: 300 });
    const c = oncePerFleet({ claim, emit: (t) => void sent.push(`c:${t}`), reportIntervalMs: () => 0, now: () => NOW, retryMs: 5, recheckMs: 300 });
    const data = { account: 'acme', usage_bytes: 600, limit_bytes: 1000, ...tf };
    const key = 'ferry:once:usage.soft_limit:2030-01-01T00:00:00.000Z:1000:acme';
    // One connection, commands in order: A's claim wins, B's loses before A gives it back.
    a('usage.soft_limit', data);
    b('usage.soft_limit', data); // B claims once more after recheckMs
    await sleep(100);
    assert.equal(await plain.exists(key), 0, 'A released its claim');
    assert.deepEqual(sent, [], 'B lost the first claim');
    await until(() => sent.length === 1, 3000, 'B sends the event on its recheck');
    c('usage.soft_limit', data);
    await sleep(600); // C's claim and its recheck both lose
    assert.deepEqual(sent, ['b:usage.soft_limit'], 'sent once: B’s claim stands');
    assert.ok((await plain.pttl(key)) > 3_600_000);
  });

  it('a release removes the claim only while it is still its own', async () => {
    const give = await claimOnce(r, 'x', 60_000);
    assert.ok(give !== null);
    assert.equal(await claimOnce(r, 'x', 60_000), null, 'claimed already');
    await plain.set('ferry:once:x', 'someone-else', 'PX', 60_000); // it expired and another node claimed it
    await give();
    assert.equal(await plain.get('ferry:once:x'), 'someone-else');
    const again = await claimOnce(r, 'y', 60_000);
    await again!();
    assert.equal(await plain.exists('ferry:once:y'), 0);
    assert.ok((await claimOnce(r, 'y', 60_000)) !== null, 'claimable again after the release');
  });
});
