// What GET /v1/overview costs the server as accounts grow: the one reading per second it does at
// most (every account, the current timeframe's usage, the accounts at their limit), measured
// in-process on the real SQLite stores through the real route. Prints ONE JSON document:
//   node dist/bench/overview.js [--accounts 1000,10000,50000] [--reads 20]
// For each size: N accounts (every second one with a limit, every tenth near or over it), usage
// for each in the current timeframe, then `reads` fresh readings (the clock moved past the reuse
// interval each time): wall time per reading (p50, max), how long the route shares such a reading
// (OVERVIEW_COST_FACTOR × its time, at least 1 s), the time of a shared answer, the answer's size.
import { AccountService } from '../src/accounts/service.js';
import { liveUsage } from '../src/metering/query.js';
import { openSqliteStore } from '../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../src/store/sqlite-usage-store.js';
import { buildSignalingApp } from '../signaling/app.js';
import { IceServerIssuer } from '../src/credentials/ice-servers.js';
import { SignalTokens } from '../src/credentials/signal-token.js';
import { OVERVIEW_COST_FACTOR } from '../signaling/routes/overview.js';
import { SESSION_COUNTERS } from '../turn/index.js';
import { arg } from './lib/options.js';

const ADMIN = 'bench-admin-token-0123456789abcdef';
const SECRET = 'bench-secret-0123456789abcdef';
const HOUR = 3_600_000;

async function measure(n: number, reads: number): Promise<Record<string, unknown>> {
  const clock = { ms: Date.UTC(2030, 0, 1, 12) };
  const tfStart = Date.UTC(2030, 0, 1);
  const store = openSqliteStore('sqlite::memory:');
  const usage = new SqliteUsageStore(store.db);
  const accounts = await AccountService.open(store, () => clock.ms);
  const deltas = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const { account } = await accounts.createAccount(`bench-${i}`);
    if (i % 2 === 0) await accounts.updateAccount(account.id, { limit: 1_000_000 });
    const bytes = i % 10 === 0 ? 950_000 : 10_000;
    deltas.push({ account: account.id, bytesToPeer: bytes / 2, bytesToClient: bytes / 2, packetsToPeer: 10, packetsToClient: 10 });
  }
  await usage.record({ writer: 'bench', seq: 1, hour: clock.ms - (clock.ms % HOUR), timeframeStart: tfStart, deltas, sessions: [] });
  const setupMs = performance.now() - t0;
  const zero = Object.fromEntries(SESSION_COUNTERS.map((k) => [k, 0])) as Record<(typeof SESSION_COUNTERS)[number], number>;
  const app = buildSignalingApp({
    accounts,
    iceServers: new IceServerIssuer({ secret: () => SECRET, turnPort: 3478, now: () => clock.ms }),
    tokens: new SignalTokens({ secret: () => SECRET, directory: accounts.directory, now: () => clock.ms }),
    adminToken: ADMIN,
    now: () => clock.ms,
    usage: liveUsage(usage, undefined),
    overview: {
      startedAt: clock.ms,
      snapshot: () => ({ allocations: 0, relayed: zero, webhookBacklog: 0, signalingPeers: 0 }),
      timeframe: () => ({ start: tfStart, lengthMs: 30 * 86_400_000 }),
      limits: () => ({ softLimit: 0.9, hardLimit: 0.93 }),
    },
  });
  await app.ready();
  const times: number[] = [];
  let bytes = 0;
  let listed = 0;
  for (let i = 0; i < reads; i++) {
    // Past any reuse interval (at most OVERVIEW_COST_FACTOR × a reading): a fresh reading each time.
    clock.ms += 3_600_000;
    const start = performance.now();
    const res = await app.inject({ method: 'GET', url: '/v1/overview', headers: { authorization: `Bearer ${ADMIN}` } });
    times.push(performance.now() - start);
    if (res.statusCode !== 200) throw new Error(`GET /v1/overview: ${res.statusCode} ${res.body}`);
    bytes = res.body.length;
    listed = (res.json() as { accounts: { at_limit: unknown[] } }).accounts.at_limit.length;
  }
  // Within the reuse interval: the shared reading.
  const reused = performance.now();
  await app.inject({ method: 'GET', url: '/v1/overview', headers: { authorization: `Bearer ${ADMIN}` } });
  const reusedMs = performance.now() - reused;
  await app.close();
  await store.close();
  times.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  const p50 = times[Math.floor(times.length / 2)]!;
  return {
    accounts: n,
    reused_for_ms: Math.max(1000, Math.round(OVERVIEW_COST_FACTOR * p50)),
    setup_ms: Math.round(setupMs),
    reading_ms: { p50: round(p50), max: round(times.at(-1)!) },
    reused_answer_ms: round(reusedMs),
    answer_bytes: bytes,
    at_limit_listed: listed,
  };
}

async function main(): Promise<void> {
  const sizes = (arg('accounts') ?? '1000,10000,50000').split(',').map(Number);
  const reads = Number(arg('reads') ?? '20');
  const results = [];
  for (const n of sizes) {
    process.stderr.write(`[overview-bench] ${n} accounts\n`);
    results.push(await measure(n, reads));
  }
  process.stdout.write(`${JSON.stringify({ bench: 'overview', node: process.version, reads, results }, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`overview bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
