// startFerry on Redis storage with a webhook: session.closed goes through the Redis outbox, also
// for the allocations closed by stop() (written to Redis and delivered within the stop grace),
// and the stopping node gives its delivery lease up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/logger.js';
import { startFerry, type FerryHandle } from '../../../app/ferry.js';
import { verifySignature } from '../../../src/webhooks/index.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { Receiver } from '../../helpers/webhook-receiver.js';
import { freePort } from '../../helpers/ports.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';

const HOOK_SECRET = 'redis-hook-secret-0123';

describe('startFerry on Redis storage with webhooks', () => {
  let dir: string;
  let redis: TestRedis;
  let admin: Redis;
  let ferry: FerryHandle | undefined;
  const receiver = new Receiver();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-wiring-redis-'));
    redis = await startRedis();
    admin = await redis.client();
    const port = await receiver.listen();
    const configFile = join(dir, 'ferry.json');
    writeFileSync(configFile, JSON.stringify({
      address: `127.0.0.1:${await freePort()}`,
      users: { alice: 'alice-password-123' },
      signaling: { address: '127.0.0.1:0' },
      storage: redis.url,
      webhooks: [{ url: `http://127.0.0.1:${port}/ferry`, secret: HOOK_SECRET, events: ['session.closed'] }],
    }));
    ferry = await startFerry(await loadConfig(configFile), createLogger('silent'));
  });
  after(async () => {
    await ferry?.stop();
    await receiver.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers session.closed through the Redis outbox, also for the allocations stop() closes', async () => {
    const udp = ferry!.listening().find((l) => l.transport === 'udp')!;
    const first = await TestTurnClient.connect({ port: udp.port, username: 'alice', password: 'alice-password-123' });
    try {
      assert.equal((await first.allocate()).code, 0);
      assert.equal((await first.refresh(0)).code, 0);
    } finally {
      first.close();
    }
    assert.ok(await receiver.waitFor(1));
    assert.equal(receiver.received[0].json.type, 'session.closed');
    assert.ok(verifySignature(HOOK_SECRET, receiver.received[0].headers['ferry-signature'] as string, receiver.received[0].body, 60));
    const [lease] = await admin.keys('ferry:webhook:*:lease');
    assert.ok(lease !== undefined && (await admin.get(lease)) !== null, 'this node holds the receiver\'s lease');

    const second = await TestTurnClient.connect({ port: udp.port, username: 'alice', password: 'alice-password-123' });
    try {
      assert.equal((await second.allocate()).code, 0);
      await ferry!.stop();
    } finally {
      second.close();
    }
    assert.ok(await receiver.waitFor(2, 1000));
    assert.equal(receiver.received[1].json.data.reason, 'shutdown');
    assert.equal(await admin.get(lease), null, 'released at stop');
    assert.equal(await admin.xlen(lease.replace(/:lease$/, ':events')), 0, 'nothing left undelivered');
    assert.equal(await admin.hlen('ferry:webhook:ids'), 0);
  });
});
