// Ports for the bench's servers, chosen so a bench never collides with tests running concurrently:
//  - freePort(): a UDP+TCP port (and optionally port + 1, which coturn also binds) free right now.
//  - reserveRelayRange(): consecutive 200-port blocks below the ephemeral range, claimed with the
//    same lock files as test/helpers/ports.ts (/tmp/ferry-test-port-locks/block-N.lock, owner pid).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOST = '127.0.0.1';
const BLOCK = 200;
const RANGE_LO = 10_000;
const RANGE_HI = 32_600;
const LOCK_DIR = join(tmpdir(), 'ferry-test-port-locks');

function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, HOST, () => s.close(() => resolve(true)));
  });
}

function canBindTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: HOST, exclusive: true }, () => srv.close(() => resolve(true)));
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

/** A port free on UDP and TCP at 127.0.0.1 (with `pair`, port + 1 too). Bounded: 100 attempts. */
export async function freePort(pair = false): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const p = await ephemeralUdpPort();
    if (pair && p >= 65535) continue;
    const ports = pair ? [p, p + 1] : [p];
    let ok = true;
    for (const q of ports) {
      if (!(await canBindUdp(q)) || !(await canBindTcp(q))) {
        ok = false;
        break;
      }
    }
    if (ok) return p;
  }
  throw new Error('no free port found after 100 attempts');
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
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        /* raced with a release */
      }
      if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) return false;
      try {
        unlinkSync(path);
      } catch {
        /* someone else cleaned it */
      }
    }
  }
  return false;
}

function unlock(paths: readonly string[]): void {
  for (const p of paths) {
    try {
      unlinkSync(p);
    } catch {
      /* already gone */
    }
  }
}

const held: string[] = [];
process.on('exit', () => unlock(held));

export interface RelayRange {
  readonly lo: number;
  readonly hi: number;
}

/** Claims at least `ports` consecutive relay ports (whole blocks), all bindable on UDP right now. */
export async function reserveRelayRange(ports: number): Promise<RelayRange> {
  mkdirSync(LOCK_DIR, { recursive: true });
  const need = Math.ceil(ports / BLOCK);
  const blocks = Math.floor((RANGE_HI - RANGE_LO) / BLOCK);
  // Scan from the top: the tests start from pid-derived blocks anywhere; the top is as good as any.
  for (let first = blocks - need; first >= 0; first--) {
    const paths: string[] = [];
    let ok = true;
    for (let b = first; b < first + need; b++) {
      const path = join(LOCK_DIR, `block-${b}.lock`);
      if (!tryLock(path)) {
        ok = false;
        break;
      }
      paths.push(path);
    }
    const lo = RANGE_LO + first * BLOCK;
    const hi = lo + need * BLOCK - 1;
    if (ok) {
      const probes: Promise<boolean>[] = [];
      for (let p = lo; p <= hi; p++) probes.push(canBindUdp(p));
      ok = (await Promise.all(probes)).every(Boolean);
    }
    if (ok) {
      held.push(...paths);
      return { lo, hi };
    }
    unlock(paths);
  }
  throw new Error(`no ${need} consecutive free relay port blocks in ${RANGE_LO}-${RANGE_HI}`);
}
