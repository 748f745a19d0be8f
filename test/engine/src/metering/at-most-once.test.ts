// Usage batches applied at most once: the SQLite store's writer watermarks (replays and older
// seqs add nothing, in the deltas' own transaction, across a reopen and a migration from v2), and
// the aggregator retrying a failed write as the same batch: a store that fails then succeeds, one
// that applies a batch but loses the reply, one that answers too late, a failure across a
// timeframe end, and stop() retrying within its bound (then logging what it could not write).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { UsageAggregator, type MeteredAllocation } from '../../../../src/metering/aggregator.js';
import { HOUR_MS, type FlushBatch, type UsageStore } from '../../../../src/metering/types.js';
import { migrate } from '../../../../src/store/migrations.js';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteUsageStore, USAGE_MIGRATIONS } from '../../../../src/store/sqlite-usage-store.js';
import { StorageUnavailableError } from '../../../../src/store/redis/client.js';
import { captureLog } from '../../../helpers/log-capture.js';

const T0 = Date.UTC(2030, 0, 1, 10, 15);
const DAY = 24 * HOUR_MS;

const c = (bytesToPeer: number, bytesToClient: number) => ({ bytesToPeer, bytesToClient, packetsToPeer: 1, packetsToClient: 1 });
const batch = (writer: string, seq: number, bytes: number, hour = Date.UTC(2030, 0, 1, 10)): FlushBatch => ({
  writer,
  seq,
  hour,
  timeframeStart: T0,
  deltas: [{ account: 'acme', ...c(bytes, bytes * 2) }],
  sessions: [],
});

const alloc = (id: number, account: string, bytesToPeer: number, bytesToClient = 0): MeteredAllocation => ({
  id,
  account,
  transport: 'udp',
  clientAddress: '192.0.2.1',
  clientPort: 5000 + id,
  startedAt: T0,
  bytesToPeer,
  bytesToClient,
  packetsToPeer: bytesToPeer > 0 ? 1 : 0,
  packetsToClient: bytesToClient > 0 ? 1 : 0,
});

const bytes = async (store: UsageStore, account = 'acme') => {
  const rows = await store.usage({ granularity: 'timeframe', account });
  return rows.reduce((a, r) => [a[0] + r.bytesToPeer, a[1] + r.bytesToClient], [0, 0]);
};

/** A real SQLite store whose record() the test steers; every attempt is kept. */
function steeredStore(real: UsageStore) {
  const attempts: FlushBatch[] = [];
  const ctl = {
    attempts,
    /** 'ok' | 'down' (rejects, nothing applied) | 'lost' (applied, then rejects) | 'hang' (applies after `lateMs`, resolves late) */
    mode: 'ok' as 'ok' | 'down' | 'lost' | 'hang',
    lateMs: 0,
    late: [] as Promise<void>[],
  };
  const store: UsageStore = {
    timeframe: () => real.timeframe(),
    setTimeframe: (tf) => real.setTimeframe(tf),
    async record(b) {
      attempts.push(structuredClone(b));
      if (ctl.mode === 'down') throw new StorageUnavailableError('storage unavailable: usage record: Redis is not reachable (test)');
      if (ctl.mode === 'lost') {
        await real.record(b);
        throw new StorageUnavailableError('storage unavailable: usage record: Redis is not reachable (reply lost)');
      }
      if (ctl.mode === 'hang') {
        const late = new Promise<void>((r) => setTimeout(r, ctl.lateMs)).then(() => real.record(b));
        ctl.late.push(late);
        return late;
      }
      return real.record(b);
    },
    usage: (f) => real.usage(f),
    rollover: (a, b, t) => (ctl.mode === 'ok' ? real.rollover(a, b, t) : Promise.reject(new StorageUnavailableError('storage unavailable: rollover (test)'))),
    archives: () => real.archives(),
    sessions: (a) => real.sessions(a),
  };
  return { store, ctl };
}

describe('SqliteUsageStore applies each batch at most once', () => {
  it('replays and older seqs add nothing; other writers are independent; bad batches are refused', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-usage-'));
    const file = join(dir, 'ferry.db');
    let db = openSqliteStore(`sqlite:${file}`);
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    let store = new SqliteUsageStore(db.db);
    await store.record(batch('node-a:1', 1, 100));
    await store.record(batch('node-a:1', 1, 100)); // a retry whose first attempt landed
    assert.deepEqual(await bytes(store), [100, 200]);
    await store.record(batch('node-a:1', 2, 10));
    await store.record(batch('node-a:1', 1, 100)); // older than the watermark
    await store.record(batch('node-b:1', 1, 1)); // another writer starts at 1
    assert.deepEqual(await bytes(store), [111, 222]);
    // A batch with a session record: the session is written once too.
    const withSession = { ...batch('node-a:1', 3, 5), sessions: [{ allocationId: 7, account: 'acme', transport: 'udp', clientAddress: '192.0.2.1', clientPort: 9, startedAt: T0, endedAt: T0 + 1, reason: 'refresh', ...c(5, 10) }] };
    await store.record(withSession);
    await store.record(withSession);
    assert.equal((await store.sessions('acme')).length, 1);
    assert.deepEqual(await bytes(store), [116, 232]);

    for (const bad of [{ writer: '' }, { writer: 'x'.repeat(257) }, { seq: 0 }, { seq: 1.5 }, { seq: Number.NaN }, { writer: 7 as unknown as string }]) {
      await assert.rejects(store.record({ ...batch('node-c:1', 1, 1), ...bad }), RangeError, JSON.stringify(bad));
    }
    assert.deepEqual(await bytes(store), [116, 232], 'refused batches change nothing');

    // The watermarks survive a reopen of the file.
    await db.close();
    db = openSqliteStore(`sqlite:${file}`);
    store = new SqliteUsageStore(db.db);
    await store.record(batch('node-a:1', 3, 5));
    await store.record(batch('node-b:1', 1, 1));
    assert.deepEqual(await bytes(store), [116, 232]);
    await store.record(batch('node-a:1', 4, 4));
    assert.deepEqual(await bytes(store), [120, 240]);
    await db.close();
  });

  it('a database at usage schema v2 gains the watermark table, its ledger kept', async () => {
    const raw = new Sqlite(':memory:');
    migrate(raw, USAGE_MIGRATIONS.slice(0, 2), { table: 'usage_schema_version', label: 'the usage tables' });
    raw.prepare('INSERT INTO usage_timeframes (account, timeframe_start, bytes_to_peer, bytes_to_client) VALUES (?, ?, ?, ?)').run('acme', T0, 50, 60);
    const store = new SqliteUsageStore(raw);
    assert.equal((raw.prepare('SELECT max(version) AS v FROM usage_schema_version').get() as { v: number }).v, 3);
    await store.record(batch('w', 1, 1));
    await store.record(batch('w', 1, 1));
    assert.deepEqual(await bytes(store), [51, 62]);
    raw.close();
  });
});

describe('the aggregator retries a failed write as the same batch', () => {
  const setup = (extra: { stopRetryMs?: number; recordTimeoutMs?: number; log?: ReturnType<typeof captureLog>['logger']; clock?: { ms: number }; timeframe?: number } = {}) => {
    const db = openSqliteStore('sqlite::memory:');
    const real = new SqliteUsageStore(db.db);
    const { store, ctl } = steeredStore(real);
    const clock = extra.clock ?? { ms: T0 };
    const live = { list: [] as MeteredAllocation[] };
    const agg = new UsageAggregator({
      store,
      timeframe: extra.timeframe ?? 30 * DAY,
      writeIntervalMs: 1000,
      now: () => clock.ms,
      every: () => () => {},
      writer: 'node-a:boot1',
      ...(extra.stopRetryMs !== undefined ? { stopRetryMs: extra.stopRetryMs } : {}),
      ...(extra.recordTimeoutMs !== undefined ? { recordTimeoutMs: extra.recordTimeoutMs } : {}),
      ...(extra.log ? { log: extra.log } : {}),
    });
    agg.addSessions(() => live.list);
    return { db, real, ctl, agg, live, clock };
  };
  const pendingBytes = (agg: UsageAggregator) => agg.pending().deltas.reduce((a, d) => [a[0] + d.bytesToPeer, a[1] + d.bytesToClient], [0, 0]);

  it('store down, then up: the same batch again first, new deltas after it in the next seq; pending() holds both meanwhile', async (t) => {
    const { db, real, ctl, agg, live } = setup();
    t.after(() => db.close());
    await agg.start();
    live.list = [alloc(1, 'acme', 100, 10)];
    ctl.mode = 'down';
    await assert.rejects(agg.flush(), StorageUnavailableError);
    assert.deepEqual(pendingBytes(agg), [100, 10], 'the unacknowledged batch is pending');
    live.list = [alloc(1, 'acme', 150, 30)];
    agg.allocationClosed(alloc(1, 'acme', 160, 32), 'expired', T0);
    live.list = [alloc(2, 'acme', 5)];
    await assert.rejects(agg.flush(), StorageUnavailableError);
    assert.deepEqual(pendingBytes(agg), [165, 32], 'new deltas accumulate beside it');
    assert.equal(ctl.attempts.length, 2);
    assert.deepEqual(ctl.attempts[1], ctl.attempts[0], 'the retry is the very same batch');
    assert.equal(ctl.attempts[0].seq, 1);
    assert.equal(ctl.attempts[0].writer, 'node-a:boot1');
    assert.deepEqual(ctl.attempts[0].sessions, [], 'the later session waits for the next batch');

    ctl.mode = 'ok';
    await agg.flush();
    assert.deepEqual(ctl.attempts.slice(2).map((b) => b.seq), [1, 2]);
    assert.deepEqual(ctl.attempts[2], ctl.attempts[0]);
    assert.deepEqual(ctl.attempts[3].deltas, [{ account: 'acme', bytesToPeer: 65, bytesToClient: 22, packetsToPeer: 1, packetsToClient: 0 }]);
    assert.equal(ctl.attempts[3].sessions.length, 1);
    assert.deepEqual(await bytes(real), [165, 32]);
    assert.deepEqual(pendingBytes(agg), [0, 0]);
    await agg.stop();
    assert.deepEqual(await bytes(real), [165, 32]);
  });

  it('a lost reply (applied, reported failed): the retry adds nothing, the totals stay exact', async (t) => {
    const { db, real, ctl, agg, live } = setup();
    t.after(() => db.close());
    await agg.start();
    live.list = [alloc(1, 'acme', 1000, 400)];
    ctl.mode = 'lost';
    await assert.rejects(agg.flush(), /reply lost/);
    assert.deepEqual(await bytes(real), [1000, 400], 'it did land');
    live.list = [alloc(1, 'acme', 1500, 400)];
    await assert.rejects(agg.flush(), /reply lost/); // the retry lands nothing, its reply is lost again
    ctl.mode = 'ok';
    live.list = [alloc(1, 'acme', 1700, 450)];
    await agg.flush();
    assert.deepEqual(ctl.attempts.map((b) => b.seq), [1, 1, 1, 2]);
    assert.deepEqual(await bytes(real), [1700, 450]);
    await agg.stop();
    assert.deepEqual(await bytes(real), [1700, 450]);
  });

  it('a write that answers too late is retried; its late landing adds nothing', async (t) => {
    const { db, real, ctl, agg, live } = setup({ recordTimeoutMs: 50 });
    t.after(() => db.close());
    await agg.start();
    live.list = [alloc(1, 'acme', 300, 30)];
    ctl.mode = 'hang';
    ctl.lateMs = 150;
    await assert.rejects(agg.flush(), /did not answer within 50 ms/);
    ctl.mode = 'ok';
    live.list = [alloc(1, 'acme', 310, 30)];
    await agg.flush(); // the retry (seq 1) lands first, then seq 2
    await Promise.all(ctl.late); // the first attempt lands now: seq 1 ≤ watermark 2
    assert.deepEqual(ctl.attempts.map((b) => b.seq), [1, 1, 2]);
    assert.deepEqual(await bytes(real), [310, 30]);
    await agg.stop();
  });

  it('a batch of a timeframe that ends while the store is down lands in that timeframe, the rollover after it', async (t) => {
    const clock = { ms: T0 };
    const { db, real, ctl, agg, live } = setup({ clock, timeframe: DAY });
    t.after(() => db.close());
    await agg.start();
    live.list = [alloc(1, 'acme', 100)];
    clock.ms = T0 + DAY + 1000; // the flush at the end of the day fails
    ctl.mode = 'down';
    await assert.rejects(agg.flush());
    assert.equal(agg.timeframe().start, T0, 'no rollover while its batch is unacknowledged');
    live.list = [alloc(1, 'acme', 130)];
    clock.ms = T0 + DAY + 5000;
    ctl.mode = 'ok';
    await agg.flush();
    assert.equal(agg.timeframe().start, T0 + DAY);
    assert.deepEqual(ctl.attempts.map((b) => [b.seq, b.timeframeStart, b.hour]), [
      [1, T0, Date.UTC(2030, 0, 2, 10)],
      [1, T0, Date.UTC(2030, 0, 2, 10)],
      [2, T0, Date.UTC(2030, 0, 2, 10)],
    ]);
    const archives = await real.archives();
    assert.deepEqual(archives.map((a) => [a.start, a.accounts.map((r) => [r.account, r.bytesToPeer])]), [[T0, [['acme', 130]]]]);
    live.list = [alloc(1, 'acme', 200)];
    await agg.stop();
    const next = await real.usage({ granularity: 'timeframe', from: T0 + DAY });
    assert.deepEqual(next.map((r) => [r.account, r.bytesToPeer]), [['acme', 70]]);
  });

  it('stop(): retries while the store is down and writes everything once it is back', async (t) => {
    const { db, real, ctl, agg, live } = setup({ stopRetryMs: 5000 });
    t.after(() => db.close());
    await agg.start();
    live.list = [alloc(1, 'acme', 100, 1)];
    ctl.mode = 'down';
    await assert.rejects(agg.flush());
    live.list = [alloc(1, 'acme', 120, 2)];
    const stopped = agg.stop();
    setTimeout(() => (ctl.mode = 'ok'), 400);
    const t0 = Date.now();
    await stopped;
    assert.ok(Date.now() - t0 >= 350, 'it waited for the store');
    assert.deepEqual(await bytes(real), [120, 2]);
    assert.equal(new Set(ctl.attempts.map((b) => b.seq)).size, 2);
  });

  it('stop(): gives up after stopRetryMs and logs the counts not written (no account names)', async (t) => {
    const log = captureLog('info');
    const { db, real, ctl, agg, live } = setup({ stopRetryMs: 300, log: log.logger });
    t.after(() => db.close());
    await agg.start();
    live.list = [alloc(1, 'secret-account-name', 100, 7)];
    ctl.mode = 'down';
    await assert.rejects(agg.flush());
    live.list = [alloc(1, 'secret-account-name', 150, 9)];
    const t0 = Date.now();
    await assert.rejects(agg.stop(), StorageUnavailableError);
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 2000, `bounded: ${took} ms`);
    assert.ok(ctl.attempts.length >= 3, 'retried more than once');
    assert.ok(ctl.attempts.every((b) => b.seq === 1), 'always the same batch');
    const lost = log.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('USAGE LOST'));
    assert.ok(lost, JSON.stringify(log.lines.map((l) => l.msg)));
    assert.equal(lost.level, 50);
    assert.equal(lost.writer, 'node-a:boot1');
    assert.equal(lost.retried_ms, 300);
    assert.deepEqual(lost.unacknowledged, { seq: 1, bytes_to_peer: 100, bytes_to_client: 7, packets_to_peer: 1, packets_to_client: 1, accounts: 1, sessions: 0 });
    assert.deepEqual(lost.unwritten, { bytes_to_peer: 50, bytes_to_client: 2, packets_to_peer: 0, packets_to_client: 0, accounts: 1, sessions: 0 });
    assert.ok(!JSON.stringify(log.lines).includes('secret-account-name'));
    assert.deepEqual(await bytes(real, 'secret-account-name'), [0, 0]);
  });

  it('a backlog of session records goes out in batches of 1000; past 100 000 held the oldest go, never their bytes', async (t) => {
    const log = captureLog('info');
    const { db, real, ctl, agg } = setup({ log: log.logger });
    t.after(() => db.close());
    await agg.start();
    ctl.mode = 'down';
    for (let i = 1; i <= 2500; i++) agg.allocationClosed(alloc(i, 'acme', 10, 1), 'refresh', T0);
    await assert.rejects(agg.flush());
    ctl.mode = 'ok';
    await agg.flush();
    assert.deepEqual(ctl.attempts.map((b) => [b.seq, b.deltas.length, b.sessions.length]), [[1, 1, 1000], [1, 1, 1000], [2, 0, 1000], [3, 0, 500]]);
    assert.equal((await real.sessions('acme')).length, 2500);
    assert.deepEqual(await bytes(real), [25_000, 2500]);

    ctl.mode = 'down';
    const n = 100_000 + 5;
    for (let i = 1; i <= n; i++) agg.allocationClosed(alloc(10_000 + i, 'beta', 2, 1), 'refresh', T0);
    const dropped = log.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('oldest session records dropped'));
    assert.deepEqual(dropped.map((l) => l.dropped), [10_000]);
    ctl.mode = 'ok';
    await agg.flush();
    assert.equal((await real.sessions('beta')).length, n - 10_000);
    assert.deepEqual(await bytes(real, 'beta'), [2 * n, n], 'every byte counted');
    assert.ok(ctl.attempts.every((b) => b.sessions.length <= 1000));
  });

  it('refuses an invalid writer or retry bound', () => {
    const db = openSqliteStore('sqlite::memory:');
    const store = new SqliteUsageStore(db.db);
    const base = { store, timeframe: DAY, writeIntervalMs: 1000 };
    assert.throws(() => new UsageAggregator({ ...base, writer: '' }), RangeError);
    assert.throws(() => new UsageAggregator({ ...base, writer: 'w'.repeat(300) }), RangeError);
    assert.throws(() => new UsageAggregator({ ...base, stopRetryMs: -1 }), /stopRetryMs/);
    assert.throws(() => new UsageAggregator({ ...base, recordTimeoutMs: 1.5 }), /recordTimeoutMs/);
    void db.close();
  });
});
