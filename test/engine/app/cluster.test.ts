// The relay registry as Ferry wires it (app/components/cluster.ts, app/ferry.ts): one node on
// SQLite lists itself and hands out its own URLs as before; two in-process nodes on a real
// redis-server see each other, a stopping node is listed as draining before it is gone, a
// Redis outage makes /v1/relays answer 503 and /healthz say degraded (naming each Redis connection
// that is down) until Redis is back, and a
// node with other auth_secrets is reported by /healthz.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiJson } from '../../helpers/admin-http.js';
import { startInProcessFerry, type InProcessFerry } from '../../helpers/ferry-in-process.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { sleep } from '../../helpers/wait.js';

const ADMIN = 'cluster-admin-token-0123456789abcdef';
const SECRET = 'cluster-rest-secret-0123456789';

const base = (f: InProcessFerry) => `http://127.0.0.1:${f.handle.signalingAddress().port}`;

interface Relay {
  node_id: string;
  state: string;
  self: boolean;
  public_host: string;
  transports: string[];
  ports: { udp?: number; tcp?: number };
}

async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(20);
  }
}

describe('the relay registry in a running Ferry', () => {
  it('one node (SQLite) lists itself, and /v1/ice-servers keeps handing out its own URLs', async () => {
    const ferry = await startInProcessFerry({ auth_secrets: [SECRET], signaling: { address: '127.0.0.1:0', admin_token: ADMIN } });
    try {
      const r = await apiJson<{ relays: Relay[] }>(base(ferry), 'GET', '/v1/relays', ADMIN);
      assert.equal(r.status, 200);
      assert.equal(r.json.relays.length, 1);
      const [self] = r.json.relays;
      assert.equal(self!.node_id, 'local');
      assert.equal(self!.self, true);
      assert.equal(self!.state, 'active');
      assert.equal(self!.public_host, '127.0.0.1');
      assert.deepEqual(self!.transports, ['udp', 'tcp']);
      assert.deepEqual(self!.ports, { udp: ferry.port, tcp: ferry.port });
      const made = await apiJson<{ api_key: string }>(base(ferry), 'POST', '/v1/accounts', ADMIN, { name: 'solo' });
      const ice = await apiJson<{ iceServers: { urls: string[] }[] }>(base(ferry), 'POST', '/v1/ice-servers', made.json.api_key, { region: 'elsewhere' });
      assert.equal(ice.status, 200);
      assert.equal(ice.json.iceServers.length, 1);
      assert.deepEqual(ice.json.iceServers[0]!.urls, [`stun:127.0.0.1:${ferry.port}`, `turn:127.0.0.1:${ferry.port}?transport=udp`, `turn:127.0.0.1:${ferry.port}?transport=tcp`]);
      assert.deepEqual((await apiJson(base(ferry), 'GET', '/healthz')).json, { status: 'ok' });
    } finally {
      await ferry.stop();
    }
  });

  describe('two nodes on Redis', () => {
    let redis: TestRedis;
    const nodes: InProcessFerry[] = [];
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      for (const n of nodes) await n.stop().catch(() => {});
      await redis.stop();
    });
    const node = async (id: string, secret = SECRET) => {
      const f = await startInProcessFerry({
        auth_secrets: [secret],
        storage: redis.url,
        cluster: { node_id: id, heartbeat: '100ms', ttl: '1s' },
        signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
      });
      nodes.push(f);
      return f;
    };
    const relays = (f: InProcessFerry) => apiJson<{ relays?: Relay[]; error?: { code: string } }>(base(f), 'GET', '/v1/relays', ADMIN, undefined, { timeoutMs: 3000 });

    it('a stopping node is draining before it is gone', async () => {
      const one = await node('in-one');
      const two = await node('in-two');
      await eventually(async () => (await relays(one)).json.relays?.length === 2, 3000, 'both listed');
      const states: string[] = [];
      const stopping = two.stop();
      await eventually(async () => {
        const state = (await relays(one)).json.relays?.find((r) => r.node_id === 'in-two')?.state ?? 'gone';
        if (states.at(-1) !== state) states.push(state);
        return state === 'gone';
      }, 5000, 'in-two gone');
      await stopping;
      assert.ok(states.includes('draining'), `states seen: ${states.join(' → ')}`);
      assert.equal(states.at(-1), 'gone');
      assert.ok(!states.slice(states.indexOf('draining')).includes('active'), 'never active again once draining');
    });

    it('Redis down: /v1/relays answers 503 JSON, /healthz says degraded; both recover', async () => {
      const one = nodes[0]!;
      assert.deepEqual((await apiJson(base(one), 'GET', '/healthz')).json, { status: 'ok' });
      await redis.down();
      const down = await relays(one);
      assert.equal(down.status, 503);
      assert.equal(down.json.error?.code, 'storage_unavailable');
      await eventually(async () => (await apiJson(base(one), 'GET', '/healthz')).json.status === 'degraded', 3000, 'degraded');
      // Every Redis connection a request may need is listed: the registry's, the store's, the
      // fleet limits' (Allocate answers "storage unavailable" meanwhile) and the signal router's.
      const wanted = [/^relay registry: storage unreachable/, /^storage: Redis unreachable/, /^fleet limits: Redis unreachable/, /^signaling: Redis unreachable/];
      let health = { status: '', problems: [] as string[] };
      await eventually(async () => {
        health = (await apiJson<{ status: string; problems: string[] }>(base(one), 'GET', '/healthz')).json;
        return wanted.every((w) => health.problems.some((p) => w.test(p)));
      }, 3000, 'every connection listed').catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(health)}`));
      assert.match(health.problems[0]!, /relay registry: storage unreachable/);
      assert.ok(!JSON.stringify(health).includes(redis.url), 'no storage URL in the answer');
      await redis.start();
      await eventually(async () => (await apiJson(base(one), 'GET', '/healthz')).json.status === 'ok', 5000, 'ok again');
      await eventually(async () => (await relays(one)).json.relays?.some((r) => r.node_id === 'in-one' && r.self) === true, 3000, 'listed again');
    });

    it('a node whose auth_secrets differ is reported by /healthz on both sides, until it leaves', async () => {
      const one = nodes[0]!;
      const health = async (f: InProcessFerry) => (await apiJson<{ status: string; problems?: string[] }>(base(f), 'GET', '/healthz')).json;
      assert.equal((await health(one)).status, 'ok');
      const odd = await node('in-odd', 'another-rest-secret-9876543210');
      await eventually(async () => (await health(one)).problems?.some((p) => /auth_secrets: this node refuses the TURN credentials of in-odd/.test(p)) === true, 3000, 'one reports in-odd');
      await eventually(async () => (await health(odd)).problems?.some((p) => /auth_secrets: .*in-one/.test(p)) === true, 3000, 'in-odd reports in-one');
      const problems = JSON.stringify(await health(one));
      assert.ok(!problems.includes(SECRET) && !problems.includes('another-rest-secret'), 'no secret in the answer');
      await odd.stop();
      await eventually(async () => (await health(one)).status === 'ok', 3000, 'ok once in-odd left');
    });
  });
});
