// The relay fleet end to end: one redis-server and three Ferry processes (nodes A, B and C, each
// in its own region), heartbeat 200ms, TTL 1s. An account made on A mints ICE servers on B that
// point at C (region preferred), and relays through C; revoking the account's credentials on A
// closes its allocation and its signaling socket on C and refuses a new Allocate there; C killed
// with SIGKILL is gone from /v1/relays and from minted ICE servers within the TTL; B stopped with
// SIGTERM is listed as draining, then gone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiJson } from '../../helpers/admin-http.js';
import { LOOPBACK_PEERS, signalingPort, startFerryProcess, type FerryProcess } from '../../helpers/ferry-process.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { Client, type TestServer } from '../../helpers/ws-client.js';
import { sleep, until } from '../../helpers/wait.js';
import { Cleanups } from '../../helpers/cleanups.js';

const ADMIN = 'fleet-admin-token-0123456789abcdef';
const HEARTBEAT_MS = 200;
const TTL_MS = 1000;
/** How late a poll may notice a change: one poll interval plus an HTTP round trip under load. */
const SLACK_MS = 400;

interface Node extends FerryProcess {
  readonly name: string;
  readonly base: string;
}

interface Relay {
  node_id: string;
  state: string;
  region: string | null;
  ports: { udp?: number };
  load: { allocations: number };
  self: boolean;
}

interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

async function startNode(name: string, redisUrl: string): Promise<Node> {
  const handle = await startFerryProcess({
    peers: LOOPBACK_PEERS,
    storage: redisUrl,
    log_level: 'info',
    cluster: { node_id: `node-${name}`, region: `region-${name}`, heartbeat: `${HEARTBEAT_MS}ms`, ttl: `${TTL_MS}ms` },
    signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
  });
  let port = 0;
  try {
    port = await signalingPort(handle, `node ${name}: signaling port in the log`);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return Object.assign(handle, { name, base: `http://127.0.0.1:${port}` });
}

async function relaysOn(node: Node): Promise<Relay[]> {
  const r = await apiJson<{ relays: Relay[] }>(node.base, 'GET', '/v1/relays', ADMIN, undefined, { timeoutMs: 2000 });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.relays;
}

async function iceServers(node: Node, apiKey: string, body?: unknown): Promise<{ status: number; servers: IceServer[] }> {
  const r = await apiJson<{ iceServers?: IceServer[] }>(node.base, 'POST', '/v1/ice-servers', apiKey, body, { timeoutMs: 2000 });
  return { status: r.status, servers: r.json.iceServers ?? [] };
}

const pointsAt = (s: IceServer, udpPort: number) => s.urls.includes(`turn:127.0.0.1:${udpPort}?transport=udp`);

/** Polls `check` (async) every 25 ms until it is true; rejects after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(25);
  }
}

describe('a relay fleet of three nodes on one Redis', () => {
  let redis: TestRedis;
  let a: Node;
  let b: Node;
  let c: Node;
  const cleanups = new Cleanups();

  before(async () => {
    redis = await startRedis();
    cleanups.push(() => redis.stop());
    const nodes = await Promise.allSettled(['a', 'b', 'c'].map((n) => startNode(n, redis.url)));
    for (const n of nodes) if (n.status === 'fulfilled') cleanups.push(() => n.value.stop());
    const failed = nodes.find((n) => n.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    [a, b, c] = nodes.map((n) => (n as PromiseFulfilledResult<Node>).value) as [Node, Node, Node];
  });
  after(async () => {
    await cleanups.run();
  });

  it('mints on B for C, relays through C, revokes from A, loses C to SIGKILL and drains B on SIGTERM', async () => {
    await eventually(async () => (await relaysOn(a)).filter((r) => r.state === 'active').length === 3, 5000, 'A lists three active relays');
    const listed = await relaysOn(a);
    assert.deepEqual(listed.map((r) => [r.node_id, r.region, r.ports.udp]), [['node-a', 'region-a', a.udpPort], ['node-b', 'region-b', b.udpPort], ['node-c', 'region-c', c.udpPort]]);

    // An account made on A.
    const made = await apiJson<{ id: string; api_key: string }>(a.base, 'POST', '/v1/accounts', ADMIN, { name: 'fleet' });
    assert.equal(made.status, 201);
    const { id, api_key: apiKey } = made.json;

    // B mints ICE servers (once B has heard of the account): two relays, C first (its region).
    let minted: IceServer[] = [];
    await eventually(async () => {
      const r = await iceServers(b, apiKey, { region: 'region-c' });
      minted = r.servers;
      return r.status === 200;
    }, 3000, 'B accepts the API key made on A');
    assert.equal(minted.length, 2, JSON.stringify(minted));
    assert.ok(pointsAt(minted[0]!, c.udpPort), `C first: ${JSON.stringify(minted[0]!.urls)}`);
    assert.ok(!pointsAt(minted[1]!, c.udpPort), 'two different relays');
    assert.match(minted[0]!.username, new RegExp(`^\\d+:${id}:\\d+$`));

    // Relay through C with B's credentials.
    const sessionsOnC = async () => (await apiJson<{ sessions: unknown[] }>(c.base, 'GET', `/v1/sessions?account=${id}`, ADMIN)).json.sessions.length;
    const peer = await UdpPeer.open('127.0.0.1');
    cleanups.push(() => peer.close());
    const client = await TestTurnClient.connect({ port: c.udpPort, username: minted[0]!.username, password: minted[0]!.credential });
    cleanups.push(() => client.close());
    const allocated = await client.allocate();
    assert.equal(allocated.code, 0, 'C accepts the credential B minted');
    const relayed = allocated.xorAddress(0x0016)!;
    assert.equal((await client.channelBind(0x4000, peer.address)).code, 0);
    client.sendChannelData(0x4000, Buffer.from('through C'));
    assert.ok(await peer.waitFor(1), 'the peer got the data relayed by C');
    assert.equal(peer.received[0]!.data.toString(), 'through C');
    peer.send(Buffer.from('back'), relayed);
    assert.equal((await client.nextData())?.data.toString(), 'back');
    await eventually(async () => (await relaysOn(b)).find((r) => r.node_id === 'node-c')?.load.allocations === 1, 2000, 'C\'s load (one allocation) in the registry');
    assert.equal(await sessionsOnC(), 1);
    // The overview: on A the fleet's three relays with C's load; on C its own node's figures.
    type Overview = { node_id: string; node: { allocations: number; bytes_to_peer: number; bytes_to_client: number }; relays: Relay[] | null };
    const onA = await apiJson<Overview>(a.base, 'GET', '/v1/overview', ADMIN);
    assert.equal(onA.status, 200, JSON.stringify(onA.json));
    assert.equal(onA.json.node_id, 'node-a');
    assert.deepEqual(onA.json.relays?.map((r) => [r.node_id, r.self]), [['node-a', true], ['node-b', false], ['node-c', false]]);
    assert.equal(onA.json.relays?.find((r) => r.node_id === 'node-c')?.load.allocations, 1);
    const onC = (await apiJson<Overview>(c.base, 'GET', '/v1/overview', ADMIN)).json;
    assert.deepEqual([onC.node.allocations, onC.node.bytes_to_peer, onC.node.bytes_to_client], [1, 'through C'.length, 'back'.length]);

    // A signaling socket of the account on C, opened with its API key.
    const socket = await Client.connect({ base: c.base.replace(/^http/, 'ws') } as TestServer, 'on-c', { key: apiKey });
    cleanups.push(() => socket.ws.terminate());

    // Revoked on A: C closes the live allocation and the socket, and refuses the old credential.
    await sleep(5);
    const revoked = await apiJson(a.base, 'POST', `/v1/accounts/${id}/revoke`, ADMIN);
    assert.equal(revoked.status, 200);
    await eventually(async () => (await sessionsOnC()) === 0, 3000, 'C closed the account\'s allocation');
    const closed = await Promise.race([socket.closed, sleep(3000).then(() => null)]);
    assert.equal(closed?.code, 1008, 'C closed the account\'s signaling socket ("account closed")');
    const again = await TestTurnClient.connect({ port: c.udpPort, username: minted[0]!.username, password: minted[0]!.credential });
    cleanups.push(() => again.close());
    assert.equal((await again.allocate()).code, 401, 'C refuses a new Allocate with the revoked credential');
    // A credential minted after the revocation works there: the refusal was the revocation.
    const fresh = (await iceServers(b, apiKey, { region: 'region-c' })).servers[0]!;
    assert.ok(pointsAt(fresh, c.udpPort));
    const third = await TestTurnClient.connect({ port: c.udpPort, username: fresh.username, password: fresh.credential });
    cleanups.push(() => third.close());
    assert.equal((await third.allocate()).code, 0);

    // C is killed: gone from /v1/relays and from the ICE servers B mints within the TTL.
    c.signal('SIGKILL');
    const killedAt = Date.now();
    await until(() => !c.running(), 2000, 'C exited');
    await eventually(async () => !(await relaysOn(a)).some((r) => r.node_id === 'node-c'), TTL_MS + SLACK_MS, 'C gone from A\'s /v1/relays');
    const goneFromList = Date.now() - killedAt;
    await eventually(async () => !(await iceServers(b, apiKey)).servers.some((s) => pointsAt(s, c.udpPort)), TTL_MS + SLACK_MS, 'C gone from B\'s ICE servers');
    const goneFromIce = Date.now() - killedAt;
    assert.ok(goneFromList <= TTL_MS + SLACK_MS && goneFromIce <= TTL_MS + SLACK_MS, `within the TTL: list ${goneFromList} ms, ICE servers ${goneFromIce} ms`);
    for (let k = 0; k < 20; k++) {
      const r = await iceServers(b, apiKey, { region: 'region-c' });
      assert.equal(r.status, 200);
      assert.equal(r.servers.length, 2, 'A and B are left');
      assert.ok(!r.servers.some((s) => pointsAt(s, c.udpPort)), 'C never handed out again');
    }

    // B is stopped: draining first (seen from A), then gone; A alone is handed out meanwhile.
    b.signal('SIGTERM');
    const states: string[] = [];
    await eventually(async () => {
      const mine = (await relaysOn(a)).find((r) => r.node_id === 'node-b');
      const state = mine?.state ?? 'gone';
      if (states.at(-1) !== state) states.push(state);
      return state === 'gone';
    }, 5000, 'B gone from A\'s /v1/relays');
    assert.deepEqual(states, ['active', 'draining', 'gone'].slice(states[0] === 'active' ? 0 : 1), `B's states seen from A: ${states.join(' → ')}`);
    assert.ok(states.includes('draining'), 'B was listed as draining before it left');
    await until(() => !b.running(), 5000, 'B exited');
    const left = await iceServers(a, apiKey);
    assert.equal(left.status, 200);
    assert.equal(left.servers.length, 1, 'one live relay left: one entry');
    assert.ok(pointsAt(left.servers[0]!, a.udpPort));
    assert.deepEqual((await relaysOn(a)).map((r) => r.node_id), ['node-a']);
  });
});
