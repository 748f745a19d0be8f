// The native listeners share their port between relay threads with SO_REUSEPORT, which would also
// let another process of the same user join it silently (coturn's second instance): a port
// someone holds is refused, as the TypeScript listener's exclusive bind refuses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { TurnServer } from '../../../../turn/server.js';
import { createPeerPolicy } from '../../../../turn/peer-policy.js';
import { createAuthHandler } from '../../../../src/credentials/auth-handler.js';
import { freePort } from '../../../helpers/ports.js';
import { requireNativeAddon } from '../../../helpers/data-plane.js';

function server(port: number): TurnServer {
  return new TurnServer({
    realm: 'ferry.test',
    listen: [{ host: '127.0.0.1', port }],
    relay: { ips4: ['127.0.0.1'], ips6: [], portMin: 40000, portMax: 40099 },
    auth: createAuthHandler({ users: { alice: 'alice-pass' }, secrets: [] }),
    peerPolicy: createPeerPolicy({ allow: ['127.0.0.0/8'], deny: [], serverAddresses: [], relayAddresses: [] }),
    quotas: { allocationsPerUser: 1, totalAllocations: 1, permissionsPerAllocation: 1, channelsPerAllocation: 1 },
    dataPlane: { addon: requireNativeAddon(), threads: 2 },
  });
}

test('a UDP port another socket holds: EADDRINUSE from bind, with the address and port', async () => {
  const port = await freePort();
  const holder = createSocket('udp4');
  await new Promise<void>((r) => holder.bind(port, '127.0.0.1', () => r()));
  const s = server(port);
  try {
    await assert.rejects(s.start(), (err: NodeJS.ErrnoException & { address?: string; port?: number }) => {
      assert.deepEqual([err.code, err.syscall, err.address, err.port], ['EADDRINUSE', 'bind', '127.0.0.1', port]);
      return true;
    });
  } finally {
    holder.close();
    await s.stop();
  }
});

test('a second native server on the port of a running one is refused, though both would set SO_REUSEPORT', async () => {
  const port = await freePort();
  const first = server(port);
  const second = server(port);
  try {
    await first.start();
    // From the UDP bind (the TCP listener on the same port would fail too, but with syscall 'listen').
    await assert.rejects(second.start(), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE' && err.syscall === 'bind');
    assert.equal(first.listening().find((l) => l.transport === 'udp')?.port, port);
  } finally {
    await second.stop();
    await first.stop();
  }
});

test('after stop: no listeners, and the engine calls that reach the plane do nothing instead of throwing', async () => {
  const s = server(0);
  await s.start();
  assert.equal(s.listening().filter((l) => l.transport === 'udp').length, 1);
  await s.stop();
  assert.deepEqual(s.listening(), []);
  s.setAccountMaxBps('alice', 1000);
  s.update({ maxBps: 5000 });
  assert.deepEqual([s.sessions(), s.nativeStats(), s.relayOnlyDrops()], [[], null, 0]);
});

test('stop frees the port at once: a new server in the same process binds it again', async () => {
  const port = await freePort();
  const first = server(port);
  await first.start();
  await first.stop();
  const second = server(port);
  try {
    await second.start();
    assert.equal(second.listening().find((l) => l.transport === 'udp')?.port, port);
  } finally {
    await second.stop();
  }
});
