// The usage summary of `ferry status`: summing, top accounts and the global limit state on fixed
// rows, and against an in-process Ferry (file store, loopback) whose relayed bytes it must match,
// the part not yet written to the ledger included.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchUsageSummary, storedTimeframe, summarizeUsage, TOP_ACCOUNTS, usageLines, usageRows, type UsageRowJson } from '../../../../app/cli/status-usage.js';
import { parseConfig } from '../../../../src/config/load.js';
import { createLogger } from '../../../../src/logger.js';
import { startFerry, type FerryHandle } from '../../../../app/ferry.js';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../../../../src/store/sqlite-usage-store.js';
import { freePort, reservePortRange, type PortRange } from '../../../helpers/ports.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import { apiRequest } from '../../../helpers/admin-http.js';

const START = '2030-01-01T00:00:00.000Z';
const row = (account: string, toPeer: number, toClient: number): UsageRowJson => ({
  account,
  start: START,
  bytes_to_peer: toPeer,
  bytes_to_client: toClient,
  packets_to_peer: toPeer > 0 ? 1 : 0,
  packets_to_client: toClient > 0 ? 2 : 0,
});
const TF = { start: Date.parse(START), lengthMs: 30 * 86_400_000 };
const NO_LIMIT = { softLimit: 0.9, hardLimit: 0.93 };

describe('status usage summary', () => {
  it('sums both directions, counts accounts, lists the top five by bytes (ties by name)', () => {
    const rows = [row('a', 10, 0), row('b', 500, 500), row('c', 0, 300), row('d', 300, 0), row('e', 1, 1), row('f', 2000, 0), row('g', 0, 5)];
    const s = summarizeUsage(rows, TF, NO_LIMIT);
    assert.deepEqual(s.timeframe, { start: START, end: '2030-01-31T00:00:00.000Z' });
    assert.deepEqual([s.bytes_to_peer, s.bytes_to_client, s.packets_to_peer, s.packets_to_client], [2811, 806, 5, 8]);
    assert.equal(s.accounts, 7);
    assert.equal(s.top.length, TOP_ACCOUNTS);
    assert.deepEqual(s.top.map((a) => [a.account, a.bytes]), [['f', 2000], ['b', 1000], ['c', 300], ['d', 300], ['a', 10]]);
    assert.deepEqual(s.top[1], { account: 'b', name: null, bytes: 1000, bytes_to_peer: 500, bytes_to_client: 500 });
    assert.equal(s.global_limit, null);
    assert.deepEqual(summarizeUsage([], null, NO_LIMIT).top, []);
  });

  it('global limit state as the limiter decides it: ok below soft, soft from soft, hard from hard', () => {
    const state = (bytes: number) => summarizeUsage([row('a', bytes, 0)], TF, { globalLimitBytes: 1000, softLimit: 0.5, hardLimit: 0.8 }).global_limit;
    assert.deepEqual(state(499), { limit_bytes: 1000, soft_limit: 0.5, hard_limit: 0.8, used: 0.499, state: 'ok' });
    assert.equal(state(500)?.state, 'soft_limit');
    assert.equal(state(799)?.state, 'soft_limit');
    assert.equal(state(800)?.state, 'hard_limit');
    assert.equal(summarizeUsage([], TF, { globalLimitBytes: 0, softLimit: 0.5, hardLimit: 0.8 }).global_limit?.used, null);
  });

  it('prints readable sizes, account names beside ids', () => {
    // Names come with the rows (GET /v1/usage's account_name); null for a static user.
    const s = summarizeUsage([{ ...row('acc_1', 1_234_567, 89_000), account_name: 'Acme Corp' }, { ...row('beta', 999, 0), account_name: null }], TF, { globalLimitBytes: 2e12, softLimit: 0.9, hardLimit: 0.93 });
    assert.deepEqual(usageLines(s), [
      `  usage in the timeframe ${START} .. 2030-01-31T00:00:00.000Z: 2 accounts`,
      '    client to peer: 1.24 MB in 2 packets',
      '    peer to client: 89.0 kB in 2 packets',
      '    top accounts: acc_1 (Acme Corp) 1.32 MB, beta 999 B',
      '    global limit: 2.00 TB, 0% used, below the soft limit (90%)',
    ]);
    assert.deepEqual(usageLines(summarizeUsage([], null, NO_LIMIT)).slice(0, 1), ['  usage: none recorded yet']);
  });

  it('refuses an answer that is not a usage list', () => {
    assert.throws(() => usageRows({}), /no usage list/);
    assert.throws(() => usageRows({ usage: [{ account: 'a', start: START, bytes_to_peer: -1, bytes_to_client: 0, packets_to_peer: 0, packets_to_client: 0 }] }), /unexpected row/);
    assert.throws(() => usageRows({ usage: [{ account: 'a', start: 'yesterday', bytes_to_peer: 1, bytes_to_client: 0, packets_to_peer: 0, packets_to_client: 0 }] }), /unexpected row/);
    assert.deepEqual(usageRows({ usage: [row('a', 1, 2)] }), [row('a', 1, 2)]);
  });
});

describe('status usage summary from a running Ferry', () => {
  const ADMIN = 'admin-token-status-usage-0123';
  const dir = mkdtempSync(join(tmpdir(), 'ferry-status-usage-'));
  const configFile = join(dir, 'config.json');
  let handle: FerryHandle | undefined;
  let range: PortRange | undefined;
  let peer: UdpPeer | undefined;
  let turn: TestTurnClient | undefined;
  let raw: Record<string, unknown> = {};
  const get = async (path: string) => {
    const { port } = handle!.signalingAddress();
    const res = await apiRequest(`http://127.0.0.1:${port}`, 'GET', path, ADMIN);
    assert.equal(res.status, 200, path);
    return res.json();
  };

  before(async () => {
    const port = await freePort();
    range = await reservePortRange();
    raw = {
      address: `127.0.0.1:${port}`,
      relay_ip: '127.0.0.1',
      relay_ports: `${range.lo}-${range.hi}`,
      users: { alice: 'alice-password' },
      peers: { allow: ['127.0.0.0/8'] },
      signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
      storage: 'sqlite:data/ferry.db',
    };
    handle = await startFerry(parseConfig(raw, configFile), createLogger('silent'));
    peer = await UdpPeer.open('127.0.0.1');
    turn = await TestTurnClient.connect({ port, username: 'alice', password: 'alice-password' });
  });

  after(async () => {
    turn?.close();
    peer?.close();
    await handle?.stop();
    range?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('matches the relayed bytes, written or not, in the timeframe the store holds', async () => {
    const loaded = parseConfig(raw, configFile);
    const tf = await storedTimeframe(loaded.storageUrl);
    assert.ok(tf !== null, 'the running Ferry persisted its timeframe');
    const empty = await fetchUsageSummary(get, loaded);
    assert.deepEqual([empty.accounts, empty.bytes_to_peer, empty.bytes_to_client], [0, 0, 0]);
    assert.deepEqual(empty.timeframe, { start: new Date(tf.start).toISOString(), end: new Date(tf.start + tf.lengthMs).toISOString() });

    assert.equal((await turn!.allocate()).code, 0);
    assert.equal((await turn!.createPermission(peer!.address)).code, 0);
    for (let i = 0; i < 4; i++) turn!.sendIndication(peer!.address, Buffer.alloc(250, i));
    assert.ok(await peer!.waitFor(4));

    // Not written to the ledger yet (write_interval 10s): GET /v1/usage has it already.
    const live = await fetchUsageSummary(get, parseConfig({ ...raw, network_usage: { global_limit: 2000, soft_limit: '50%' } }, configFile));
    assert.deepEqual([live.accounts, live.bytes_to_peer, live.packets_to_peer, live.bytes_to_client], [1, 1000, 4, 0]);
    assert.deepEqual(live.top, [{ account: 'alice', name: null, bytes: 1000, bytes_to_peer: 1000, bytes_to_client: 0 }]);
    assert.deepEqual(live.global_limit, { limit_bytes: 2000, soft_limit: 0.5, hard_limit: 0.93, used: 0.5, state: 'soft_limit' });

    // Once written, the store (what `ferry usage` reads) holds the same figures.
    await handle!.flushUsage();
    const store = openSqliteStore(loaded.storageUrl);
    try {
      const rows = await new SqliteUsageStore(store.db).usage({ granularity: 'timeframe', from: tf.start, to: tf.start + 1 });
      assert.deepEqual(rows.map((r) => [r.account, r.bytesToPeer, r.packetsToPeer]), [['alice', 1000, 4]]);
    } finally {
      await store.close();
    }
    // Without a readable store the timeframe is the latest one with usage.
    const fallback = await fetchUsageSummary(get, { ...loaded, storageUrl: 'sqlite::memory:' });
    assert.deepEqual(fallback.timeframe, empty.timeframe);
    assert.equal(fallback.bytes_to_peer, 1000);
  });
});
