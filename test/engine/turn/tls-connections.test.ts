// Issue 9, finding 3: TLS connections that never complete a handshake are closed (Node reports a
// handshake timeout with tlsClientError but leaves the socket open), and the allocate deadline and
// the caps count from TCP accept, before the handshake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { TurnServer } from '../../../turn/server.js';
import type { ConnectionLimits } from '../../../turn/options.js';
import { createAuthHandler } from '../../../src/credentials/auth-handler.js';
import { createPeerPolicy } from '../../../turn/peer-policy.js';
import { makeSelfSignedCert, type TestCert } from '../../helpers/tls-cert.js';
import { reservePortRange, type PortRange } from '../../helpers/ports.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { closesWithin, openTcp } from '../../helpers/tcp-socket.js';

let cert: TestCert;
let range: PortRange;
const servers: TurnServer[] = [];
const sockets: Socket[] = [];

before(async () => {
  cert = makeSelfSignedCert();
  range = await reservePortRange();
});
after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) await s.stop();
  cert.remove();
  range.release();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TLS-only server on loopback; returns it with its TLS port and the refusals it reported. */
async function tlsServer(handshakeMs: number, limits: Partial<ConnectionLimits>) {
  const refused: string[] = [];
  const server = new TurnServer({
    realm: 'ferry.test',
    listen: [],
    tls: [{ host: '127.0.0.1', port: 0, cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath) }],
    relay: { ips4: ['127.0.0.1'], ips6: [], portMin: range.lo, portMax: range.hi },
    auth: createAuthHandler({ users: { alice: 'alice-pass' }, secrets: [] }),
    peerPolicy: createPeerPolicy({ allow: ['127.0.0.0/8'], deny: [], serverAddresses: [] }),
    quotas: { allocationsPerUser: 10, totalAllocations: 100, permissionsPerAllocation: 10, channelsPerAllocation: 10 },
    connections: { perIp: 100, total: 100, allocateTimeoutMs: 60_000, ...limits },
    tlsHandshakeTimeoutMs: handshakeMs,
    events: { connectionRefused: (reason) => refused.push(reason) },
  });
  servers.push(server);
  await server.start();
  const port = server.listening().find((l) => l.transport === 'tls')!.port;
  return { server, port, refused };
}

async function silent(port: number): Promise<Socket> {
  const s = await openTcp(port);
  sockets.push(s);
  return s;
}

test('a connection that sends nothing to the TLS port is closed at the handshake timeout', async () => {
  const { server, port } = await tlsServer(300, {}); // allocate deadline far away: the handshake timeout acts
  const s = await silent(port);
  assert.ok(await closesWithin(s, 5000), 'closed after the handshake timed out');
  for (let i = 0; i < 100 && server.connectionStats().connections > 0; i++) await sleep(10);
  assert.equal(server.connectionStats().connections, 0, 'and uncounted');
});

test('the allocate deadline runs from TCP accept, before the handshake', async () => {
  const { port } = await tlsServer(60_000, { allocateTimeoutMs: 1000 }); // handshake timeout far away
  const s = await silent(port);
  assert.ok(await closesWithin(s, 5000), 'closed by the allocate deadline');
});

test('connections in their handshake count against connections_per_ip', async () => {
  const { port, refused } = await tlsServer(60_000, { perIp: 1 });
  const holder = await silent(port);
  const c = TestTurnClient.connect({ port, transport: 'tls' });
  await assert.rejects(c, 'the TLS client from the same address is closed');
  assert.deepEqual(refused, ['per-ip']);
  assert.equal(holder.closed, false, 'the first connection is kept');
});

test('a TLS connection holding an allocation outlives the deadline, and the deadline returns after it ends', async () => {
  const { port } = await tlsServer(60_000, { allocateTimeoutMs: 1000 });
  const c = await TestTurnClient.connect({ port, transport: 'tls', username: 'alice', password: 'alice-pass' });
  try {
    assert.equal((await c.allocate()).code, 0);
    await sleep(2000); // twice the deadline
    assert.equal((await c.refresh()).code, 0, 'still open, the allocation answers');
    assert.equal((await c.refresh(0)).code, 0);
    const closed = await Promise.race([c.streamClosed().then(() => true), sleep(6000).then(() => false)]);
    assert.ok(closed, 'closed by the deadline after the allocation ended');
  } finally {
    c.close();
  }
});
