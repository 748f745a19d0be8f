// Usage without double counting in a fleet: one real redis-server (persisted), two Ferry
// processes sharing it. Traffic through both nodes, a graceful restart of one node, then a Redis
// restart while traffic flows through a live allocation (flushes fail, then are retried as the
// same batches), then more traffic: GET /v1/usage on either node equals what the peers and the
// clients actually received, to the byte and packet, each way.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiJson } from '../../helpers/admin-http.js';
import { LOOPBACK_PEERS, signalingPort, startFerryProcess, type FerryProcess } from '../../helpers/ferry-process.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { sleep, until } from '../../helpers/wait.js';
import { Cleanups } from '../../helpers/cleanups.js';

const ADMIN = 'fleet-usage-admin-token-0123456789';
const WRITE_INTERVAL_MS = 500;

interface Node extends FerryProcess {
  readonly api: string;
}

async function startNode(redis: TestRedis, nodeId: string): Promise<Node> {
  const p = await startFerryProcess({
    storage: redis.url,
    cluster: { node_id: nodeId },
    peers: LOOPBACK_PEERS,
    signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
    network_usage: { write_interval: `${WRITE_INTERVAL_MS}ms` },
    log_level: 'info',
  });
  let port = 0;
  try {
    port = await signalingPort(p);
  } catch (err) {
    await p.stop();
    throw err;
  }
  return Object.assign(p, { api: `http://127.0.0.1:${port}` });
}

/** What actually arrived: at the peers (to peer) and at the clients (to client). */
const arrived = { bytesToPeer: 0, bytesToClient: 0, packetsToPeer: 0, packetsToClient: 0 };

/** One client's allocation on a node, a channel to its own peer. */
interface Leg {
  readonly client: TestTurnClient;
  readonly peer: UdpPeer;
  readonly relayed: { address: string; port: number };
}

async function openLeg(node: Node, cred: { username: string; password: string }, cleanups: Cleanups): Promise<Leg> {
  const peer = await UdpPeer.open('127.0.0.1');
  cleanups.push(() => peer.close());
  const client = await TestTurnClient.connect({ port: node.udpPort, transport: 'udp', ...cred });
  cleanups.push(() => client.close());
  const res = await client.allocate();
  assert.equal(res.code, 0, `Allocate on the node: ${res.code}`);
  const relayed = res.xorAddress(0x0016)!;
  assert.equal((await client.channelBind(0x4000, peer.address)).code, 0);
  return { client, peer, relayed };
}

/** One datagram each way; counts what arrived (a datagram lost on loopback fails the test: it is not billed either way). */
async function exchange(leg: Leg, toPeer: number, toClient: number): Promise<void> {
  const before = leg.peer.received.length;
  leg.client.sendChannelData(0x4000, Buffer.alloc(toPeer, 0x61));
  assert.ok(await leg.peer.waitFor(before + 1, 3000), 'the peer received the datagram');
  arrived.bytesToPeer += leg.peer.received[before].data.length;
  arrived.packetsToPeer += 1;
  leg.peer.send(Buffer.alloc(toClient, 0x62), leg.relayed);
  const back = await leg.client.nextData(3000);
  assert.ok(back !== null, 'the client received the datagram');
  arrived.bytesToClient += back.data.length;
  arrived.packetsToClient += 1;
}

/** `count` exchanges of varied sizes. */
async function traffic(leg: Leg, count: number, seed: number): Promise<void> {
  for (let i = 0; i < count; i++) await exchange(leg, 1 + ((seed * 131 + i * 977) % 1200), 1 + ((seed * 71 + i * 613) % 900));
}

async function usageOn(node: Node, account: string) {
  const r = await apiJson<{ usage: Array<{ bytes_to_peer: number; bytes_to_client: number; packets_to_peer: number; packets_to_client: number }> }>(
    node.api, 'GET', `/v1/usage?granularity=timeframe&account=${encodeURIComponent(account)}`, ADMIN,
  );
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const sum = { bytesToPeer: 0, bytesToClient: 0, packetsToPeer: 0, packetsToClient: 0 };
  for (const row of r.json.usage) {
    sum.bytesToPeer += row.bytes_to_peer;
    sum.bytesToClient += row.bytes_to_client;
    sum.packetsToPeer += row.packets_to_peer;
    sum.packetsToClient += row.packets_to_client;
  }
  return sum;
}

describe('fleet usage is exact across nodes, a node restart and a Redis restart', () => {
  const cleanups = new Cleanups();
  after(async () => {
    await cleanups.run();
  });

  it('GET /v1/usage on either node equals the bytes relayed, each way', async () => {
    const redis = await startRedis({ persist: true });
    cleanups.push(() => redis.stop());
    const a = await startNode(redis, 'node-a');
    cleanups.push(() => a.stop());

    // An account made through node A's admin API; credentials minted on A, accepted by both nodes.
    const made = await apiJson(a.api, 'POST', '/v1/accounts', ADMIN, { name: 'fleet-usage' });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const { id, api_key: apiKey } = made.json as { id: string; api_key: string };
    const ice = await apiJson(a.api, 'POST', '/v1/ice-servers', apiKey);
    assert.equal(ice.status, 200, JSON.stringify(ice.json));
    const { username, credential: password } = ice.json.iceServers[0] as { username: string; credential: string };
    const cred = { username, password };

    let b = await startNode(redis, 'node-b');
    cleanups.push(() => b.stop());

    // 1. Traffic through both nodes.
    const onA = await openLeg(a, cred, cleanups);
    const onB = await openLeg(b, cred, cleanups);
    await traffic(onA, 20, 1);
    await traffic(onB, 20, 2);

    // 2. A graceful restart of node B: its final flush writes the rest (its allocation ends with it).
    await traffic(onB, 5, 3);
    // One SIGTERM to Ferry alone (stop() signals the whole process group, and the guard forwards
    // it too: Ferry would see a second signal and take the one-second last-flush path).
    b.signal('SIGTERM');
    await until(() => !b.running(), 10_000, 'node B stopped');
    assert.match(b.logs(), /"msg":"stopped"/);
    assert.doesNotMatch(b.logs(), /second signal|USAGE LOST|usage flush failed/);
    await b.stop();
    b = await startNode(redis, 'node-b');
    cleanups.push(() => b.stop());
    const onB2 = await openLeg(b, cred, cleanups);
    await traffic(onB2, 10, 4);

    // 3. A Redis restart (persisted data kept) while traffic flows through A's live allocation:
    // flushes fail meanwhile and are retried as the same batches once Redis is back.
    let pumping = true;
    const pump = (async () => {
      for (let i = 0; pumping && i < 10_000; i++) {
        await exchange(onA, 100 + (i % 700), 50 + (i % 300));
        await sleep(10);
      }
    })();
    try {
      await sleep(300);
      await redis.restart({ downMs: 2.5 * WRITE_INTERVAL_MS });
      await sleep(1.5 * WRITE_INTERVAL_MS);
    } finally {
      pumping = false;
      await pump;
    }
    const failed = a.logs().split('\n').filter((l) => l.includes('usage flush failed')).map((l) => JSON.parse(l) as { writer?: string; seq?: number });
    assert.ok(failed.length > 0, 'a flush failed while Redis was down');
    assert.match(failed[0].writer ?? '', /^node-a:[0-9a-f]{16}$/, 'batches are written as <node id>:<boot id>');
    await until(() => /usage write succeeded again/.test(a.logs()), 5000, 'node A wrote again after the Redis restart');

    // 4. More traffic through both nodes.
    await traffic(onA, 10, 5);
    await traffic(onB2, 10, 6);

    // Every node's counted bytes reach the ledger within a write interval or two; then either
    // node answers the fleet-wide totals, exactly (a double count would never come back down).
    const expected = { ...arrived };
    const deadline = Date.now() + 8000;
    for (;;) {
      const [ua, ub] = [await usageOn(a, id), await usageOn(b, id)];
      if ((JSON.stringify(ua) === JSON.stringify(expected) && JSON.stringify(ub) === JSON.stringify(expected)) || Date.now() > deadline) {
        assert.deepEqual(ua, expected, 'node A');
        assert.deepEqual(ub, expected, 'node B');
        break;
      }
      await sleep(200);
    }
    await sleep(2.5 * WRITE_INTERVAL_MS); // later flushes (retries included) add nothing
    assert.deepEqual(await usageOn(a, id), expected, 'node A, later');
    assert.deepEqual(await usageOn(b, id), expected, 'node B, later');
    assert.ok(expected.packetsToPeer > 75 && expected.packetsToClient === expected.packetsToPeer);
  });
});
