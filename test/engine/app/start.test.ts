// The composition root for real: startFerry with a config file, the signaling API over HTTP, a TURN
// allocation made with credentials from /v1/ice-servers, revocation closing it, and a restart that
// finds the account again in the SQLite file next to the config.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { startFerry, type FerryHandle } from '../../../app/ferry.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { freePort } from '../../helpers/ports.js';
import { apiRequest } from '../../helpers/admin-http.js';
import { captureLog } from '../../helpers/log-capture.js';

const ADMIN = 'start-test-admin-token-0123';
const SECRET = 'start-test-rest-secret-0123';

describe('startFerry with signaling', () => {
  let dir: string;
  let configFile: string;
  let turnPort: number;
  let ferry: FerryHandle | undefined;
  const log = captureLog('info');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-signaling-'));
    turnPort = await freePort();
    configFile = join(dir, 'ferry.json');
    writeFileSync(configFile, JSON.stringify({
      address: `127.0.0.1:${turnPort}`,
      auth_secrets: [SECRET],
      signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
      log_level: 'info',
    }));
    ferry = await startFerry(await loadConfig(configFile), log.logger);
  });
  after(async () => {
    await ferry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => `http://127.0.0.1:${ferry!.signalingAddress().port}`;
  const call = (method: string, path: string, token?: string, body?: unknown) => apiRequest(base(), method, path, token, body);

  it('listens where it logs, answers /healthz, and keeps the store next to the config file', async () => {
    const at = ferry!.signalingAddress();
    assert.equal(at.address, '127.0.0.1');
    assert.ok(at.port > 0);
    assert.ok(log.lines.some((l) => l.transport === 'http' && l.port === at.port), 'a log line says where signaling listens');
    const res = await call('GET', '/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    assert.ok(existsSync(join(dir, 'data', 'ferry.db')), 'sqlite:data/ferry.db resolved against the config directory');
  });

  it('hands out TURN credentials that allocate; revoking closes the allocation and refuses them', async () => {
    const created = await call('POST', '/v1/accounts', ADMIN, { name: 'e2e' });
    assert.equal(created.status, 201);
    const account = (await created.json()) as { id: string; api_key: string };

    const ice = await call('POST', '/v1/ice-servers', account.api_key);
    assert.equal(ice.status, 200);
    const { iceServers } = (await ice.json()) as { iceServers: Array<{ urls: string[]; username: string; credential: string }> };
    const [server] = iceServers;
    assert.ok(server.urls.includes(`turn:127.0.0.1:${turnPort}?transport=udp`), server.urls.join(' '));

    const client = await TestTurnClient.connect({ port: turnPort, username: server.username, password: server.credential });
    try {
      const alloc = await client.allocate();
      assert.equal(alloc.code, 0, 'Allocate with the issued credentials succeeds');
      assert.equal(ferry!.allocationCount(), 1);

      const revoked = await call('POST', `/v1/accounts/${account.id}/revoke`, ADMIN);
      assert.equal(revoked.status, 200);
      assert.deepEqual(await revoked.json(), { revoked: true, closed_allocations: 1 });
      assert.equal(ferry!.allocationCount(), 0);
    } finally {
      client.close();
    }
    const again = await TestTurnClient.connect({ port: turnPort, username: server.username, password: server.credential });
    try {
      assert.equal((await again.allocate()).code, 401, 'revoked credentials are refused');
    } finally {
      again.close();
    }
  });

  it('lists live sessions and closes one through the admin API (the relay frees it)', async () => {
    const created = await call('POST', '/v1/accounts', ADMIN, { name: 'sessions' });
    const account = (await created.json()) as { id: string; api_key: string };
    const ice = await call('POST', '/v1/ice-servers', account.api_key);
    const [server] = ((await ice.json()) as { iceServers: Array<{ username: string; credential: string }> }).iceServers;
    const client = await TestTurnClient.connect({ port: turnPort, username: server.username, password: server.credential });
    try {
      assert.equal((await client.allocate()).code, 0);
      const listed = (await (await call('GET', `/v1/sessions?account=${account.id}`, ADMIN)).json()) as { sessions: Array<{ id: number; account: string }> };
      assert.equal(listed.sessions.length, 1);
      assert.equal(listed.sessions[0].account, account.id);
      const del = await call('DELETE', `/v1/sessions/${listed.sessions[0].id}`, ADMIN);
      assert.equal(del.status, 204);
      assert.equal(ferry!.allocationCount(), 0);
      assert.equal((await client.refresh(600)).code, 437, 'the client sees its allocation gone');
    } finally {
      client.close();
    }
  });

  it('stops signaling with the relay, and a restart finds the accounts in the SQLite file', async () => {
    const created = await call('POST', '/v1/accounts', ADMIN, { name: 'persistent' });
    const account = (await created.json()) as { id: string; api_key: string };
    const port = ferry!.signalingAddress().port;
    await ferry!.stop();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'signaling is closed');
    assert.equal(ferry!.listening().length, 0);

    ferry = await startFerry(await loadConfig(configFile), log.logger);
    const read = await call('GET', `/v1/accounts/${account.id}`, ADMIN);
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { name: string }).name, 'persistent');
    assert.equal((await call('POST', '/v1/ice-servers', account.api_key)).status, 200, 'the API key survived the restart');
  });
});
