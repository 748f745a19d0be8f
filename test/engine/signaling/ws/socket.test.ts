// The signaling WebSocket over real sockets: registerSignalingSocket in a tiny fastify app, real
// `ws` clients on 127.0.0.1.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServerFrame } from '../../../../protocol/signaling.js';
import { Client, refusedUpgrade, startServer, type TestServer } from '../../../helpers/ws-client.js';
import { sleep, until, withTimeout } from '../../../helpers/wait.js';

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const CANDIDATE = {
  candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host',
  sdpMid: '0',
  sdpMLineIndex: 0,
  usernameFragment: 'abcd',
};

function assertServerFrame(f: unknown): void {
  const r = ServerFrame.safeParse(f);
  assert.ok(r.success, `not a ServerFrame: ${JSON.stringify(f)}`);
}

describe('signaling socket', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  test('welcome, then offer/answer/candidate/bye are delivered with from', async () => {
    const a1 = await Client.connect(server, 'A1');
    const a2 = await Client.connect(server, 'A2');
    a1.send({ type: 'offer', to: 'A2', payload: OFFER, id: 1 });
    assert.deepEqual(await a2.next(), { type: 'offer', from: 'A1', payload: OFFER });
    a2.send({ type: 'answer', to: 'A1', payload: ANSWER });
    assert.deepEqual(await a1.next(), { type: 'answer', from: 'A2', payload: ANSWER });
    a1.send({ type: 'candidate', to: 'A2', payload: CANDIDATE });
    a1.send({ type: 'candidate', to: 'A2', payload: { candidate: 'candidate:2 1 udp 1 192.0.2.2 1 typ host', sdpMid: null, sdpMLineIndex: null } });
    a1.send({ type: 'candidate', to: 'A2', payload: null });
    a1.send({ type: 'bye', to: 'A2', payload: { reason: 'done' } });
    a1.send({ type: 'bye', to: 'A2' });
    const got = [await a2.next(), await a2.next(), await a2.next(), await a2.next(), await a2.next()];
    assert.deepEqual(got, [
      { type: 'candidate', from: 'A1', payload: CANDIDATE },
      { type: 'candidate', from: 'A1', payload: { candidate: 'candidate:2 1 udp 1 192.0.2.2 1 typ host', sdpMid: null, sdpMLineIndex: null } },
      { type: 'candidate', from: 'A1', payload: null },
      { type: 'bye', from: 'A1', payload: { reason: 'done' } },
      { type: 'bye', from: 'A1' },
    ]);
    for (const f of got) assertServerFrame(f);
    a1.send({ type: 'ping' });
    assert.deepEqual(await a1.next(), { type: 'pong' });
    assert.deepEqual(await a1.drain(), [], 'the sender got nothing else (no errors)');
    assert.deepEqual(server.hub.stats(), { accounts: 1, peers: 2, queued: 0 });
    await a1.close();
    await a2.close();
    await until(() => server.hub.stats().peers === 0, 2000, 'peers unregistered');
    assert.deepEqual(server.hub.stats(), { accounts: 0, peers: 0, queued: 0 });
  });

  test('accounts are isolated: the same peer_id in another account never receives', async () => {
    const a1 = await Client.connect(server, 'p1', { key: 'key-A' });
    const b1 = await Client.connect(server, 'p1', { key: 'key-B' });
    const a2 = await Client.connect(server, 'p2', { key: 'key-A' });
    const b2 = await Client.connect(server, 'p2', { key: 'key-B' });
    assert.equal(server.hub.stats().accounts, 2);
    a2.send({ type: 'offer', to: 'p1', payload: OFFER });
    b2.send({ type: 'answer', to: 'p1', payload: ANSWER });
    assert.deepEqual(await a1.next(), { type: 'offer', from: 'p2', payload: OFFER });
    assert.deepEqual(await b1.next(), { type: 'answer', from: 'p2', payload: ANSWER });
    assert.deepEqual(await a1.drain(), []);
    assert.deepEqual(await b1.drain(), []);
    // B's p1 is not A's p1: closing A's p1 queues A's next message rather than reaching B's p1.
    await a1.close();
    await until(() => server.hub.stats().peers === 3, 2000, 'A p1 gone');
    a2.send({ type: 'offer', to: 'p1', payload: OFFER });
    await a2.drain();
    assert.deepEqual(await b1.drain(), []);
    assert.equal(server.hub.stats().queued, 1);
    // A signaling token in the query joins account A.
    const a1again = await Client.connect(server, 'p1', { token: 'tok-A' });
    assert.deepEqual(await a1again.next(), { type: 'offer', from: 'p2', payload: OFFER });
    for (const c of [a1again, b1, a2, b2]) await c.close();
  });

  test('a message to an absent peer is queued and delivered in order when it connects', async () => {
    const s = await Client.connect(server, 'sender');
    s.send({ type: 'offer', to: 'late', payload: OFFER, id: 'o1' });
    s.send({ type: 'candidate', to: 'late', payload: CANDIDATE });
    s.send({ type: 'candidate', to: 'late', payload: null });
    s.send({ type: 'bye', to: 'late' }); // never queued
    await s.drain();
    assert.equal(server.hub.stats().queued, 3);
    const late = await Client.connect(server, 'late');
    assert.deepEqual(await late.next(), { type: 'offer', from: 'sender', payload: OFFER });
    assert.deepEqual(await late.next(), { type: 'candidate', from: 'sender', payload: CANDIDATE });
    assert.deepEqual(await late.next(), { type: 'candidate', from: 'sender', payload: null });
    assert.deepEqual(await late.drain(), []);
    assert.equal(server.hub.stats().queued, 0);
    assert.deepEqual(await s.drain(), [], 'no peer_unavailable for delivered messages');
    await s.close();
    await late.close();
  });

  test('the queue per target is bounded: beyond it the sender gets peer_unavailable at once', async () => {
    const s = await Client.connect(server, 'flooder');
    for (let i = 0; i < 33; i++) s.send({ type: 'candidate', to: 'nobody', payload: CANDIDATE, id: i });
    const errors = await s.drain();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'peer_unavailable');
    assert.equal(errors[0].id, 32);
    assert.equal(errors[0].to, 'nobody');
    await s.close();
  });

  test('a second connection with the same peer_id replaces the first (4000 "replaced")', async () => {
    const first = await Client.connect(server, 'dup');
    const other = await Client.connect(server, 'other');
    const second = await Client.connect(server, 'dup');
    assert.deepEqual(await withTimeout(first.closed, 2000, 'first closed'), { code: 4000, reason: 'replaced' });
    await sleep(50); // the old socket's close has been processed by the server by now
    assert.equal(server.hub.stats().peers, 2);
    other.send({ type: 'offer', to: 'dup', payload: OFFER });
    assert.deepEqual(await second.next(), { type: 'offer', from: 'other', payload: OFFER });
    assert.equal(first.frames.length, 0);
    await second.close();
    await other.close();
  });

  test('bad frames get error frames and the connection stays open', async () => {
    const c = await Client.connect(server, 'fuzzer');
    const bad: [unknown, string, RegExp][] = [
      ['not json', 'bad_frame', /not JSON/],
      ['42', 'bad_frame', /expected object/],
      ['null', 'bad_frame', /expected object/],
      ['[]', 'bad_frame', /expected object/],
      [{ type: 'hello' }, 'bad_frame', /^type: /],
      [{ to: 'x' }, 'bad_frame', /^type: /],
      [{ type: 'offer', to: 'x', payload: { type: 'offer' }, id: 'm1' }, 'bad_frame', /^payload\.sdp: /],
      [{ type: 'offer', to: 'x', payload: { type: 'answer', sdp: '' } }, 'bad_frame', /^payload\.type: /],
      [{ type: 'offer', to: 'bad id!', payload: OFFER }, 'bad_frame', /^to: /],
      [{ type: 'offer', to: 'x'.repeat(65), payload: OFFER }, 'bad_frame', /^to: /],
      [{ type: 'offer', payload: OFFER }, 'bad_frame', /^to: /],
      [{ type: 'offer', to: 'x', payload: OFFER, from: 'spoof' }, 'bad_frame', /Unrecognized key: "from"/],
      [{ type: 'candidate', to: 'x', payload: { sdpMid: '0' } }, 'bad_frame', /^payload\.candidate: /],
      [{ type: 'candidate', to: 'x', payload: { candidate: '', sdpMLineIndex: -1 } }, 'bad_frame', /^payload\.sdpMLineIndex: /],
      [{ type: 'ping', id: { nested: true } }, 'bad_frame', /^id: /],
      ['{"type":"offer","__proto__":{"to":"x"}}', 'bad_frame', /./],
    ];
    for (const [frame, code, message] of bad) {
      c.send(frame);
      const e = await c.next();
      assert.equal(e.type, 'error', JSON.stringify(frame));
      assert.equal(e.code, code, JSON.stringify(frame));
      assert.match(String(e.message), message, `${JSON.stringify(frame)} → ${String(e.message)}`);
      assertServerFrame(e);
    }
    // The client's id is echoed on a schema failure.
    c.send({ type: 'offer', to: 'x', payload: {}, id: 'm7' });
    assert.equal((await c.next()).id, 'm7');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.deepEqual(await c.next(), {
      type: 'error',
      code: 'binary_not_supported',
      message: 'frames are JSON text; binary frames are not accepted',
    });
    c.send({ type: 'ping' });
    assert.deepEqual(await c.next(), { type: 'pong' });
    await c.close();
  });

  test('random and mutated frames never crash the server', async () => {
    const c = await Client.connect(server, 'random');
    const good = JSON.stringify({ type: 'candidate', to: 'A2', payload: CANDIDATE, id: 9 });
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 90; i++) {
      const chars = good.split('');
      for (let k = 0; k < 1 + rnd(4); k++) chars[rnd(chars.length)] = String.fromCharCode(rnd(128));
      c.send(chars.join(''));
    }
    const replies = await c.drain();
    assert.ok(replies.every((f) => f.type === 'error' && (f.code === 'bad_frame' || f.code === 'peer_unavailable')));
    // And the server still serves everyone.
    const d = await Client.connect(server, 'after-random');
    d.send({ type: 'ping' });
    assert.deepEqual(await d.next(), { type: 'pong' });
    await c.close();
    await d.close();
  });

  test('refused upgrades are HTTP errors with a JSON body', async () => {
    let r = await refusedUpgrade(server, 'p', {});
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'unauthorized');
    r = await refusedUpgrade(server, 'p', { key: 'wrong' });
    assert.equal(r.status, 401);
    r = await refusedUpgrade(server, 'p', { token: 'wrong' });
    assert.equal(r.status, 401);
    for (const bad of [undefined, '', 'bad id', 'x'.repeat(65), 'é']) {
      r = await refusedUpgrade(server, bad, { key: 'key-A' });
      assert.equal(r.status, 400, String(bad));
      assert.equal(r.body.error.code, 'bad_request');
      assert.match(r.body.error.message, /peer_id/);
    }
    // A plain GET (not an upgrade) says so.
    const http = await server.app.inject({ method: 'GET', url: '/v1/signal?peer_id=x', headers: { authorization: 'Bearer key-A' } });
    assert.equal(http.statusCode, 426);
    assert.equal(http.json().error.code, 'upgrade_required');
  });
});
