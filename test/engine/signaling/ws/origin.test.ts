// The signaling WebSocket's Origin check (signaling.cors_origins) through the whole signaling app
// on a real socket: with a list, a page's Origin must be in it (403 with a JSON body before the
// upgrade, logged at debug); clients that send no Origin, and every client without a list, pass.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { buildSignalingApp } from '../../../../signaling/app.js';
import { captureLog, type CapturedLog } from '../../../helpers/log-capture.js';
import { testApp, type TestApp } from '../../../helpers/signaling-app.js';
import { withTimeout } from '../../../helpers/wait.js';

const APP = 'http://localhost:5173';

type Outcome = { open: true } | { open: false; status: number; body: { error: { code: string; message: string } } };

/** Tries an upgrade; an accepted socket is closed at once. */
function upgrade(base: string, query: string, headers: Record<string, string>): Promise<Outcome> {
  const ws = new WebSocket(`${base}/v1/signal?${query}`, { headers });
  ws.on('error', () => {});
  return withTimeout(
    new Promise<Outcome>((resolve, reject) => {
      ws.once('open', () => {
        ws.terminate();
        resolve({ open: true });
      });
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          try {
            resolve({ open: false, status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(new Error(`HTTP ${res.statusCode} with a body that is not JSON: ${text}`));
          }
        });
      });
    }),
    3000,
    'upgrade',
  );
}

describe('signaling WebSocket Origin check', () => {
  const list: { value: readonly string[] } = { value: [APP] };
  let t: TestApp;
  let log: CapturedLog;
  let base = '';
  let apiKey = '';
  let token = '';

  before(async () => {
    log = captureLog('debug');
    t = await testApp({
      build: (deps) =>
        buildSignalingApp({
          ...deps,
          get corsOrigins() {
            return list.value;
          },
          log: log.logger,
        }),
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = t.app.server.address();
    assert.ok(typeof addr === 'object' && addr !== null);
    base = `ws://127.0.0.1:${addr.port}`;
    apiKey = (await t.createAccount('web')).api_key;
    const minted = await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: apiKey, payload: {} });
    token = (minted.json() as { token: string }).token;
  });
  after(() => t.close());

  it('admits a listed origin, and clients without Origin', async () => {
    assert.deepEqual(await upgrade(base, `peer_id=a&token=${token}`, { origin: APP }), { open: true });
    assert.deepEqual(await upgrade(base, 'peer_id=b', { authorization: `Bearer ${apiKey}` }), { open: true });
  });

  it('refuses an unlisted origin with 403 before reading the credentials, and logs it at debug', async () => {
    const before = log.lines.length;
    for (const origin of ['https://evil.example.net', 'null', 'http://localhost:5174', `${APP}/`]) {
      const r = await upgrade(base, `peer_id=a&token=${token}`, { origin });
      assert.equal(r.open, false, origin);
      assert.ok(!r.open);
      assert.equal(r.status, 403, origin);
      assert.equal(r.body.error.code, 'origin_not_allowed');
      assert.match(r.body.error.message, /signaling\.cors_origins/);
    }
    // Refused before the credentials: a bad token from a bad origin still gets 403, not 401.
    const noCredentials = await upgrade(base, 'peer_id=a', { origin: 'https://evil.example.net' });
    assert.ok(!noCredentials.open && noCredentials.status === 403);
    const refusals = log.lines.slice(before).filter((l) => l.msg === 'signaling: upgrade refused, origin not allowed');
    assert.equal(refusals.length, 5);
    assert.equal(refusals[0].level, 20, 'debug');
    assert.equal(refusals[0].origin, 'https://evil.example.net');
    assert.ok(!JSON.stringify(refusals).includes(token), 'the token is not logged');
  });

  it('["*"] admits every origin; an empty list checks none; a changed list applies to the next upgrade', async () => {
    try {
      list.value = ['*'];
      assert.deepEqual(await upgrade(base, `peer_id=a&token=${token}`, { origin: 'https://any.example.org' }), { open: true });
      list.value = [];
      assert.deepEqual(await upgrade(base, `peer_id=a&token=${token}`, { origin: 'https://any.example.org' }), { open: true });
      list.value = ['https://other.example.org'];
      const r = await upgrade(base, `peer_id=a&token=${token}`, { origin: APP });
      assert.ok(!r.open && r.status === 403);
    } finally {
      list.value = [APP];
    }
  });
});
