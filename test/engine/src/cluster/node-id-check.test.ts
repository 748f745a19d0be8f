// One process per node id, over a real redis-server: a node id held by a live process (another
// boot id, heartbeating) is refused at start with a clear error; a leftover entry of a previous
// run (killed without leaving, so still within its TTL) is taken over after one recheck; this
// process's own entry, or none, passes at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkNodeIdFree, DuplicateNodeIdError, recheckAfterMs } from '../../../../src/cluster/node-id-check.js';
import { RelayRegistry } from '../../../../src/cluster/registry.js';
import type { RelayEntry } from '../../../../src/cluster/types.js';
import { createLogger } from '../../../../src/logger.js';
import { createRedis } from '../../../../src/store/redis/client.js';
import { RedisRegistryStore } from '../../../../src/store/redis/registry.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';

const HEARTBEAT_MS = 100;
const TTL_MS = 1000;
const log = createLogger('silent');

describe('node id check at start', () => {
  let redis: TestRedis;
  const stores: RedisRegistryStore[] = [];
  const registries: RelayRegistry[] = [];
  const storeOf = async () => {
    const client = createRedis(redis.url, { role: 'test-node-id' });
    client.on('error', () => {});
    await client.connect();
    const s = new RedisRegistryStore(client);
    stores.push(s);
    return s;
  };
  const entry = (nodeId: string, bootId: string, beatAt: number): Omit<RelayEntry, 'state' | 'nodeId'> & { nodeId: string; state: 'active' } => ({
    nodeId, state: 'active', publicHost: 'relay.test', transports: ['udp'], ports: { udp: 3478 }, load: { allocations: 0, bps: 0 }, startedAt: 1, version: 'test', bootId, beatAt,
  });
  const check = (store: RedisRegistryStore, nodeId: string, bootId: string) => checkNodeIdFree({ store, nodeId, bootId, heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS, log });

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const r of registries) await r.leave().catch(() => {});
    for (const s of stores) await s.close().catch(() => {});
    await redis?.stop();
  });

  it('a live process with the same node id and another boot id: refused, naming the id', async () => {
    const store = await storeOf();
    const live = new RelayRegistry({
      store, nodeId: 'node-dup', heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS, log,
      describe: () => { const { nodeId: _n, state: _s, ...rest } = entry('node-dup', 'aaaaaaaaaaaaaaaa', Date.now()); return rest; },
    });
    registries.push(live);
    await live.join();
    const t0 = Date.now();
    await assert.rejects(check(await storeOf(), 'node-dup', 'bbbbbbbbbbbbbbbb'), (err: unknown) => {
      assert.ok(err instanceof DuplicateNodeIdError);
      assert.equal(err.message, 'cluster.node_id node-dup is already used by a live node; give each node its own id');
      return true;
    });
    const took = Date.now() - t0;
    assert.ok(took >= recheckAfterMs(HEARTBEAT_MS, TTL_MS) - 10 && took < TTL_MS + 500, `one recheck, bounded (${took} ms)`);
    // The same process (its own boot id) passes at once.
    await check(await storeOf(), 'node-dup', 'aaaaaaaaaaaaaaaa');
  });

  it('a leftover entry of a previous run (kill -9: not refreshed, not yet expired) is taken over', async () => {
    const store = await storeOf();
    await store.put(entry('node-restarted', 'cccccccccccccccc', Date.now()), TTL_MS); // the dead run's last heartbeat
    const t0 = Date.now();
    await check(store, 'node-restarted', 'dddddddddddddddd');
    const took = Date.now() - t0;
    assert.ok(took >= recheckAfterMs(HEARTBEAT_MS, TTL_MS) - 10 && took < TTL_MS, `waited one recheck (${took} ms)`);
  });

  it('no entry under the id: passes at once', async () => {
    const t0 = Date.now();
    await check(await storeOf(), 'node-new', 'eeeeeeeeeeeeeeee');
    assert.ok(Date.now() - t0 < 200);
  });

  it('the entry carries the boot id and the heartbeat time through the store', async () => {
    const store = await storeOf();
    await store.put(entry('node-rt', 'ffffffffffffffff', 12345), TTL_MS);
    const e = (await store.list(100)).find((l) => l.entry.nodeId === 'node-rt')?.entry;
    assert.equal(e?.bootId, 'ffffffffffffffff');
    assert.equal(e?.beatAt, 12345);
  });
});
