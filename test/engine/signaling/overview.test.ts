// GET /v1/overview over a signaling app with a fake OverviewSource (this node's figures, the
// timeframe, the limit settings), a fake usage ledger and a fake relay registry: the admin check,
// every field, the accounts near or over their limit (most used first, at most 100 listed, all
// counted), the global limit's state, and relays null while the registry cannot be read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayEntry } from '../../../src/cluster/types.js';
import type { UsageFilter, UsageRow } from '../../../src/metering/types.js';
import type { MetricsSnapshot } from '../../../src/metrics/index.js';
import { buildSignalingApp } from '../../../signaling/app.js';
import type { OverviewSource, RelayFleet } from '../../../signaling/deps.js';
import { MAX_LISTED, OVERVIEW_REUSE_MS } from '../../../signaling/routes/overview.js';
import { errorOf, testApp, type TestApp, type TestAppOptions } from '../../helpers/signaling-app.js';

const TF_START = Date.UTC(2030, 0, 1);
const TF_LENGTH = 31 * 86_400_000;

function relayEntry(nodeId: string, allocations: number): RelayEntry {
  return {
    nodeId,
    publicHost: `${nodeId}.example.net`,
    transports: ['udp'],
    ports: { udp: 3478 },
    load: { allocations, bps: allocations * 1000 },
    state: 'active',
    startedAt: TF_START,
    version: '9.9.9',
  };
}

const row = (account: string, bytesToPeer: number, bytesToClient: number, start = TF_START): UsageRow => ({
  account, start, end: start + TF_LENGTH, bytesToPeer, bytesToClient, packetsToPeer: 1, packetsToClient: 1,
});

const snapshot: MetricsSnapshot = {
  allocations: 7,
  relayed: {
    bytesToPeer: 1_000_001, packetsToPeer: 1001, bytesToClient: 2_000_002, packetsToClient: 2002,
    cappedBytesToPeer: 5, cappedPacketsToPeer: 1, cappedBytesToClient: 0, cappedPacketsToClient: 0,
    droppedBytesToPeer: 0, droppedPacketsToPeer: 0, droppedBytesToClient: 0, droppedPacketsToClient: 0,
  },
  webhookBacklog: 3,
  signalingPeers: 4,
};

interface Fakes {
  rows: UsageRow[];
  filters: UsageFilter[];
  relays: RelayEntry[] | null | Error;
  settings: { softLimit: number; hardLimit: number; globalLimitBytes?: number };
  problems: string[];
  /** The next usage read throws. */
  failNext?: boolean;
  /** Usage reads wait for it. */
  gate?: Promise<void>;
}

function overviewApp(fakes: Fakes, options: Pick<TestAppOptions, 'adminToken'> = {}): Promise<TestApp> {
  const source: OverviewSource = {
    startedAt: TF_START + 3_600_000,
    snapshot: () => snapshot,
    timeframe: () => ({ start: TF_START, lengthMs: TF_LENGTH }),
    limits: () => fakes.settings,
  };
  const relays: RelayFleet = {
    nodeId: 'node-b',
    read: async () => {
      if (fakes.relays instanceof Error) throw fakes.relays;
      return fakes.relays === null ? null : [...fakes.relays];
    },
    pick: () => undefined,
  };
  return testApp({
    ...options,
    appClock: true,
    relay: {
      usage: {
        usage: async (filter) => {
          fakes.filters.push(filter);
          if (fakes.gate !== undefined) await fakes.gate;
          if (fakes.failNext === true) {
            fakes.failNext = false;
            throw new Error('the ledger failed');
          }
          return fakes.rows;
        },
      },
      relays,
      healthProblems: () => fakes.problems,
    },
    build: (deps) => buildSignalingApp({ ...deps, overview: source }),
  });
}

describe('GET /v1/overview', () => {
  const fakes: Fakes = { rows: [], filters: [], relays: [], settings: { softLimit: 0.5, hardLimit: 0.8 }, problems: [] };
  let t: TestApp;
  const ids: Record<string, string> = {};
  before(async () => {
    t = await overviewApp(fakes);
    // Created in this order, so the listing's order is the usage's, not the accounts'.
    for (const [name, limit] of [['ok', 1000], ['near', 1000], ['soft', 1000], ['hard', 1000], ['nolimit', null], ['off', 100]] as const) {
      const a = await t.accounts.createAccount(name);
      ids[name] = a.account.id;
      if (limit !== null) await t.accounts.updateAccount(a.account.id, { limit });
    }
    await t.accounts.updateAccount(ids.off, { disabled: true });
  });
  after(() => t.close());
  /**
   * A fresh reading each time: the clock moves far past the reuse interval first (which may be up
   * to OVERVIEW_COST_FACTOR times a reading's real duration, on a loaded machine more than 1 s).
   */
  const get = (auth?: string | null) => {
    t.clock.ms += 60_000;
    return t.request({ method: 'GET', url: '/v1/overview', ...(auth !== undefined ? { auth } : {}) });
  };

  test('401 without a token and with a wrong one', async () => {
    const none = await get(null);
    assert.equal(none.statusCode, 401);
    assert.equal(errorOf(none).code, 'unauthorized');
    const wrong = await get('not-the-admin-token-0123456789');
    assert.equal(wrong.statusCode, 401);
    assert.equal(errorOf(wrong).code, 'unauthorized');
    assert.equal(fakes.filters.length, 0, 'nothing read for a refused caller');
  });

  test('every field: the node, the timeframe, its usage, the limits, the accounts, the relays, the problems', async () => {
    fakes.rows = [
      // Two rows of one account (as two buckets' writers may leave them) add up: 850 = hard (0.8).
      row(ids.hard, 300, 0), row(ids.hard, 200, 350),
      row(ids.soft, 500, 100), // 600: soft (0.5)
      row(ids.near, 400, 0), // 400 = 0.8 × 0.5 × 1000: near, exactly at the threshold
      row(ids.ok, 399, 0), // 399: below it, not listed
      row(ids.nolimit, 5_000_000, 5_000_000), // no limit: never listed
      row(ids.off, 60, 40), // 100 of 100: used up, and disabled
      row('walk-in', 7, 3), // a REST name: usage, no account
    ];
    fakes.relays = [relayEntry('node-c', 2), relayEntry('node-a', 1), relayEntry('node-b', 7)];
    fakes.problems = ['redis: unreachable'];
    fakes.settings = { softLimit: 0.5, hardLimit: 0.8, globalLimitBytes: 20_000_000 };
    fakes.filters.length = 0;
    const res = await get();
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(fakes.filters, [{ granularity: 'timeframe', from: TF_START, to: TF_START + 1 }], 'the current timeframe, read once');
    const body = res.json() as Record<string, any>;
    const toPeer = 300 + 200 + 500 + 400 + 399 + 5_000_000 + 60 + 7;
    const toClient = 350 + 100 + 5_000_000 + 40 + 3;
    assert.deepEqual(body, {
      at: new Date(t.clock.ms).toISOString(),
      node_id: 'node-b',
      node: {
        started_at: new Date(TF_START + 3_600_000).toISOString(),
        allocations: 7,
        bytes_to_peer: 1_000_001,
        bytes_to_client: 2_000_002,
        packets_to_peer: 1001,
        packets_to_client: 2002,
        webhook_backlog: 3,
        signaling_connections: 4,
      },
      timeframe: { start: '2030-01-01T00:00:00.000Z', end: '2030-02-01T00:00:00.000Z' },
      usage: { bytes_to_peer: toPeer, bytes_to_client: toClient, total_bytes: toPeer + toClient, accounts: 7 },
      limits: {
        soft_limit: 0.5,
        hard_limit: 0.8,
        global: { limit_bytes: 20_000_000, used: (toPeer + toClient) / 20_000_000, state: 'soft_limit' },
      },
      accounts: {
        total: 6,
        with_limit: 5,
        at_limit_total: 4,
        at_limit: [
          { id: ids.off, name: 'off', disabled: true, limit: 100, used_bytes: 100, used: 1, state: 'hard_limit' },
          { id: ids.hard, name: 'hard', disabled: false, limit: 1000, used_bytes: 850, used: 0.85, state: 'hard_limit' },
          { id: ids.soft, name: 'soft', disabled: false, limit: 1000, used_bytes: 600, used: 0.6, state: 'soft_limit' },
          { id: ids.near, name: 'near', disabled: false, limit: 1000, used_bytes: 400, used: 0.4, state: 'near' },
        ],
      },
      relays: [
        { node_id: 'node-a', public_host: 'node-a.example.net', region: null, state: 'active', transports: ['udp'], ports: { udp: 3478 }, load: { allocations: 1, bps: 1000 }, started_at: '2030-01-01T00:00:00.000Z', version: '9.9.9', self: false },
        { node_id: 'node-b', public_host: 'node-b.example.net', region: null, state: 'active', transports: ['udp'], ports: { udp: 3478 }, load: { allocations: 7, bps: 7000 }, started_at: '2030-01-01T00:00:00.000Z', version: '9.9.9', self: true },
        { node_id: 'node-c', public_host: 'node-c.example.net', region: null, state: 'active', transports: ['udp'], ports: { udp: 3478 }, load: { allocations: 2, bps: 2000 }, started_at: '2030-01-01T00:00:00.000Z', version: '9.9.9', self: false },
      ],
      problems: ['redis: unreachable'],
    });
  });

  test('the global limit: none, ok, soft, hard as the limiter decides them', async () => {
    fakes.rows = [row(ids.ok, 600, 400)];
    const global = async () => ((await get()).json() as { limits: { global: unknown } }).limits.global;
    fakes.settings = { softLimit: 0.5, hardLimit: 0.8 };
    assert.equal(await global(), null);
    fakes.settings = { softLimit: 0.5, hardLimit: 0.8, globalLimitBytes: 4000 };
    assert.deepEqual(await global(), { limit_bytes: 4000, used: 0.25, state: 'ok' });
    fakes.settings = { softLimit: 0.5, hardLimit: 0.8, globalLimitBytes: 2000 };
    assert.deepEqual(await global(), { limit_bytes: 2000, used: 0.5, state: 'soft_limit' });
    fakes.settings = { softLimit: 0.5, hardLimit: 0.8, globalLimitBytes: 1250 };
    assert.deepEqual(await global(), { limit_bytes: 1250, used: 0.8, state: 'hard_limit' });
    // The shares are read per answer: a reload's new ones show at once.
    fakes.settings = { softLimit: 0.9, hardLimit: 1, globalLimitBytes: 1250 };
    const res = (await get()).json() as { limits: Record<string, unknown> };
    assert.deepEqual(res.limits, { soft_limit: 0.9, hard_limit: 1, global: { limit_bytes: 1250, used: 0.8, state: 'ok' } });
  });

  test('relays: null when the registry read fails or answers nothing, the rest answered all the same', async () => {
    fakes.rows = [];
    fakes.relays = new Error('redis went away');
    let res = await get();
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json() as { relays: unknown }).relays, null);
    assert.equal((res.json() as { node_id: unknown }).node_id, 'node-b');
    fakes.relays = null;
    res = await get();
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json() as { relays: unknown }).relays, null);
    fakes.relays = [];
    assert.deepEqual((((await get()).json()) as { relays: unknown }).relays, []);
  });

  test(`at most ${MAX_LISTED} listed, most used first; at_limit_total counts them all`, async () => {
    const extra: string[] = [];
    for (let i = 0; i < 103; i++) {
      const a = await t.accounts.createAccount(`extra ${i}`);
      await t.accounts.updateAccount(a.account.id, { limit: 1000 });
      extra.push(a.account.id);
    }
    fakes.settings = { softLimit: 0.5, hardLimit: 0.8 };
    fakes.relays = [];
    fakes.rows = [
      row(ids.hard, 850, 0), row(ids.soft, 600, 0), row(ids.near, 400, 0), row(ids.off, 100, 0),
      // 401..503 bytes of 1000: between `near` (0.4) and `soft` (0.6), each one different.
      ...extra.map((id, i) => row(id, 401 + i, 0)),
    ];
    const body = (await get()).json() as { accounts: { total: number; with_limit: number; at_limit_total: number; at_limit: { id: string; used: number; state: string }[] } };
    assert.equal(body.accounts.total, 6 + 103);
    assert.equal(body.accounts.with_limit, 5 + 103);
    assert.equal(body.accounts.at_limit_total, 4 + 103);
    assert.equal(body.accounts.at_limit.length, MAX_LISTED);
    const used = body.accounts.at_limit.map((a) => a.used);
    assert.deepEqual(used, [...used].sort((x, y) => y - x), 'most used first');
    assert.deepEqual(body.accounts.at_limit.slice(0, 3).map((a) => a.id), [ids.off, ids.hard, ids.soft]);
    // The least used are the ones left out: `near` (0.4) and the extras at 0.401..0.406.
    const listed = new Set(body.accounts.at_limit.map((a) => a.id));
    assert.equal(listed.has(ids.near), false);
    assert.deepEqual(extra.filter((id) => !listed.has(id)), extra.slice(0, 6));
    assert.equal(body.accounts.at_limit[3].id, extra[102]);
    assert.equal(body.accounts.at_limit[3].state, 'soft_limit');
    assert.equal(body.accounts.at_limit[MAX_LISTED - 1].state, 'near');
  });

  test('the stores are read once for answers within OVERVIEW_REUSE_MS and while a reading runs; the node figures on every answer', async () => {
    const first = await get();
    assert.equal(first.statusCode, 200, first.body);
    const reads = fakes.filters.length;
    const saved = fakes.rows;
    fakes.rows = [row(ids.ok!, 1, 1)];
    t.clock.ms += OVERVIEW_REUSE_MS - 1;
    const again = await t.request({ method: 'GET', url: '/v1/overview' });
    assert.equal(fakes.filters.length, reads, 'no second reading within the interval');
    const pick = (r: typeof first) => {
      const { at, node, relays, problems, ...stored } = r.json() as Record<string, unknown>;
      return { at, node, relays, problems, stored };
    };
    assert.deepEqual(pick(again).stored, pick(first).stored, 'the stores\' part is shared');
    assert.equal(pick(again).at, new Date(t.clock.ms).toISOString(), 'at is the answer\'s own');
    t.clock.ms += 1;
    const later = await t.request({ method: 'GET', url: '/v1/overview' });
    assert.equal(fakes.filters.length, reads + 1, 'read again once the interval has passed');
    assert.equal((later.json() as { usage: { total_bytes: number } }).usage.total_bytes, 2);
    fakes.rows = saved;

    // While a reading is under way, every request waits for it: one reading however many ask.
    let release!: () => void;
    fakes.gate = new Promise<void>((r) => { release = r; });
    t.clock.ms += OVERVIEW_REUSE_MS;
    const before = fakes.filters.length;
    const pending = [1, 2, 3].map(() => t.request({ method: 'GET', url: '/v1/overview' }));
    await new Promise((r) => setTimeout(r, 50));
    t.clock.ms += 10 * OVERVIEW_REUSE_MS; // long past the interval: still the same reading
    pending.push(t.request({ method: 'GET', url: '/v1/overview' }));
    await new Promise((r) => setTimeout(r, 50));
    release();
    for (const res of await Promise.all(pending)) assert.equal(res.statusCode, 200, res.body);
    assert.equal(fakes.filters.length, before + 1, 'one reading for four requests');
    fakes.gate = undefined;
    // That reading took real time (the gate): it is shared for OVERVIEW_COST_FACTOR times as long.
    t.clock.ms += 60_000;

    // A reading that fails (the ledger throws) is answered 500 and forgotten: the next asks again.
    const usage = fakes.filters.length;
    fakes.failNext = true;
    const failed = await get();
    assert.equal(failed.statusCode, 500, failed.body);
    const retried = await t.request({ method: 'GET', url: '/v1/overview' });
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal(fakes.filters.length, usage + 2);
  });
});

describe('GET /v1/overview without an admin token configured', () => {
  test('503 admin_disabled, even with a token', async () => {
    const fakes: Fakes = { rows: [], filters: [], relays: [], settings: { softLimit: 0.5, hardLimit: 0.8 }, problems: [] };
    const t = await overviewApp(fakes, { adminToken: null });
    try {
      for (const auth of [null, 'some-token-0123456789abcdef']) {
        const res = await t.request({ method: 'GET', url: '/v1/overview', auth });
        assert.equal(res.statusCode, 503, res.body);
        assert.equal(errorOf(res).code, 'admin_disabled');
      }
      assert.equal(fakes.filters.length, 0);
    } finally {
      await t.close();
    }
  });
});

describe('GET /v1/overview without an overview source', () => {
  test('no such route: JSON 404', async () => {
    const t = await testApp({ relay: { usage: { usage: async () => [] } } });
    try {
      const res = await t.request({ method: 'GET', url: '/v1/overview' });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(errorOf(res).code, 'not_found');
    } finally {
      await t.close();
    }
  });
});
