// A fleet node whose Redis goes away: the HTTP API answers what needs the store with 503
// storage_unavailable (JSON, Retry-After) instead of hanging or failing with 500, and serves again
// once Redis is back, with the data Redis kept.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiJson, apiRequest } from '../../helpers/admin-http.js';
import { startInProcessFerry, type InProcessFerry } from '../../helpers/ferry-in-process.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { sleep } from '../../helpers/wait.js';

const ADMIN = 'admin-token-0123456789';
let redis: TestRedis;
let ferry: InProcessFerry;
let base: string;

before(async () => {
  redis = await startRedis({ persist: true });
  ferry = await startInProcessFerry({ storage: redis.url, cluster: { node_id: 'unavailable-1' }, signaling: { address: '127.0.0.1:0', admin_token: ADMIN } });
  base = `http://127.0.0.1:${ferry.handle.signalingAddress().port}`;
});
after(async () => {
  await ferry?.stop();
  await redis?.stop();
});

describe('Redis down under the HTTP API', () => {
  it('503 storage_unavailable with Retry-After while down; the same data once back', async () => {
    const made = await apiJson(base, 'POST', '/v1/accounts', ADMIN, { name: 'kept' });
    assert.equal(made.status, 201);
    await redis.down();
    const t0 = Date.now();
    const res = await apiRequest(base, 'GET', '/v1/accounts', ADMIN);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'storage_unavailable');
    assert.doesNotMatch(body.error.message, /127\.0\.0\.1|redis:\/\//, 'no store address in the answer');
    assert.ok(Date.now() - t0 < 5000, 'answered without waiting for Redis');
    await redis.start();
    let listed: { status: number; json: Record<string, any> } | undefined;
    for (let i = 0; i < 100; i++) {
      listed = await apiJson(base, 'GET', '/v1/accounts', ADMIN);
      if (listed.status === 200) break;
      await sleep(50);
    }
    assert.equal(listed?.status, 200, 'served again within 5 s of Redis coming back');
    assert.deepEqual((listed!.json.accounts as { name: string }[]).map((a) => a.name), ['kept']);
  });
});
