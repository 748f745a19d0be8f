// Shared enforcement across a fleet, end to end: two real `ferry start --fg` processes on one
// real redis-server, a local webhook receiver (both nodes' webhooks point at it), TURN clients
// relaying known payload to a loopback peer through both nodes.
//  1. One account with a small byte limit, its traffic split across both nodes: the soft threshold
//     refuses new allocations (486) and /v1/ice-servers (429) on both, the hard one closes the live
//     allocations on both, and the receiver gets one usage.soft_limit and one usage.hard_limit in
//     total (each claimed once per fleet in Redis).
//  2. quotas.allocations_per_user counts the account's allocations on both nodes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LOOPBACK_PEERS, TEST_SECRET, restCredentials, signalingPort, startFerryProcess, type FerryProcess } from '../../helpers/ferry-process.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { sleep, until } from '../../helpers/wait.js';
import { Receiver } from '../../helpers/webhook-receiver.js';
import { apiJson } from '../../helpers/admin-http.js';
import { Cleanups } from '../../helpers/cleanups.js';

const HOOK_SECRET = 'fleet-limits-hook-secret-0123';
const ADMIN = 'fleet-limits-admin-token-0123';
const LIMIT = 20_000; // soft 50 % = 10,000 bytes, hard 80 % = 16,000 bytes
const CHUNK = 1000;

/** Polls the async `check` every 100 ms until it resolves true; rejects after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(100);
  }
}

interface Node extends FerryProcess {
  readonly signalingPort: number;
}

describe('a fleet of two nodes enforces one account\'s limits together', () => {
  let redis: TestRedis;
  const receiver = new Receiver();
  const nodes: Node[] = [];
  const cleanups = new Cleanups();

  const launch = async (nodeId: string): Promise<Node> => {
    const handle = await startFerryProcess({
      peers: LOOPBACK_PEERS,
      storage: redis.url,
      cluster: { node_id: nodeId, heartbeat: '200ms', ttl: '1s' },
      quotas: { allocations_per_user: 2 },
      signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
      network_usage: { timeframe: '1h', soft_limit: '50%', hard_limit: '80%', write_interval: '200ms', report_interval: '0' },
      webhooks: [{ url: `http://127.0.0.1:${receiver.port}/hooks`, secret: HOOK_SECRET, events: ['usage.soft_limit', 'usage.hard_limit'] }],
    });
    nodes.push(handle as Node);
    let port = 0;
    port = await signalingPort(handle);
    const node = Object.assign(handle, { signalingPort: port });
    nodes[nodes.length - 1] = node;
    return node;
  };
  const http = (node: Node, method: string, path: string, token: string, body?: unknown) => apiJson(`http://127.0.0.1:${node.signalingPort}`, method, path, token, body);
  const turnClient = async (node: Node, cred: { username: string; password: string }) => {
    const c = await TestTurnClient.connect({ port: node.udpPort, ...cred });
    cleanups.push(() => c.close());
    return c;
  };
  const account = async (node: Node, name: string, limit?: number) => {
    const created = await http(node, 'POST', '/v1/accounts', ADMIN, { name });
    assert.equal(created.status, 201);
    const { id, api_key: apiKey } = created.json as { id: string; api_key: string };
    if (limit !== undefined) assert.equal((await http(node, 'PATCH', `/v1/accounts/${id}`, ADMIN, { limit })).status, 200);
    return { id, apiKey };
  };

  let a: Node;
  let b: Node;
  let limited: { id: string; apiKey: string };
  let quota: { id: string; apiKey: string };

  before(async () => {
    redis = await startRedis();
    await receiver.listen();
    a = await launch('fleet-a');
    // The accounts are made before node b starts, which loads them from Redis.
    limited = await account(a, 'tiny', LIMIT);
    quota = await account(a, 'quota');
    b = await launch('fleet-b');
  });

  after(async () => {
    await cleanups.run();
    for (const n of nodes) await n.stop();
    await receiver.close();
    await redis?.stop();
  });

  it('soft on both nodes (486, 429), hard on both (live allocations closed), one event each for the fleet', async () => {
    const peer = await UdpPeer.open('127.0.0.1');
    cleanups.push(() => peer.close());
    const relays = [] as { client: TestTurnClient; sent: number }[];
    for (const node of [a, b]) {
      const client = await turnClient(node, restCredentials(TEST_SECRET, limited.id));
      assert.equal((await client.allocate()).code, 0);
      assert.equal((await client.channelBind(0x4000, peer.address)).code, 0);
      relays.push({ client, sent: 0 });
    }
    let delivered = 0;
    const send = async (r: { client: TestTurnClient; sent: number }, n: number) => {
      for (let i = 0; i < n; i++) r.client.sendChannelData(0x4000, Buffer.alloc(CHUNK, 7));
      r.sent += n;
      delivered += n;
      assert.ok(await peer.waitFor(delivered), `the peer got ${delivered} packets`);
    };
    // 6,000 bytes through each node: 12,000 ≥ the soft threshold only together.
    await send(relays[0], 6);
    await send(relays[1], 6);
    for (const node of [a, b]) {
      await eventually(async () => (await http(node, 'POST', '/v1/ice-servers', limited.apiKey)).status === 429, 5000, `node ${JSON.stringify(node.config.cluster)} to refuse ice-servers (soft limit)`);
    }
    for (const node of [a, b]) {
      const probe = await turnClient(node, restCredentials(TEST_SECRET, limited.id));
      assert.equal((await probe.allocate()).code, 486, 'a new allocation is refused on either node');
    }
    // The live allocations still relay between the thresholds.
    await send(relays[0], 2);
    await send(relays[1], 2); // 16,000: the hard threshold
    for (const r of relays) await eventually(async () => (await r.client.refresh()).code === 437, 5000, 'the live allocation on each node to be closed (hard limit)');

    await sleep(1500); // more than a limiter check and a webhook attempt on each node: no second event comes
    const events = receiver.of(limited.id).map((h) => h.json.type);
    assert.deepEqual(events, ['usage.soft_limit', 'usage.hard_limit'], 'one soft and one hard event for the fleet');
  });

  it('allocations_per_user counts the allocations on both nodes', async () => {
    const first = await turnClient(a, restCredentials(TEST_SECRET, quota.id));
    assert.equal((await first.allocate()).code, 0);
    const second = await turnClient(b, restCredentials(TEST_SECRET, quota.id));
    assert.equal((await second.allocate()).code, 0, '2 of 2 across the fleet');
    await sleep(400); // two heartbeats: the counts have reached node a even without the pub/sub message
    const third = await turnClient(a, restCredentials(TEST_SECRET, quota.id));
    assert.equal((await third.allocate()).code, 486, 'node a holds 1, node b 1: the 3rd is over allocations_per_user');
    assert.equal((await second.refresh(0)).code, 0, 'node b releases its allocation');
    await sleep(400);
    assert.equal((await third.allocate()).code, 0, 'room again once node a has learned of it');
  });
});
