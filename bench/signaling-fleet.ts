// Cross-node signaling: messages per second and latency, one node vs two nodes on one Redis; prints
// ONE JSON document on stdout (progress on stderr). Build first (`npx tsc -p .`), then:
//   node dist/bench/signaling-fleet.js [--pairs 20] [--window 32] [--seconds 3] [--latency-count 400] [--rounds 3]
//
// Processes, each in its own process group, killed on exit, error, SIGINT/SIGTERM and after a time
// bound (bench/lib/children.ts): a redis-server (nothing persisted), node "single" (no Redis: one
// node as with SQLite), nodes "a" and "b" (each with its RedisSignalRouter, as in cluster mode).
// This process is the load generator (WebSocket clients), the same for every subject.
// Subjects: single (sender and receiver on the single node), fleet_local (both on node a: the
// fleet's code path for a local peer), fleet_cross (sender on a, receiver on b: through Redis).
//  - latency: one pair, `latency-count` candidates (≈ 440 bytes) sent 4 ms apart after a warm-up;
//    receive − send time in this process; p50/p99/max.
//  - throughput: `pairs` sender→receiver pairs, each keeping at most `window` candidates in flight
//    (sent, not yet received), for `seconds`; delivered/s counted in that window, then ≤ 3 s to
//    drain. CPU of each server process and of redis-server over the window.
// The subjects alternate, `rounds` times (background load on a shared machine hits all of them
// alike); the summary takes each figure's median over the rounds, every round is in `results`.
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { installCleanup, sleep, spawnChild, stopChild, type Child } from './lib/children.js';
import { arg } from './lib/options.js';
import { cpuMark, cpuPercent, round1 } from './lib/procfs.js';
import { freePort } from '../test/helpers/ports.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(REPO_ROOT, 'dist', 'bench');
const log = (msg: string): void => void process.stderr.write(`[fleet-bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const num = (name: string, dflt: number, max: number): number => {
  const v = Number(arg(name) ?? dflt);
  if (!Number.isInteger(v) || v <= 0 || v > max) {
    log(`--${name} must be an integer in 1..${max}`);
    process.exit(64);
  }
  return v;
};
const opts = {
  pairs: num('pairs', 20, 500),
  window: num('window', 32, 1000),
  seconds: num('seconds', 3, 10),
  latencyCount: num('latency-count', 400, 5000),
  rounds: num('rounds', 3, 9),
};
const LIMITS = { ratePerSecond: 1e9, rateBurst: 1e9, maxPeersPerAccount: 1_000_000 };
installCleanup(3 * 60_000, log);

// ---- processes ----
async function startRedisServer(): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = spawnChild('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const url = `redis://127.0.0.1:${port}/0`;
  for (let i = 0; i < 100; i++) {
    const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return { child, url };
    } catch {
      /* not up yet */
    } finally {
      probe.disconnect();
    }
    await sleep(50);
  }
  throw new Error(`redis-server did not start: ${child.tail()}`);
}

interface NodeProc {
  readonly name: string;
  readonly child: Child;
  readonly base: string;
}

async function startNode(name: string, redisUrl: string): Promise<NodeProc> {
  const port = await freePort();
  const child = spawnChild(name, process.execPath, [join(DIST, 'signaling-fleet-server.js'), String(port), name, redisUrl, JSON.stringify(LIMITS)], { cwd: REPO_ROOT });
  let out = '';
  child.proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const end = Date.now() + 10_000;
  while (!out.includes('READY')) {
    if (child.hasExited() || Date.now() > end) throw new Error(`${name} did not start (${child.exitStatus()}): ${child.tail()}`);
    await sleep(50);
  }
  return { name, child, base: `ws://127.0.0.1:${port}` };
}

// ---- clients ----
function open(node: NodeProc, peerId: string): Promise<WebSocket> {
  const ws = new WebSocket(`${node.base}/v1/signal?peer_id=${peerId}`, { headers: { authorization: 'Bearer bench' }, perMessageDeflate: false });
  return new Promise((resolveOpen, reject) => {
    const timer = setTimeout(() => reject(new Error(`${peerId}: no welcome within 5 s`)), 5000);
    ws.once('error', reject);
    ws.once('message', () => {
      clearTimeout(timer);
      resolveOpen(ws);
    });
  });
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  for (const ws of sockets) ws.terminate();
  await sleep(200);
}

const CANDIDATE = 'candidate:842163049 1 udp 1677729535 203.0.113.7 61023 typ srflx raddr 10.0.0.2 rport 61023 generation 0 ufrag EsAw network-id 1 network-cost 10 '.padEnd(380, 'x');
const frameTo = (to: string, mid: string): string =>
  JSON.stringify({ type: 'candidate', to, payload: { candidate: CANDIDATE, sdpMid: mid, sdpMLineIndex: 0, usernameFragment: 'EsAw' } });

const r2 = (x: number): number => Math.round(x * 100) / 100;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latency(tag: string, from: NodeProc, to: NodeProc): Promise<Record<string, unknown>> {
  const s = await open(from, `lat-s-${tag}`);
  const r = await open(to, `lat-r-${tag}`);
  const sentAt = new Map<number, number>();
  const samples: number[] = [];
  let errors = 0;
  s.on('message', () => (errors += 1));
  r.on('message', (data: Buffer) => {
    const f = JSON.parse(data.toString()) as { payload?: { sdpMid?: string } };
    const seq = Number(f.payload?.sdpMid);
    const t0 = sentAt.get(seq);
    if (t0 !== undefined && seq >= 0) samples.push(performance.now() - t0);
  });
  const warm = 100;
  for (let i = -warm; i < opts.latencyCount; i++) {
    sentAt.set(i, performance.now());
    s.send(frameTo(`lat-r-${tag}`, String(i)));
    await sleep(4);
  }
  const end = Date.now() + 3000;
  while (samples.length < opts.latencyCount && Date.now() < end) await sleep(20);
  await closeAll([s, r]);
  const sorted = samples.sort((x, y) => x - y);
  return {
    sent: opts.latencyCount,
    received: samples.length,
    errors,
    p50_ms: sorted.length ? r2(percentile(sorted, 50)) : null,
    p99_ms: sorted.length ? r2(percentile(sorted, 99)) : null,
    max_ms: sorted.length ? r2(sorted[sorted.length - 1]!) : null,
  };
}

async function throughput(tag: string, from: NodeProc, to: NodeProc, watch: Child[]): Promise<Record<string, unknown>> {
  const senders: WebSocket[] = [];
  const receivers: WebSocket[] = [];
  for (let i = 0; i < opts.pairs; i++) {
    receivers.push(await open(to, `tp-r-${tag}-${i}`));
    senders.push(await open(from, `tp-s-${tag}-${i}`));
  }
  const frames = receivers.map((_, i) => frameTo(`tp-r-${tag}-${i}`, '0'));
  const sent = new Array<number>(opts.pairs).fill(0);
  const received = new Array<number>(opts.pairs).fill(0);
  let running = true;
  let counted = 0;
  let errors = 0;
  const pump = (i: number): void => {
    const ws = senders[i]!;
    while (running && sent[i]! - received[i]! < opts.window) {
      ws.send(frames[i]!);
      sent[i]! += 1;
    }
  };
  senders.forEach((ws) => ws.on('message', () => (errors += 1)));
  receivers.forEach((ws, i) =>
    ws.on('message', () => {
      received[i]! += 1;
      if (running) {
        counted += 1;
        pump(i);
      }
    }),
  );
  const marks = watch.map((c) => cpuMark(c.pid));
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < opts.pairs; i++) pump(i);
  await sleep(opts.seconds * 1000);
  running = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = Object.fromEntries(watch.map((c, k) => [`${c.name}_cpu_pct`, cpuPercent(marks[k]!, cpuMark(c.pid))]));
  const own = process.cpuUsage(own0);
  // The load generator (this process) shares the machine: near 100 % means it, not the servers, was the limit.
  cpu.loadgen_cpu_pct = round1(((own.user + own.system) / 1000 / (elapsed * 1000)) * 100);
  const end = Date.now() + 3000;
  const total = () => received.reduce((x, y) => x + y, 0);
  const sentTotal = sent.reduce((x, y) => x + y, 0);
  while (total() < sentTotal && Date.now() < end) await sleep(20);
  await closeAll([...senders, ...receivers]);
  return {
    pairs: opts.pairs,
    window: opts.window,
    seconds: round1(elapsed),
    delivered_per_s: Math.round(counted / elapsed),
    sent: sentTotal,
    lost: sentTotal - total(),
    errors,
    ...cpu,
  };
}

async function main(): Promise<void> {
  const children: Child[] = [];
  try {
    const redis = await startRedisServer();
    children.push(redis.child);
    const single = await startNode('single', '-');
    const a = await startNode('a', redis.url);
    const b = await startNode('b', redis.url);
    children.push(single.child, a.child, b.child);
    log(`nodes up: single ${single.base}, a ${a.base}, b ${b.base}; redis ${redis.url}`);
    const subjects = {
      single: [single, single, [single.child]],
      fleet_local: [a, a, [a.child, redis.child]],
      fleet_cross: [a, b, [a.child, b.child, redis.child]],
    } as const;
    const report: Record<string, unknown> = {
      bench: 'signaling-fleet',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg_1m: round1(loadavg()[0]!) },
      options: opts,
    };
    const rounds: Record<string, { latency: Record<string, unknown>; throughput: Record<string, unknown> }[]> = {};
    for (let round = 1; round <= opts.rounds; round++) {
      for (const [name, [from, to, watch]] of Object.entries(subjects)) {
        const tag = `${name}-${round}`;
        const lat = await latency(tag, from, to);
        const tp = await throughput(tag, from, to, [...watch]);
        log(`round ${round} ${name}: latency p50 ${String(lat.p50_ms)} ms p99 ${String(lat.p99_ms)} ms; ${String(tp.delivered_per_s)} messages/s (lost ${String(tp.lost)}, errors ${String(tp.errors)})`);
        (rounds[name] ??= []).push({ latency: lat, throughput: tp });
      }
    }
    const median = (name: string, pick: (r: { latency: Record<string, unknown>; throughput: Record<string, unknown> }) => unknown): number => {
      const xs = rounds[name]!.map(pick).filter((x): x is number => typeof x === 'number').sort((x, y) => x - y);
      return xs.length ? xs[Math.floor((xs.length - 1) / 2)]! : Number.NaN;
    };
    const fig = (name: string) => ({
      messages_per_s: median(name, (r) => r.throughput.delivered_per_s),
      latency_p50_ms: median(name, (r) => r.latency.p50_ms),
      latency_p99_ms: median(name, (r) => r.latency.p99_ms),
    });
    const one = fig('single');
    const local = fig('fleet_local');
    const cross = fig('fleet_cross');
    report.results = rounds;
    report.summary = {
      note: 'medians over the rounds',
      single_node: one,
      fleet_same_node: local,
      across_two_nodes: cross,
      cross_vs_single_messages_ratio: r2(cross.messages_per_s / one.messages_per_s),
      added_latency_p50_ms: r2(cross.latency_p50_ms - one.latency_p50_ms),
      added_latency_p99_ms: r2(cross.latency_p99_ms - one.latency_p99_ms),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    for (const c of children.reverse()) await stopChild(c, 3000);
  }
}

await main();
