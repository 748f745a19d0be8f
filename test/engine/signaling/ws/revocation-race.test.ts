// A revocation while a socket's credential is being checked (or its WebSocket handshake is in
// flight) finds no attached socket to close: the socket is checked against the revocations made
// since its admission began, and refused as the hub would have closed it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, openSocket, startServer, type TestServer } from '../../../helpers/ws-client.js';
import { withTimeout } from '../../../helpers/wait.js';
import { RecentRevocations } from '../../../../signaling/ws/revocations.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

/** A server whose credential check waits until the test releases it. */
async function gatedServer(): Promise<{ server: TestServer; checking: Promise<void>; release(): void }> {
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const checking = new Promise<void>((r) => (started = r));
  const server = await startServer({
    authenticate: async ({ bearer }) => {
      started();
      await gate;
      return bearer === 'key-1' ? { accountId: 'acc_A', apiKeyId: 'k1' } : bearer === 'key-2' ? { accountId: 'acc_A', apiKeyId: 'k2' } : null;
    },
  });
  servers.push(server);
  return { server, checking, release };
}

test('an API key revoked during the check: its socket is closed 4401 "credential revoked", not attached', async () => {
  const { server, checking, release } = await gatedServer();
  const client = new Client(openSocket(server, 'p1', { key: 'key-1' }));
  await withTimeout(checking, 5000, 'the check started');
  assert.equal(server.hub.closeApiKey('acc_A', 'k1'), 0, 'nothing attached to close yet');
  release();
  assert.deepEqual(await withTimeout(client.closed, 5000, 'closed'), { code: 4401, reason: 'credential revoked' });
  assert.equal(server.hub.stats().peers, 0);
});

test('another key of the account revoked during the check: the socket stays', async () => {
  const { server, checking, release } = await gatedServer();
  const client = new Client(openSocket(server, 'p2', { key: 'key-2' }));
  await withTimeout(checking, 5000, 'the check started');
  server.hub.closeApiKey('acc_A', 'k1');
  release();
  const welcome = await client.next(5000);
  assert.equal(welcome.type, 'welcome');
  client.ws.close();
});

test('the account closed during the check: 1008 "account closed"', async () => {
  const { server, checking, release } = await gatedServer();
  const client = new Client(openSocket(server, 'p3', { key: 'key-2' }));
  await withTimeout(checking, 5000, 'the check started');
  server.hub.closeAccount('acc_A');
  release();
  assert.deepEqual(await withTimeout(client.closed, 5000, 'closed'), { code: 1008, reason: 'account closed' });
});

test('RecentRevocations: matches by account and key after a mark; more revocations than it keeps: refused to be safe', () => {
  const r = new RecentRevocations(3);
  const mark = r.mark;
  assert.equal(r.since(mark, { accountId: 'a', apiKeyId: 'k' }), null);
  r.record('a', 'other');
  r.record('b');
  assert.equal(r.since(mark, { accountId: 'a', apiKeyId: 'k' }), null);
  r.record('a', 'k');
  assert.equal(r.since(mark, { accountId: 'a', apiKeyId: 'k' }), 'api-key');
  assert.equal(r.since(r.mark, { accountId: 'a', apiKeyId: 'k' }), null, 'nothing since the latest mark');
  assert.equal(r.since(mark, { accountId: 'b' }), 'account');
  r.record('c');
  assert.equal(r.since(mark, { accountId: 'z' }), 'account', 'the first revocation after the mark is forgotten: refuse');
});
