// The admin sessions API over a real in-process TurnServer: list live allocations with growing
// byte counters, close one (the client's next Refresh gets 437, the relayed port is free again),
// close an account's sessions (a TCP client's connection ends).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { withTimeout } from '../../helpers/wait.js';
import { canBindUdp } from '../../helpers/ports.js';
import * as C from '../../../turn/codec/constants.js';
import { errorOf, testApp, type TestApp } from '../../helpers/signaling-app.js';

interface Session {
  id: number;
  account: string;
  transport: string;
  client: string;
  relayed: Array<{ address: string; port: number; family: number }>;
  started_at: string;
  age_seconds: number;
  bytes_to_peer: number;
  bytes_to_client: number;
  packets_to_peer: number;
  packets_to_client: number;
}

describe('admin sessions API over a live TurnServer', () => {
  let fx: Fixture;
  let t: TestApp;
  const open: Array<{ close(): void }> = [];

  before(async () => {
    fx = await startServer({});
    t = await testApp({
      relay: {
        // The same wiring as app/ferry.ts.
        relaySessions: () => fx.server.sessions(),
        closeSessions: (p) => fx.server.closeAllocations(p, 'admin'),
        now: () => fx.clock.now,
        relays: { nodeId: 'node-x', read: async () => [], pick: () => undefined },
      },
    });
  });
  after(async () => {
    for (const o of open) o.close();
    await t.close();
    await fx.stop();
  });

  async function client(user: 'alice' | 'bob', transport: 'udp' | 'tcp' = 'udp'): Promise<TestTurnClient> {
    const c = await TestTurnClient.connect({
      transport,
      port: transport === 'udp' ? fx.udpPort : fx.tcpPort,
      username: user,
      password: `${user}-pass`,
    });
    open.push(c);
    return c;
  }

  async function sessions(query = ''): Promise<Session[]> {
    const res = await t.request({ method: 'GET', url: `/v1/sessions${query}` });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { sessions: Session[] }).sessions;
  }

  it('lists a session with growing counters, then closes it: 437 on Refresh and the port is freed', async () => {
    const c = await client('alice');
    const allocated = await c.allocate();
    assert.equal(allocated.code, 0);
    const relayed = allocated.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
    const peer = await UdpPeer.open();
    open.push(peer);
    assert.equal((await c.channelBind(0x4001, peer.address)).code, 0);

    for (let i = 0; i < 3; i++) c.sendChannelData(0x4001, Buffer.alloc(100, i));
    assert.ok(await peer.waitFor(3), 'the peer got the ChannelData');

    const [first] = (await sessions()).filter((s) => s.relayed.some((r) => r.port === relayed.port));
    assert.ok(first, 'the allocation is listed');
    assert.deepEqual(
      { ...first, id: 0 },
      {
        id: 0,
        account: 'alice',
        transport: 'udp',
        client: `127.0.0.1:${c.localPort}`,
        relayed: [{ address: '127.0.0.1', port: relayed.port, family: 4 }],
        started_at: new Date(fx.clock.now).toISOString(),
        age_seconds: 0,
        bytes_to_peer: 300,
        bytes_to_client: 0,
        packets_to_peer: 3,
        packets_to_client: 0,
        capped_bytes_to_peer: 0,
        capped_packets_to_peer: 0,
        capped_bytes_to_client: 0,
        capped_packets_to_client: 0,
        dropped_bytes_to_peer: 0,
        dropped_packets_to_peer: 0,
        dropped_bytes_to_client: 0,
        dropped_packets_to_client: 0,
      },
    );
    assert.ok(Number.isInteger(first.id));

    // More traffic both ways, and time passes: a second GET shows it.
    c.sendChannelData(0x4001, Buffer.alloc(50));
    assert.ok(await peer.waitFor(4));
    peer.send(Buffer.from('pong!'), relayed);
    assert.deepEqual(await c.nextData(), { kind: 'channel', channel: 0x4001, data: Buffer.from('pong!') });
    fx.clock.advance(5_500);
    const second = (await sessions()).find((s) => s.id === first.id)!;
    assert.equal(second.bytes_to_peer, 350);
    assert.equal(second.packets_to_peer, 4);
    assert.equal(second.bytes_to_client, 5);
    assert.equal(second.packets_to_client, 1);
    assert.equal(second.age_seconds, 5);
    assert.equal(second.started_at, first.started_at);

    assert.equal(await canBindUdp(relayed.port, relayed.address), false, 'the relay holds the port while the session lives');
    const del = await t.request({ method: 'DELETE', url: `/v1/sessions/${first.id}` });
    assert.equal(del.statusCode, 204, del.body);
    assert.equal(del.body, '');
    assert.equal(fx.closed.at(-1)?.reason, 'admin');
    assert.equal(fx.closed.at(-1)?.info.id, first.id);

    assert.equal((await c.refresh()).code, 437, 'the client sees its allocation gone');
    assert.equal(await canBindUdp(relayed.port, relayed.address), true, 'the relayed port is closed');
    assert.ok(!(await sessions()).some((s) => s.id === first.id), 'no longer listed');

    const again = await t.request({ method: 'DELETE', url: `/v1/sessions/${first.id}` });
    assert.equal(again.statusCode, 404);
    assert.equal(errorOf(again).code, 'not_found');
  });

  it('filters by account and closes an account\'s sessions, ending a TCP client\'s connection', async () => {
    const tcp = await client('bob', 'tcp');
    assert.equal((await tcp.allocate()).code, 0);
    const udp = await client('bob');
    assert.equal((await udp.allocate()).code, 0);
    const alice = await client('alice');
    assert.equal((await alice.allocate()).code, 0);

    const bobs = await sessions('?account=bob');
    assert.deepEqual(bobs.map((s) => s.transport).sort(), ['tcp', 'udp']);
    assert.ok(bobs.every((s) => s.account === 'bob'));
    assert.equal(bobs.find((s) => s.transport === 'tcp')?.client, `127.0.0.1:${tcp.localPort}`);
    assert.deepEqual(await sessions('?account=nobody'), []);
    const all = await sessions();
    assert.ok(all.some((s) => s.account === 'alice') && all.length >= 3);
    assert.deepEqual(all.map((s) => s.id), [...all.map((s) => s.id)].sort((a, b) => a - b), 'listed by id');

    const res = await t.request({ method: 'DELETE', url: '/v1/accounts/bob/sessions' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { closed: 2 });
    await withTimeout(tcp.streamClosed(), 2000, 'the TCP client connection ends');
    assert.equal((await udp.refresh()).code, 437);
    assert.deepEqual(await sessions('?account=bob'), []);
    assert.ok((await sessions('?account=alice')).length >= 1, 'other accounts keep their sessions');

    const none = await t.request({ method: 'DELETE', url: '/v1/accounts/bob/sessions' });
    assert.deepEqual(none.json(), { closed: 0 });
  });

  it('limit: at most that many sessions, the oldest first; total counts them all', async () => {
    const clients = [await client('alice'), await client('alice'), await client('bob')];
    for (const c of clients) assert.equal((await c.allocate()).code, 0);
    const all = await t.request({ method: 'GET', url: '/v1/sessions' });
    const every = all.json() as { sessions: Session[]; total: number };
    assert.equal(every.total, every.sessions.length);
    assert.ok(every.total >= 3, `${every.total} sessions`);
    const res = await t.request({ method: 'GET', url: '/v1/sessions?limit=2' });
    assert.equal(res.statusCode, 200, res.body);
    const page = res.json() as { sessions: Session[]; total: number };
    assert.deepEqual(page.sessions.map((s) => s.id), every.sessions.slice(0, 2).map((s) => s.id));
    assert.equal(page.total, every.total);
    const bob = (await t.request({ method: 'GET', url: '/v1/sessions?account=bob&limit=10' })).json() as { sessions: Session[]; total: number };
    assert.equal(bob.total, bob.sessions.length);
    assert.ok(bob.sessions.every((s) => s.account === 'bob') && bob.total >= 1);
    for (const bad of ['0', '10001', '1.5', 'x', '-1']) {
      const r = await t.request({ method: 'GET', url: `/v1/sessions?limit=${bad}` });
      assert.equal(r.statusCode, 400, `limit=${bad}: ${r.body}`);
      assert.match(errorOf(r).message, /limit/);
    }
    for (const c of clients) c.close();
  });

  it('answers at and node_id; DELETE closes only the session listed: 409 for another node, account or start', async () => {
    const alice = await client('alice');
    assert.equal((await alice.allocate()).code, 0);
    const res = await t.request({ method: 'GET', url: '/v1/sessions?account=alice' });
    const listing = res.json() as { at: string; node_id: string; sessions: Session[] };
    assert.equal(listing.node_id, 'node-x');
    assert.equal(listing.at, new Date(fx.clock.now).toISOString());
    const s = listing.sessions.at(-1)!;
    const del = (query: string) => t.request({ method: 'DELETE', url: `/v1/sessions/${s.id}?${query}` });
    const started = encodeURIComponent(s.started_at);
    for (const [query, code, pattern] of [
      ['node=node-y', 'wrong_node', /this is node node-x, not node-y/],
      ['account=bob', 'conflict', /another session/],
      [`started_at=${encodeURIComponent(new Date(Date.parse(s.started_at) + 1).toISOString())}`, 'conflict', /another session/],
    ] as const) {
      const r = await del(query);
      assert.equal(r.statusCode, 409, `${query}: ${r.body}`);
      assert.equal(errorOf(r).code, code);
      assert.match(errorOf(r).message, pattern);
    }
    assert.ok((await sessions()).some((x) => x.id === s.id), 'nothing closed by a refused DELETE');
    const bad = await del('started_at=yesterday');
    assert.equal(bad.statusCode, 400, bad.body);
    const ok = await del(`node=node-x&account=alice&started_at=${started}`);
    assert.equal(ok.statusCode, 204, ok.body);
    assert.ok(!(await sessions()).some((x) => x.id === s.id), 'the listed session is closed');
    const gone = await del(`account=alice&started_at=${started}`);
    assert.equal(gone.statusCode, 404, gone.body);
    alice.close();
  });

  it('refuses bad session ids and queries with 400 JSON', async () => {
    for (const url of ['/v1/sessions/abc', '/v1/sessions/-1', '/v1/sessions/1.5', '/v1/sessions/1234567890123456']) {
      const res = await t.request({ method: 'DELETE', url });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(errorOf(res).code, 'invalid_request');
    }
    const res = await t.request({ method: 'GET', url: '/v1/sessions?account=' });
    assert.equal(res.statusCode, 400, res.body);
    assert.match(errorOf(res).message, /account/);
    const unknown = await t.request({ method: 'DELETE', url: '/v1/sessions/999999' });
    assert.equal(unknown.statusCode, 404);
    assert.match(errorOf(unknown).message, /999999/);
  });
});

describe('admin sessions API without a relay', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(() => t.close());

  it('has no sessions routes (404, with or without the admin token)', async () => {
    for (const [method, url] of [['GET', '/v1/sessions'], ['DELETE', '/v1/sessions/1'], ['DELETE', '/v1/accounts/acc_x/sessions']] as const) {
      for (const auth of [undefined, null]) {
        const res = await t.request({ method, url, auth });
        assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
        assert.equal(errorOf(res).code, 'not_found');
      }
    }
  });
});
