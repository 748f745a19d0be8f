// Usage limits through a real in-process TurnServer and usage aggregator (SQLite ledger in
// memory) under an injected clock: soft limit → Allocate 486, hard limit → live allocations
// closed (Refresh 437), webhook events once per crossing, rollover lifts the limits; per account
// and global.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageAggregator } from '../../../../src/metering/aggregator.js';
import { HOUR_MS } from '../../../../src/metering/types.js';
import { UsageLimiter, type LimitKind, type LimitWebhook } from '../../../../src/limits/limiter.js';
import { openSqliteStore, type SqliteAccountStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../../../../src/store/sqlite-usage-store.js';
import { startServer, type Fixture } from '../../../helpers/turn-server.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';

const T0 = Date.UTC(2030, 0, 1, 10, 15);
const TIMEFRAME = 24 * HOUR_MS;

interface Setup {
  clock: { ms: number };
  agg: UsageAggregator;
  limiter: UsageLimiter;
  events: { type: LimitWebhook; data: Record<string, unknown> }[];
  metrics: LimitKind[];
  ticks: number[];
}

describe('usage limits through a real TurnServer', () => {
  let fx: Fixture;
  let db: SqliteAccountStore;
  let peer: UdpPeer;
  let open: { close(): void }[] = [];
  let received = 0;
  before(async () => {
    fx = await startServer();
    db = openSqliteStore('sqlite::memory:');
    peer = await UdpPeer.open('127.0.0.1');
  });
  afterEach(() => {
    for (const o of open) o.close();
    open = [];
  });
  after(async () => {
    peer.close();
    await fx.stop();
    await db.close();
  });

  async function setup(o: { accountLimits?: Map<string, number>; globalLimitBytes?: number; reportIntervalMs?: number }): Promise<Setup> {
    fx.server.closeAllocations(() => true, 'admin');
    const clock = { ms: T0 };
    const store = new SqliteUsageStore(db.db);
    // A fresh timeframe per test: the store keeps one, so start from whatever it holds.
    const agg = new UsageAggregator({
      store,
      timeframe: TIMEFRAME,
      writeIntervalMs: 10_000,
      now: () => clock.ms,
      every: () => () => {},
    });
    agg.addSessions(() => fx.server.sessions());
    fx.listen({ allocationClosed: (info, reason, endedAt) => agg.allocationClosed(info, reason, endedAt) });
    await agg.start();
    clock.ms = agg.timeframe().start + 1000;
    const events: Setup['events'] = [];
    const metrics: LimitKind[] = [];
    const ticks: number[] = [];
    const limiter = new UsageLimiter({
      usage: (f) => store.usage(f),
      pending: () => agg.pending(),
      timeframe: () => agg.timeframe(),
      accountLimits: () => o.accountLimits ?? new Map(),
      ...(o.globalLimitBytes !== undefined ? { globalLimitBytes: o.globalLimitBytes } : {}),
      softLimit: 0.5,
      hardLimit: 0.8,
      reportIntervalMs: o.reportIntervalMs ?? 0,
      emit: (type, data) => events.push({ type, data: data as Record<string, unknown> }),
      metric: (k) => metrics.push(k),
      now: () => clock.ms,
      every: (ms) => (ticks.push(ms), () => {}),
    });
    limiter.onHardLimit((account) => fx.server.closeAllocations((i) => account === null || i.account === account, 'limit'));
    fx.gate(limiter);
    await limiter.start();
    return { clock, agg, limiter, events, metrics, ticks };
  }

  async function client(username: 'alice' | 'bob') {
    const c = await TestTurnClient.connect({ port: fx.udpPort, transport: 'udp', username, password: `${username}-pass` });
    open.push(c);
    return c;
  }

  async function relaying(username: 'alice' | 'bob') {
    const c = await client(username);
    assert.equal((await c.allocate()).code, 0);
    assert.equal((await c.createPermission(peer.address)).code, 0);
    return c;
  }

  async function send(c: TestTurnClient, bytes: number) {
    c.sendIndication(peer.address, Buffer.alloc(bytes, 7));
    received += 1;
    assert.ok(await peer.waitFor(received));
  }

  it('per account: soft refuses Allocate (486), hard closes the live allocation (Refresh 437), rollover lifts both', async () => {
    const s = await setup({ accountLimits: new Map([['alice', 1000]]) });
    assert.deepEqual(s.ticks, [1000], 'checks every second');
    const alice = await relaying('alice');
    await send(alice, 300);
    await s.limiter.check();
    assert.equal(s.limiter.mayAllocate('alice'), 'ok');

    await send(alice, 250); // 550 live, not flushed: ≥ 50% of 1000
    await s.limiter.check();
    assert.equal(s.limiter.limited('alice'), true);
    assert.deepEqual(s.events.map((e) => e.type), ['usage.soft_limit']);
    const tf = s.agg.timeframe();
    assert.deepEqual(s.events[0].data, {
      account: 'alice', usage_bytes: 550, limit_bytes: 1000, timeframe_start: new Date(tf.start).toISOString(), timeframe_end: new Date(tf.start + TIMEFRAME).toISOString(),
    });
    assert.equal((await (await client('alice')).allocate()).code, 486);
    assert.equal((await (await client('bob')).allocate()).code, 0, 'other accounts are not limited');

    // Flushed bytes count the same; the crossing is reported once.
    await s.agg.flush();
    await s.limiter.check();
    assert.equal(s.events.length, 1);
    assert.equal(await alice.refresh().then((r) => r.code), 0, 'soft keeps live allocations');

    await send(alice, 300); // 850 ≥ 80%
    await s.limiter.check();
    assert.deepEqual(s.events.map((e) => e.type), ['usage.soft_limit', 'usage.hard_limit']);
    assert.equal(s.events[1].data.usage_bytes, 850);
    assert.equal((await alice.refresh()).code, 437, 'the allocation is gone');
    assert.equal(fx.server.sessions().filter((x) => x.account === 'alice').length, 0);
    assert.equal(fx.server.sessions().filter((x) => x.account === 'bob').length, 1);
    assert.deepEqual(s.metrics, ['soft_limit', 'hard_limit']);

    // The next timeframe lifts the limits.
    s.clock.ms += TIMEFRAME;
    await s.agg.flush();
    await s.limiter.check();
    assert.equal(s.limiter.mayAllocate('alice'), 'ok');
    assert.equal(s.events.at(-1)?.type, 'usage.reset');
    assert.equal(s.events.at(-1)?.data.account, 'alice');
    assert.deepEqual(s.metrics, ['soft_limit', 'hard_limit', 'reset']);
    assert.equal((await (await client('alice')).allocate()).code, 0);
    await s.agg.stop();
  });

  it('global: soft refuses every account, hard closes every allocation, rollover lifts; usage.report per account', async () => {
    const s = await setup({ globalLimitBytes: 1000, reportIntervalMs: 60_000 });
    const alice = await relaying('alice');
    const bob = await relaying('bob');
    await send(alice, 300);
    await send(bob, 300);
    await s.limiter.check();
    assert.equal(s.limiter.mayAllocate('alice'), 'usage-limit');
    assert.equal(s.limiter.mayAllocate('carol'), 'usage-limit');
    assert.deepEqual(s.events.map((e) => [e.type, e.data.account, e.data.usage_bytes]), [['usage.soft_limit', null, 600]]);
    assert.equal((await (await client('bob')).allocate()).code, 486);

    s.clock.ms += 60_000;
    await send(bob, 250);
    await s.limiter.check();
    assert.deepEqual(s.events.slice(1).map((e) => [e.type, e.data.account, e.data.usage_bytes]), [
      ['usage.hard_limit', null, 850],
      ['usage.report', 'alice', 300],
      ['usage.report', 'bob', 550],
    ]);
    assert.equal((await alice.refresh()).code, 437);
    assert.equal((await bob.refresh()).code, 437);

    s.clock.ms += TIMEFRAME;
    await s.agg.flush();
    await s.limiter.check();
    assert.equal(s.events.at(-1)?.type, 'usage.reset');
    assert.equal(s.events.at(-1)?.data.account, null);
    assert.equal(s.limiter.mayAllocate('bob'), 'ok');
    assert.equal((await (await client('bob')).allocate()).code, 0);
    await s.agg.stop();
  });

  it('update() (config reload): a lowered limit acts at once, a raised or removed one lifts it, events once per crossing', async () => {
    const s = await setup({});
    const alice = await relaying('alice');
    await send(alice, 600);
    await s.limiter.check();
    assert.equal(s.limiter.mayAllocate('bob'), 'ok', 'no global limit yet');
    assert.equal(s.events.length, 0);
    const tfStart = new Date(s.agg.timeframe().start).toISOString();
    const tfEnd = new Date(s.agg.timeframe().start + TIMEFRAME).toISOString();

    // Lowered (from none) into the soft band: new allocations refused at once, the live one kept.
    await s.limiter.update({ globalLimitBytes: 1000, softLimit: 0.5, hardLimit: 0.8 });
    assert.equal(s.limiter.mayAllocate('bob'), 'usage-limit');
    assert.deepEqual(s.events.map((e) => e.data), [{ account: null, usage_bytes: 600, limit_bytes: 1000, timeframe_start: tfStart, timeframe_end: tfEnd }]);
    assert.equal(s.events[0].type, 'usage.soft_limit');
    assert.equal((await (await client('bob')).allocate()).code, 486);
    assert.equal((await alice.refresh()).code, 0, 'soft keeps the live allocation');

    // A state that holds across a reload is not reported again.
    await s.limiter.update({ globalLimitBytes: 1100, softLimit: 0.5, hardLimit: 0.8 });
    await s.limiter.check();
    assert.equal(s.events.length, 1);
    assert.equal(s.limiter.mayAllocate('bob'), 'usage-limit');

    // Raised: lifted at once, without an event.
    await s.limiter.update({ globalLimitBytes: 10_000, softLimit: 0.5, hardLimit: 0.8 });
    assert.equal(s.limiter.mayAllocate('bob'), 'ok');
    assert.equal(s.events.length, 1);
    const bob = await client('bob');
    assert.equal((await bob.allocate()).code, 0);

    // Lowered fractions: a new soft crossing (reported again) and the hard one close everything.
    await s.limiter.update({ globalLimitBytes: 1000, softLimit: 0.5, hardLimit: 0.55 });
    assert.deepEqual(s.events.slice(1).map((e) => [e.type, e.data.usage_bytes, e.data.limit_bytes]), [
      ['usage.soft_limit', 600, 1000],
      ['usage.hard_limit', 600, 1000],
    ]);
    assert.deepEqual(s.metrics, ['soft_limit', 'soft_limit', 'hard_limit']);
    assert.equal((await alice.refresh()).code, 437, 'hard closed the live allocations');
    assert.equal((await bob.refresh()).code, 437);

    // Removed: lifted; nothing more is reported.
    await s.limiter.update({ softLimit: 0.5, hardLimit: 0.55 });
    assert.equal(s.limiter.mayAllocate('bob'), 'ok');
    assert.equal((await (await client('bob')).allocate()).code, 0);
    assert.equal(s.events.length, 3);

    // Invalid settings are refused and change nothing.
    for (const bad of [
      { globalLimitBytes: 100, softLimit: 0.9, hardLimit: 0.5 },
      { globalLimitBytes: -1, softLimit: 0.5, hardLimit: 0.8 },
      { globalLimitBytes: 1.5, softLimit: 0.5, hardLimit: 0.8 },
      { softLimit: 1.5, hardLimit: 1.5 },
      { softLimit: Number.NaN, hardLimit: 0.8 },
      { softLimit: 0.5, hardLimit: 0.8, reportIntervalMs: -1000 },
    ]) {
      assert.throws(() => s.limiter.update(bad), RangeError, JSON.stringify(bad));
    }
    assert.deepEqual(s.limiter.settings(), { softLimit: 0.5, hardLimit: 0.55, reportIntervalMs: 0 });
    assert.equal(s.limiter.mayAllocate('bob'), 'ok');

    // Reports switched on by a reload count their interval from the reload.
    await s.limiter.update({ softLimit: 0.5, hardLimit: 0.55, reportIntervalMs: 60_000 });
    s.clock.ms += 59_000;
    await s.limiter.check();
    assert.equal(s.events.length, 3, 'no report before the interval');
    s.clock.ms += 1000;
    await s.limiter.check();
    assert.deepEqual(s.events.slice(3).map((e) => [e.type, e.data.account, e.data.usage_bytes]), [['usage.report', 'alice', 600]]);
    await s.agg.stop();
  });
});
