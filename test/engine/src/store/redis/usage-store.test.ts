// RedisUsageStore against a real redis-server: the UsageStore contract the SQLite store passes
// too, then what only Redis has: two nodes (two connections) flushing and rolling over at once,
// bounded session lists, the writers' expiring watermarks, and outages (a call fails with
// StorageUnavailableError; the same batch retried after the restart counts once).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { openStorage } from '../../../../../app/storage.js';
import type { Counters, FlushBatch, SessionRecord } from '../../../../../src/metering/types.js';
import { DAY_MS } from '../../../../../src/metering/types.js';
import type { Storage } from '../../../../../src/store/storage.js';
import { StorageUnavailableError } from '../../../../../src/store/redis/client.js';
import { RedisUsageStore, WRITER_TTL_S } from '../../../../../src/store/redis/usage-store.js';
import { usageStoreContract } from '../../../../helpers/usage-store-contract.js';
import { startRedis, type TestRedis } from '../../../../helpers/redis.js';

const TF = Date.UTC(2030, 0, 1);
const c = (bytes: number): Counters => ({ bytesToPeer: bytes, bytesToClient: bytes, packetsToPeer: 1, packetsToClient: 1 });
const batch = (writer: string, seq: number, account: string, bytes: number, sessions: SessionRecord[] = []): FlushBatch => ({
  writer, seq, hour: TF, timeframeStart: TF, deltas: [{ account, ...c(bytes) }], sessions,
});
const session = (id: number, account: string): SessionRecord => ({
  allocationId: id, account, transport: 'udp', clientAddress: '192.0.2.1', clientPort: 5000, startedAt: TF, endedAt: TF + id, reason: 'expired', ...c(id),
});

let redis: TestRedis;
let plain: Redis;
const opened: Storage[] = [];

before(async () => {
  redis = await startRedis();
  plain = await redis.client();
});
after(async () => {
  for (const s of opened) await s.close();
  await redis.stop();
});

async function connect(url = redis.url): Promise<Storage> {
  const s = await openStorage(url);
  opened.push(s);
  return s;
}

describe('RedisUsageStore: the UsageStore contract', () => {
  usageStoreContract(async () => {
    await plain.flushdb();
    return (await connect()).usage;
  });
});

describe('RedisUsageStore on Redis', () => {
  it('two nodes flushing the same account at once count every batch once', async () => {
    await plain.flushdb();
    const [a, b] = [(await connect()).usage, (await connect()).usage];
    const writes: Promise<void>[] = [];
    for (let seq = 1; seq <= 50; seq++) {
      writes.push(a.record(batch('node-a:1', seq, 'acme', 3)), b.record(batch('node-b:1', seq, 'acme', 5)));
      if (seq % 10 === 0) writes.push(a.record(batch('node-a:1', seq, 'acme', 3))); // a retry of an applied batch
    }
    await Promise.all(writes);
    const [row] = await b.usage({ granularity: 'timeframe', account: 'acme' });
    assert.equal(row.bytesToPeer, 50 * 3 + 50 * 5);
    assert.equal(row.packetsToPeer, 100);
  });

  it('two nodes rolling one window over at once: one archive, the same answer for both', async () => {
    await plain.flushdb();
    const nodes = [(await connect()).usage, (await connect()).usage, (await connect()).usage];
    await nodes[0].setTimeframe({ start: TF, lengthMs: DAY_MS });
    await nodes[1].record(batch('node-b:1', 1, 'acme', 10));
    const results = await Promise.all(nodes.map((n, i) => n.rollover({ start: TF, lengthMs: DAY_MS }, { start: TF + DAY_MS, lengthMs: DAY_MS + i }, TF + DAY_MS + i)));
    for (const r of results) assert.deepEqual(r, results[0]);
    assert.equal((await nodes[2].archives()).length, 1);
    const winner = results[0].archivedAt - (TF + DAY_MS);
    assert.deepEqual(await nodes[2].timeframe(), { start: TF + DAY_MS, lengthMs: DAY_MS + winner }, 'the next window of whichever node archived');
  });

  it('session records are bounded: the newest kept fleet-wide and per account', async () => {
    await plain.flushdb();
    const s = new RedisUsageStore(plain, { sessionsKept: 5, sessionsKeptPerAccount: 3 });
    let seq = 0;
    for (let i = 1; i <= 8; i++) await s.record({ ...batch('w', ++seq, 'acme', 1), sessions: [session(i, i % 2 === 0 ? 'acme' : 'beta')] });
    assert.deepEqual((await s.sessions()).map((r) => r.allocationId), [4, 5, 6, 7, 8]);
    assert.deepEqual((await s.sessions('acme')).map((r) => r.allocationId), [4, 6, 8]);
    assert.deepEqual((await s.sessions('beta')).map((r) => r.allocationId), [3, 5, 7]);
    assert.throws(() => new RedisUsageStore(plain, { sessionsKept: 0 }), RangeError);
  });

  it('keys live under "ferry:"; a writer’s watermark expires WRITER_TTL_S after its last batch', async () => {
    await plain.flushdb();
    const s = (await connect()).usage;
    await s.record(batch('node-a:boot', 1, 'acme', 1, [session(1, 'acme')]));
    await s.setTimeframe({ start: TF, lengthMs: DAY_MS });
    await s.rollover({ start: TF, lengthMs: DAY_MS }, { start: TF + DAY_MS, lengthMs: DAY_MS }, TF + DAY_MS);
    for (const k of await plain.keys('*')) assert.ok(k.startsWith('ferry:usage:') || k === 'ferry:layout', k);
    const ttl = await plain.ttl('ferry:usage:writer:node-a:boot');
    assert.ok(ttl > WRITER_TTL_S - 60 && ttl <= WRITER_TTL_S, String(ttl));
    assert.equal(await plain.get('ferry:usage:writer:node-a:boot'), '1');
  });

  it('while Redis is down calls reject with StorageUnavailableError; the same batch retried after the restart counts once', async (t) => {
    const persisted = await startRedis({ persist: true });
    t.after(() => persisted.stop());
    const s = (await connect(persisted.url)).usage;
    await s.record(batch('node-a:1', 1, 'acme', 100));
    await persisted.down();
    await assert.rejects(s.record(batch('node-a:1', 2, 'acme', 7)), (e: unknown) => e instanceof StorageUnavailableError && /record usage/.test(e.message));
    await assert.rejects(s.usage({ granularity: 'hour' }), StorageUnavailableError);
    await assert.rejects(s.timeframe(), StorageUnavailableError);
    await persisted.start();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await s.record(batch('node-a:1', 2, 'acme', 7));
        break;
      } catch (err) {
        assert.ok(err instanceof StorageUnavailableError, String(err));
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await s.record(batch('node-a:1', 2, 'acme', 7)); // its reply lost, say: sent again
    const [row] = await s.usage({ granularity: 'timeframe', account: 'acme' });
    assert.equal(row.bytesToPeer, 107, 'the ledger kept across the restart, the retried batch counted once');
  });
});
