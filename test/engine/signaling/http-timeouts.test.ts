// The signaling HTTP server cannot be held by a client that trickles its request (issue 9, finding
// 8): a body or headers sent a byte at a time, or nothing at all, get 408 and the connection closes, while an upgraded
// WebSocket is not cut by those limits.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from '../../../signaling/app.js';
import { checkIntervalMs, fastifyTimeoutOptions, resolveHttpTimeouts } from '../../../signaling/timeouts.js';
import { sleep } from '../../helpers/wait.js';
import { ADMIN_TOKEN, testApp, type TestApp } from '../../helpers/signaling-app.js';

const SHORT: Partial<HttpTimeouts> = { requestMs: 400, headersMs: 400 };
/** Bytes trickled at most: 40 × 200 ms is 8 s, twenty times the configured request timeout. */
const MAX_TRICKLE = 40;

const apps: TestApp[] = [];
after(async () => {
  for (const a of apps) await a.close();
});

async function listening(httpTimeouts: Partial<HttpTimeouts>): Promise<{ t: TestApp; port: number }> {
  const t = await testApp({ httpTimeouts });
  apps.push(t);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return { t, port: (t.app.server.address() as { port: number }).port };
}

/**
 * Writes `head`, then one byte of `drip` every 200 ms (at most MAX_TRICKLE) until the server closes
 * the connection; resolves with what the server sent, or rejects if it never closed.
 */
function trickle(port: number, head: string, drip: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => {}); // a reset after the 408 is a close too
    socket.once('close', () => {
      clearInterval(timer);
      resolve(received);
    });
    socket.once('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent === MAX_TRICKLE) {
          clearInterval(timer);
          socket.destroy();
          reject(new Error(`the server kept the connection through ${MAX_TRICKLE} trickled bytes; received ${JSON.stringify(received)}`));
          return;
        }
        if (!socket.writable) return;
        socket.write(drip[sent % drip.length] ?? 'x');
        sent += 1;
      }, 200);
    });
  });
}

test('a body trickled a byte every 200 ms gets 408 and the connection closes', async () => {
  const { port } = await listening(SHORT);
  const head =
    'POST /v1/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
    `Authorization: Bearer ${ADMIN_TOKEN}\r\nContent-Length: 1000\r\n\r\n`;
  const answer = await trickle(port, head, '{"name":"x"          ');
  assert.match(answer, /^HTTP\/1\.1 408 /);
});

test('headers trickled a byte every 200 ms get 408 and the connection closes', async () => {
  const { port } = await listening(SHORT);
  const answer = await trickle(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: aaaaaaaaaaaaaa\r\n');
  assert.match(answer, /^HTTP\/1\.1 408 /);
});

test('a connection that sends nothing gets 408 and closes', async () => {
  const { port } = await listening(SHORT);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error('a silent connection was kept for 8 s'));
    }, 20 * SHORT.requestMs!);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(guard);
      resolve(received);
    });
  });
  assert.match(answer, /^HTTP\/1\.1 408 /);
});

test('an ordinary request within the limits is answered, and a WebSocket outlives the request timeout', async () => {
  const { t, port } = await listening(SHORT);
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  const a = await t.createAccount('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/signal?peer_id=p1`, { headers: { authorization: `Bearer ${a.api_key}` } });
  ws.on('error', () => {});
  let closedWith: number | undefined;
  ws.once('close', (code) => (closedWith = code));
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('close', (code) => reject(new Error(`closed ${code} before welcome`)));
  });
  // Several request timeouts and deadline checks later, with no traffic, the socket is still open.
  await sleep(4 * SHORT.requestMs!);
  assert.equal(closedWith, undefined);
  assert.equal(ws.readyState, WebSocket.OPEN);
  ws.send(JSON.stringify({ type: 'ping' }));
  const pong = await new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
  assert.deepEqual(JSON.parse(pong), { type: 'pong' });
  ws.close();
});

test('timeouts: defaults, overrides, headers never above the request timeout, invalid values named', () => {
  assert.deepEqual(resolveHttpTimeouts(), DEFAULT_HTTP_TIMEOUTS);
  assert.deepEqual(resolveHttpTimeouts({ requestMs: 1000, headersMs: 5000 }), { ...DEFAULT_HTTP_TIMEOUTS, requestMs: 1000, headersMs: 1000 });
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => resolveHttpTimeouts({ keepAliveMs: bad }), /keepAliveMs/);
  }
  const opts = fastifyTimeoutOptions(DEFAULT_HTTP_TIMEOUTS);
  assert.equal(opts.requestTimeout, 30_000);
  assert.equal(opts.http.headersTimeout, 10_000);
  // Checked often enough that a deadline runs over by at most 5 s (Node's default interval is 30 s).
  assert.equal(checkIntervalMs(DEFAULT_HTTP_TIMEOUTS), 5_000);
  assert.equal(checkIntervalMs(resolveHttpTimeouts(SHORT)), 200);
});
