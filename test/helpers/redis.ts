// A throw-away redis-server for tests: started on a free loopback port with nothing persisted,
// tracked by the reaper (killed with the test process even when it dies), stopped by stop().
// restart() stops it and starts a new, empty one on the same port (a Redis restart without
// persistence). With { persist: true } the data survives restart() and down()+start(): an
// append-only file, fsynced at every write, in a temporary directory removed by stop().
// Needs Debian's redis-server (scripts/setup.sh installs it).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { exited, spawnGuarded, terminate, killNow } from './reaper.js';
import { sleep } from './wait.js';

export interface TestRedis {
  readonly port: number;
  /** redis://127.0.0.1:<port>/0 */
  readonly url: string;
  /** A plain client for assertions (connected; closed by stop()). */
  client(): Promise<Redis>;
  /** Stops the server (SIGTERM, then SIGKILL) and starts it again on the same port: empty, or with its data when persisted. */
  restart(opts?: { downMs?: number }): Promise<void>;
  /** The append-only file's directory when started with { persist: true }. */
  readonly dir: string | undefined;
  /** Stops the server without restarting it (start() brings it back on the same port). */
  down(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function waitReady(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited(child)) throw new Error(`redis-server on port ${port} exited at start:\n${log()}`);
    const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      /* not up yet */
    } finally {
      probe.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${log()}`);
    await sleep(50);
  }
}

export interface StartRedisOptions {
  /** Keep the data across restart() and down()+start() (appendonly, fsync always). Default false. */
  readonly persist?: boolean;
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = opts.persist === true ? mkdtempSync(join(tmpdir(), 'ferry-redis-')) : undefined;
  const persistence =
    dir === undefined ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
  let child: ChildProcess | undefined;
  let out = '';
  const clients: Redis[] = [];
  const start = async () => {
    out = '';
    const c = spawnGuarded('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--protected-mode', 'no']);
    c.stdout.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-4000); });
    c.stderr.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-4000); });
    child = c;
    await waitReady(port, c, () => out);
  };
  const down = async () => {
    if (child !== undefined) await terminate(child, 2000);
    child = undefined;
  };
  try {
    await start();
  } catch (err) {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    dir,
    url: `redis://127.0.0.1:${port}/0`,
    async client() {
      const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      clients.push(r);
      return r;
    },
    async restart(opts = {}) {
      await down();
      if (opts.downMs !== undefined) await sleep(opts.downMs);
      await start();
    },
    down,
    start,
    async stop() {
      for (const r of clients.splice(0)) r.disconnect();
      if (child !== undefined) killNow(child);
      await down();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
