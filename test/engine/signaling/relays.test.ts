// GET /v1/relays, the fleet's relays in POST /v1/ice-servers, and /healthz's degraded answer,
// over a signaling app whose relay registry is a fake RelayFleet (the registry itself is tested
// on Redis in test/engine/src/cluster/, the whole fleet in test/system/fleet/).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayEntry } from '../../../src/cluster/types.js';
import type { RelayTarget } from '../../../src/credentials/ice-servers.js';
import type { RelayFleet } from '../../../signaling/deps.js';
import { testApp, type TestApp } from '../../helpers/signaling-app.js';

function entry(nodeId: string, extra: Partial<RelayEntry> = {}): RelayEntry {
  return {
    nodeId,
    publicHost: `${nodeId}.example.net`,
    transports: ['udp', 'tcp'],
    ports: { udp: 3478, tcp: 3478 },
    load: { allocations: 3, bps: 1200 },
    state: 'active',
    startedAt: Date.UTC(2030, 0, 1),
    version: '9.9.9',
    ...extra,
  };
}

describe('the relay registry over HTTP', () => {
  let t: TestApp;
  let entries: RelayEntry[] | null = [];
  let picked: readonly RelayTarget[] | undefined;
  const regions: (string | undefined)[] = [];
  let problems: string[] = [];
  const fleet: RelayFleet = {
    nodeId: 'node-b',
    read: async () => entries,
    pick: (region) => {
      regions.push(region);
      return picked;
    },
  };
  before(async () => {
    t = await testApp({ relay: { relays: fleet, healthProblems: () => problems } });
  });
  after(() => t.close());

  it('GET /v1/relays lists the live relays by node id, marks the one answering; admin only', async () => {
    entries = [entry('node-c', { state: 'draining', region: 'eu', ports: { udp: 3478, tcp: 3478, tls: 5349 }, transports: ['udp', 'tcp', 'tls'] }), entry('node-b')];
    const res = await t.request({ method: 'GET', url: '/v1/relays' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { relays: Record<string, unknown>[] };
    assert.deepEqual(body.relays.map((r) => r.node_id), ['node-b', 'node-c']);
    assert.deepEqual(body.relays[1], {
      node_id: 'node-c',
      public_host: 'node-c.example.net',
      region: 'eu',
      state: 'draining',
      transports: ['udp', 'tcp', 'tls'],
      ports: { udp: 3478, tcp: 3478, tls: 5349 },
      load: { allocations: 3, bps: 1200 },
      started_at: '2030-01-01T00:00:00.000Z',
      version: '9.9.9',
      self: false,
    });
    assert.equal(body.relays[0]!.self, true);
    assert.equal(body.relays[0]!.region, null);
    assert.equal((await t.request({ method: 'GET', url: '/v1/relays', auth: null })).statusCode, 401);
    const { api_key } = await t.createAccount('not-admin');
    assert.equal((await t.request({ method: 'GET', url: '/v1/relays', auth: api_key })).statusCode, 401);
  });

  it('GET /v1/relays answers 503 JSON while the registry is unreachable', async () => {
    entries = null;
    const res = await t.request({ method: 'GET', url: '/v1/relays' });
    assert.equal(res.statusCode, 503);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'storage_unavailable');
  });

  it('POST /v1/ice-servers hands out one entry per chosen relay, the same credential in each', async () => {
    const { api_key } = await t.createAccount('fleet-user');
    picked = [{ host: 'node-c.example.net', udpPort: 3478, tcpPort: 3478, tlsPort: 5349 }, { host: '2001:db8::7', udpPort: 3479 }];
    const res = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: api_key, payload: { region: 'eu-west' } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { iceServers: { urls: string[]; username: string; credential: string }[] };
    assert.equal(regions.at(-1), 'eu-west', 'the requested region reaches the selection');
    assert.equal(body.iceServers.length, 2);
    assert.deepEqual(body.iceServers[0]!.urls, [
      'stun:node-c.example.net:3478',
      'turn:node-c.example.net:3478?transport=udp',
      'turn:node-c.example.net:3478?transport=tcp',
      'turns:node-c.example.net:5349?transport=tcp',
    ]);
    assert.deepEqual(body.iceServers[1]!.urls, ['stun:[2001:db8::7]:3479', 'turn:[2001:db8::7]:3479?transport=udp']);
    assert.equal(body.iceServers[0]!.username, body.iceServers[1]!.username);
    assert.equal(body.iceServers[0]!.credential, body.iceServers[1]!.credential);

    // No body: no region preference.
    assert.equal((await t.request({ method: 'POST', url: '/v1/ice-servers', auth: api_key })).statusCode, 200);
    assert.equal(regions.at(-1), undefined);
    const bad = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: api_key, payload: { region: 'no spaces' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /body\.region/);

    picked = [];
    const none = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: api_key });
    assert.equal(none.statusCode, 503);
    assert.equal((none.json() as { error: { code: string } }).error.code, 'no_relays');

    // One node (no selection): its own URLs, as before.
    picked = undefined;
    const own = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: api_key, headers: { host: 'turn.example.org' } });
    assert.equal(own.statusCode, 200);
    const ownBody = own.json() as { iceServers: { urls: string[] }[] };
    assert.equal(ownBody.iceServers.length, 1);
    assert.equal(ownBody.iceServers[0]!.urls[0], 'stun:turn.example.org:3478');
  });

  it('/healthz says degraded (still 200) with the problems, ok without', async () => {
    problems = ['relay registry: storage unreachable since 2030-01-01T00:00:00.000Z (serving the view read 4 s ago)'];
    const res = await t.request({ method: 'GET', url: '/healthz', auth: null });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'degraded', problems });
    problems = [];
    assert.deepEqual((await t.request({ method: 'GET', url: '/healthz', auth: null })).json(), { status: 'ok' });
  });
});
