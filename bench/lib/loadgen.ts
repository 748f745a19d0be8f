// Builds the C measuring instruments (turn-loadgen.c, udp-fwd.c from the shared tools directory)
// into a temp dir, and runs the load generator: parses its SETUP / RESULT lines and samples server
// CPU over exactly the send window (from its DATA_START line for `seconds`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnChild, stopChild, within } from './children.js';
import { cpuMark, cpuPercent, othersMark, systemBusyPercent, systemMark, udpDropsByPort, type CpuMark, type SystemMark } from './procfs.js';

export interface Tools {
  readonly loadgen: string;
  readonly fwd: string;
}

function gcc(args: string[], input?: string): { ok: boolean; err: string } {
  const r = spawnSync('gcc', args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) return { ok: false, err: r.error.message };
  return { ok: r.status === 0, err: (r.stderr ?? '').trim() };
}

/** Compiles both tools into `outDir`; throws a message naming the missing package when it cannot. */
export function buildTools(toolsDir: string, outDir: string): Tools {
  const src = { loadgen: join(toolsDir, 'turn-loadgen.c'), fwd: join(toolsDir, 'udp-fwd.c') };
  for (const f of Object.values(src)) {
    if (!existsSync(f)) throw new Error(`missing ${f}: pass --tools DIR (the shared tools directory)`);
  }
  if (!gcc(['--version']).ok) throw new Error('gcc not found: install it (apt-get install -y gcc libssl-dev)');
  if (!gcc(['-E', '-x', 'c', '-o', '/dev/null', '-'], '#include <openssl/hmac.h>\n').ok) {
    throw new Error('OpenSSL headers not found (openssl/hmac.h): install libssl-dev (apt-get install -y libssl-dev)');
  }
  const out = { loadgen: join(outDir, 'loadgen'), fwd: join(outDir, 'fwd') };
  const flags = ['-O2', '-Wno-deprecated-declarations'];
  let r = gcc([...flags, '-o', out.loadgen, src.loadgen, '-lcrypto']);
  if (!r.ok) throw new Error(`building turn-loadgen failed (libssl-dev installed?):\n${r.err}`);
  r = gcc([...flags, '-o', out.fwd, src.fwd]);
  if (!r.ok) throw new Error(`building udp-fwd failed:\n${r.err}`);
  return out;
}

export interface LoadgenOptions {
  readonly serverPort: number;
  readonly peerPort: number;
  readonly clients: number;
  /** Total offered packets/s; 0 = set up allocations only. */
  readonly rate: number;
  readonly seconds: number;
  readonly payload: number;
  readonly indications?: boolean;
  /** Raw mode (-R): no TURN setup, ChannelData frames only (for the bare Node relay baseline). */
  readonly raw?: boolean;
  /** With rate 0: hold the allocations this many seconds (calls onHolding when they are up). */
  readonly holdSeconds?: number;
  readonly onHolding?: () => Promise<void>;
  /** Process groups whose CPU is sampled over the send window (server, echo peer). */
  readonly sample?: Record<string, number>;
  /** Names the owner of a local UDP port (e.g. "server_listen"); drops are reported per name. */
  readonly classifyPort?: (port: number) => string;
  readonly timeoutMs: number;
}

export interface Setup {
  readonly ok: number;
  readonly of: number;
  readonly seconds: number;
  readonly allocSeqPerS: number;
}

export interface Result {
  readonly sent: number;
  readonly recv: number;
  readonly lossPct: number;
  readonly sendFail: number;
  readonly offeredPps: number;
  readonly deliveredPps: number;
  readonly mbps: number;
}

export interface LoadgenOutcome {
  readonly setup?: Setup;
  readonly result?: Result;
  /**
   * CPU % of one core over the send window, per sampled group name, plus `loadgen` itself and
   * `others` (every other user process on the machine: background noise).
   */
  readonly cpuPct: Record<string, number | null>;
  /** Share of the whole machine's CPUs busy over the send window (100 = every core saturated). */
  readonly machineBusyPct?: number;
  /** Datagrams the kernel dropped on receive (socket buffer full) over the window, per port owner. */
  readonly drops?: Record<string, number>;
  readonly errors: { count: number; first: string[] };
  readonly exit: string;
}

const SETUP_RE = /^SETUP ok=(\d+) of (\d+) in ([\d.]+)s = ([\d.]+) alloc-seq\/s/;
const RESULT_RE =
  /^RESULT sent=(\d+) recv=(\d+) loss=([\d.]+)% send_fail=(\d+) offered_pps=(\d+) delivered_pps=(\d+) mbps=([\d.]+)/;

export function parseSetup(line: string): Setup | undefined {
  const m = SETUP_RE.exec(line);
  return m ? { ok: +m[1], of: +m[2], seconds: +m[3], allocSeqPerS: +m[4] } : undefined;
}

export function parseResult(line: string): Result | undefined {
  const m = RESULT_RE.exec(line);
  if (!m) return undefined;
  return {
    sent: +m[1], recv: +m[2], lossPct: +m[3], sendFail: +m[4], offeredPps: +m[5], deliveredPps: +m[6], mbps: +m[7],
  };
}

export async function runLoadgen(bin: string, o: LoadgenOptions): Promise<LoadgenOutcome> {
  const args = ['-s', String(o.serverPort), '-e', String(o.peerPort), '-m', String(o.clients), '-r', String(o.rate),
    '-d', String(o.rate > 0 ? o.seconds : 0), '-l', String(o.payload)];
  if (o.indications) args.push('-i');
  if (o.raw) args.push('-R');
  if (o.holdSeconds) args.push('-H', String(o.holdSeconds));
  const child = spawnChild('loadgen', bin, args);
  let setup: Setup | undefined;
  let result: Result | undefined;
  const errors = { count: 0, first: [] as string[] };
  const start: Record<string, CpuMark> = {};
  const end: Record<string, CpuMark> = {};
  const sample: Record<string, number> = { ...o.sample, loadgen: child.pid };
  const sys: SystemMark[] = [];
  const udp: Map<number, number>[] = [];
  const mark = (into: Record<string, CpuMark>): void => {
    for (const [k, pgid] of Object.entries(sample)) into[k] = cpuMark(pgid);
    into.others = othersMark(Object.values(sample));
    sys.push(systemMark());
    if (o.classifyPort) udp.push(udpDropsByPort());
  };
  let windowTimer: NodeJS.Timeout | undefined;
  let holding: Promise<void> = Promise.resolve();
  let buf = '';
  child.proc.stdout?.on('data', (b: Buffer) => {
    buf += b.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      setup ??= parseSetup(line);
      result ??= parseResult(line);
      if (line === 'DATA_START') {
        mark(start);
        windowTimer = setTimeout(() => mark(end), o.seconds * 1000);
      } else if (line === 'HOLDING' && o.onHolding) {
        holding = o.onHolding();
      }
    }
  });
  let errBuf = '';
  child.proc.stderr?.on('data', (b: Buffer) => {
    errBuf += b.toString('utf8');
    let nl: number;
    while ((nl = errBuf.indexOf('\n')) >= 0) {
      errors.count++;
      if (errors.first.length < 5) errors.first.push(errBuf.slice(0, nl));
      errBuf = errBuf.slice(nl + 1);
    }
  });
  let exit: string;
  if (await within(child.exited, o.timeoutMs)) {
    const e = await child.exited;
    exit = e.signal ? `signal ${e.signal}` : `code ${e.code}`;
  } else {
    await stopChild(child, 500);
    exit = `killed after ${o.timeoutMs} ms timeout`;
  }
  clearTimeout(windowTimer);
  await holding;
  if (Object.keys(start).length > 0 && Object.keys(end).length === 0) mark(end); // exited early
  const cpuPct: Record<string, number | null> = {};
  for (const k of Object.keys(start)) cpuPct[k] = cpuPercent(start[k], end[k]);
  const machineBusyPct = sys.length === 2 ? systemBusyPercent(sys[0], sys[1]) : undefined;
  let drops: Record<string, number> | undefined;
  if (o.classifyPort && udp.length === 2) {
    drops = {};
    for (const [port, n] of udp[1]) {
      const d = n - (udp[0].get(port) ?? 0);
      if (d > 0) drops[o.classifyPort(port)] = (drops[o.classifyPort(port)] ?? 0) + d;
    }
  }
  return { setup, result, cpuPct, machineBusyPct, drops, errors, exit };
}
