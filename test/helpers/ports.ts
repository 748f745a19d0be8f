// Port selection for tests that run servers as real processes, possibly several test processes at once.
//  - freePort(): a port that is free on UDP and TCP (and optionally port + 1 too), by binding port 0.
//  - reservePortRange(): a block of ports below the kernel's ephemeral range, claimed with a lock file
//    so concurrently running test processes never hand the same relay range to two servers.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOST = '127.0.0.1';

/** Whether a UDP socket can bind `host`:`port` right now (udp6 for an IPv6 host). */
export function canBindUdp(port: number, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => { s.close(); resolve(false); });
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

/** Whether a TCP server can listen on `host`:`port` right now. */
export function canBindTcp(port: number, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function ephemeralUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export interface FreePortOptions {
  /** Also require port + 1 to be free (turnutils_peer echoes on P and P+1). */
  readonly pair?: boolean;
  /** Check TCP as well as UDP (default true). */
  readonly tcp?: boolean;
}

/** A port free on UDP (and TCP) at 127.0.0.1 right now. Small race with other binders; retried. */
export async function freePort(opts: FreePortOptions = {}): Promise<number> {
  const tcp = opts.tcp ?? true;
  for (let attempt = 0; attempt < 100; attempt++) {
    const p = await ephemeralUdpPort();
    if (opts.pair && p >= 65535) continue;
    const ports = opts.pair ? [p, p + 1] : [p];
    let ok = true;
    for (const q of ports) {
      if (!(await canBindUdp(q)) || (tcp && !(await canBindTcp(q)))) { ok = false; break; }
    }
    if (ok) return p;
  }
  throw new Error('freePort: no free port found after 100 attempts');
}

// Relay ranges: blocks of BLOCK ports in [RANGE_LO, RANGE_HI), below Linux's ephemeral range (32768+).
// The benchmarks (bench/) claim theirs here too, so a bench never collides with a test run.
const BLOCK = 200;
const RANGE_LO = 10_000;
const RANGE_HI = 32_600;
const LOCK_DIR = join(tmpdir(), 'ferry-test-port-locks');

export interface PortRange {
  readonly lo: number;
  readonly hi: number;
  /** Deletes the lock file; idempotent. */
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryLock(path: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try { owner = Number(readFileSync(path, 'utf8')); } catch { /* raced with a release */ }
      if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) return false;
      try { unlinkSync(path); } catch { /* someone else cleaned it */ }
    }
  }
  return false;
}

const heldLocks = new Set<string>();
process.on('exit', () => unlock([...heldLocks]));

/** Claims a block of BLOCK consecutive ports, all currently bindable on UDP at 127.0.0.1. */
export function reservePortRange(): Promise<PortRange> {
  return reserveBlocks(1, 'spread');
}

/**
 * Claims at least `ports` consecutive ports (whole blocks), all bindable on UDP right now: the
 * relay range of a benchmark's server. Claimed from the top, away from the tests' spread blocks.
 */
export function reserveRelayRange(ports: number): Promise<PortRange> {
  return reserveBlocks(Math.ceil(ports / BLOCK), 'top');
}

/**
 * `count` consecutive blocks, each claimed with its lock file. 'spread' starts at a block derived
 * from the pid (test processes running at once start apart); 'top' scans down from the last block.
 */
async function reserveBlocks(count: number, order: 'spread' | 'top'): Promise<PortRange> {
  mkdirSync(LOCK_DIR, { recursive: true });
  const blocks = Math.floor((RANGE_HI - RANGE_LO) / BLOCK);
  const starts = blocks - count + 1;
  if (starts <= 0) throw new Error(`reserve: ${count} blocks of ${BLOCK} ports do not fit in ${RANGE_LO}-${RANGE_HI}`);
  const spread = (process.pid * 7 + heldLocks.size) % starts;
  for (let i = 0; i < starts; i++) {
    const first = order === 'top' ? starts - 1 - i : (spread + i) % starts;
    const paths: string[] = [];
    for (let b = first; b < first + count; b++) {
      const path = join(LOCK_DIR, `block-${b}.lock`);
      if (!tryLock(path)) break;
      paths.push(path);
    }
    const lo = RANGE_LO + first * BLOCK;
    const hi = lo + count * BLOCK - 1;
    let ok = paths.length === count;
    if (ok) {
      const probes: Promise<boolean>[] = [];
      for (let p = lo; p <= hi; p++) probes.push(canBindUdp(p));
      ok = (await Promise.all(probes)).every(Boolean);
    }
    if (ok) {
      for (const path of paths) heldLocks.add(path);
      let released = false;
      return {
        lo,
        hi,
        release: () => {
          if (released) return;
          released = true;
          unlock(paths);
        },
      };
    }
    unlock(paths);
  }
  throw new Error(`reserve: no ${count} consecutive relay port blocks free in ${RANGE_LO}-${RANGE_HI}`);
}

function unlock(paths: readonly string[]): void {
  for (const path of paths) {
    heldLocks.delete(path);
    try { unlinkSync(path); } catch { /* already gone */ }
  }
}
