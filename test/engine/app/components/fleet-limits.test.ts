// Shared enforcement between two "nodes" on one real redis-server: each node is a real
// TurnServer (real UDP sockets) with its own FleetLimitsComponent (its own Redis connections,
// counts, rate limits and blocks). allocations_per_user counts across both, the per-account and
// per-IP allocation rates and the failed-authentication budget are shared (486 / no answer on
// both), the bandwidth share halves when both relay an account, a node that dies drops out
// within the TTL, Redis down refuses new allocations with 500 "storage unavailable" and
// recovers, and a usage event is claimed once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../../src/config/load.js';
import { createLogger } from '../../../../src/logger.js';
import { FerryMetrics } from '../../../../src/metrics/index.js';
import { clusterIdentity } from '../../../../app/cluster/identity.js';
import { FleetLimitsComponent } from '../../../../app/components/fleet-limits.js';
import type { FleetLimits } from '../../../../src/limits/fleet-limits.js';
import { readErrorCode } from '../../../../turn/codec/attributes.js';
import * as C from '../../../../turn/codec/constants.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';
import { startServer, type Fixture } from '../../../helpers/turn-server.js';
import { TestTurnClient, type Response } from '../../../helpers/turn-client.js';
import { sleep, until } from '../../../helpers/wait.js';
import { rateWindow } from '../../../../src/limits/rate-counter.js';

interface Node {
  readonly component: FleetLimitsComponent;
  readonly gate: FleetLimits;
  readonly fx: Fixture;
  readonly metrics: FerryMetrics;
  stop(): Promise<void>;
}

const RATES = { allocations_per_account: 4, allocations_per_ip: 3, auth_failures_per_ip: 3, challenges_per_ip: 0 };

async function startNode(redis: TestRedis, nodeId: string, perUser: number): Promise<Node> {
  const config = parseConfig({
    storage: redis.url,
    cluster: { node_id: nodeId, heartbeat: '100ms', ttl: '600ms' },
    quotas: { allocations_per_user: perUser },
    rate_limits: RATES,
  });
  const metrics = new FerryMetrics({ defaultMetrics: false });
  const component = new FleetLimitsComponent({ config, identity: clusterIdentity(config), metrics, log: createLogger('silent') });
  const gate = component.gate({ limited: () => false });
  const fx = await startServer({ users: { alice: 'alice-pass', bob: 'bob-pass', carol: 'carol-pass', dave: 'dave-pass' }, quotas: { allocationsPerUser: perUser } });
  fx.gate(gate);
  fx.listen(gate.turnEvents());
  try {
    await component.start();
  } catch (err) {
    await fx.stop();
    await component.stop();
    throw err;
  }
  let stopped = false;
  const node: Node = {
    component,
    gate,
    fx,
    metrics,
    async stop() {
      if (stopped) return;
      stopped = true;
      await fx.stop();
      await component.stop();
    },
  };
  nodes.push(node);
  return node;
}

const nodes: Node[] = [];

/** Waits for the next one-minute window when this one ends within 5 s: a test's counts must fall in one window. */
async function freshWindow(): Promise<void> {
  const left = rateWindow(Date.now()).end - Date.now();
  if (left < 5000) await sleep(left + 50);
}

const clients: TestTurnClient[] = [];
async function client(fx: Fixture, username: string, opts: { localAddress?: string; password?: string } = {}): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({ port: fx.udpPort, username, password: opts.password ?? `${username}-pass`, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  clients.push(c);
  return c;
}

const reasonOf = (r: Response) => readErrorCode(r.msg, r.attr(C.ATTR_ERROR_CODE))?.reason;
const metric = async (n: Node, name: string, label: string) => {
  const body = (await n.metrics.render()).body;
  const line = body.split('\n').find((l) => l.startsWith(`${name}{${label}}`));
  return line === undefined ? NaN : Number(line.split(' ').at(-1));
};

describe('fleet limits: two nodes on one Redis', () => {
  let redis: TestRedis;
  let a: Node;
  let b: Node;

  before(async () => {
    redis = await startRedis();
    a = await startNode(redis, 'node-a', 3);
    b = await startNode(redis, 'node-b', 3);
  });

  after(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const n of nodes.splice(0)) await n.stop();
    await redis?.stop();
  });

  it('allocations_per_user counts across nodes; the bandwidth share splits between them', async () => {
    assert.equal(a.gate.shareBps('alice', 1000), 1000, 'alone: the whole cap');
    for (const ip of ['127.0.0.11', '127.0.0.12']) assert.equal((await (await client(a.fx, 'alice', { localAddress: ip })).allocate()).code, 0);
    await until(() => b.component.remote?.count('alice') === 2, 2000, 'node b to learn of node a\'s 2 allocations');
    assert.equal((await (await client(b.fx, 'alice', { localAddress: '127.0.0.13' })).allocate()).code, 0, '3 of 3 across the fleet');
    const refused = await (await client(b.fx, 'alice', { localAddress: '127.0.0.14' })).allocate();
    assert.equal(refused.code, 486, 'the 4th, on either node, is over allocations_per_user');
    await until(() => a.component.remote?.count('alice') === 1, 2000, 'node a to learn of node b\'s allocation');
    assert.equal((await (await client(a.fx, 'alice', { localAddress: '127.0.0.15' })).allocate()).code, 486);
    assert.equal(a.gate.shareBps('alice', 1000), 500, 'both nodes relay alice: half the cap each');
    assert.equal(await metric(b, 'ferry_allocations_refused_total', 'reason="quota"'), 1);
  });

  it('allocations per account per minute are counted fleet-wide; POST /v1/ice-servers would answer 429', async () => {
    await freshWindow();
    // bob: 4 per minute (2 on each node), then refused on both.
    for (const [fx, ip] of [[a.fx, '127.0.0.21'], [b.fx, '127.0.0.22'], [a.fx, '127.0.0.23'], [b.fx, '127.0.0.24']] as const) {
      const c = await client(fx, 'bob', { localAddress: ip });
      assert.equal((await c.allocate()).code, 0);
      assert.equal((await c.refresh(0)).code, 0, 'released again: only the rate limits it');
    }
    await until(() => a.gate.accountRateLimited('bob') && b.gate.accountRateLimited('bob'), 2000, 'both nodes to block bob');
    for (const [fx, ip] of [[a.fx, '127.0.0.25'], [b.fx, '127.0.0.26']] as const) {
      assert.equal((await (await client(fx, 'bob', { localAddress: ip })).allocate()).code, 486);
    }
    assert.ok(a.gate.retryAfterSeconds('bob') >= 1 && a.gate.retryAfterSeconds('bob') <= 60);
    assert.equal(await metric(a, 'ferry_rate_limited_total', 'kind="allocations-account"'), 1);
    assert.equal(a.gate.accountRateLimited('carol'), false);
  });

  it('allocations per client IP per minute are counted fleet-wide', async () => {
    await freshWindow();
    const ip = '127.0.0.31';
    for (const fx of [a.fx, b.fx, a.fx]) {
      const c = await client(fx, 'carol', { localAddress: ip });
      assert.equal((await c.allocate()).code, 0);
      assert.equal((await c.refresh(0)).code, 0);
    }
    await until(() => a.gate.mayAllocate('carol', ip, 1) === 'rate-ip' && b.gate.mayAllocate('carol', ip, 1) === 'rate-ip', 2000, 'both nodes to block the IP');
    const before = await metric(b, 'ferry_rate_limited_total', 'kind="allocations-ip"');
    assert.equal((await (await client(b.fx, 'carol', { localAddress: ip })).allocate()).code, 486);
    assert.equal(await metric(b, 'ferry_rate_limited_total', 'kind="allocations-ip"'), before + 1, 'the 486 is counted');
    assert.equal((await (await client(a.fx, 'carol', { localAddress: '127.0.0.32' })).allocate()).code, 0, 'another IP may');
  });

  it('failed authentications per client IP are counted fleet-wide: then no answer on either node', async () => {
    await freshWindow();
    const ip = '127.0.0.41';
    for (const fx of [a.fx, b.fx, a.fx]) assert.equal((await (await client(fx, 'carol', { localAddress: ip, password: 'wrong' })).allocate()).code, 401);
    await until(() => a.gate.authBlocked(ip) && b.gate.authBlocked(ip), 2000, 'both nodes to block the IP');
    const c = await client(b.fx, 'carol', { localAddress: ip });
    await c.transact(c.build(C.METHOD_BINDING, null, false), 1000); // still answered: Binding needs no credentials
    const challenge = await c.transact(c.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(C.TRANSPORT_UDP), false));
    assert.equal(challenge.code, 401, 'an unsigned request still gets its challenge');
    c.realm = challenge.string(C.ATTR_REALM);
    c.nonce = challenge.string(C.ATTR_NONCE);
    await assert.rejects(c.transact(c.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(C.TRANSPORT_UDP), true), 600), /no response/, 'a signed request, even with the right password, gets no answer');
    assert.equal(a.gate.authBlocked('127.0.0.42'), false);
  });

  it('a node that dies drops out within the TTL; Redis down refuses new allocations with 500 and recovers', async () => {
    // dave: an account of its own (carol is over her allocation rate by now). A node "ghost" that
    // wrote its counts as a node does (hash with the TTL, entry in the node list) and then died.
    const r0 = await redis.client();
    await r0.multi().hset('ferry:fleet:allocs:ghost', 'dave', '2').pexpire('ferry:fleet:allocs:ghost', 600).zadd('ferry:fleet:alloc-nodes', Date.now(), 'ghost').exec();
    await until(() => a.component.remote?.count('dave') === 2, 2000, 'node a to read the ghost\'s counts at a heartbeat');
    await until(() => a.component.remote?.count('dave') === 0, 3000, 'the ghost\'s counts to expire with its TTL (600 ms)');

    await redis.down();
    await until(() => a.gate.mayAllocate('dave', '127.0.0.52', 1) === 'unavailable', 3000, 'node a to notice Redis is down');
    const r = await (await client(a.fx, 'dave', { localAddress: '127.0.0.52' })).allocate();
    assert.equal(r.code, 500);
    assert.equal(reasonOf(r), 'Server Error: storage unavailable');
    assert.ok((await metric(a, 'ferry_allocations_refused_total', 'reason="unavailable"')) >= 1);
    await redis.start();
    await until(() => a.gate.mayAllocate('dave', '127.0.0.52', 1) === 'ok', 5000, 'node a to resume once Redis is back');
    assert.equal((await (await client(a.fx, 'dave', { localAddress: '127.0.0.53' })).allocate()).code, 0);
    await until(() => b.component.remote?.count('dave') === 1, 3000, 'node b to learn of it (Redis came back empty)');
  });

  it('a usage event is claimed once per fleet', async () => {
    const claims = await Promise.all([a.component.claim!('usage.soft_limit:x:1000:acme', 60_000), b.component.claim!('usage.soft_limit:x:1000:acme', 60_000)]);
    assert.deepEqual(claims.map((c) => c !== null).sort(), [false, true], 'one claim wins (it carries its release), the other gets null');
  });
});
