// Two Ferry processes with the same cluster.node_id (a copied config): the second refuses to
// start with a clear error while the first is alive; after the first is killed with SIGKILL (its
// registry entry still within the TTL), a restart with that id starts and joins.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LOOPBACK_PEERS, startFerryProcess, type FerryProcess } from '../../helpers/ferry-process.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { sleep, until } from '../../helpers/wait.js';

const MESSAGE = 'cluster.node_id node-same is already used by a live node; give each node its own id';

describe('duplicate cluster.node_id', () => {
  let redis: TestRedis | undefined;
  const nodes: FerryProcess[] = [];
  after(async () => {
    for (const n of nodes) await n.stop();
    await redis?.stop();
  });

  const start = async (url: string): Promise<{ node?: FerryProcess; error?: string }> => {
    try {
      const node = await startFerryProcess({
        peers: LOOPBACK_PEERS, storage: url, log_level: 'info',
        cluster: { node_id: 'node-same', heartbeat: '200ms', ttl: '2s' },
      });
      nodes.push(node);
      return { node };
    } catch (err) {
      return { error: (err as Error).message }; // exited before its STUN port answered
    }
  };

  it('refuses a second live process with the id; a restart after kill -9 starts', async () => {
    redis = await startRedis();
    const first = await start(redis.url);
    assert.ok(first.node, first.error);
    await until(() => first.node!.logs().includes('relay registry: joined as node-same'), 5000, 'the first node joined');

    const second = await start(redis.url);
    if (second.node !== undefined) await until(() => !second.node!.running(), 5000, 'the second process exits');
    const out = second.error ?? second.node!.logs();
    assert.ok(out.includes(MESSAGE), out.slice(-2000));
    assert.ok(first.node!.running(), 'the first node runs on');

    first.node!.signal('SIGKILL');
    await until(() => !first.node!.running(), 5000, 'the first node is dead');
    const restarted = await start(redis.url); // its old entry still lives (ttl 2s)
    assert.ok(restarted.node, restarted.error);
    await until(() => restarted.node!.logs().includes('relay registry: joined as node-same'), 5000, 'the restarted node joined');
    await sleep(300);
    assert.ok(restarted.node!.running());
    assert.ok(!restarted.node!.logs().includes(MESSAGE));
  });
});
