// A Ferry process on redis:// storage (app/storage.ts): an account made through its admin API is
// in Redis, relayed bytes reach the Redis usage ledger exactly, and a second process on the same
// Redis (a restart, or another node) knows the account and its API key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../../app/storage.js';
import type { Storage } from '../../../src/store/storage.js';
import { apiJson } from '../../helpers/admin-http.js';
import { LOOPBACK_PEERS, signalingPort, startFerryProcess, type FerryProcess } from '../../helpers/ferry-process.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { until } from '../../helpers/wait.js';
import { Cleanups } from '../../helpers/cleanups.js';

const ADMIN = 'admin-token-redis-storage-0123456789';

async function launch(redis: TestRedis): Promise<FerryProcess & { base: string }> {
  const handle = await startFerryProcess({
    peers: LOOPBACK_PEERS,
    storage: redis.url,
    signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
    network_usage: { write_interval: '200ms' },
  });
  let port = 0;
  try {
    port = await signalingPort(handle);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return Object.assign(handle, { base: `http://127.0.0.1:${port}` });
}

describe('a Ferry process on Redis storage', () => {
  let redis: TestRedis;
  let storage: Storage;
  const cleanups = new Cleanups();
  before(async () => {
    redis = await startRedis();
    storage = await openStorage(redis.url);
  });
  after(async () => {
    await cleanups.run();
    await storage.close();
    await redis.stop();
  });

  it('accounts and usage live in Redis, shared with the next process', async () => {
    const a = await launch(redis);
    cleanups.push(() => a.stop());
    const created = await apiJson(a.base, 'POST', '/v1/accounts', ADMIN, { name: 'fleet-one' });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const { id, api_key: apiKey } = created.json as { id: string; api_key: string };
    assert.equal((await storage.accounts.getAccount(id))?.name, 'fleet-one', 'the account is in Redis');
    assert.equal((await storage.accounts.listApiKeys(id)).length, 1);

    const ice = await apiJson(a.base, 'POST', '/v1/ice-servers', apiKey);
    assert.equal(ice.status, 200, JSON.stringify(ice.json));
    const { username, credential } = ice.json.iceServers[0] as { username: string; credential: string };
    const peer = await UdpPeer.open('127.0.0.1');
    cleanups.push(() => peer.close());
    const client = await TestTurnClient.connect({ port: a.udpPort, username, password: credential });
    cleanups.push(() => client.close());
    assert.equal((await client.allocate()).code, 0);
    assert.equal((await client.createPermission(peer.address)).code, 0);
    const sizes = [100, 200, 333];
    for (const n of sizes) client.sendIndication(peer.address, Buffer.alloc(n, 7));
    assert.ok(await peer.waitFor(sizes.length));
    const sent = sizes.reduce((x, y) => x + y, 0);
    let got = 0;
    for (const deadline = Date.now() + 5000; got < sent && Date.now() < deadline; ) {
      const rows = await storage.usage.usage({ granularity: 'timeframe', account: id });
      got = rows.reduce((s, r) => s + r.bytesToPeer, 0);
      if (got < sent) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(got, sent, 'to the byte');
    assert.notEqual(await storage.usage.timeframe(), null, 'the metering timeframe is in Redis');

    // Another process on the same Redis: the account and its API key work there too.
    const b = await launch(redis);
    cleanups.push(() => b.stop());
    const listed = await apiJson(b.base, 'GET', '/v1/accounts', ADMIN);
    assert.equal(listed.status, 200);
    assert.ok(JSON.stringify(listed.json).includes(id));
    const ice2 = await apiJson(b.base, 'POST', '/v1/ice-servers', apiKey);
    assert.equal(ice2.status, 200, 'the API key made on the first process');
  });
});
