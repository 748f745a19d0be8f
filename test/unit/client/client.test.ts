// The client SDK's call flows against in-memory fakes (signaling server, RTCPeerConnection, fetch).
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connect, nodeDataChannelAdapter, weriftAdapter, FerryError, type Call, type ConnectOptions, type FerryClient,
} from '../../../client/index.js';
import { FakeRTCPeerConnection, FakeSignalServer, fakeFetch } from '../../helpers/client-fakes.js';
import { sleep, until } from '../../helpers/wait.js';


interface Env {
  server: FakeSignalServer;
  http: ReturnType<typeof fakeFetch>;
  clients: FerryClient[];
  open(peerId: string, extra?: Partial<ConnectOptions>): Promise<FerryClient>;
}

function env(): Env {
  const server = new FakeSignalServer();
  const http = fakeFetch();
  const clients: FerryClient[] = [];
  return {
    server,
    http,
    clients,
    async open(peerId, extra = {}) {
      const c = await connect({
        url: 'http://ferry.test:8080/',
        token: 'st_test',
        peerId,
        RTCPeerConnection: FakeRTCPeerConnection,
        WebSocket: server.WebSocket,
        fetch: http.fetch,
        pingIntervalMs: 0,
        callTimeoutMs: 1000,
        ...extra,
      });
      clients.push(c);
      return c;
    },
  };
}

let current: Env | undefined;
afterEach(async () => {
  for (const c of current?.clients ?? []) await c.close();
  current = undefined;
  FakeRTCPeerConnection.reset();
});

function nextCall(client: FerryClient): Promise<Call> {
  return new Promise((resolve) => { const off = client.onCall((call) => { off(); resolve(call); }); });
}

function collect(call: Call): string[] {
  const got: string[] = [];
  call.channel.onmessage = (ev) => got.push(String(ev.data));
  return got;
}

describe('connect()', () => {
  test('fetches ICE servers with the token and opens the socket with ?token= and ?peer_id=', async () => {
    current = env();
    const a = await current.open('alice one');
    assert.equal(a.peerId, 'alice one');
    const [fetchCall] = current.http.calls;
    assert.equal(fetchCall.url, 'http://ferry.test:8080/v1/ice-servers');
    assert.equal(fetchCall.method, 'POST');
    assert.equal(fetchCall.headers.authorization, 'Bearer st_test');
    const ws = new URL(current.server.connections[0].url);
    assert.equal(`${ws.protocol}//${ws.host}${ws.pathname}`, 'ws://ferry.test:8080/v1/signal');
    assert.equal(ws.searchParams.get('peer_id'), 'alice one');
    assert.equal(ws.searchParams.get('token'), 'st_test');
    assert.equal(current.server.connections[0].options, undefined, 'no header options in token mode');
  });

  test('with an API key: mints a signaling token for the socket (browser-compatible)', async () => {
    current = env();
    await current.open('a', { token: undefined, apiKey: 'fk_secret' });
    assert.deepEqual(current.http.calls.map((c) => c.url), ['http://ferry.test:8080/v1/ice-servers', 'http://ferry.test:8080/v1/signal-tokens']);
    assert.ok(current.http.calls.every((c) => c.headers.authorization === 'Bearer fk_secret'));
    assert.equal(new URL(current.server.connections[0].url).searchParams.get('token'), 'st_minted');
  });

  test('with an API key and headerAuth: sends it as a header (ws in Node), no token in the URL', async () => {
    current = env();
    await current.open('a', { token: undefined, apiKey: 'fk_secret', headerAuth: true });
    assert.equal(current.http.calls.length, 1);
    assert.deepEqual(current.server.connections[0].options, { headers: { authorization: 'Bearer fk_secret' } });
    assert.equal(new URL(current.server.connections[0].url).searchParams.get('token'), null);
  });

  test('https:// becomes wss://', async () => {
    current = env();
    await current.open('a', { url: 'https://ferry.example' });
    assert.match(current.server.connections[0].url, /^wss:\/\/ferry\.example\/v1\/signal\?/);
  });

  test('an HTTP 401 rejects with FerryError unauthorized', async () => {
    current = env();
    const http = fakeFetch({ status: 401 });
    await assert.rejects(current.open('a', { fetch: http.fetch }), (err: unknown) => {
      assert.ok(err instanceof FerryError);
      assert.equal(err.code, 'unauthorized');
      assert.equal(err.status, 401);
      return true;
    });
  });

  test('a socket closed before welcome rejects', async () => {
    current = env();
    current.server.refuse = 4401;
    await assert.rejects(current.open('a'), /closed before welcome/);
  });

  test('no credentials at all is refused before any request', async () => {
    current = env();
    await assert.rejects(current.open('a', { token: undefined }), /token|API key/);
    assert.equal(current.http.calls.length, 0);
  });
});

describe('calls', () => {
  test('caller offers, callee answers; messages flow both ways; path from getStats', async () => {
    current = env();
    const a = await current.open('a');
    const b = await current.open('b');
    const incoming = nextCall(b);
    const outgoing = await a.call('b');
    const callee = await incoming;
    assert.equal(outgoing.peerId, 'b');
    assert.equal(outgoing.role, 'caller');
    assert.equal(callee.peerId, 'a');
    assert.equal(callee.role, 'callee');
    const atB = collect(callee);
    const atA = collect(outgoing);
    for (let i = 0; i < 5; i++) outgoing.channel.send(`a${i}`);
    callee.channel.send('b0');
    await until(() => atB.length === 5 && atA.length === 1, 2000, 'messages', 2);
    assert.deepEqual(atB, ['a0', 'a1', 'a2', 'a3', 'a4']);
    assert.deepEqual(atA, ['b0']);
    assert.equal(await outgoing.path(), 'relay');
    assert.equal(await callee.path(), 'relay');
    // Offer first, answer after; every frame routed by `to`.
    const types = current.server.frames.map((f) => `${f.from}:${f.msg.type}`);
    assert.ok(types.indexOf('a:offer') < types.indexOf('b:answer'), types.join(' '));
  });

  test('the path is direct when both sides have host candidates (policy all), relay when one is relay-only', async () => {
    current = env();
    FakeRTCPeerConnection.options = { candidateTypes: ['host', 'relay'] };
    const a = await current.open('a');
    const b = await current.open('b');
    const incoming = nextCall(b);
    const call = await a.call('b');
    await incoming;
    assert.equal(await call.path(), 'direct');
    assert.equal(FakeRTCPeerConnection.instances[0].config.iceTransportPolicy, 'all');
  });

  test('forceRelay sets iceTransportPolicy relay; the path reads relay', async () => {
    current = env();
    const a = await current.open('a', { forceRelay: true });
    const b = await current.open('b', { forceRelay: true });
    const incoming = nextCall(b);
    const call = await a.call('b');
    await incoming;
    for (const pc of FakeRTCPeerConnection.instances) assert.equal(pc.config.iceTransportPolicy, 'relay');
    assert.equal(await call.path(), 'relay');
  });

  test('werift-style stats (no transport, a nominated succeeded pair) give the path too', async () => {
    current = env();
    FakeRTCPeerConnection.options = { stats: 'werift' };
    const a = await current.open('a');
    const b = await current.open('b');
    const incoming = nextCall(b);
    const call = await a.call('b');
    await incoming;
    assert.equal(await call.path(), 'relay');
  });

  test('werift-style gathering (candidates before setLocalDescription resolves): candidates are sent after the description', async () => {
    current = env();
    FakeRTCPeerConnection.options = { gathering: 'werift' };
    const a = await current.open('a');
    const b = await current.open('b');
    const incoming = nextCall(b);
    await a.call('b');
    await incoming;
    for (const peer of ['a', 'b']) {
      const mine = current.server.frames.filter((f) => f.from === peer).map((f) => f.msg.type);
      const desc = mine.findIndex((t) => t === 'offer' || t === 'answer');
      const firstCandidate = mine.indexOf('candidate');
      assert.ok(desc >= 0 && firstCandidate > desc, `${peer} sent ${mine.join(',')}`);
    }
    // Remote candidates were queued until the remote description was set: none refused.
    for (const pc of FakeRTCPeerConnection.instances) assert.deepEqual(pc.refusedCandidates, []);
  });

  test('candidates that arrive before the offer are kept and applied to the call', async () => {
    current = env();
    const a = await current.open('a');
    const b = await current.open('b');
    // Deliver a stray candidate from "a" to b before any offer.
    current.server.sockets.get('b')!.deliver({
      type: 'candidate', from: 'a', payload: { candidate: 'candidate:9 1 udp 1 127.0.0.9 9 typ relay', sdpMid: '0', sdpMLineIndex: 0 },
    });
    await sleep(5);
    const incoming = nextCall(b);
    await a.call('b');
    await incoming;
    const calleePc = FakeRTCPeerConnection.instances[1];
    assert.ok(calleePc.addedCandidates.some((c) => String((c as { candidate: string }).candidate).includes('127.0.0.9')));
  });

  test('end-of-candidates (null) is not forwarded; the a= prefix is stripped', async () => {
    current = env();
    const a = await current.open('a');
    const b = await current.open('b');
    const incoming = nextCall(b);
    await a.call('b');
    await incoming;
    const cands = current.server.frames.filter((f) => f.msg.type === 'candidate');
    assert.ok(cands.length >= 2);
    for (const f of cands) {
      const p = f.msg.payload as { candidate: string; sdpMid: string };
      assert.ok(p !== null);
      assert.match(p.candidate, /^candidate:/);
      assert.equal(p.sdpMid, '0');
    }
  });

  test('calling a peer that is not connected rejects with peer_unavailable', async () => {
    current = env();
    const a = await current.open('a');
    await assert.rejects(a.call('nobody'), (err: unknown) => err instanceof FerryError && err.code === 'peer_unavailable');
  });

  test('a call that never connects times out, sends bye and closes its connection', async () => {
    current = env();
    current.server.dropOffers = true;
    const a = await current.open('a');
    await current.open('b');
    await assert.rejects(a.call('b', { timeoutMs: 100 }), (err: unknown) => err instanceof FerryError && err.code === 'timeout');
    await sleep(5);
    assert.ok(current.server.frames.some((f) => f.from === 'a' && f.msg.type === 'bye' && f.msg.to === 'b'));
    assert.ok(FakeRTCPeerConnection.instances[0].closed);
  });

  test('close() sends bye; the other side ends with reason remote and its channel closes', async () => {
    current = env();
    const a = await current.open('a');
    const b = await current.open('b');
    const incoming = nextCall(b);
    const call = await a.call('b');
    const callee = await incoming;
    const ended = new Promise<string>((resolve) => { callee.onclose = resolve; });
    let channelClosed = false;
    callee.channel.onclose = () => { channelClosed = true; };
    call.close();
    assert.equal(call.closed, true);
    // The bye or the data channel's own close, whichever reaches the callee first, ends its call.
    assert.ok(['remote', 'channel closed'].includes(await ended));
    assert.ok(channelClosed);
    assert.ok(current.server.frames.some((f) => f.from === 'a' && f.msg.type === 'bye'));
    call.close(); // idempotent
    assert.equal(current.server.frames.filter((f) => f.msg.type === 'bye').length, 1);
  });

  test('incoming calls before any onCall handler are delivered to the first handler', async () => {
    current = env();
    const a = await current.open('a');
    const b = await current.open('b');
    const call = await a.call('b');
    call.channel.send('early');
    await sleep(10);
    const callee = await nextCall(b);
    // The message that arrived before the application attached onmessage is not lost.
    const got = collect(callee);
    assert.deepEqual(got, ['early']);
  });

  test('glare: both call each other at once; both calls resolve on one connection', async () => {
    current = env();
    const a = await current.open('a');
    const b = await current.open('b');
    let handed = 0;
    a.onCall(() => handed++);
    b.onCall(() => handed++);
    const [ab, ba] = await Promise.all([a.call('b'), b.call('a')]);
    assert.equal(handed, 0, 'the glare call went to call(), not to onCall');
    assert.equal(ab.role, 'caller', 'a (smaller id) keeps its offer');
    assert.equal(ba.role, 'callee');
    const got = collect(ba);
    ab.channel.send('hi');
    await until(() => got.length === 1, 2000, 'message over the surviving connection', 2);
    const live = FakeRTCPeerConnection.instances.filter((pc) => !pc.closed);
    assert.equal(live.length, 2);
  });

  test('calling again replaces the previous call with that peer', async () => {
    current = env();
    const a = await current.open('a');
    const b = await current.open('b');
    const calls: Call[] = [];
    b.onCall((c) => calls.push(c));
    const first = await a.call('b');
    await until(() => calls.length === 1, 2000, 'first incoming', 2);
    const second = await a.call('b');
    await until(() => calls.length === 2, 2000, 'second incoming', 2);
    assert.equal(first.closed, true);
    assert.equal(calls[0].closed, true);
    assert.equal(second.closed, false);
    const got = collect(calls[1]);
    second.channel.send('again');
    await until(() => got.length === 1, 2000, 'message on the new call', 2);
  });

  test('a client cannot call itself; close() rejects further calls', async () => {
    current = env();
    const a = await current.open('a');
    await assert.rejects(a.call('a'), /itself/);
    await a.close();
    await sleep(5);
    await assert.rejects(a.call('b'), (err: unknown) => err instanceof FerryError && err.code === 'closed');
  });
});

describe('adapters in the call path', () => {
  test('weriftAdapter: one entry per URL, STUN then the preferred TURN transport first', async () => {
    current = env();
    const a = await current.open('a', { adapter: weriftAdapter({ transport: 'tcp' }) });
    const b = await current.open('b');
    const incoming = nextCall(b);
    await a.call('b');
    await incoming;
    const servers = FakeRTCPeerConnection.instances[0].config.iceServers as Array<{ urls: string[] }>;
    assert.deepEqual(servers.map((s) => s.urls), [
      ['stun:127.0.0.1:3478'], ['turn:127.0.0.1:3478?transport=tcp'], ['turn:127.0.0.1:3478?transport=udp'],
    ]);
  });

  test('nodeDataChannelAdapter: UDP TURN only, encoded credentials, bindAddress in the config', async () => {
    current = env();
    const a = await current.open('a', { adapter: nodeDataChannelAdapter({ bindAddress: '127.0.0.2' }), forceRelay: true });
    const b = await current.open('b');
    const incoming = nextCall(b);
    await a.call('b');
    await incoming;
    const config = FakeRTCPeerConnection.instances[0].config;
    assert.equal(config.bindAddress, '127.0.0.2');
    assert.equal(config.iceTransportPolicy, 'relay');
    assert.deepEqual(config.iceServers, [
      { urls: ['stun:127.0.0.1:3478'] },
      { urls: ['turn:127.0.0.1:3478'], username: '1700000000%3Aacc_x', credential: 'c2VjcmV0%2F%2B%3D' },
    ]);
  });
});

describe('signaling events', () => {
  test('a bye alone ends the call with reason remote', async () => {
    current = env();
    const a = await current.open('a');
    const b = await current.open('b');
    const incoming = nextCall(b);
    const call = await a.call('b');
    const callee = await incoming;
    const ended = new Promise<string>((resolve) => { callee.onclose = resolve; });
    current.server.sockets.get('b')!.deliver({ type: 'bye', from: 'a' });
    assert.equal(await ended, 'remote');
    assert.equal(callee.closed, true);
    assert.equal(call.closed, false, 'only the signaled side ended (no bye echoed back)');
  });

  test('the signaling socket closing rejects calls being set up and fires onclose', async () => {
    current = env();
    current.server.dropOffers = true;
    const a = await current.open('a');
    await current.open('b');
    const closed = new Promise<unknown>((resolve) => { a.onclose = resolve; });
    const pending = a.call('b', { timeoutMs: 5000 });
    await sleep(10);
    current.server.sockets.get('a')!.close();
    await assert.rejects(pending, (err: unknown) => err instanceof FerryError && err.code === 'signaling_closed');
    await closed;
  });

  test('keepalive pings at pingIntervalMs', async () => {
    current = env();
    await current.open('a', { pingIntervalMs: 10 });
    await sleep(45);
    assert.ok(current.server.frames.filter((f) => f.msg.type === 'ping').length >= 2);
  });

  test('errors that belong to no pending call go to onerror', async () => {
    current = env();
    const a = await current.open('a');
    const got = new Promise<FerryError>((resolve) => { a.onerror = resolve; });
    current.server.sockets.get('a')!.deliver({ type: 'error', code: 'rate_limited', message: 'slow down' });
    const err = await got;
    assert.equal(err.code, 'rate_limited');
  });
});
