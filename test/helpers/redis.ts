// A throw-away redis-server for tests: started on a free loopback port with nothing persisted,
// tracked by the reaper (killed with the test process even when it dies), stopped by stop().
// restart() stops it and starts a new, empty one on the same port (a Redis restart without
// persistence); kill() is kill -9. Needs Debian's redis-server (scripts/setup.sh installs it).
import type { ChildProcess } from 'node:child_process';
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
  /** Stops the server (SIGTERM, then SIGKILL) and starts a fresh one on the same port. */
  restart(opts?: { downMs?: number }): Promise<void>;
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

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let out = '';
  const clients: Redis[] = [];
  const start = async () => {
    out = '';
    const c = spawnGuarded('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
    c.stdout.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-4000); });
    c.stderr.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-4000); });
    child = c;
    await waitReady(port, c, () => out);
  };
  const down = async () => {
    if (child !== undefined) await terminate(child, 2000);
    child = undefined;
  };
  await start();
  return {
    port,
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
    },
  };
}
