// Revoking or disabling an account through the admin API also closes its signaling sockets; revoking
// an API key closes the sockets opened with it, and a signaling token's socket closes when it expires.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { sleep, withTimeout } from '../../../helpers/wait.js';
import { testApp, type TestApp } from '../../../helpers/signaling-app.js';

const apps: TestApp[] = [];
after(async () => {
  for (const a of apps) await a.close();
});

async function socketOf(t: TestApp, apiKey: string, peerId: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = t.app.server.address() as { port: number };
  const ws = new WebSocket(`ws://127.0.0.1:${addr.port}/v1/signal?peer_id=${peerId}`, { headers: { authorization: `Bearer ${apiKey}` } });
  ws.on('error', () => {});
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('close', (code) => reject(new Error(`closed ${code} before welcome`)));
  });
  return { ws, closed };
}

for (const action of ['revoke', 'disable'] as const) {
  test(`${action} closes the account's WebSockets and leaves other accounts' open`, async () => {
    const t = await testApp();
    apps.push(t);
    const a = (await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: 'a' } })).json() as { id: string; api_key: string };
    const b = (await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: 'b' } })).json() as { id: string; api_key: string };
    const sa = await socketOf(t, a.api_key, 'pa');
    const addr = t.app.server.address() as { port: number };
    const wsb = new WebSocket(`ws://127.0.0.1:${addr.port}/v1/signal?peer_id=pb`, { headers: { authorization: `Bearer ${b.api_key}` } });
    await new Promise<void>((r) => wsb.once('message', () => r()));
    const res =
      action === 'revoke'
        ? await t.request({ method: 'POST', url: `/v1/accounts/${a.id}/revoke` })
        : await t.request({ method: 'PATCH', url: `/v1/accounts/${a.id}`, payload: { disabled: true } });
    assert.equal(res.statusCode, 200);
    assert.equal(await sa.closed, 1008);
    assert.equal(wsb.readyState, WebSocket.OPEN);
    wsb.close();
  });
}

// Issue 9, finding 11: a socket ends with the credential it was opened with.

interface Opened {
  ws: WebSocket;
  closed: Promise<{ code: number; reason: string }>;
  state(): 'open' | 'closed';
}

async function open(t: TestApp, peerId: string, cred: { key: string } | { token: string }): Promise<Opened> {
  if (!t.app.server.listening) await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as { port: number };
  const ws =
    'key' in cred
      ? new WebSocket(`ws://127.0.0.1:${port}/v1/signal?peer_id=${peerId}`, { headers: { authorization: `Bearer ${cred.key}` } })
      : new WebSocket(`ws://127.0.0.1:${port}/v1/signal?peer_id=${peerId}&token=${encodeURIComponent(cred.token)}`);
  ws.on('error', () => {});
  let done = false;
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.once('close', (code, reason) => {
      done = true;
      r({ code, reason: reason.toString() });
    }),
  );
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('close', (code) => reject(new Error(`${peerId}: closed ${code} before welcome`)));
    }),
    5000,
    `${peerId} welcome`,
  );
  return { ws, closed, state: () => (done ? 'closed' : 'open') };
}

/** A ping answered with a pong: the socket is open and served. */
async function served(s: Opened): Promise<void> {
  s.ws.send(JSON.stringify({ type: 'ping' }));
  const frame = await withTimeout(new Promise<string>((r) => s.ws.once('message', (d) => r(String(d)))), 5000, 'pong');
  assert.deepEqual(JSON.parse(frame), { type: 'pong' });
}

async function signalToken(t: TestApp, apiKey: string, ttl: number): Promise<string> {
  const res = await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: apiKey, payload: { ttl } });
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { token: string }).token;
}

test('revoking one API key closes the sockets opened with it (4401) and leaves the account\'s others open', async () => {
  const t = await testApp();
  apps.push(t);
  const acc = await t.createAccount('two-keys');
  const second = await t.request({ method: 'POST', url: `/v1/accounts/${acc.id}/keys` });
  assert.equal(second.statusCode, 201);
  const key2 = second.json() as { id: string; api_key: string };
  const keys = (await t.request({ method: 'GET', url: `/v1/accounts/${acc.id}/keys` })).json() as { keys: { id: string }[] };
  const key1Id = keys.keys.map((k) => k.id).find((id) => id !== key2.id)!;
  const other = await t.createAccount('other');

  const k1a = await open(t, 'k1a', { key: acc.api_key });
  const k1b = await open(t, 'k1b', { key: acc.api_key });
  const k2 = await open(t, 'k2', { key: key2.api_key });
  // A token minted with key 1 is a credential of its own (revoking the key does not end it).
  const tok = await open(t, 'tok', { token: await signalToken(t, acc.api_key, 600) });
  const elsewhere = await open(t, 'k1a', { key: other.api_key });

  const res = await t.request({ method: 'DELETE', url: `/v1/accounts/${acc.id}/keys/${key1Id}` });
  assert.equal(res.statusCode, 204);
  assert.deepEqual(await withTimeout(k1a.closed, 5000, 'k1a closed'), { code: 4401, reason: 'credential revoked' });
  assert.deepEqual(await withTimeout(k1b.closed, 5000, 'k1b closed'), { code: 4401, reason: 'credential revoked' });
  for (const s of [k2, tok, elsewhere]) {
    await served(s);
    assert.equal(s.state(), 'open');
  }
  // Key 2's peer still reaches the token's peer.
  k2.ws.send(JSON.stringify({ type: 'bye', to: 'tok' }));
  const got = await withTimeout(new Promise<string>((r) => tok.ws.once('message', (d) => r(String(d)))), 5000, 'bye');
  assert.deepEqual(JSON.parse(got), { type: 'bye', from: 'k2' });
  // And the revoked key opens nothing new.
  const { port } = t.app.server.address() as { port: number };
  const again = new WebSocket(`ws://127.0.0.1:${port}/v1/signal?peer_id=again`, { headers: { authorization: `Bearer ${acc.api_key}` } });
  again.on('error', () => {});
  const status = await withTimeout(
    new Promise<number>((resolve) => {
      again.once('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      again.once('open', () => resolve(101));
    }),
    5000,
    'upgrade with the revoked key',
  );
  assert.equal(status, 401);
  again.terminate();
  for (const s of [k2, tok, elsewhere]) s.ws.close();
});

test('a socket opened with a signaling token closes (4401) once the token expires; an API key\'s socket stays', async () => {
  const t = await testApp({ appClock: true, signalLimits: { heartbeatMs: 50 } });
  apps.push(t);
  const acc = await t.createAccount('expiring');
  const tok = await open(t, 'tok', { token: await signalToken(t, acc.api_key, 60) });
  const keyed = await open(t, 'keyed', { key: acc.api_key });
  t.clock.ms += 59_999;
  // Heartbeats pass (each one checks the expiry) while the token is still valid.
  await sleep(250);
  assert.equal(tok.state(), 'open');
  t.clock.ms += 1;
  assert.deepEqual(await withTimeout(tok.closed, 5000, 'token socket closed'), { code: 4401, reason: 'credential expired' });
  t.clock.ms += 86_400_000;
  await sleep(250);
  await served(keyed);
  assert.equal(keyed.state(), 'open');
  keyed.ws.close();
});
