// A node whose signaling starts while Redis is down: both of its Redis connections (commands and
// the subscriber) keep trying in the background, so once Redis is up a message from a peer on
// another node reaches a peer on this one without a restart.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RedisSignalRouter } from '../../../../../src/store/redis/signal-router.js';
import { startRedis, type TestRedis } from '../../../../helpers/redis.js';
import { Client, startServer, type TestServer } from '../../../../helpers/ws-client.js';
import { until } from '../../../../helpers/wait.js';

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };

describe('signal router started while Redis is down', () => {
  let redis: TestRedis | undefined;
  const routers: RedisSignalRouter[] = [];
  const servers: TestServer[] = [];
  const clients: Client[] = [];
  after(async () => {
    for (const c of clients) c.ws.terminate();
    for (const s of servers) await s.close();
    for (const r of routers) await r.close();
    await redis?.stop();
  });

  const node = async (r: TestRedis, nodeId: string) => {
    const router = new RedisSignalRouter({ redisUrl: r.url, nodeId, bootId: randomBytes(8).toString('hex'), heartbeatMs: 200, ttlMs: 1000 });
    routers.push(router);
    await router.start();
    const server = await startServer({ router, limits: { queueTtlMs: 5000, maxQueuedPerPeer: 3 } });
    servers.push(server);
    return { router, server };
  };

  test('both connections come up once Redis does; a cross-node message reaches a peer on this node', async () => {
    redis = await startRedis();
    await redis.down();
    const a = await node(redis, 'node-a'); // start() returns: Redis unreachable, retried in the background
    assert.equal(a.router.stats().connected, false);
    await redis.start();
    await until(() => a.router.stats().connected, 10_000, 'both of node-a’s Redis connections ready');
    const b = await node(redis, 'node-b');
    const pa = await Client.connect(a.server, 'pa', { key: 'key-A' });
    clients.push(pa);
    const pb = await Client.connect(b.server, 'pb', { key: 'key-A' });
    clients.push(pb);
    pb.send({ type: 'offer', to: 'pa', payload: OFFER });
    assert.deepEqual(await pa.next(5000), { type: 'offer', from: 'pb', payload: OFFER });
    pa.send({ type: 'answer', to: 'pb', payload: ANSWER });
    assert.deepEqual(await pb.next(5000), { type: 'answer', from: 'pa', payload: ANSWER });
  });
});
