// Ferry vs coturn under the same load in the same run; prints ONE JSON document on stdout
// (progress on stderr). Usage: npm run bench [-- --quick] [--threads N]
// [--only coturn,ferry,ferry-unmetered,ferry-native,ferry-native-unmetered,node-bare] (see bench/README.md).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCleanup, registerTempDir, sleep, stopChild, type Child } from './lib/children.js';
import { buildTools, runLoadgen, type LoadgenOutcome, type Tools } from './lib/loadgen.js';
import { groupRssKb, groupThreads, waitQuiet, CLK_TCK } from './lib/procfs.js';
import { arg, flag } from './lib/options.js';
import { freePort, reserveRelayRange, type PortRange as RelayRange } from '../test/helpers/ports.js';
import { stunPing } from '../test/helpers/stun-ping.js';
import { coturnVersion, startEcho, type Server } from './lib/servers.js';
import { defaultKinds, isTurn, KINDS, planeConfig, startSubject, threadsOf, type Kind } from './lib/relay-subjects.js';
import { ratioSections } from './lib/relay-ratios.js';
import { summarizeFixedRate } from './lib/relay-fixed-rate.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (msg: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---- options (argv, or BENCH_* environment variables) ----
function parseJson(text: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    log(`${what}: not valid JSON (${(err as Error).message})`);
    process.exit(64);
  }
}
const quick = flag('quick');
/** Relay threads of coturn and the native plane (the TypeScript path and node-bare have one). */
const threads = Number(arg('threads') ?? 1);
if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
  log(`--threads takes a whole number of relay threads, 1 to 64; got ${JSON.stringify(arg('threads'))}`);
  process.exit(64);
}
const only = arg('only');
const onlyKinds = only?.split(',');
if (onlyKinds !== undefined && !onlyKinds.every((k) => (KINDS as readonly string[]).includes(k))) {
  log(`--only takes a comma-separated list of ${KINDS.join(', ')}; got ${JSON.stringify(only)}`);
  process.exit(64);
}
/** The subjects (bench/lib/relay-subjects.ts): all of them, or with --threads > 1 coturn and ferry-native. */
const kinds: Kind[] = onlyKinds ? (onlyKinds as Kind[]) : defaultKinds(threads);
const opts = {
  clients: 10,
  rates: (arg('rates') ?? (quick ? '50000,150000' : '50000,100000,150000,200000,250000')).split(',').map(Number),
  /** send window of one ladder step; + 1 s drain + setup, so a step stays <= 5 s */
  seconds: Math.min(Number(arg('seconds') ?? (quick ? 1.5 : 3)), 3.5),
  /** bisection steps after the coarse ladder, to locate the saturation point more finely */
  refine: Number(arg('refine') ?? (quick ? 1 : 3)),
  payloads: [100, 1000],
  /** ChannelData vs Send indications: a rate both servers carry without loss, so CPU compares cleanly */
  indicationRate: Number(arg('ind-rate') ?? 25000),
  /** CPU at one rate every subject carries without loss, `cpuRepeats` runs per subject and payload */
  cpuRate: Number(arg('cpu-rate') ?? 20000),
  cpuRepeats: Number(arg('cpu-repeats') ?? (quick ? 1 : 3)),
  /** the coarse ladder stops rising for a subject after this many clean failures in a row (0: never) */
  stopAfter: flag('full-ladder') ? 0 : 2,
  allocClients: Number(arg('alloc-clients') ?? (quick ? 500 : 2000)),
  holdSeconds: 3,
  /** a step whose background load (others_cpu_pct) exceeds this is run once more */
  noiseLimit: Number(arg('noise-limit') ?? 25),
  readyMs: 10_000,
  toolsDir: arg('tools') ?? resolve(REPO_ROOT, '..', 'shared', 'tools'),
  ferryExtra: parseJson(arg('ferry-config') ?? '{}', '--ferry-config'),
};
// coturn has no per-user allocation quota by default; lift Ferry's (default 100) above the alloc test's N.
// Every bench client sends from 127.0.0.1, like users behind one huge NAT: the per-IP budgets of
// 401 answers (rate_limits, default 50/s) would leave most of the alloc test's challenges unanswered,
// and its new allocations per IP (default 120 a minute) would refuse most of its clients.
const quota = Math.max(opts.allocClients + 1000, 10_000);
opts.ferryExtra = {
  quotas: { allocations_per_user: quota, total_allocations: quota },
  rate_limits: { challenges_per_ip: 0, auth_failures_per_ip: 0, allocations_per_ip: 0, allocations_per_account: 0 },
  ...opts.ferryExtra,
};
if (opts.rates.some((r) => !(r > 0)) || !(opts.seconds > 0) || !(opts.allocClients > 0) || !(opts.cpuRate > 0) ||
  !(Number.isInteger(opts.cpuRepeats) && opts.cpuRepeats >= 1)) {
  log('bad --rates / --seconds / --alloc-clients / --cpu-rate / --cpu-repeats');
  process.exit(64);
}

// ---- measurements ----
interface Step {
  offered_pps: number;
  delivered_pps: number | null;
  loss_pct: number | null;
  server_cpu_pct: number | null;
  echo_cpu_pct: number | null;
  loadgen_cpu_pct: number | null;
  /** CPU of every other process on the machine during the window (background noise), % of one core */
  others_cpu_pct: number | null;
  /** set when the step ran twice because the first try had others_cpu_pct above the noise limit */
  rerun_after_noise?: number;
  machine_busy_pct: number | null;
  /** kernel receive drops (full socket buffer) during the window, by socket owner */
  udp_drops: Record<string, number> | null;
  clients_ok: number | null;
  error?: string;
}

function toStep(rate: number, o: LoadgenOutcome): Step {
  const s: Step = {
    offered_pps: rate,
    delivered_pps: o.result?.deliveredPps ?? null,
    loss_pct: o.result?.lossPct ?? null,
    server_cpu_pct: o.cpuPct.server ?? null,
    echo_cpu_pct: o.cpuPct.echo ?? null,
    loadgen_cpu_pct: o.cpuPct.loadgen ?? null,
    others_cpu_pct: o.cpuPct.others ?? null,
    machine_busy_pct: o.machineBusyPct ?? null,
    udp_drops: o.drops ?? null,
    clients_ok: o.setup?.ok ?? null,
  };
  if (!o.result || (o.setup && o.setup.ok < o.setup.of)) {
    s.error = `loadgen ${o.exit}; setup ${o.setup ? `${o.setup.ok}/${o.setup.of}` : 'missing'}` +
      (o.errors.count ? `; ${o.errors.count} error lines, first: ${o.errors.first.join(' | ')}` : '');
  }
  return s;
}

interface Ctx {
  tools: Tools;
  echoPort: number;
  echo: Child;
}

/** One server under test: its process, relay range and the report being filled in. */
interface Subject {
  kind: Kind;
  srv?: Server;
  relay: RelayRange;
  report: Record<string, unknown>;
}

async function dataRun(ctx: Ctx, sub: Subject, rate: number, payload: number, indications = false): Promise<Step> {
  const first = await dataRunOnce(ctx, sub, rate, payload, indications);
  if ((first.others_cpu_pct ?? 0) <= opts.noiseLimit || first.error) return first;
  log(`  background load ${first.others_cpu_pct}% of a core > ${opts.noiseLimit}%: waiting for quiet, then again`);
  await waitQuiet([sub.srv!.child.pid, ctx.echo.pid], opts.noiseLimit, 10_000);
  return { ...(await dataRunOnce(ctx, sub, rate, payload, indications)), rerun_after_noise: first.others_cpu_pct ?? 0 };
}

async function dataRunOnce(ctx: Ctx, sub: Subject, rate: number, payload: number, indications: boolean): Promise<Step> {
  const srv = sub.srv!;
  if (srv.child.hasExited()) throw new Error(`${srv.name} exited (${srv.child.exitStatus()}):\n${srv.child.tail()}`);
  const o = await runLoadgen(ctx.tools.loadgen, {
    serverPort: srv.port, peerPort: ctx.echoPort, clients: opts.clients, rate, seconds: opts.seconds, payload,
    indications, raw: sub.kind === 'node-bare', sample: { server: srv.child.pid, echo: ctx.echo.pid }, timeoutMs: opts.seconds * 1000 + 10_000,
    classifyPort: (p) => p === srv.port ? 'server_listen' : p >= sub.relay.lo && p <= sub.relay.hi ? 'server_relay'
      : p === ctx.echoPort ? 'echo_peer' : 'clients_or_other',
  });
  const step = toStep(rate, o);
  if (srv.child.hasExited()) step.error = `${srv.name} exited during the step (${srv.child.exitStatus()})`;
  log(`${srv.name} ${indications ? 'send-ind' : 'chandata'} ${payload}B @${rate}: delivered ${step.delivered_pps} pps, ` +
    `loss ${step.loss_pct}%, cpu ${step.server_cpu_pct}% (loadgen ${step.loadgen_cpu_pct}%, echo ${step.echo_cpu_pct}%, ` +
    `others ${step.others_cpu_pct}%, machine ${step.machine_busy_pct}% busy)${step.error ? ` [${step.error}]` : ''}`);
  await sleep(300); // let socket queues drain between steps
  return step;
}

/** Runs `fn` for each server still standing, in turn; a server that fails is reported and dropped. */
async function eachLive(subs: Subject[], fn: (s: Subject) => Promise<void>): Promise<void> {
  for (const s of subs) {
    if (!s.srv || s.report.error) continue;
    try {
      await fn(s);
    } catch (err) {
      s.report.error = err instanceof Error ? err.message : String(err);
      log(`${s.kind}: ${s.report.error}`);
    }
  }
}

const passes = (s: Step): boolean => s.loss_pct !== null && s.loss_pct < 1 && !s.error;

const noisy = (s: Step): boolean => (s.others_cpu_pct ?? 0) > opts.noiseLimit;

/**
 * Next bisection rate between the highest passing and the lowest failing rate above it, or null.
 * A failure under background noise counts only when no clean failure bounds the search (so a noisy
 * midpoint gets tried again).
 */
function nextRate(steps: Step[]): number | null {
  const lo = Math.max(0, ...steps.filter(passes).map((s) => s.offered_pps));
  const above = steps.filter((s) => !passes(s) && s.offered_pps > lo);
  const clean = above.filter((s) => !noisy(s));
  const hi = Math.min(...(clean.length ? clean : above).map((s) => s.offered_pps));
  if (!Number.isFinite(hi)) return null;
  const mid = Math.round((lo + hi) / 2 / 1000) * 1000;
  return mid > lo && mid < hi ? mid : null;
}

function summarize(steps: Step[]) {
  const best = steps.filter(passes).sort((a, b) => (b.delivered_pps ?? 0) - (a.delivered_pps ?? 0))[0];
  return {
    /** highest delivered rate with loss < 1% (null: every step lost >= 1%) */
    saturation: best
      ? { delivered_pps: best.delivered_pps, loss_pct: best.loss_pct, server_cpu_pct: best.server_cpu_pct, offered_pps: best.offered_pps }
      : null,
    peak_delivered_pps: steps.length ? Math.max(0, ...steps.map((s) => s.delivered_pps ?? 0)) : null,
    /** steps measured while other processes used > noise limit of a core even after a rerun */
    noisy_steps: steps.filter(noisy).length,
    ladder: [...steps].sort((a, b) => a.offered_pps - b.offered_pps),
  };
}

/**
 * true when the last `opts.stopAfter` steps of the coarse ladder all failed without background
 * noise: higher rates would only fail too (and cost a step each per subject and payload).
 */
function stoppedRising(steps: Step[]): boolean {
  const n = opts.stopAfter;
  return n > 0 && steps.length >= n && steps.slice(-n).every((s) => !passes(s) && !noisy(s));
}

/**
 * Coarse ladder of offered rates, then `refine` bisection steps between the last pass and the first
 * failure. Servers alternate step by step, so background noise on the machine hits both alike.
 */
async function ladders(ctx: Ctx, subs: Subject[], payload: number): Promise<void> {
  const steps = new Map<Subject, Step[]>(subs.map((s) => [s, []]));
  for (const rate of opts.rates) {
    await eachLive(subs, async (s) => {
      if (!stoppedRising(steps.get(s)!)) steps.get(s)!.push(await dataRun(ctx, s, rate, payload));
    });
  }
  for (let i = 0; i < opts.refine; i++) {
    await eachLive(subs, async (s) => {
      const rate = nextRate(steps.get(s)!);
      if (rate !== null) steps.get(s)!.push(await dataRun(ctx, s, rate, payload));
    });
  }
  for (const s of subs) if (s.srv) s.report[`payload_${payload}`] = summarize(steps.get(s)!);
}

async function allocation(ctx: Ctx, srv: Server) {
  // warm-up (code paths, lazy init), then RSS at rest, then N allocations held for a few seconds
  await waitQuiet([srv.child.pid, ctx.echo.pid], opts.noiseLimit, 10_000);
  await runLoadgen(ctx.tools.loadgen, {
    serverPort: srv.port, peerPort: ctx.echoPort, clients: 10, rate: 10_000, seconds: 0.5, payload: 100, timeoutMs: 15_000,
  });
  await sleep(1000);
  const pgid = srv.child.pid;
  const rssBefore = groupRssKb(pgid);
  const samples: number[] = [];
  const o = await runLoadgen(ctx.tools.loadgen, {
    serverPort: srv.port, peerPort: ctx.echoPort, clients: opts.allocClients, rate: 0, seconds: 0, payload: 100,
    holdSeconds: opts.holdSeconds, timeoutMs: 90_000,
    onHolding: async () => {
      await sleep(500);
      for (let t = 500; t < opts.holdSeconds * 1000 - 250; t += 250) {
        samples.push(groupRssKb(pgid));
        await sleep(250);
      }
    },
  });
  const held = samples.at(-1) ?? null;
  const ok = o.setup?.ok ?? 0;
  const res = {
    clients: opts.allocClients,
    ok,
    alloc_seq_per_s: o.setup?.allocSeqPerS ?? null,
    rss_before_kb: rssBefore,
    rss_holding_kb: held,
    rss_holding_peak_kb: samples.length ? Math.max(...samples) : null,
    bytes_per_alloc: held !== null && ok > 0 ? Math.round(((held - rssBefore) * 1024) / ok) : null,
    server_threads: groupThreads(pgid),
    ...(ok < opts.allocClients ? { error: `only ${ok}/${opts.allocClients} set up (${o.exit}); ${o.errors.first.join(' | ')}` } : {}),
  };
  log(`${srv.name} allocations: ${ok}/${opts.allocClients} at ${res.alloc_seq_per_s}/s, ${res.bytes_per_alloc} B each ` +
    `(RSS ${rssBefore} -> ${held} kB)`);
  return res;
}

/**
 * The CPU comparison at one rate every subject carries: `cpuRepeats` runs per subject and payload,
 * subjects alternating run by run; medians (bench/lib/relay-fixed-rate.ts).
 */
async function fixedRate(ctx: Ctx, subs: Subject[]): Promise<void> {
  for (const p of opts.payloads) {
    const runs = new Map<Subject, Step[]>(subs.map((s) => [s, []]));
    for (let i = 0; i < opts.cpuRepeats; i++) await eachLive(subs, async (s) => void runs.get(s)!.push(await dataRun(ctx, s, opts.cpuRate, p)));
    for (const s of subs) {
      if (!s.srv) continue;
      const fr = (s.report.fixed_rate ??= { offered_pps: opts.cpuRate }) as Record<string, unknown>;
      fr[`payload_${p}`] = summarizeFixedRate(runs.get(s)!);
    }
  }
}

async function start(sub: Subject, tmp: string, echoPort: number): Promise<void> {
  const port = await freePort({ pair: true });
  log(`starting ${sub.kind} on 127.0.0.1:${port}, relay ports ${sub.relay.lo}-${sub.relay.hi}`);
  sub.srv = await startSubject(sub.kind, {
    repoRoot: REPO_ROOT, port, relay: sub.relay, tmp, readyMs: opts.readyMs, ferryExtra: opts.ferryExtra, threads, echoPort,
  });
  sub.report.command = sub.srv.command;
  sub.report.relay_threads = threadsOf(sub.kind, threads);
  if (sub.kind === 'coturn') sub.report.version = coturnVersion();
  else if (isTurn(sub.kind)) sub.report.ferry_config = planeConfig(sub.kind, threads);
}

const turnOnly = (subs: Subject[]): Subject[] => subs.filter((s) => isTurn(s.kind));

/** The servers run side by side (an idle one costs nothing); every measurement alternates between them. */
async function benchAll(ctx: Ctx, subs: Subject[], tmp: string): Promise<void> {
  for (const s of subs) {
    try {
      await start(s, tmp, ctx.echoPort);
    } catch (err) {
      s.report.error = err instanceof Error ? err.message : String(err);
      log(`${s.kind}: ${s.report.error}`);
    }
  }
  try {
    await eachLive(turnOnly(subs), async (s) => void (s.report.allocation = await allocation(ctx, s.srv!)));
    for (const p of opts.payloads) await ladders(ctx, subs, p);
    await fixedRate(ctx, subs);
    const r = opts.indicationRate;
    const sv = new Map<Subject, Record<string, unknown>>();
    await eachLive(turnOnly(subs), async (s) => void sv.set(s, { payload: 100, offered_pps: r, channel_data: await dataRun(ctx, s, r, 100) }));
    await eachLive(turnOnly(subs), async (s) => void (sv.get(s)!.send_indication = await dataRun(ctx, s, r, 100, true)));
    for (const [s, v] of sv) s.report.send_vs_channel = v;
    await eachLive(turnOnly(subs), async (s) => {
      if (!(await stunPing(s.srv!.port, '127.0.0.1', 1000))) throw new Error(`${s.kind} stopped answering STUN after the run`);
    });
  } finally {
    for (const s of subs) if (s.srv) await s.srv.stop();
  }
}

// ---- main ----
async function main(): Promise<number> {
  const steps = (opts.rates.length + opts.refine + opts.cpuRepeats) * opts.payloads.length + 2;
  // worst case per step: a timed-out run, 10 s waiting for quiet, a timed-out rerun
  installCleanup(kinds.length * (steps * (2 * opts.seconds + 32) + 200) * 1000, log);
  const nofile = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 }).trim());
  if (Number.isFinite(nofile) && nofile < opts.allocClients + 100) {
    throw new Error(`ulimit -n is ${nofile}: the allocation test needs one socket per client; raise it or lower --alloc-clients`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  if (process.argv.includes('--keep-tmp')) log(`keeping ${tmp} (logs, configs, tools)`);
  else registerTempDir(tmp);
  log(`building loadgen and echo peer from ${opts.toolsDir}`);
  const tools = buildTools(opts.toolsDir, tmp);
  const echoPort = await freePort();
  const echo = startEcho(tools.fwd, echoPort);
  await sleep(200);
  if (echo.hasExited()) throw new Error(`echo peer exited: ${echo.tail()}`);
  const ctx: Ctx = { tools, echoPort, echo };
  const need = Math.max(opts.allocClients + 500, 1000);
  const doc: Record<string, unknown> = {
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? '', node: process.version, kernel: release(), clk_tck: CLK_TCK },
    settings: {
      clients: opts.clients, rates: opts.rates, step_seconds: opts.seconds, payloads: opts.payloads,
      indication_rate: opts.indicationRate, cpu_rate: opts.cpuRate, cpu_repeats: opts.cpuRepeats,
      ladder_stops_after_failures: opts.stopAfter, alloc_clients: opts.allocClients, hold_seconds: opts.holdSeconds, quick,
      relay_threads: threads,
      note: 'one machine: the load generator (one thread) and the echo peer share its CPUs with the server under test',
    },
  };
  try {
    const subs: Subject[] = [];
    for (const kind of kinds) subs.push({ kind, relay: await reserveRelayRange(need), report: {} });
    await benchAll(ctx, subs, tmp);
    for (const s of subs) doc[s.kind] = s.report;
  } finally {
    await stopChild(echo, 1000);
  }
  const failed = kinds.filter((k) => (doc[k] as Record<string, unknown>).error);
  Object.assign(doc, ratioSections(doc, { lowRate: opts.rates[0], indicationRate: opts.indicationRate, cpuRate: opts.cpuRate, payloads: opts.payloads }));
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
