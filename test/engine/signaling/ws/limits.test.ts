// The signaling WebSocket's limits and lifecycle over real sockets: expiry, sizes, rate, peers per
// account, heartbeat, shutdown, coexistence with an app's own @fastify/websocket, broken framing.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import websocket from '@fastify/websocket';
import { WebSocket } from 'ws';
import { Client, refusedUpgrade, startServer } from '../../../helpers/ws-client.js';
import { sleep, until, withTimeout } from '../../../helpers/wait.js';

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const CANDIDATE = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 };

describe('signaling socket limits', () => {
  test('expiry: the sender gets peer_unavailable with to and id (fake clock)', async () => {
    let t = 1_000_000;
    const server = await startServer({ now: () => t });
    try {
      const s = await Client.connect(server, 's');
      s.send({ type: 'offer', to: 'ghost', payload: OFFER, id: 'x1' });
      await s.drain();
      t += 9_999;
      server.hub.sweep();
      assert.deepEqual(await s.drain(), []);
      assert.equal(server.hub.stats().queued, 1);
      t += 1;
      server.hub.sweep();
      const [e, ...rest] = await s.drain();
      assert.deepEqual(rest, []);
      assert.equal(e.type, 'error');
      assert.equal(e.code, 'peer_unavailable');
      assert.equal(e.to, 'ghost');
      assert.equal(e.id, 'x1');
      assert.deepEqual(server.hub.stats(), { accounts: 1, peers: 1, queued: 0 });
      // The ghost connecting later gets nothing.
      const ghost = await Client.connect(server, 'ghost');
      assert.deepEqual(await ghost.drain(), []);
      await s.close();
      await ghost.close();
    } finally {
      await server.close();
    }
  });

  test('expiry on the real timer with a short ttl', async () => {
    const server = await startServer({ limits: { queueTtlMs: 150 } });
    try {
      const s = await Client.connect(server, 's');
      s.send({ type: 'candidate', to: 'ghost', payload: CANDIDATE, id: 5 });
      const e = await s.next(2000);
      assert.equal(e.code, 'peer_unavailable');
      assert.equal(e.id, 5);
      assert.equal(server.hub.stats().queued, 0);
      await s.close();
    } finally {
      await server.close();
    }
  });

  test('too_large error frame under maxPayload; 1009 over it; the server keeps serving', async () => {
    const server = await startServer({ limits: { maxFrameBytes: 4096, maxMessageBytes: 1024 } });
    try {
      const c = await Client.connect(server, 'big');
      const other = await Client.connect(server, 'bystander');
      c.send({ type: 'offer', to: 'bystander', payload: { type: 'offer', sdp: 'x'.repeat(2000) } });
      const e = await c.next();
      assert.equal(e.code, 'too_large');
      assert.deepEqual(await other.drain(), []);
      c.send({ type: 'offer', to: 'bystander', payload: { type: 'offer', sdp: 'x'.repeat(5000) } });
      assert.equal((await withTimeout(c.closed, 2000, '1009')).code, 1009);
      other.send({ type: 'ping' });
      assert.deepEqual(await other.next(), { type: 'pong' });
      const again = await Client.connect(server, 'big');
      again.send({ type: 'offer', to: 'bystander', payload: OFFER });
      assert.deepEqual(await other.next(), { type: 'offer', from: 'big', payload: OFFER });
      await again.close();
      await other.close();
    } finally {
      await server.close();
    }
  });

  test('rate limit: rate_limited frames past the burst, 1008 after sustained abuse', async () => {
    let t = 5_000_000;
    const server = await startServer({ now: () => t, limits: { ratePerSecond: 0.001, rateBurst: 5, abuseCloseMs: 5000 } });
    try {
      const c = await Client.connect(server, 'rl');
      for (let i = 0; i < 8; i++) c.send({ type: 'ping', id: i });
      const got = [];
      for (let i = 0; i < 8; i++) got.push(await c.next());
      assert.equal(got.filter((f) => f.type === 'pong').length, 5);
      const limited = got.filter((f) => f.type === 'error');
      assert.equal(limited.length, 3);
      assert.ok(limited.every((f) => f.code === 'rate_limited'));
      // Still refused 4 s later (once a second): not yet closed.
      for (let s = 1; s <= 4; s++) {
        t += 1000;
        c.send({ type: 'ping' });
        assert.equal((await c.next()).code, 'rate_limited');
      }
      t += 1000; // 5 s of refusals
      c.send({ type: 'ping' });
      assert.deepEqual(await withTimeout(c.closed, 2000, '1008'), { code: 1008, reason: 'rate limit exceeded' });
      await until(() => server.hub.stats().peers === 0, 2000, 'unregistered');
    } finally {
      await server.close();
    }
  });

  test('maxPeersPerAccount: 429 JSON; a replacement still fits; other accounts unaffected', async () => {
    const server = await startServer({ limits: { maxPeersPerAccount: 2 } });
    try {
      const a = await Client.connect(server, 'a');
      const b = await Client.connect(server, 'b');
      const r = await refusedUpgrade(server, 'c', { key: 'key-A' });
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, 'too_many_peers');
      const b2 = await Client.connect(server, 'b');
      assert.equal((await b.closed).code, 4000);
      const other = await Client.connect(server, 'c', { key: 'key-B' });
      for (const c of [a, b2, other]) await c.close();
    } finally {
      await server.close();
    }
  });

  test('heartbeat: a client that does not answer pings is terminated', async () => {
    const server = await startServer({ limits: { heartbeatMs: 100 } });
    try {
      const silent = await Client.connect(server, 'silent', { key: 'key-A' }, { autoPong: false });
      const polite = await Client.connect(server, 'polite');
      const closed = await withTimeout(silent.closed, 2000, 'silent terminated');
      assert.equal(closed.code, 1006, 'terminated, not closed');
      await sleep(250);
      assert.equal(polite.ws.readyState, WebSocket.OPEN, 'a client answering pings stays');
      assert.equal(server.hub.stats().peers, 1);
      await polite.close();
    } finally {
      await server.close();
    }
  });

  test('hub.close() and app.close() close sockets with 1001', async () => {
    const server = await startServer();
    const c = await Client.connect(server, 'x');
    const d = await Client.connect(server, 'y', { key: 'key-B' });
    await server.hub.close();
    assert.equal((await c.closed).code, 1001);
    assert.equal((await d.closed).code, 1001);
    assert.deepEqual(server.hub.stats(), { accounts: 0, peers: 0, queued: 0 });
    await server.close();

    const server2 = await startServer();
    const e = await Client.connect(server2, 'z');
    await server2.close();
    assert.equal((await e.closed).code, 1001);
  });

  test('works when the app registered @fastify/websocket itself', async () => {
    const server = await startServer({ setup: async (app) => void (await app.register(websocket)) });
    try {
      const a = await Client.connect(server, 'a');
      const b = await Client.connect(server, 'b');
      a.send({ type: 'offer', to: 'b', payload: OFFER });
      assert.deepEqual(await b.next(), { type: 'offer', from: 'a', payload: OFFER });
      // maxPayload is the app's (100 MiB): the message limit still answers too_large.
      a.send({ type: 'offer', to: 'b', payload: { type: 'offer', sdp: 'x'.repeat(70_000) } });
      assert.equal((await a.next()).code, 'too_large');
      await a.close();
      await b.close();
    } finally {
      await server.close();
    }
  });

  test('a raw client breaking the framing gets close 1002, the server lives on', async () => {
    const server = await startServer();
    try {
      const port = Number(new URL(server.base).port);
      const sock = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
      sock.write(
        'GET /v1/signal?peer_id=raw HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer key-A\r\n\r\n',
      );
      let got = Buffer.alloc(0);
      sock.on('data', (b: Buffer) => (got = Buffer.concat([got, b])));
      await until(() => got.includes('\r\n\r\n'), 2000, '101');
      assert.match(got.toString('latin1'), /^HTTP\/1.1 101 /);
      sock.write(Buffer.from([0x81, 0x05, 1, 2, 3, 4, 5])); // unmasked client frame: protocol error
      // The server answers with a close frame, code 1002 (protocol error).
      await until(() => got.includes(Buffer.from([0x88, 0x02, 0x03, 0xea])), 2000, 'close frame 1002');
      sock.destroy();
      const c = await Client.connect(server, 'after-raw');
      c.send({ type: 'ping' });
      assert.deepEqual(await c.next(), { type: 'pong' });
      await c.close();
    } finally {
      await server.close();
    }
  });
});
