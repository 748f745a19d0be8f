// The usage ledger: byte-exact counting through a real in-process TurnServer (an allocation that
// ends between two flushes included), interval flushes with an injected scheduler, failed writes,
// and timeframe rollover with archive files under an injected clock.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageAggregator, type AggregatorOptions, type MeteredAllocation, type SessionSource } from '../../../../src/metering/aggregator.js';
import { liveUsage } from '../../../../src/metering/query.js';
import { HOUR_MS, type UsageStore } from '../../../../src/metering/types.js';
import { openSqliteStore, type SqliteAccountStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../../../../src/store/sqlite-usage-store.js';
import { startServer, type Fixture } from '../../../helpers/turn-server.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import * as C from '../../../../turn/codec/constants.js';

const T0 = Date.UTC(2030, 0, 1, 10, 15);

/** A scheduler the test drives: tick() runs the interval callback. */
/** An aggregator metering the allocations `sessions` lists. */
function metering(sessions: SessionSource, options: AggregatorOptions): UsageAggregator {
  const agg = new UsageAggregator(options);
  agg.addSessions(sessions);
  return agg;
}

function manualEvery() {
  const s = { ms: 0, fn: undefined as (() => void) | undefined, cancelled: false, tick: () => s.fn?.() };
  return { s, every: (ms: number, fn: () => void) => ((s.ms = ms), (s.fn = fn), () => void (s.cancelled = true)) };
}

const totals = async (store: UsageStore, account: string) => {
  const rows = await store.usage({ granularity: 'timeframe', account });
  return rows.reduce((a, r) => [a[0] + r.bytesToPeer, a[1] + r.bytesToClient, a[2] + r.packetsToPeer, a[3] + r.packetsToClient], [0, 0, 0, 0]);
};

describe('usage ledger through a real TurnServer', () => {
  let fx: Fixture;
  let db: SqliteAccountStore;
  const open: { close(): void }[] = [];
  before(async () => {
    fx = await startServer();
    db = openSqliteStore('sqlite::memory:');
  });
  after(async () => {
    for (const o of open) o.close();
    await fx.stop();
    await db.close();
  });

  it('the ledger equals the payload bytes exactly each way, across flushes and an allocation ending between two', async () => {
    const store = new SqliteUsageStore(db.db);
    const clock = { ms: T0 };
    const sched = manualEvery();
    const agg = new UsageAggregator({
      store,
      timeframe: 30 * 24 * HOUR_MS,
      writeIntervalMs: 10_000,
      now: () => clock.ms,
      every: sched.every,
    });
    agg.addSessions(() => fx.server.sessions());
    fx.listen({ allocationClosed: (info, reason, endedAt) => agg.allocationClosed(info, reason, endedAt) });
    await agg.start();
    assert.equal(sched.s.ms, 10_000, 'flushes every write_interval');

    const peer = await UdpPeer.open('127.0.0.1');
    open.push(peer);
    const alice = await TestTurnClient.connect({ port: fx.udpPort, transport: 'udp', username: 'alice', password: 'alice-pass' });
    const bob = await TestTurnClient.connect({ port: fx.tcpPort, transport: 'tcp', username: 'bob', password: 'bob-pass' });
    open.push(alice, bob);
    const aRelay = (await alice.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
    const bRelay = (await bob.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
    assert.equal((await alice.channelBind(0x4000, peer.address)).code, 0);
    assert.equal((await bob.createPermission(peer.address)).code, 0);

    let received = 0;
    const expect = { alice: [0, 0, 0, 0], bob: [0, 0, 0, 0] };
    const aliceSends = async (sizes: number[]) => {
      for (const n of sizes) alice.sendChannelData(0x4000, Buffer.alloc(n, 1));
      received += sizes.length;
      assert.ok(await peer.waitFor(received));
      expect.alice[0] += sizes.reduce((a, b) => a + b, 0);
      expect.alice[2] += sizes.length;
    };
    const peerSends = async (client: TestTurnClient, to: { address: string; port: number }, who: 'alice' | 'bob', sizes: number[]) => {
      for (const n of sizes) {
        peer.send(Buffer.alloc(n, 2), to);
        assert.ok(await client.nextData());
      }
      expect[who][1] += sizes.reduce((a, b) => a + b, 0);
      expect[who][3] += sizes.length;
    };

    await aliceSends([100, 1, 1200]);
    await peerSends(alice, aRelay, 'alice', [33, 7]);
    bob.sendIndication(peer.address, Buffer.alloc(500, 3));
    received += 1;
    assert.ok(await peer.waitFor(received));
    expect.bob[0] += 500;
    expect.bob[2] += 1;

    // The live part shows before any flush.
    const live = liveUsage(store, agg);
    const before1 = await live.usage({ granularity: 'hour', account: 'alice' });
    assert.deepEqual(before1.map((r) => [r.bytesToPeer, r.bytesToClient]), [[1301, 40]]);

    clock.ms += 10_000;
    sched.s.tick();
    await agg.flush(); // waits for the tick's flush too (flushes run one after the other)
    assert.deepEqual(await totals(store, 'alice'), expect.alice);
    assert.deepEqual(await totals(store, 'bob'), expect.bob);

    // Bob sends more and his allocation ends before the next flush.
    await peerSends(bob, bRelay, 'bob', [64, 65]);
    bob.sendIndication(peer.address, Buffer.alloc(11, 3));
    received += 1;
    assert.ok(await peer.waitFor(received));
    expect.bob[0] += 11;
    expect.bob[2] += 1;
    assert.equal((await bob.refresh(0)).code, 0);
    await aliceSends([9]);

    clock.ms += HOUR_MS; // the next flush falls in the next hour bucket
    sched.s.tick();
    await agg.flush();
    assert.deepEqual(await totals(store, 'bob'), expect.bob);
    assert.deepEqual(await totals(store, 'alice'), expect.alice);

    await aliceSends([77, 78]);
    await agg.stop();
    assert.equal(sched.s.cancelled, true);
    assert.deepEqual(await totals(store, 'alice'), expect.alice, 'stop() writes the rest');
    assert.deepEqual(await totals(store, 'bob'), expect.bob);

    // Hourly buckets add up to the same totals, in two hours.
    const hours = await store.usage({ granularity: 'hour', account: 'alice' });
    assert.deepEqual(hours.map((h) => h.start), [Date.UTC(2030, 0, 1, 10), Date.UTC(2030, 0, 1, 11)]);
    assert.equal(hours[0].bytesToPeer + hours[1].bytesToPeer, expect.alice[0]);
    const days = await store.usage({ granularity: 'day', account: 'alice' });
    assert.deepEqual(days.map((d) => [d.start, d.bytesToPeer, d.bytesToClient]), [[Date.UTC(2030, 0, 1), expect.alice[0], expect.alice[1]]]);

    // One session record for Bob's ended allocation, with its full counters.
    const sessions = await store.sessions('bob');
    assert.equal(sessions.length, 1);
    const s = sessions[0];
    assert.equal(s.transport, 'tcp');
    assert.equal(s.clientAddress, '127.0.0.1');
    assert.equal(s.clientPort, bob.localPort);
    assert.equal(s.reason, 'refresh');
    assert.deepEqual([s.bytesToPeer, s.bytesToClient, s.packetsToPeer, s.packetsToClient], expect.bob);
    assert.ok(s.endedAt >= s.startedAt);
  });
});

describe('usage aggregator', () => {
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

  it('puts the deltas of a failed write back, so the next flush writes them', async () => {
    const db = openSqliteStore('sqlite::memory:');
    const real = new SqliteUsageStore(db.db);
    let fail = true;
    const store: UsageStore = {
      timeframe: () => real.timeframe(),
      setTimeframe: (tf) => real.setTimeframe(tf),
      record: async (b) => {
        if (fail) throw new Error('disk full');
        return real.record(b);
      },
      usage: (f) => real.usage(f),
      rollover: (a, b, c) => real.rollover(a, b, c),
      archives: () => real.archives(),
      sessions: (a) => real.sessions(a),
    };
    let live = [alloc(1, 'acme', 100, 10)];
    const agg = metering(() => live, { store, timeframe: 30 * 24 * HOUR_MS, writeIntervalMs: 1000, now: () => T0, every: () => () => {} });
    await agg.start();
    await assert.rejects(agg.flush(), /disk full/);
    live = [alloc(1, 'acme', 150, 10)];
    agg.allocationClosed(alloc(1, 'acme', 160, 12), 'expired', T0);
    live = [];
    fail = false;
    await agg.flush();
    assert.deepEqual(await totals(real, 'acme'), [160, 12, 1, 1]);
    assert.equal((await real.sessions('acme')).length, 1);
    await db.close();
  });

  it('rolls the timeframe over at its end: archive row, JSON file, fresh counters; the timeframe persists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-usage-'));
    const db = openSqliteStore(`sqlite:${join(dir, 'ferry.db')}`);
    const store = new SqliteUsageStore(db.db);
    const clock = { ms: T0 };
    const day = 24 * HOUR_MS;
    let live = [alloc(1, 'acme', 1000, 50), alloc(2, 'beta', 7)];
    const make = () =>
      metering(() => live, { store, timeframe: day, writeIntervalMs: 1000, archiveDir: join(dir, 'archive'), now: () => clock.ms, every: () => () => {} });
    let agg = make();
    await agg.start();
    assert.deepEqual(await store.timeframe(), { start: T0, lengthMs: day });
    await agg.flush();
    await agg.stop();

    // A restart keeps the timeframe (and its counters).
    clock.ms = T0 + 5 * HOUR_MS;
    agg = make();
    await agg.start();
    assert.equal(agg.timeframe().start, T0);
    live = [alloc(3, 'acme', 500)]; // the restarted relay's own allocations

    clock.ms = T0 + day + 60_000; // past the end
    await agg.flush();
    assert.equal(agg.timeframe().start, T0 + day, 'a fixed window: the next one starts where the last ended');
    const archived = await store.archives();
    assert.equal(archived.length, 1);
    assert.deepEqual(archived[0].accounts.map((a) => [a.account, a.bytesToPeer, a.bytesToClient]), [['acme', 1500, 50], ['beta', 7, 0]]);
    const files = readdirSync(join(dir, 'archive'));
    assert.deepEqual(files, ['usage-2030-01-01T10-15-00.000Z.json']);
    const json = JSON.parse(readFileSync(join(dir, 'archive', files[0]), 'utf8')) as Record<string, unknown>;
    assert.equal(json.timeframe_start, '2030-01-01T10:15:00.000Z');
    assert.equal(json.timeframe_end, '2030-01-02T10:15:00.000Z');
    assert.deepEqual(json.accounts, [
      { account: 'acme', bytes_to_peer: 1500, bytes_to_client: 50, packets_to_peer: 2, packets_to_client: 1 },
      { account: 'beta', bytes_to_peer: 7, bytes_to_client: 0, packets_to_peer: 1, packets_to_client: 0 },
    ]);

    // Counting starts afresh in the new timeframe.
    live = [alloc(3, 'acme', 600)];
    await agg.stop();
    const current = await store.usage({ granularity: 'timeframe', from: T0 + day });
    assert.deepEqual(current.map((r) => [r.account, r.bytesToPeer]), [['acme', 100]]);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('update() (config reload): a new write interval restarts the timer, a new archive_dir takes the next rollover', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-usage-'));
    const db = openSqliteStore('sqlite::memory:');
    t.after(async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const store = new SqliteUsageStore(db.db);
    const clock = { ms: T0 };
    const day = 24 * HOUR_MS;
    const timers: { ms: number; fn: () => void; cancelled: boolean }[] = [];
    const every = (ms: number, fn: () => void) => {
      const timer = { ms, fn, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    };
    const live = [alloc(1, 'acme', 100)];
    const agg = metering(() => live, { store, timeframe: day, writeIntervalMs: 1000, archiveDir: join(dir, 'a'), now: () => clock.ms, every });
    agg.update({ writeIntervalMs: 500, archiveDir: join(dir, 'a') });
    assert.equal(timers.length, 0, 'before start() only the settings change');
    await agg.start();
    assert.deepEqual(timers.map((x) => [x.ms, x.cancelled]), [[500, false]]);

    agg.update({ writeIntervalMs: 500, archiveDir: join(dir, 'b') });
    assert.equal(timers.length, 1, 'the same interval keeps its timer');
    agg.update({ writeIntervalMs: 2000, archiveDir: join(dir, 'b') });
    assert.deepEqual(timers.map((x) => [x.ms, x.cancelled]), [[500, true], [2000, false]]);
    timers[1].fn(); // the new timer flushes
    await agg.flush();
    assert.deepEqual(await totals(store, 'acme'), [100, 0, 1, 0], 'counted once across the change');

    for (const bad of [{ writeIntervalMs: 0 }, { writeIntervalMs: 1.5 }, { writeIntervalMs: 1000, archiveDir: 'relative/dir' }]) {
      assert.throws(() => agg.update(bad), RangeError, JSON.stringify(bad));
    }
    assert.deepEqual(agg.settings(), { writeIntervalMs: 2000, archiveDir: join(dir, 'b') }, 'refused updates change nothing');
    assert.equal(timers.length, 2);

    clock.ms = T0 + day + 1;
    await agg.flush();
    assert.equal(readdirSync(join(dir, 'b')).length, 1, 'the archive goes to the new directory');
    assert.equal(existsSync(join(dir, 'a')), false);

    agg.update({ writeIntervalMs: 2000 }); // archive_dir removed: the store keeps the archive only
    clock.ms = T0 + 2 * day + 1;
    await agg.flush();
    assert.equal((await store.archives()).length, 2);
    assert.equal(readdirSync(join(dir, 'b')).length, 1);

    await agg.stop();
    assert.equal(timers[1].cancelled, true);
    agg.update({ writeIntervalMs: 3000 });
    assert.equal(timers.length, 2, 'no timer after stop()');
  });
});
