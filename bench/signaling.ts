// Signaling throughput and memory: Ferry's hub vs the PeerJS server, same load, same run; prints
// ONE JSON document on stdout (progress on stderr). Build first (`npx tsc -p .`), then:
//   node dist/bench/signaling.js [--quick] [--only ferry|peerjs] [--pairs 50,500] [--seconds 3]
//     [--offer-rates 5000,10000,...] [--candidate-rates ...] [--refine 2] [--idle 2000]
//     [--noise-limit 25] [--no-pin] [--keep-tmp]          (or BENCH_<NAME> environment variables)
//
// Processes, each in its own process group, killed on exit, error, SIGINT/SIGTERM and after a time
// bound (bench/lib/children.ts): the two servers (pinned to CPU 0 when `taskset` exists), and one
// load generator (bench/signaling-loadgen.ts, CPU 1) driven over a loopback control connection.
//  - idle_peers: on a fresh server, RSS (VmRSS of the group) before and after N idle peers connect;
//    bytes_per_peer = delta / N.
//  - pairs_P.{offer,candidate}: P sender→receiver pairs; the load generator sends at a fixed total
//    rate for `seconds` (2.6 KB offers / 440-byte candidates, a send timestamp inside), then waits
//    ≤ 1 s for stragglers. Latency = receive − send time in the load generator. A step passes when
//    p99 < 50 ms, counting frames never received as slower than any. The ladder stops at the first
//    failing rate, then bisects `refine` times; max_rate_p99_under_50ms = the highest passing rate.
//    Both servers alternate step by step, so background load hits both alike; a failing step under
//    background load (others_cpu_pct > --noise-limit) is run once more when the machine is quiet.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCleanup, registerTempDir, sleep, spawnChild, stopChild, type Child } from './lib/children.js';
import { ControlServer, type ControlConnection } from './lib/control.js';
import { freePort } from '../test/helpers/ports.js';
import { cpuMark, cpuPercent, groupRssKb, othersMark, systemBusyPercent, systemMark, waitQuiet } from './lib/procfs.js';
import { arg, flag } from './lib/options.js';
import type { Kind, Proto } from './lib/signal-frames.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(REPO_ROOT, 'dist', 'bench');
const log = (msg: string): void => void process.stderr.write(`[signal-bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---- options ----
const list = (name: string, dflt: string): number[] => (arg(name) ?? dflt).split(',').map(Number);

const quick = flag('quick');
const only = arg('only');
if (only !== undefined && only !== 'ferry' && only !== 'peerjs') {
  log(`--only must be "ferry" or "peerjs", got ${JSON.stringify(only)}`);
  process.exit(64);
}
const opts = {
  protos: (only ? [only] : ['peerjs', 'ferry']) as Proto[],
  pairs: list('pairs', quick ? '50' : '50,500'),
  /** send window of a step; + ≤ 1 s drain, so a step stays under 5 s */
  seconds: Math.min(Number(arg('seconds') ?? (quick ? 1.5 : 3)), 3.5),
  drainMs: 1000,
  rates: {
    offer: list('offer-rates', quick ? '10000,30000,50000' : '5000,10000,20000,30000,40000,50000,60000,80000'),
    candidate: list('candidate-rates', quick ? '25000,75000,125000' : '10000,25000,50000,75000,100000,125000,150000,200000'),
  } as Record<Kind, number[]>,
  refine: Number(arg('refine') ?? (quick ? 1 : 2)),
  idlePeers: Number(arg('idle') ?? (quick ? 500 : 2000)),
  p99LimitMs: 50,
  noiseLimit: Number(arg('noise-limit') ?? 25),
  pin: !flag('no-pin'),
  keepTmp: flag('keep-tmp'),
};
if ([...opts.pairs, ...opts.rates.offer, ...opts.rates.candidate, opts.seconds, opts.idlePeers].some((x) => !(x > 0))) {
  log('bad --pairs / --*-rates / --seconds / --idle');
  process.exit(64);
}
/** Ferry's per-connection limits are for browsers (50 frames/s); the bench's peers send far more. */
const FERRY_BENCH_LIMITS = { ratePerSecond: 1e9, rateBurst: 1e9, maxPeersPerAccount: 1_000_000 };

installCleanup((quick ? 8 : 30) * 60_000, log);
const tmp = mkdtempSync(join(tmpdir(), 'ferry-signal-bench-'));
if (!opts.keepTmp) registerTempDir(tmp);

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore', timeout: 2000 });
    return true;
  } catch {
    return false;
  }
}
const pinned = opts.pin && cpus().length >= 2 && hasTaskset();

/** node SCRIPT ARGS, pinned to `cpu` when pinning is on. */
function startNode(name: string, script: string, args: string[], cpu: number): Child {
  const node = [process.execPath, join(DIST, script), ...args];
  const logFile = join(tmp, `${name}.log`);
  return pinned
    ? spawnChild(name, 'taskset', ['-c', String(cpu), ...node], { cwd: REPO_ROOT, logFile })
    : spawnChild(name, node[0], node.slice(1), { cwd: REPO_ROOT, logFile });
}

async function waitReady(child: Child, ms: number): Promise<void> {
  const end = Date.now() + ms;
  const file = join(tmp, `${child.name}.log`);
  while (Date.now() < end) {
    if (child.hasExited()) throw new Error(`${child.name} exited (${child.exitStatus()}): ${child.tail()}`);
    if (existsSync(file) && readFileSync(file, 'utf8').includes('READY')) return;
    await sleep(50);
  }
  throw new Error(`${child.name} not ready within ${ms} ms: ${child.tail()}`);
}

interface Server {
  proto: Proto;
  child: Child;
  port: number;
  report: Record<string, unknown>;
  error?: string;
}

async function startServer(proto: Proto): Promise<Server> {
  const port = await freePort();
  const child =
    proto === 'ferry'
      ? startNode('ferry', 'signaling-server.js', [String(port), JSON.stringify(FERRY_BENCH_LIMITS)], 0)
      : startNode('peerjs', 'peerjs-server.js', [String(port)], 0);
  await waitReady(child, 10_000);
  log(`${proto} listening on 127.0.0.1:${port} (pid ${child.pid})`);
  return { proto, child, port, report: {} };
}

// ---- measurements ----
interface Step extends Record<string, unknown> {
  offered_per_s: number;
  p99_ms: number | null;
  pass: boolean;
}

let lg: ControlConnection;
let loadgen: Child;
let servers: Server[] = [];

async function stepOnce(s: Server, kind: Kind, pairs: number, rate: number): Promise<Step> {
  const pids = [...servers.map((x) => x.child.pid), loadgen.pid];
  const sys0 = systemMark();
  const others0 = othersMark(pids);
  const srv0 = cpuMark(s.child.pid);
  const lg0 = cpuMark(loadgen.pid);
  const r = await lg.request({ cmd: 'step', set: `${s.proto}-${pairs}`, kind, rate, seconds: opts.seconds, drainMs: opts.drainMs }, 30_000);
  const step: Step = {
    offered_per_s: rate,
    ...r,
    p99_ms: (r.p99_ms as number | null) ?? null,
    pass: false,
    server_cpu_pct: cpuPercent(srv0, cpuMark(s.child.pid)),
    loadgen_cpu_pct: cpuPercent(lg0, cpuMark(loadgen.pid)),
    others_cpu_pct: cpuPercent(others0, othersMark(pids)),
    machine_busy_pct: systemBusyPercent(sys0, systemMark()),
  };
  step.pass = step.p99_ms !== null && step.p99_ms < opts.p99LimitMs && r.skipped_backpressure === 0;
  if (s.child.hasExited()) throw new Error(`${s.proto} exited during the step (${s.child.exitStatus()}): ${s.child.tail()}`);
  return step;
}

async function step(s: Server, kind: Kind, pairs: number, rate: number): Promise<Step> {
  let st = await stepOnce(s, kind, pairs, rate);
  if (!st.pass && (st.others_cpu_pct as number | null ?? 0) > opts.noiseLimit) {
    log(`  ${s.proto} ${kind} ${rate}/s failed under background load (${String(st.others_cpu_pct)} % of a core); once more when quiet`);
    await waitQuiet([...servers.map((x) => x.child.pid), loadgen.pid], opts.noiseLimit, 10_000);
    const first = st;
    st = await stepOnce(s, kind, pairs, rate);
    st.rerun_after_noise = { p99_ms: first.p99_ms, others_cpu_pct: first.others_cpu_pct };
  }
  log(
    `  ${s.proto.padEnd(6)} ${String(pairs).padStart(3)} pairs ${kind.padEnd(9)} ${String(rate).padStart(6)}/s → ` +
      `${String(st.delivered_per_s)}/s p50 ${String(st.p50_ms)} p99 ${String(st.p99_ms)} ms, lost ${String(st.lost)}, ` +
      `server ${String(st.server_cpu_pct)} % loadgen ${String(st.loadgen_cpu_pct)} % others ${String(st.others_cpu_pct)} % ${st.pass ? 'PASS' : 'FAIL'}`,
  );
  await settle(s);
  return st;
}

/** Waits (≤ 10 s) until the server has worked off any backlog, so it does not load the next step. */
async function settle(s: Server): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const a = cpuMark(s.child.pid);
    await sleep(200);
    if ((cpuPercent(a, cpuMark(s.child.pid)) ?? 0) < 10) return;
  }
}

interface Ladder {
  steps: Step[];
  lastPass: number | null;
  firstFail: number | null;
  done: boolean;
}

/** The ladder for one kind and pair count, both servers alternating step by step. */
async function ladders(kind: Kind, pairs: number): Promise<void> {
  const live = servers.filter((s) => !s.error);
  const state = new Map<Server, Ladder>(live.map((s) => [s, { steps: [], lastPass: null, firstFail: null, done: false }]));
  const run = async (s: Server, rate: number): Promise<void> => {
    const l = state.get(s)!;
    try {
      const st = await step(s, kind, pairs, rate);
      l.steps.push(st);
      if (st.pass) l.lastPass = Math.max(l.lastPass ?? 0, rate);
      else l.firstFail = Math.min(l.firstFail ?? Number.POSITIVE_INFINITY, rate);
      if (!st.pass) l.done = true;
    } catch (err) {
      s.error = (err as Error).message;
      l.done = true;
      log(`  ${s.proto}: ${s.error}`);
    }
  };
  for (const rate of opts.rates[kind]) {
    for (const s of live) if (!state.get(s)!.done) await run(s, rate);
  }
  for (let i = 0; i < opts.refine; i++) {
    for (const s of live) {
      const l = state.get(s)!;
      if (s.error || l.firstFail === null) continue;
      const lo = l.lastPass ?? 0;
      if (l.firstFail - lo <= Math.max(1000, l.firstFail * 0.05)) continue;
      await run(s, Math.round((lo + l.firstFail) / 2 / 500) * 500);
    }
  }
  for (const s of live) {
    const l = state.get(s)!;
    const best = l.steps.filter((x) => x.pass).sort((a, b) => b.offered_per_s - a.offered_per_s)[0];
    const key = `pairs_${pairs}`;
    const section = (s.report[key] ??= {}) as Record<string, unknown>;
    section[kind] = {
      max_rate_p99_under_50ms: best?.offered_per_s ?? 0,
      at_max: best
        ? { delivered_per_s: best.delivered_per_s, p50_ms: best.p50_ms, p99_ms: best.p99_ms, server_cpu_pct: best.server_cpu_pct, loadgen_cpu_pct: best.loadgen_cpu_pct }
        : null,
      first_failing_rate: l.firstFail,
      ladder_exhausted: l.firstFail === null,
      steps: l.steps,
    };
  }
}

async function idleMemory(s: Server): Promise<void> {
  try {
    const warm = Math.min(200, opts.idlePeers);
    await lg.request({ cmd: 'idle', set: `warm-${s.proto}`, proto: s.proto, port: s.port, count: warm }, 60_000);
    await lg.request({ cmd: 'close', set: `warm-${s.proto}` }, 30_000);
    await sleep(1500);
    const before = groupRssKb(s.child.pid);
    const r = await lg.request({ cmd: 'idle', set: `idle-${s.proto}`, proto: s.proto, port: s.port, count: opts.idlePeers }, 120_000);
    await sleep(2000);
    const withPeers = groupRssKb(s.child.pid);
    await lg.request({ cmd: 'close', set: `idle-${s.proto}` }, 30_000);
    s.report.idle_peers = {
      peers: opts.idlePeers,
      connect_ms: r.ms,
      rss_before_kb: before,
      rss_with_peers_kb: withPeers,
      bytes_per_peer: Math.round(((withPeers - before) * 1024) / opts.idlePeers),
    };
    log(`  ${s.proto}: ${opts.idlePeers} idle peers: RSS ${before} → ${withPeers} kB, ${String((s.report.idle_peers as { bytes_per_peer: number }).bytes_per_peer)} B/peer`);
  } catch (err) {
    s.error = `idle memory: ${(err as Error).message}`;
    log(`  ${s.proto}: ${s.error}`);
  }
}

function ratio(a: unknown, b: unknown): number | null {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 100) / 100 : null;
}

async function main(): Promise<void> {
  const started = Date.now();
  const control = await ControlServer.listen();
  loadgen = startNode('loadgen', 'signaling-loadgen.js', [String(control.port)], 1);
  lg = await control.accept(10_000);
  log(`load generator pid ${loadgen.pid}${pinned ? ' (cpu 1; servers on cpu 0)' : ' (not pinned)'}`);

  // Memory first, each server fresh and alone.
  for (const proto of opts.protos) {
    const s = await startServer(proto);
    servers.push(s);
    await idleMemory(s);
  }
  // Throughput: both servers up, alternating step by step (background load hits both alike).
  for (const pairs of opts.pairs) {
    for (const s of servers.filter((x) => !x.error)) {
      try {
        const r = await lg.request({ cmd: 'connect', set: `${s.proto}-${pairs}`, proto: s.proto, port: s.port, pairs }, 60_000);
        s.report.frame_bytes = { offer: r.offer_bytes, candidate: r.candidate_bytes };
        // Warm-up (JIT), not reported.
        await lg.request({ cmd: 'step', set: `${s.proto}-${pairs}`, kind: 'offer', rate: 2000, seconds: 1, drainMs: 500 }, 30_000);
        await lg.request({ cmd: 'step', set: `${s.proto}-${pairs}`, kind: 'candidate', rate: 2000, seconds: 1, drainMs: 500 }, 30_000);
      } catch (err) {
        s.error = `connect ${pairs} pairs: ${(err as Error).message}`;
        log(`  ${s.proto}: ${s.error}`);
      }
    }
    log(`${pairs} pairs connected to each server`);
    for (const kind of ['offer', 'candidate'] as Kind[]) await ladders(kind, pairs);
    for (const s of servers) await lg.request({ cmd: 'close', set: `${s.proto}-${pairs}` }, 30_000).catch(() => undefined);
  }

  await lg.request({ cmd: 'exit' }, 5000).catch(() => undefined);
  control.close();
  await stopChild(loadgen).catch(() => undefined);
  for (const s of servers) await stopChild(s.child).catch(() => undefined);

  const by = Object.fromEntries(servers.map((s) => [s.proto, s])) as Partial<Record<Proto, Server>>;
  const get = (p: Proto, path: string[]): unknown => path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], by[p]?.report);
  const ratios: Record<string, number | null> = {};
  for (const pairs of opts.pairs) {
    for (const kind of ['offer', 'candidate']) {
      const path = [`pairs_${pairs}`, kind, 'max_rate_p99_under_50ms'];
      ratios[`pairs_${pairs}.${kind}.max_rate`] = ratio(get('ferry', path), get('peerjs', path));
    }
  }
  ratios['idle_peers.bytes_per_peer'] = ratio(get('ferry', ['idle_peers', 'bytes_per_peer']), get('peerjs', ['idle_peers', 'bytes_per_peer']));

  const out = {
    bench: 'signaling',
    machine: { cpus: cpus().length, node: process.version, pinned },
    config: {
      pairs: opts.pairs,
      step_seconds: opts.seconds,
      drain_ms: opts.drainMs,
      p99_limit_ms: opts.p99LimitMs,
      rates: opts.rates,
      refine: opts.refine,
      idle_peers: opts.idlePeers,
      ferry_limits: FERRY_BENCH_LIMITS,
      loadgen: '1 process, ws clients (zero mask, no UTF-8 check); a_i sends to b_i; latency = receive time − send time in the same process',
    },
    ferry: by.ferry ? { ...by.ferry.report, ...(by.ferry.error ? { error: by.ferry.error } : {}) } : undefined,
    peerjs: by.peerjs ? { ...by.peerjs.report, ...(by.peerjs.error ? { error: by.peerjs.error } : {}) } : undefined,
    ratio: ratios,
    notes: [
      'Ferry: fastify + registerSignalingSocket with a trivial authenticate (bench/signaling-server.ts); every frame is JSON.parse\'d and validated with zod.',
      'PeerJS: peer@1 PeerServer({path: "/"}), alive_timeout raised (the bench sends no HEARTBEAT).',
      'ratio = ferry / peerjs (> 1: Ferry higher; better for rates, worse for bytes per peer).',
    ],
    elapsed_s: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  process.exitCode = servers.some((s) => s.error) ? 1 : 0;
}

main().catch((err: unknown) => {
  log(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
