// The relay registry over a real redis-server (src/cluster/registry.ts over
// src/store/redis/registry.ts): nodes that heartbeat stay listed, a node that stops heartbeating
// vanishes within the TTL (from the store and from every node's view), a draining node is never
// selected, a node that leaves is gone at once, and a Redis outage keeps the last view for a
// bounded time while health says degraded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RelayRegistry } from '../../../../src/cluster/registry.js';
import { pickRelays } from '../../../../src/cluster/select.js';
import { createLogger } from '../../../../src/logger.js';
import { createRedis } from '../../../../src/store/redis/client.js';
import { RedisRegistryStore, RELAY_INDEX_KEY, RELAY_KEY_PREFIX } from '../../../../src/store/redis/registry.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';
import { sleep, until } from '../../../helpers/wait.js';

const HEARTBEAT_MS = 100;
const TTL_MS = 600;
const log = createLogger('silent');

let redis: TestRedis;
const registries: RelayRegistry[] = [];
const stores: RedisRegistryStore[] = [];

async function node(nodeId: string, opts: { allocations?: number; region?: string; staleMs?: number } = {}) {
  const client = createRedis(redis.url, { role: 'test-registry', commandTimeoutMs: 500 });
  client.on('error', () => {});
  await client.connect();
  const store = new RedisRegistryStore(client);
  const load = { allocations: opts.allocations ?? 0, bps: 0 };
  const registry = new RelayRegistry({
    store,
    nodeId,
    heartbeatMs: HEARTBEAT_MS,
    ttlMs: TTL_MS,
    ...(opts.staleMs !== undefined ? { staleMs: opts.staleMs } : {}),
    log,
    describe: () => ({
      publicHost: `${nodeId}.relay.test`,
      transports: ['udp', 'tcp'],
      ports: { udp: 3478, tcp: 3478 },
      ...(opts.region !== undefined ? { region: opts.region } : {}),
      load,
      startedAt: 1_700_000_000_000,
      version: 'test',
    }),
  });
  registries.push(registry);
  stores.push(store);
  return { registry, store, client, load };
}

const ids = (r: RelayRegistry) => r.live().map((e) => e.nodeId).sort();

describe('relay registry on Redis', () => {
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const r of registries) await r.leave().catch(() => {});
    for (const s of stores) await s.close().catch(() => {});
    await redis.stop();
  });

  it('lists heartbeating nodes; a node that stops heartbeating vanishes within the TTL, not before', async () => {
    const a = await node('ttl-a');
    const b = await node('ttl-b', { region: 'eu' });
    await a.registry.join();
    await b.registry.join();
    await until(() => ids(a.registry).includes('ttl-b'), 2000, 'a sees b');
    const seen = a.registry.live().find((e) => e.nodeId === 'ttl-b')!;
    assert.equal(seen.publicHost, 'ttl-b.relay.test');
    assert.equal(seen.region, 'eu');
    assert.equal(seen.state, 'active');
    assert.deepEqual(seen.ports, { udp: 3478, tcp: 3478 });
    // Entries stay across many heartbeats (refreshed, never expiring in between).
    await sleep(TTL_MS * 2);
    assert.deepEqual(ids(a.registry), ['ttl-a', 'ttl-b']);

    // b crashes: its connection is cut, its heartbeats stop reaching Redis.
    b.client.disconnect();
    const crashedAt = Date.now();
    await sleep(TTL_MS / 3);
    assert.ok(ids(a.registry).includes('ttl-b'), 'still listed well within the TTL');
    await until(() => !ids(a.registry).includes('ttl-b'), TTL_MS + 2 * HEARTBEAT_MS, 'b gone from a\'s view');
    const goneAfter = Date.now() - crashedAt;
    assert.ok(goneAfter <= TTL_MS + HEARTBEAT_MS, `gone from the view within the TTL of its last heartbeat (${goneAfter} ms)`);
    assert.deepEqual((await a.registry.read()).map((e) => e.nodeId), ['ttl-a'], 'and from the store');
    const raw = await redis.client();
    assert.equal(await raw.exists(`${RELAY_KEY_PREFIX}ttl-b`), 0, 'its key expired');
    assert.equal(await raw.zscore(RELAY_INDEX_KEY, 'ttl-b'), null, 'its index entry pruned');
    await a.registry.leave();
  });

  it('a draining node stays listed as draining and is never selected; leaving removes it at once', async () => {
    const a = await node('dr-a', { allocations: 50 });
    const b = await node('dr-b', { allocations: 0 });
    const c = await node('dr-c', { allocations: 10 });
    for (const n of [a, b, c]) await n.registry.join();
    await a.registry.heartbeat(true);
    assert.deepEqual(ids(a.registry), ['dr-a', 'dr-b', 'dr-c']);
    await b.registry.drain();
    assert.equal(b.registry.live().find((e) => e.nodeId === 'dr-b')?.state, 'draining', 'its own view at once');
    await a.registry.heartbeat(true);
    assert.equal(a.registry.live().find((e) => e.nodeId === 'dr-b')?.state, 'draining');
    for (let k = 0; k < 200; k++) {
      const picked = pickRelays(a.registry.live(), { count: 2 }).map((e) => e.nodeId).sort();
      assert.deepEqual(picked, ['dr-a', 'dr-c'], 'the lightest (draining) relay is never picked');
    }
    // Its own timer keeps it draining (a heartbeat does not flip it back).
    await sleep(HEARTBEAT_MS * 3);
    assert.equal((await a.registry.read()).find((e) => e.nodeId === 'dr-b')?.state, 'draining');
    await b.registry.leave();
    assert.deepEqual((await a.registry.read()).map((e) => e.nodeId).sort(), ['dr-a', 'dr-c'], 'gone from the store at once');
    await sleep(HEARTBEAT_MS * 3);
    assert.deepEqual((await a.registry.read()).map((e) => e.nodeId).sort(), ['dr-a', 'dr-c'], 'and stays gone (no late heartbeat)');
    await a.registry.leave();
    await c.registry.leave();
  });

  it('malformed or oversized entries in Redis are skipped, not handed out', async () => {
    const a = await node('mal-a');
    await a.registry.join();
    const raw = await redis.client();
    const far = Date.now() * 2;
    await raw.set(`${RELAY_KEY_PREFIX}junk`, '{"node_id":"junk","public_host":"bad host!"}', 'PX', 60_000);
    await raw.zadd(RELAY_INDEX_KEY, far, 'junk');
    await raw.set(`${RELAY_KEY_PREFIX}big`, 'x'.repeat(10_000), 'PX', 60_000);
    await raw.zadd(RELAY_INDEX_KEY, far, 'big');
    await raw.zadd(RELAY_INDEX_KEY, far, 'no-key');
    await a.registry.heartbeat(true);
    assert.deepEqual(ids(a.registry), ['mal-a']);
    assert.equal(await raw.zscore(RELAY_INDEX_KEY, 'no-key'), null, 'an index entry without its key is pruned');
    await raw.del(`${RELAY_KEY_PREFIX}junk`, `${RELAY_KEY_PREFIX}big`);
    await a.registry.leave();
  });

  it('Redis down: the last view is served for a bounded time, health says degraded; back: ok', async () => {
    const staleMs = 1500;
    const a = await node('out-a', { staleMs });
    const b = await node('out-b');
    await a.registry.join();
    await b.registry.join();
    await a.registry.heartbeat(true);
    assert.deepEqual(ids(a.registry), ['out-a', 'out-b']);
    assert.deepEqual(a.registry.problems(), []);
    await redis.down();
    const downAt = Date.now();
    await until(() => a.registry.problems().length > 0, 2000, 'degraded');
    assert.match(a.registry.problems()[0]!, /relay registry: storage unreachable since/);
    // Past the entries' TTL the frozen view still serves (nobody could refresh an entry).
    await sleep(Math.max(0, TTL_MS + 100 - (Date.now() - downAt)));
    assert.deepEqual(ids(a.registry), ['out-a', 'out-b'], 'last view kept');
    await until(() => a.registry.live().length === 0, staleMs + 1000, 'view dropped after staleMs');
    await redis.start();
    await until(() => a.registry.problems().length === 0, 5000, 'ok again after the reconnect');
    await until(() => ids(a.registry).length === 2, 3000, 'both back in the view');
    await a.registry.leave();
    await b.registry.leave();
  });
});
