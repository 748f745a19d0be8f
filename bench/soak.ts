// Soak bench: one Ferry process holds N UDP allocations (default 10,000) for M minutes (default 10)
// with refreshes and trickling ChannelData through an echo peer, then closes them all; Ferry's RSS
// is sampled throughout. Prints ONE JSON document on stdout (progress on stderr).
// Usage: npm run -s bench:soak -- [--allocations N] [--minutes M] ... (see bench/README.md).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { installCleanup, registerTempDir } from './lib/children.js';
import { benchLog, flag, jsonArg, positiveArg } from './lib/options.js';
import { cpuMark, cpuPercent, groupRssKb, udpDropsByPort, type CpuMark } from './lib/procfs.js';
import { startFerry } from './lib/servers.js';
import { InspectorSession, type HeapAfterGc } from './lib/inspector.js';
import { echoPeer, SoakClients } from './lib/soak-clients.js';
import { scanOutput } from './lib/fuzz-output.js';
import { liftPerIpLimits } from './lib/per-ip-limits.js';
import { freePort, reserveRelayRange } from '../test/helpers/ports.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = benchLog('soak');
const num = (name: string, fallback: number): number => positiveArg(name, fallback, false, log);
const ferryConfig = (): Record<string, unknown> => jsonArg('ferry-config', log);

const opts = {
  allocations: Math.floor(num('allocations', 10_000)),
  minutes: num('minutes', 10),
  /** Requested LIFETIME; Ferry raises anything below its default (600 s) to the default. */
  lifetimeS: num('lifetime', 600),
  refreshS: num('refresh', 60),
  /** Seconds between two ChannelData of one allocation: N / interval packets/s in all. */
  intervalS: num('interval', 5),
  payload: Math.floor(num('payload', 100)),
  sampleS: num('sample', 10),
  afterS: num('after', 30),
  concurrency: Math.floor(num('concurrency', 200)),
};
const PEER_HOST = '127.77.0.1';

function fdLimit(): number {
  try {
    return Number(execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return NaN;
  }
}

interface Sample {
  t_s: number;
  phase: 'rest' | 'setup' | 'hold' | 'closed';
  rss_kb: number;
  live: number;
  sent: number;
  echoed: number;
  server_cpu_pct: number | null;
}

async function main(): Promise<number> {
  const setupBoundS = opts.allocations / 20 + 60; // at least 20 allocations/s, else the run stops
  installCleanup((setupBoundS + opts.minutes * 60 + opts.afterS + 300) * 1000, log);
  const limit = fdLimit();
  if (limit < opts.allocations + 500) {
    log(`ulimit -n is ${limit}: too low for ${opts.allocations} client sockets; npm run bench:soak raises it (see bench/README.md)`);
    return 64;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-soak-'));
  if (!flag('keep-tmp')) registerTempDir(tmp);
  const port = await freePort();
  const relay = await reserveRelayRange(opts.allocations + 200);
  const quota = opts.allocations + 100;
  const extra = { peers: { allow: [`${PEER_HOST}/32`] }, quotas: { allocations_per_user: quota, total_allocations: quota }, ...liftPerIpLimits(), ...ferryConfig() };
  // The inspector lets the bench read Ferry's heap after a full collection (see bench/lib/inspector.ts).
  const inspectPort = await freePort();
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:${inspectPort}`.trim() };
  const ferry = await startFerry(REPO_ROOT, port, relay, tmp, 10_000, extra, { env });
  const pid = ferry.child.pid;
  const inspector = await InspectorSession.connect(inspectPort);
  const gc = async (at: string): Promise<HeapAfterGc & { at: string }> => {
    const h = await inspector.heapAfterGc();
    log(`${at}: after a full GC heap used ${Math.round(h.heap_used_kb / 1024)} MB, rss ${Math.round(h.rss_kb / 1024)} MB`);
    return { at, ...h };
  };
  const peer = await echoPeer(PEER_HOST);
  const clients = new SoakClients({ host: '127.0.0.1', port, username: 'u', password: 'p' }, peer.address, opts);
  const dropsBefore = udpDropsByPort();
  const t0 = performance.now();
  const curve: Sample[] = [];
  let phase: Sample['phase'] = 'rest';
  let mark: CpuMark = cpuMark(pid);
  const sample = (): Sample => {
    const m = cpuMark(pid);
    const s: Sample = {
      t_s: Math.round((performance.now() - t0) / 1000),
      phase,
      rss_kb: groupRssKb(pid),
      live: clients.live,
      sent: clients.stats.sent,
      echoed: clients.stats.received,
      server_cpu_pct: cpuPercent(mark, m),
    };
    mark = m;
    curve.push(s);
    return s;
  };
  const sampler = setInterval(() => {
    const s = sample();
    log(`${s.phase} t=${s.t_s}s rss=${Math.round(s.rss_kb / 1024)}MB live=${s.live} sent=${s.sent} echoed=${s.echoed} cpu=${s.server_cpu_pct}%`);
  }, opts.sampleS * 1000);
  try {
    await sleep(5000); // past the start-up work
    const gcAtRest = await gc('at rest');
    const atRest = sample();
    phase = 'setup';
    log(`ferry pid ${pid} on 127.0.0.1:${port}; opening ${opts.allocations} allocations (relay ${relay.lo}-${relay.hi}, ulimit -n ${limit})`);
    const setupStart = performance.now();
    await clients.open(opts.allocations, setupStart + setupBoundS * 1000, (n) => log(`${n} allocations`));
    const setupS = (performance.now() - setupStart) / 1000;
    const afterSetup = sample();
    phase = 'hold';
    clients.start();
    const holdStart = performance.now();
    const holdEnd = holdStart + opts.minutes * 60_000;
    const warmAt = holdStart + Math.max(opts.refreshS, (opts.minutes * 60) / 4) * 1000;
    let gcWarm: (HeapAfterGc & { at: string }) | null = null;
    while (performance.now() < holdEnd && !ferry.child.hasExited()) {
      if (gcWarm === null && performance.now() >= warmAt) gcWarm = await gc('after warm-up');
      await sleep(Math.min(1000, holdEnd - performance.now()));
    }
    const gcEndOfHold = await gc('end of hold');
    const holdSamples = curve.filter((s) => s.phase === 'hold');
    const endOfHold = sample();
    const liveAtEnd = clients.live;
    const closing = await clients.close(performance.now() + 120_000);
    phase = 'closed';
    const closedAt = performance.now();
    while (performance.now() - closedAt < opts.afterS * 1000) await sleep(1000);
    const gcAfterClose = await gc('after close');
    const afterClose = sample();
    clearInterval(sampler);
    // Warm-up: the first quarter of the hold (at least one refresh period); flat = what grew after it.
    const warm = holdSamples.find((s) => s.t_s - afterSetup.t_s >= Math.max(opts.refreshS, (opts.minutes * 60) / 4)) ?? endOfHold;
    const stats = clients.stats;
    const dropsAfter = udpDropsByPort();
    const drops = (p: number): number => (dropsAfter.get(p) ?? 0) - (dropsBefore.get(p) ?? 0);
    const perAlloc = afterSetup.live > 0 ? Math.round(((afterSetup.rss_kb - atRest.rss_kb) * 1024) / afterSetup.live) : null;
    const peak = Math.max(afterSetup.rss_kb, ...holdSamples.map((s) => s.rss_kb), endOfHold.rss_kb);
    const out = {
      bench: 'soak',
      options: opts,
      server: { command: ferry.command, pid, exit: ferry.child.exitStatus() || 'running', ulimit_n: limit, output: scanOutput(readFileSync(join(tmp, 'ferry.log'), 'utf8')) },
      setup: { seconds: Math.round(setupS), per_s: Math.round(opts.allocations / setupS), failures: stats.setup_failures, granted_lifetime_s: stats.granted_lifetime_s },
      allocations_live: { after_setup: afterSetup.live, end_of_hold: liveAtEnd, lost: stats.lost },
      refresh: { ok: stats.refreshes, failures: stats.refresh_failures },
      close: closing,
      packets: { sent: stats.sent, echoed: stats.received, peer_echoed: peer.echoed(), kernel_drops: { ferry_listen_port: drops(port), echo_peer: drops(peer.address.port) }, loss_pct: stats.sent > 0 ? Math.round((1 - stats.received / stats.sent) * 10_000) / 100 : null },
      rss_kb: {
        at_rest: atRest.rss_kb,
        after_setup: afterSetup.rss_kb,
        after_warmup: warm.rss_kb,
        after_warmup_t_s: warm.t_s,
        end_of_hold: endOfHold.rss_kb,
        growth_after_warmup: endOfHold.rss_kb - warm.rss_kb,
        after_close: afterClose.rss_kb,
        peak_while_held: peak,
        /** Of what the allocations added at the peak (peak − at rest), the share gone after the close. */
        returned_pct: peak > atRest.rss_kb ? Math.min(100, Math.round(((peak - afterClose.rss_kb) / (peak - atRest.rss_kb)) * 100)) : null,
      },
      /** V8 heap in use (and RSS) right after a full collection forced through the inspector. */
      after_full_gc: {
        at_rest: gcAtRest,
        after_warmup: gcWarm,
        end_of_hold: gcEndOfHold,
        after_close: gcAfterClose,
        heap_growth_after_warmup_kb: gcWarm === null ? null : gcEndOfHold.heap_used_kb - gcWarm.heap_used_kb,
        heap_returned_after_close_kb: gcEndOfHold.heap_used_kb - gcAfterClose.heap_used_kb,
      },
      bytes_per_allocation: perAlloc,
      curve,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return ferry.child.hasExited() ? 1 : 0;
  } finally {
    clearInterval(sampler);
    inspector.close();
    clients.destroy();
    peer.close();
    await ferry.stop();
    relay.release();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  log(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
