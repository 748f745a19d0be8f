// The UsageStore contract (src/metering/types.ts) as tests, run against every implementation
// (SQLite, Redis): call usageStoreContract(open) inside a describe(); `open` returns a new, empty
// store each time. Only the interface is used, so both stores run the same checks: buckets and
// their filters, session records, archives, a batch applied at most once per writer and seq, and
// a rollover that archives a window once however often (by however many nodes) it is called, and
// an archive that a late batch for its timeframe (another node's flush after the rollover) adds to.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Counters, FlushBatch, SessionRecord, Timeframe, UsageRow, UsageStore } from '../../src/metering/types.js';
import { DAY_MS, HOUR_MS } from '../../src/metering/types.js';

const H = (day: number, hour: number) => Date.UTC(2030, 0, day, hour);
const TF = H(1, 0);
const c = (bytesToPeer: number, bytesToClient: number, packetsToPeer = 1, packetsToClient = 1): Counters => ({ bytesToPeer, bytesToClient, packetsToPeer, packetsToClient });
const row = (account: string, start: number, end: number, counters: Counters): UsageRow => ({ account, start, end, ...counters });

let seqs = 0;
/** A batch of a writer of its own (a new seq each time) unless writer and seq are given. */
function batch(hour: number, timeframeStart: number, deltas: [string, Counters][], sessions: SessionRecord[] = [], id?: { writer: string; seq: number }): FlushBatch {
  return { writer: id?.writer ?? 'contract', seq: id?.seq ?? ++seqs, hour, timeframeStart, deltas: deltas.map(([account, x]) => ({ account, ...x })), sessions };
}

const session = (allocationId: number, account: string, endedAt: number, counters: Counters): SessionRecord => ({
  allocationId, account, transport: allocationId % 2 === 0 ? 'udp' : 'tcp', clientAddress: '192.0.2.7', clientPort: 40000 + allocationId,
  startedAt: endedAt - 1000, endedAt, reason: 'refresh', ...counters,
});

const totals = async (s: UsageStore, account: string) =>
  (await s.usage({ granularity: 'timeframe', account })).map((r) => [r.start, r.bytesToPeer, r.bytesToClient, r.packetsToPeer, r.packetsToClient]);

export function usageStoreContract(open: () => Promise<UsageStore>): void {
  it('timeframe: none before one is set, then the last one set', async () => {
    const s = await open();
    assert.equal(await s.timeframe(), null);
    await s.setTimeframe({ start: TF, lengthMs: DAY_MS });
    assert.deepEqual(await s.timeframe(), { start: TF, lengthMs: DAY_MS });
    await s.setTimeframe({ start: TF + DAY_MS, lengthMs: 30 * DAY_MS });
    assert.deepEqual(await s.timeframe(), { start: TF + DAY_MS, lengthMs: 30 * DAY_MS });
  });

  it('record adds per hour bucket and per timeframe; usage per hour, ordered by start then account, filtered', async () => {
    const s = await open();
    assert.deepEqual(await s.usage({ granularity: 'hour' }), []);
    await s.record(batch(H(1, 10), TF, [['acme', c(100, 10)], ['beta', c(5, 5)]]));
    await s.record(batch(H(1, 11), TF, [['acme', c(200, 20, 2, 2)]]));
    await s.record(batch(H(1, 10), TF, [['beta', c(1, 0, 1, 0)]]));
    await s.record(batch(H(2, 5), TF, [['acme', c(1000, 0, 3, 0)]]));
    const h = (start: number) => start + HOUR_MS;
    assert.deepEqual(await s.usage({ granularity: 'hour' }), [
      row('acme', H(1, 10), h(H(1, 10)), c(100, 10)),
      row('beta', H(1, 10), h(H(1, 10)), c(6, 5, 2, 1)),
      row('acme', H(1, 11), h(H(1, 11)), c(200, 20, 2, 2)),
      row('acme', H(2, 5), h(H(2, 5)), c(1000, 0, 3, 0)),
    ]);
    assert.deepEqual((await s.usage({ granularity: 'hour', account: 'acme' })).map((r) => r.start), [H(1, 10), H(1, 11), H(2, 5)]);
    assert.deepEqual(await s.usage({ granularity: 'hour', account: 'nobody' }), []);
    assert.deepEqual((await s.usage({ granularity: 'hour', from: H(1, 11), to: H(2, 5) })).map((r) => [r.account, r.start]), [['acme', H(1, 11)]], 'from inclusive, to exclusive');
    assert.deepEqual((await s.usage({ granularity: 'hour', account: 'beta', from: H(1, 10), to: H(1, 11) })).map((r) => r.bytesToPeer), [6]);
  });

  it('usage per UTC day: the hours summed, bounds rounded up to whole days', async () => {
    const s = await open();
    await s.record(batch(H(1, 10), TF, [['beta', c(1, 1)]]));
    await s.record(batch(H(1, 11), TF, [['acme', c(100, 10)]]));
    await s.record(batch(H(1, 23), TF, [['acme', c(200, 20)]]));
    await s.record(batch(H(2, 0), TF, [['acme', c(1000, 0, 1, 0)]]));
    const day = (d: number) => Date.UTC(2030, 0, d);
    assert.deepEqual(await s.usage({ granularity: 'day' }), [
      row('beta', day(1), day(2), c(1, 1)),
      row('acme', day(1), day(2), c(300, 30, 2, 2)),
      row('acme', day(2), day(3), c(1000, 0, 1, 0)),
    ]);
    assert.deepEqual((await s.usage({ granularity: 'day', from: H(1, 1) })).map((r) => [r.account, r.start]), [['acme', day(2)]], 'a day that began before from is left out');
    assert.deepEqual((await s.usage({ granularity: 'day', to: H(1, 12), account: 'acme' })).map((r) => [r.start, r.bytesToPeer]), [[day(1), 300]], 'to rounds up');
  });

  it('usage per timeframe: ends from the archive, the current window, or the current length', async () => {
    const s = await open();
    await s.record(batch(H(1, 10), TF, [['acme', c(100, 10)], ['beta', c(5, 5)]]));
    await s.record(batch(H(1, 11), TF, [['acme', c(200, 20)]]));
    assert.deepEqual(await s.usage({ granularity: 'timeframe' }), [row('acme', TF, TF, c(300, 30, 2, 2)), row('beta', TF, TF, c(5, 5))], 'no current window: ends at its start');
    await s.setTimeframe({ start: TF, lengthMs: DAY_MS });
    assert.deepEqual((await s.usage({ granularity: 'timeframe', account: 'acme' })).map((r) => [r.start, r.end]), [[TF, TF + DAY_MS]]);
    await s.rollover({ start: TF, lengthMs: DAY_MS }, { start: TF + DAY_MS, lengthMs: 2 * DAY_MS }, TF + DAY_MS + 5);
    await s.record(batch(H(2, 1), TF + DAY_MS, [['acme', c(7, 0, 1, 0)]]));
    assert.deepEqual(await s.usage({ granularity: 'timeframe', account: 'acme' }), [
      row('acme', TF, TF + DAY_MS, c(300, 30, 2, 2)),
      row('acme', TF + DAY_MS, TF + 3 * DAY_MS, c(7, 0, 1, 0)),
    ]);
    assert.deepEqual((await s.usage({ granularity: 'timeframe', from: TF + 1 })).map((r) => [r.account, r.start]), [['acme', TF + DAY_MS]]);
    assert.deepEqual((await s.usage({ granularity: 'timeframe', to: TF + DAY_MS })).map((r) => [r.account, r.start]), [['acme', TF], ['beta', TF]]);
  });

  it('session records: all in write order, or one account’s', async () => {
    const s = await open();
    assert.deepEqual(await s.sessions(), []);
    const [a1, b1, a2] = [session(1, 'acme', H(1, 10), c(10, 1)), session(2, 'beta', H(1, 10) + 1, c(20, 2)), session(3, 'acme', H(1, 9), c(30, 3))];
    await s.record(batch(H(1, 10), TF, [['acme', c(10, 1)], ['beta', c(20, 2)]], [a1, b1]));
    await s.record(batch(H(1, 10), TF, [], [a2]));
    assert.deepEqual(await s.sessions(), [a1, b1, a2]);
    assert.deepEqual(await s.sessions('acme'), [a1, a2]);
    assert.deepEqual(await s.sessions('nobody'), []);
    assert.deepEqual(await totals(s, 'acme'), [[TF, 10, 1, 1, 1]], 'sessions add no usage of their own');
  });

  it('rollover archives the window’s totals per account and makes the next current; archives oldest first', async () => {
    const s = await open();
    const first: Timeframe = { start: TF, lengthMs: DAY_MS };
    const second: Timeframe = { start: TF + DAY_MS, lengthMs: DAY_MS };
    await s.setTimeframe(first);
    await s.record(batch(H(1, 10), TF, [['zeta', c(1, 2)], ['acme', c(100, 10)]]));
    await s.record(batch(H(1, 12), TF, [['acme', c(50, 5)]]));
    const a = await s.rollover(first, second, TF + DAY_MS + 9);
    const end = TF + DAY_MS;
    assert.deepEqual(a, { start: TF, end, archivedAt: TF + DAY_MS + 9, accounts: [row('acme', TF, end, c(150, 15, 2, 2)), row('zeta', TF, end, c(1, 2))] });
    assert.deepEqual(await s.timeframe(), second);
    await s.record(batch(H(2, 10), second.start, [['acme', c(3, 3)]]));
    const b = await s.rollover(second, { start: TF + 2 * DAY_MS, lengthMs: DAY_MS }, TF + 2 * DAY_MS);
    assert.deepEqual(b.accounts, [row('acme', second.start, second.start + DAY_MS, c(3, 3))]);
    assert.deepEqual(await s.archives(), [a, b]);
    const empty = await s.rollover({ start: TF + 2 * DAY_MS, lengthMs: DAY_MS }, { start: TF + 3 * DAY_MS, lengthMs: DAY_MS }, TF + 3 * DAY_MS);
    assert.deepEqual(empty.accounts, [], 'a window without traffic archives no account');
    assert.equal((await s.archives()).length, 3);
  });

  it('rollover called again for a closed window (a second node, a retry) returns the first archive and changes nothing', async () => {
    const s = await open();
    const closed: Timeframe = { start: TF, lengthMs: DAY_MS };
    const next: Timeframe = { start: TF + DAY_MS, lengthMs: DAY_MS };
    await s.setTimeframe(closed);
    await s.record(batch(H(1, 10), TF, [['acme', c(100, 10)]]));
    const first = await s.rollover(closed, next, TF + DAY_MS + 1);
    const again = await s.rollover(closed, { start: TF + DAY_MS + 60_000, lengthMs: 7 * DAY_MS }, TF + DAY_MS + 2);
    assert.deepEqual(again, first);
    assert.deepEqual(await s.archives(), [first]);
    assert.deepEqual(await s.timeframe(), next, 'the first caller’s next window stays current');

    // Two nodes at once: one archive, both get it.
    const closed2 = next;
    await s.record(batch(H(2, 10), closed2.start, [['beta', c(9, 9)]]));
    const [x, y] = await Promise.all([
      s.rollover(closed2, { start: closed2.start + DAY_MS, lengthMs: DAY_MS }, TF + 2 * DAY_MS + 1),
      s.rollover(closed2, { start: closed2.start + DAY_MS, lengthMs: DAY_MS }, TF + 2 * DAY_MS + 2),
    ]);
    assert.deepEqual(x, y);
    assert.equal((await s.archives()).length, 2);
    assert.deepEqual(x.accounts.map((r) => [r.account, r.bytesToPeer]), [['beta', 9]]);
  });

  it('a late batch for an archived timeframe (another node’s flush after the rollover) adds to the archive’s totals too, once', async () => {
    const s = await open();
    const closed: Timeframe = { start: TF, lengthMs: DAY_MS };
    const next: Timeframe = { start: TF + DAY_MS, lengthMs: DAY_MS };
    const end = TF + DAY_MS;
    await s.setTimeframe(closed);
    await s.record(batch(H(1, 10), TF, [['acme', c(100, 10)]]));
    const first = await s.rollover(closed, next, TF + DAY_MS + 1);
    assert.deepEqual(first.accounts, [row('acme', TF, end, c(100, 10))]);
    const late = batch(H(1, 23), TF, [['acme', c(1, 2, 3, 4)], ['zeta', c(7, 0, 1, 0)]], [], { writer: 'node-b:boot-1', seq: 1 });
    await s.record(late);
    await s.record(late); // a retry of that flush adds nothing twice
    const want = [row('acme', TF, end, c(101, 12, 4, 5)), row('zeta', TF, end, c(7, 0, 1, 0))];
    assert.deepEqual(await s.archives(), [{ ...first, accounts: want }]);
    assert.deepEqual(await s.rollover(closed, next, TF + DAY_MS + 2), { ...first, accounts: want }, 'a later rollover call gets the updated archive');
    assert.deepEqual(await totals(s, 'acme'), [[TF, 101, 12, 4, 5]], 'the ledger and the archive agree');
    // A batch for the current (unarchived) timeframe leaves the archive alone.
    await s.record(batch(H(2, 1), next.start, [['acme', c(5, 5)]]));
    assert.deepEqual((await s.archives())[0]!.accounts, want);
  });

  it('a replayed batch (same writer and seq) adds nothing, its sessions included', async () => {
    const s = await open();
    const id = { writer: 'node-a:boot-1', seq: 1 };
    const b = batch(H(1, 10), TF, [['acme', c(100, 10)]], [session(1, 'acme', H(1, 10), c(100, 10))], id);
    await s.record(b);
    await s.record(b);
    await s.record({ ...b, deltas: [{ account: 'acme', ...c(5, 5) }] }); // same id, other content: still a replay
    assert.deepEqual(await totals(s, 'acme'), [[TF, 100, 10, 1, 1]]);
    assert.deepEqual((await s.usage({ granularity: 'hour', account: 'acme' })).map((r) => r.bytesToPeer), [100]);
    assert.equal((await s.sessions('acme')).length, 1);
  });

  it('an older seq adds nothing; a later one (gaps allowed) does', async () => {
    const s = await open();
    const w = 'node-a:boot-2';
    await s.record(batch(H(1, 10), TF, [['acme', c(100, 10)]], [], { writer: w, seq: 5 }));
    await s.record(batch(H(1, 10), TF, [['acme', c(1, 1)]], [], { writer: w, seq: 4 }));
    await s.record(batch(H(1, 10), TF, [['acme', c(1, 1)]], [], { writer: w, seq: 1 }));
    assert.deepEqual(await totals(s, 'acme'), [[TF, 100, 10, 1, 1]]);
    await s.record(batch(H(1, 11), TF, [['acme', c(2, 2)]], [], { writer: w, seq: 9 }));
    await s.record(batch(H(1, 11), TF, [['acme', c(3, 3)]], [], { writer: w, seq: 8 }));
    assert.deepEqual(await totals(s, 'acme'), [[TF, 102, 12, 2, 2]]);
  });

  it('two writers count independently, with the same seq numbers', async () => {
    const s = await open();
    for (const writer of ['node-a:boot-1', 'node-b:boot-1']) {
      for (const seq of [1, 2]) await s.record(batch(H(1, 10), TF, [['acme', c(10, 1)]], [], { writer, seq }));
      await s.record(batch(H(1, 10), TF, [['acme', c(10, 1)]], [], { writer, seq: 2 })); // a retry
    }
    assert.deepEqual(await totals(s, 'acme'), [[TF, 40, 4, 4, 4]]);
  });

  it('a batch without a valid writer or seq is refused (RangeError) and adds nothing', async () => {
    const s = await open();
    const good = batch(H(1, 10), TF, [['acme', c(10, 1)]]);
    const bad: FlushBatch[] = [
      { ...good, writer: '' },
      { ...good, writer: 'w'.repeat(257) },
      { ...good, seq: 0 },
      { ...good, seq: 1.5 },
      { ...good, seq: Number.NaN },
    ];
    for (const b of bad) await assert.rejects(s.record(b), RangeError, JSON.stringify({ writer: b.writer.length, seq: b.seq }));
    assert.deepEqual(await s.usage({ granularity: 'hour' }), []);
  });
}
