// Cross-node signaling: two signaling sockets (two fastify apps in this process, each with its own
// RedisSignalRouter and Redis connections, as two nodes would have) on one real redis-server, with
// real WebSocket clients. Offers, answers and candidates cross nodes; the offline queue, the
// peer-id replacement rule and account closing hold across them; Redis going away breaks only
// cross-node messages, with `unavailable`, and they resume when it is back.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RedisSignalRouter } from '../../../../../src/store/redis/signal-router.js';
import { ServerFrame } from '../../../../../protocol/signaling.js';
import { startRedis, type TestRedis } from '../../../../helpers/redis.js';
import { Client, startServer, type TestServer } from '../../../../helpers/ws-client.js';
import { sleep, until } from '../../../../helpers/wait.js';

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const CANDIDATE = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 };
const QUEUE_TTL_MS = 1500;

interface Node {
  readonly server: TestServer;
  readonly router: RedisSignalRouter;
}

async function startNode(redis: TestRedis, nodeId: string, maxInFlight?: number): Promise<Node> {
  const router = new RedisSignalRouter({
    redisUrl: redis.url, nodeId, bootId: randomBytes(8).toString('hex'), heartbeatMs: 200, ttlMs: 1000,
    ...(maxInFlight !== undefined ? { maxInFlight } : {}),
  });
  await router.start();
  const server = await startServer({ router, limits: { queueTtlMs: QUEUE_TTL_MS, maxQueuedPerPeer: 3 } });
  return { server, router };
}

async function stopNode(n: Node): Promise<void> {
  await n.server.close();
  await n.router.close();
}

describe('cross-node signaling over Redis', () => {
  let redis: TestRedis;
  let a: Node;
  let b: Node;
  const clients: Client[] = [];
  const connect = async (node: Node, peerId: string, key = 'key-A'): Promise<Client> => {
    const c = await Client.connect(node.server, peerId, { key });
    clients.push(c);
    return c;
  };

  before(async () => {
    redis = await startRedis();
    a = await startNode(redis, 'node-a');
    b = await startNode(redis, 'node-b');
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    if (a) await stopNode(a);
    if (b) await stopNode(b);
    await redis?.stop();
  });

  test('offer, answer, candidates and bye cross nodes, in order, byte for byte', async () => {
    const pa = await connect(a, 'pa');
    const pb = await connect(b, 'pb');
    pa.send({ type: 'offer', to: 'pb', payload: OFFER, id: 1 });
    assert.deepEqual(await pb.next(), { type: 'offer', from: 'pa', payload: OFFER });
    pb.send({ type: 'answer', to: 'pa', payload: ANSWER });
    assert.deepEqual(await pa.next(), { type: 'answer', from: 'pb', payload: ANSWER });
    for (let i = 0; i < 20; i++) pa.send({ type: 'candidate', to: 'pb', payload: { ...CANDIDATE, sdpMLineIndex: i } });
    pa.send({ type: 'candidate', to: 'pb', payload: null });
    pa.send({ type: 'bye', to: 'pb', payload: { reason: 'done' } });
    const got = [];
    for (let i = 0; i < 22; i++) got.push(await pb.next());
    assert.deepEqual(got.slice(0, 20).map((f) => (f.payload as { sdpMLineIndex: number }).sdpMLineIndex), [...Array(20).keys()]);
    assert.deepEqual(got[20], { type: 'candidate', from: 'pa', payload: null });
    assert.deepEqual(got[21], { type: 'bye', from: 'pa', payload: { reason: 'done' } });
    for (const f of got) assert.ok(ServerFrame.safeParse(f).success, JSON.stringify(f));
    // The raw text of a delivered offer is the sender's payload as sent.
    pa.send(`{"type":"offer","to":"pb","payload":{"type":"offer","sdp":"x\\r\\ny", "extra": [1, 2.50]}}`);
    await pb.next();
    assert.equal(pb.raw.at(-1), '{"type":"offer","from":"pa","payload":{"type":"offer","sdp":"x\\r\\ny", "extra": [1, 2.50]}}');
    assert.deepEqual(await pa.drain(), [], 'the sender got no error');
    // Another account's peer of the same id is not reached.
    const other = await connect(b, 'pz', 'key-B');
    pa.send({ type: 'offer', to: 'pz', payload: OFFER });
    await sleep(100);
    assert.deepEqual(await other.drain(), []);
  });

  test('offline queue across nodes: queued on A, delivered in order when the peer registers on B; a full queue and an expiry are told to the sender', async () => {
    const s = await connect(a, 'sender');
    const q0 = a.server.hub.stats().queued;
    for (let i = 1; i <= 4; i++) s.send({ type: 'offer', to: 'late', payload: OFFER, id: i });
    const full = await s.next();
    assert.deepEqual(full, { type: 'error', code: 'peer_unavailable', message: 'peer late is not connected and its queue is full', id: 4, to: 'late' });
    await until(() => a.server.hub.stats().queued === q0 + 3, 2000, 'three queued');
    const late = await connect(b, 'late');
    assert.deepEqual([await late.next(), await late.next(), await late.next()], Array(3).fill({ type: 'offer', from: 'sender', payload: OFFER }));
    // A message to a peer that never comes: the sender (on A) is told once, after the TTL.
    s.send({ type: 'offer', to: 'never', payload: OFFER, id: 'n1' });
    s.send({ type: 'bye', to: 'never' }); // a bye is never queued, never answered
    const expired = await s.next(QUEUE_TTL_MS + 2000);
    assert.deepEqual(expired, { type: 'error', code: 'peer_unavailable', message: `peer never did not connect within ${QUEUE_TTL_MS} ms`, id: 'n1', to: 'never' });
    // Expired but not yet swept when the peer registers on B: not delivered, the sender told once.
    s.send({ type: 'offer', to: 'slow', payload: OFFER, id: 's1' });
    await sleep(QUEUE_TTL_MS + 50);
    const slow = await connect(b, 'slow');
    const told = await s.next(2000);
    assert.equal(told.code, 'peer_unavailable');
    assert.equal(told.id, 's1');
    assert.deepEqual(await slow.drain(), [], 'an expired message is not delivered');
    await sleep(300);
    assert.deepEqual(await s.drain(), [], 'told once');
    assert.equal(a.server.hub.stats().queued, 0);
  });

  test('peer-id replacement across nodes: the older connection (A) closes 4000, messages reach the newer (B)', async () => {
    const old = await connect(a, 'dup');
    const caller = await connect(a, 'caller');
    const newer = await connect(b, 'dup');
    assert.deepEqual(await old.closed, { code: 4000, reason: 'replaced' });
    caller.send({ type: 'offer', to: 'dup', payload: OFFER, id: 9 });
    assert.deepEqual(await newer.next(), { type: 'offer', from: 'caller', payload: OFFER });
    // And back: a third connection on A replaces B's.
    const third = await connect(a, 'dup');
    assert.deepEqual(await newer.closed, { code: 4000, reason: 'replaced' });
    caller.send({ type: 'offer', to: 'dup', payload: OFFER });
    assert.deepEqual(await third.next(), { type: 'offer', from: 'caller', payload: OFFER });
    const r = await redis.client();
    const entry = await r.get('ferry:sig:peer:acc_A:dup');
    assert.match(entry ?? '', /^node-a /, 'the directory names the newest holder');
  });

  test('closing an account on every node (the registry relays the event) closes its sockets everywhere and drops what was queued', async () => {
    const onA = await connect(a, 'ra');
    const onB = await connect(b, 'rb');
    const otherAccount = await connect(b, 'rc', 'key-B');
    onA.send({ type: 'offer', to: 'after-revoke', payload: OFFER });
    await until(() => a.server.hub.stats().queued >= 1, 2000, 'queued');
    // What each node's AccountService listener does on the revocation event.
    a.server.hub.closeAccount('acc_A');
    b.server.hub.closeAccount('acc_A');
    assert.equal((await onA.closed).code, 1008);
    assert.equal((await onB.closed).code, 1008);
    assert.equal(otherAccount.ws.readyState, otherAccount.ws.OPEN);
    await until(() => a.server.hub.stats().queued === 0, 2000, 'queue dropped');
    const after = await connect(b, 'after-revoke');
    await sleep(200);
    assert.deepEqual(await after.drain(), [], 'a message queued before the account closed is not delivered');
  });

  test('notes that are not ours on a node channel are ignored', async () => {
    const x = await connect(a, 'nx');
    const y = await connect(b, 'ny');
    const r = await redis.client();
    for (const junk of ['', 'd', 'd[]', 'd["acc_A","ny"]\nhi', 'u[1,2,3]', 'r{"a":1}', 'q', 'd' + 'x'.repeat(200_000)]) {
      await r.publish('ferry:sig:to:node-b', junk);
    }
    await r.publish('ferry:sig:to:node-b', 'r["acc_A","ny","someone-else",1]');
    x.send({ type: 'candidate', to: 'ny', payload: CANDIDATE });
    assert.deepEqual(await y.next(), { type: 'candidate', from: 'nx', payload: CANDIDATE });
    assert.equal(y.ws.readyState, y.ws.OPEN);
  });

  test('Redis away: cross-node messages fail with unavailable, local ones still flow; all resumes when Redis is back', async () => {
    const p1 = await connect(a, 'down-1');
    const p2 = await connect(a, 'down-2');
    const q = await connect(b, 'down-q');
    await redis.down();
    await until(() => !a.router.stats().connected && !b.router.stats().connected, 5000, 'routers see Redis gone');
    p1.send({ type: 'offer', to: 'down-q', payload: OFFER, id: 'x1' });
    assert.deepEqual(await p1.next(), {
      type: 'error',
      code: 'unavailable',
      message: "peers on other nodes cannot be reached now (the fleet's Redis is unavailable); peers on this node still can",
      id: 'x1',
      to: 'down-q',
    });
    p1.send({ type: 'offer', to: 'down-2', payload: OFFER });
    assert.deepEqual(await p2.next(), { type: 'offer', from: 'down-1', payload: OFFER });
    // A peer that connects while Redis is away is registered locally, and in Redis once it is back.
    const fresh = await connect(b, 'down-new');
    // A fresh, empty Redis (no persistence): both nodes register their peers again.
    await redis.start();
    await until(() => a.router.stats().connected && b.router.stats().connected, 8000, 'routers reconnected');
    p1.send({ type: 'offer', to: 'down-q', payload: OFFER, id: 'x2' });
    assert.deepEqual(await q.next(4000), { type: 'offer', from: 'down-1', payload: OFFER });
    q.send({ type: 'answer', to: 'down-1', payload: ANSWER });
    assert.deepEqual(await p1.next(4000), { type: 'answer', from: 'down-q', payload: ANSWER });
    p2.send({ type: 'candidate', to: 'down-new', payload: CANDIDATE });
    assert.deepEqual(await fresh.next(4000), { type: 'candidate', from: 'down-2', payload: CANDIDATE });
    const r = await redis.client();
    assert.equal(await r.get('ferry:sig:peer:acc_A:down-q').then((v) => v?.startsWith('node-b ')), true);
  });

  test('a node whose alive key lapsed (Redis flushed) registers its peers again at the next heartbeat', async () => {
    const r = await redis.client();
    const p = await connect(a, 'flush-a');
    const q = await connect(b, 'flush-b');
    await r.flushall();
    // Sent before B noticed: queued (no entry), then drained when B claims its peers again.
    p.send({ type: 'offer', to: 'flush-b', payload: OFFER });
    assert.deepEqual(await q.next(3000), { type: 'offer', from: 'flush-a', payload: OFFER });
    // Each node at its own next heartbeat (200 ms).
    const end = Date.now() + 2000;
    while (Date.now() < end && (await r.get('ferry:sig:peer:acc_A:flush-a')) === null) await sleep(20);
    assert.match((await r.get('ferry:sig:peer:acc_A:flush-b')) ?? '', /^node-b /);
    assert.match((await r.get('ferry:sig:peer:acc_A:flush-a')) ?? '', /^node-a /);
  });

  test('at most maxInFlight messages wait for Redis; beyond, the sender gets unavailable', async () => {
    const t = await startNode(redis, 'node-t', 4);
    try {
      const c = await Client.connect(t.server, 'burst');
      clients.push(c);
      for (let i = 0; i < 40; i++) c.send({ type: 'candidate', to: 'burst-target', payload: CANDIDATE, id: i });
      const frames = await c.drain();
      await sleep(300); // the answers from Redis come after the local pong
      frames.push(...(await c.drain()));
      const busy = frames.filter((f) => f.code === 'unavailable');
      assert.ok(busy.length > 0, `some refused: ${JSON.stringify(frames.slice(0, 3))}`);
      assert.match(String(busy[0]!.message), /too many messages to other nodes are waiting for Redis \(4 at most\)/);
      const full = frames.filter((f) => f.code === 'peer_unavailable').length;
      // The others were handed over: 3 queued (maxQueuedPerPeer), the rest told the queue is full.
      assert.equal(busy.length + full + 3, 40, JSON.stringify(frames.map((f) => f.code)));
    } finally {
      await stopNode(t);
    }
  });

  test('peers that leave are removed from the directory; a node that stops takes its entries with it', async () => {
    const r = await redis.client();
    const c = await connect(b, 'leaver');
    await sleep(100);
    assert.ok(await r.get('ferry:sig:peer:acc_A:leaver'));
    await c.close();
    await sleep(200);
    assert.equal(await r.get('ferry:sig:peer:acc_A:leaver'), null);
    const n = await startNode(redis, 'node-c');
    const d = await Client.connect(n.server, 'on-c');
    await sleep(100);
    assert.ok(await r.get('ferry:sig:peer:acc_A:on-c'));
    assert.equal(await r.get('ferry:sig:alive:node-c') !== null, true);
    d.ws.terminate();
    await stopNode(n);
    assert.equal(await r.get('ferry:sig:peer:acc_A:on-c'), null);
    assert.equal(await r.get('ferry:sig:alive:node-c'), null);
  });
});
