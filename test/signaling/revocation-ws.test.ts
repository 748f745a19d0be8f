// Revoking or disabling an account through the admin API also closes its signaling sockets.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { testApp, type TestApp } from './helpers.js';

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
