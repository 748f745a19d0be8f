// signaling.cors_origins is applied live (FerryHandle.reload, what SIGHUP does), in process over
// real sockets: a reload that lists an origin opens CORS to it at once, one that removes it closes
// CORS and the WebSocket to it for new requests, while a socket it opened stays connected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { startInProcessFerry, type InProcessFerry } from '../../helpers/ferry-in-process.js';
import { withTimeout } from '../../helpers/wait.js';

const ADMIN = 'reload-cors-admin-token-0123';
const APP = 'http://localhost:5173';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTP request with the headers given as is (fetch would not let us set Origin). */
function http(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return withTimeout(
    new Promise<Answer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    }),
    5000,
    `${method} ${path}`,
  );
}

const preflight = (port: number, origin: string) =>
  http(port, 'OPTIONS', '/v1/ice-servers', { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' });

/** Opens a signaling socket as a page of `origin` would; resolves with it open, or the refusal's status. */
function openSocket(port: number, token: string, peer: string, origin: string): Promise<WebSocket | number> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/signal?peer_id=${peer}&token=${encodeURIComponent(token)}`, { origin });
  ws.on('error', () => {});
  return withTimeout(
    new Promise<WebSocket | number>((resolve) => {
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
    }),
    5000,
    `socket from ${origin}`,
  );
}

describe('reload of signaling.cors_origins', () => {
  let f: InProcessFerry;
  let port = 0;
  let token = '';
  const sockets: WebSocket[] = [];
  const signaling = (cors_origins?: string[]) => ({
    auth_secrets: ['reload-cors-secret-0123456789'],
    signaling: { address: '127.0.0.1:0', admin_token: ADMIN, ...(cors_origins ? { cors_origins } : {}) },
  });

  before(async () => {
    f = await startInProcessFerry(signaling());
    port = f.handle.signalingAddress().port;
    const account = await http(port, 'POST', '/v1/accounts', { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, '{"name":"web"}');
    assert.equal(account.status, 201, account.body);
    const apiKey = (JSON.parse(account.body) as { api_key: string }).api_key;
    const minted = await http(port, 'POST', '/v1/signal-tokens', { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, '{}');
    assert.equal(minted.status, 201, minted.body);
    token = (JSON.parse(minted.body) as { token: string }).token;
  });
  after(async () => {
    for (const s of sockets) s.terminate();
    await f?.stop();
  });

  it('adding an origin answers it at once; removing it refuses its new requests and upgrades, open sockets stay', async () => {
    assert.equal((await preflight(port, APP)).status, 404, 'no CORS before');
    const early = await openSocket(port, token, 'early', 'https://elsewhere.example.org');
    assert.ok(early instanceof WebSocket, 'no list: no Origin check');
    sockets.push(early);

    assert.deepEqual(f.reload(signaling([APP])), { live: ['signaling.cors_origins'], restart: [] });
    const pre = await preflight(port, APP);
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], APP);
    const kept = await openSocket(port, token, 'kept', APP);
    assert.ok(kept instanceof WebSocket, 'a listed origin connects');
    sockets.push(kept);
    assert.equal(await openSocket(port, token, 'other', 'https://elsewhere.example.org'), 403);

    assert.deepEqual(f.reload(signaling(['https://new.example.org'])), { live: ['signaling.cors_origins'], restart: [] });
    assert.equal((await preflight(port, APP)).status, 404);
    assert.equal((await preflight(port, 'https://new.example.org')).headers['access-control-allow-origin'], 'https://new.example.org');
    assert.equal(await openSocket(port, token, 'again', APP), 403);
    assert.equal(kept.readyState, WebSocket.OPEN, 'a reload does not close the sockets already open');
    assert.equal(early.readyState, WebSocket.OPEN);
  });

  it('a reload with a bad origin is refused, naming the key, and changes nothing', async () => {
    assert.throws(() => f.reload(signaling(['https://new.example.org/'])), /signaling\.cors_origins\[0\]: .*did you mean "https:\/\/new\.example\.org"/);
    assert.equal((await preflight(port, 'https://new.example.org')).status, 204);
  });
});
