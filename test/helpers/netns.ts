// Network namespaces for end-to-end tests beyond loopback. Every test host is a namespace this
// process creates (names carry its pid), with addresses from 198.18.0.0/15 (RFC 2544 benchmarking)
// and no route to anything else; the host's own network is never touched.
//
// The "nat" topology:
//
//   ns inet: bridge br0 (198.18.0.0/24, the "internet"; no address of its own)
//     ├─ pub   198.18.0.10                       Ferry (TURN + signaling)
//     ├─ nat1  WAN 198.18.0.11 │ LAN 198.18.1.1/24 ── lan1 198.18.1.2 (default via 198.18.1.1)
//     └─ nat2  WAN 198.18.0.12 │ LAN 198.18.2.1/24 ── lan2 198.18.2.2 (default via 198.18.2.1)
//
// Each NAT router is a symmetric NAT: MASQUERADE --random-fully picks a new random public port for
// every new (source, destination) flow, and only replies to an existing flow pass WAN → LAN
// (conntrack ESTABLISHED,RELATED; FORWARD policy DROP). pub and the other NAT have no route to the
// LANs, so the peers can only reach each other through the NATs' public addresses.
//
// The "cone-nat" topology is the same without --random-fully: Linux then keeps the source port, so
// one local socket keeps one public port whatever the destination (a port-restricted cone NAT, which
// ICE hole punching gets through). It is the control showing the symmetric mapping is what blocks.
//
// The "flat" topology (direct-path control): pub 198.18.0.10 and two peers host1 198.18.0.21 and
// host2 198.18.0.22, all on the bridge.
//
// teardown() kills whatever still runs inside the namespaces and deletes them (veths go with them).
// It is idempotent and also runs on process exit and on SIGINT/SIGTERM/SIGHUP.
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { exited, killNow, terminate, track } from './reaper.js';

export const FERRY_IP = '198.18.0.10';
export const NAT_WAN_IPS = ['198.18.0.11', '198.18.0.12'] as const;
export const NAT_LAN_GATEWAYS = ['198.18.1.1', '198.18.2.1'] as const;
export const NAT_PEER_IPS = ['198.18.1.2', '198.18.2.2'] as const;
export const FLAT_PEER_IPS = ['198.18.0.21', '198.18.0.22'] as const;
/** Everything the tests address lies in here. */
export const TEST_NET = '198.18.0.0/15';

/**
 * 'nat': peers behind symmetric NATs; 'cone-nat': the same routers with port-preserving MASQUERADE
 * (a port-restricted cone NAT, which hole punching gets through); 'flat': no NAT.
 */
export type TopologyKind = 'nat' | 'cone-nat' | 'flat';

export interface Topology {
  readonly kind: TopologyKind;
  /** Namespace of Ferry's host (198.18.0.10). */
  readonly pub: string;
  /** Namespaces of the two peer hosts (behind nat1/nat2, or on the bridge for 'flat'). */
  readonly peers: readonly [string, string];
  /** Addresses of the two peer hosts. */
  readonly peerIps: readonly [string, string];
  /** NAT router namespaces ('nat' only; empty for 'flat'). */
  readonly nats: readonly string[];
  /** Every namespace, the bridge's first. */
  readonly all: readonly string[];
  /** argv prefix that runs a command inside `ns`: ['ip', 'netns', 'exec', ns]. */
  execPrefix(ns: string): string[];
  /** Runs a command inside `ns` synchronously; throws with its stderr on failure. */
  run(ns: string, cmd: string, args: readonly string[]): string;
  /** Kills what runs in the namespaces and deletes them. Idempotent, synchronous. */
  teardown(): void;
}

const IP = '/usr/sbin/ip';
const live = new Set<Topology>();
let hooksInstalled = false;
let counter = 0;

/** Throws a clear error unless this process can build namespaces (root, iproute2, iptables). */
export function requireNetnsSupport(): void {
  const problems: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    problems.push(`must run as root (uid is ${process.getuid()})`);
  }
  for (const tool of ['ip', 'iptables']) {
    const r = spawnSync(tool, tool === 'ip' ? ['-V'] : ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) problems.push(`\`${tool}\` is not available (${r.error?.message ?? r.stderr.trim()})`);
  }
  if (problems.length > 0) {
    throw new Error(
      `network namespace tests need root with iproute2 and iptables installed (scripts/setup.sh installs them): ${problems.join('; ')}`,
    );
  }
}

function sh(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

function nsExists(ns: string): boolean {
  return existsSync(`/run/netns/${ns}`);
}

/** SIGKILLs the processes inside `ns` (all of them were started by this test process). */
function killInside(ns: string): void {
  const r = spawnSync(IP, ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return;
  for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    if (pid > 1 && pid !== process.pid) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
    }
  }
}

function deleteNamespaces(names: readonly string[]): void {
  for (const ns of names) if (nsExists(ns)) killInside(ns);
  for (const ns of names) {
    if (nsExists(ns)) spawnSync(IP, ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
  }
}

function teardownAll(): void {
  for (const t of [...live]) t.teardown();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', teardownAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      teardownAll();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

const OUR_NAME = /^ferry(\d+)-\d+-(inet|pub|nat1|nat2|lan1|lan2|host1|host2)$/;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Deletes namespaces an earlier run of this helper left behind when its process was SIGKILLed
 * (no exit hook runs then): only names of this helper's pattern whose owning pid is gone.
 */
export function removeStaleNamespaces(): string[] {
  const r = spawnSync(IP, ['netns', 'list'], { encoding: 'utf8', timeout: 5000 });
  const stale = (r.stdout ?? '').split('\n').map((l) => l.split(' ')[0]).filter((n) => {
    const m = OUR_NAME.exec(n);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  });
  deleteNamespaces(stale);
  return stale;
}

/**
 * Builds a topology ('nat': two peers behind symmetric NATs; 'cone-nat': the same behind port-preserving
 * NATs; 'flat': two peers on the public segment).
 * On any failure it removes what it had made before rethrowing.
 */
export function buildTopology(kind: TopologyKind): Topology {
  requireNetnsSupport();
  installHooks();
  removeStaleNamespaces();
  const prefix = `ferry${process.pid}-${++counter}`;
  const name = (role: string): string => `${prefix}-${role}`;
  const inet = name('inet');
  const pub = name('pub');
  const natted = kind !== 'flat';
  const nats = natted ? [name('nat1'), name('nat2')] : [];
  const peers: [string, string] = natted ? [name('lan1'), name('lan2')] : [name('host1'), name('host2')];
  const peerIps: [string, string] = natted ? [...NAT_PEER_IPS] : [...FLAT_PEER_IPS];
  const all = [inet, pub, ...nats, ...peers];

  let torn = false;
  const topo: Topology = {
    kind, pub, peers, peerIps, nats, all,
    execPrefix: (ns) => [IP, 'netns', 'exec', ns],
    run: (ns, cmd, args) => sh(IP, ['netns', 'exec', ns, cmd, ...args]),
    teardown: () => {
      if (torn) return;
      torn = true;
      live.delete(topo);
      deleteNamespaces(all);
    },
  };
  live.add(topo);

  const ip = (ns: string, ...args: string[]): void => { sh(IP, ['-n', ns, ...args]); };
  /** A veth pair created inside `a` with its other end moved to `b`; the end in `a` joins br0. */
  const uplink = (host: string, hostIf: string, addr: string): void => {
    const bridgePort = `p${all.indexOf(host)}`;
    ip(inet, 'link', 'add', bridgePort, 'type', 'veth', 'peer', 'name', hostIf, 'netns', host);
    ip(inet, 'link', 'set', bridgePort, 'master', 'br0');
    ip(inet, 'link', 'set', bridgePort, 'up');
    ip(host, 'addr', 'add', `${addr}/24`, 'dev', hostIf);
    ip(host, 'link', 'set', hostIf, 'up');
  };

  try {
    for (const ns of all) {
      sh(IP, ['netns', 'add', ns]);
      ip(ns, 'link', 'set', 'lo', 'up');
    }
    ip(inet, 'link', 'add', 'br0', 'type', 'bridge');
    ip(inet, 'link', 'set', 'br0', 'up');
    uplink(pub, 'eth0', FERRY_IP);

    if (kind === 'flat') {
      uplink(peers[0], 'eth0', FLAT_PEER_IPS[0]);
      uplink(peers[1], 'eth0', FLAT_PEER_IPS[1]);
    } else {
      nats.forEach((nat, i) => {
        const lan = peers[i];
        uplink(nat, 'wan0', NAT_WAN_IPS[i]);
        ip(nat, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lan);
        ip(nat, 'addr', 'add', `${NAT_LAN_GATEWAYS[i]}/24`, 'dev', 'lan0');
        ip(nat, 'link', 'set', 'lan0', 'up');
        ip(lan, 'addr', 'add', `${NAT_PEER_IPS[i]}/24`, 'dev', 'eth0');
        ip(lan, 'link', 'set', 'eth0', 'up');
        ip(lan, 'route', 'add', 'default', 'via', NAT_LAN_GATEWAYS[i]);

        topo.run(nat, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
        const ipt = (...args: string[]): void => { topo.run(nat, 'iptables', ['-w', '5', ...args]); };
        const symmetric = kind === 'nat' ? ['--random-fully'] : [];
        ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan0', '-j', 'MASQUERADE', ...symmetric);
        ipt('-P', 'FORWARD', 'DROP');
        ipt('-A', 'FORWARD', '-i', 'lan0', '-o', 'wan0', '-j', 'ACCEPT');
        ipt('-A', 'FORWARD', '-i', 'wan0', '-o', 'lan0', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
        // The router itself offers nothing on its public address: unsolicited packets vanish
        // (no ICMP port unreachable), as with a home router.
        ipt('-A', 'INPUT', '-i', 'wan0', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
        ipt('-A', 'INPUT', '-i', 'wan0', '-j', 'DROP');
      });
    }
  } catch (err) {
    topo.teardown();
    throw err;
  }
  return topo;
}

/** Namespaces that exist right now and belong to this process (for leak checks in tests). */
export function ownNamespaces(): string[] {
  const r = spawnSync(IP, ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(`ferry${process.pid}-`));
}

// ---- processes inside namespaces ---------------------------------------------------------------

/** A process started inside a namespace; its stdout is parsed as JSON lines. */
export interface NsProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Every stdout line that parsed as a JSON object, in order. */
  readonly events: Array<Record<string, unknown>>;
  /** Everything written to stdout and stderr (for failure messages). */
  output(): string;
  /** Writes one JSON line to its stdin. */
  send(command: Record<string, unknown>): void;
  /** Resolves with the first event (from the start) that matches; rejects after `ms` or on exit. */
  waitFor(match: (e: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>>;
  /** Resolves with the exit code once the process has exited (SIGKILL after `ms`). */
  exited(ms: number): Promise<number | null>;
  stop(): Promise<void>;
}

export interface SpawnInNsOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Spawns `cmd args` inside `ns` in its own process group, tracked so it dies with the test process. */
export function spawnInNs(topo: Topology, ns: string, cmd: string, args: readonly string[], opts: SpawnInNsOptions = {}): NsProcess {
  const [ipBin, ...prefix] = topo.execPrefix(ns);
  const child = spawn(ipBin, [...prefix, cmd, ...args], {
    cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(child);
  const events: Array<Record<string, unknown>> = [];
  let out = '';
  let partial = '';
  const waiters = new Set<() => void>();
  const wake = (): void => { for (const w of [...waiters]) w(); };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try { events.push(JSON.parse(line) as Record<string, unknown>); } catch { /* not JSON */ }
    }
    wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  child.stdin.on('error', () => { /* exited */ });
  child.once('exit', wake);
  child.once('error', (err) => { out += `\nspawn error: ${err.message}`; wake(); });

  const p: NsProcess = {
    child,
    events,
    output: () => out,
    send: (command) => { if (!exited(child)) child.stdin.write(`${JSON.stringify(command)}\n`); },
    waitFor: (match, ms, what) => new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = events.find(match);
        if (hit) { done(); resolve(hit); return true; }
        if (exited(child)) {
          done();
          reject(new Error(`${what}: process in ${ns} exited (code ${child.exitCode}, signal ${child.signalCode}) first:\n${out.slice(-3000)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${ms} ms: ${what}\n${out.slice(-3000)}`)); }, ms);
      const done = (): void => { clearTimeout(timer); waiters.delete(check); };
      if (!check()) waiters.add(check);
    }),
    exited: (ms) => new Promise((resolve) => {
      if (exited(child)) { resolve(child.exitCode); return; }
      const timer = setTimeout(() => killNow(child), ms);
      child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
    }),
    stop: () => terminate(child, 2000),
  };
  return p;
}

/** Runs a command inside `ns` to completion (killed after `ms`); never blocks the event loop. */
export async function runInNs(topo: Topology, ns: string, cmd: string, args: readonly string[], ms: number, opts: SpawnInNsOptions = {}):
Promise<{ code: number | null; output: string; events: Array<Record<string, unknown>> }> {
  const p = spawnInNs(topo, ns, cmd, args, opts);
  p.child.stdin.end();
  const code = await p.exited(ms);
  return { code, output: p.output(), events: p.events };
}
