// The `ferry` command line as an operator runs it, for system tests: `node bin/ferry.js ...` in a
// working directory (without blocking the event loop), and a Ferry started with `ferry start --fg
// --pid-file` on free loopback ports (the pid file lets later commands find it), always stopped by
// stop() and, through the reaper, even when the test process dies.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiRequest } from './admin-http.js';
import { freePort, reservePortRange } from './ports.js';
import { spawnGuarded, terminate } from './reaper.js';
import { sleep } from './wait.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/helpers → root
export const FERRY_BIN = join(ROOT, 'bin', 'ferry.js');

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** Runs `ferry args...` in `cwd`; killed after `timeoutMs`. */
export function ferryCli(args: readonly string[], cwd: string, timeoutMs = 30_000): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface CliFerry {
  readonly turnPort: number;
  /** http://127.0.0.1:<signaling port> */
  readonly base: string;
  readonly pidFile: string;
  readonly configFile: string;
  /** What the process wrote so far (its JSON log lines on stdout, and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Writes `dir/config.json` (free TURN and signaling ports, a relay port block, loopback peers
 * allowed, the store in dir/data/ferry.db, plus `extra`) and runs `ferry start --fg` on it with the
 * default pid file dir/data/ferry.pid; resolves once /healthz answers.
 */
export async function startCliFerry(dir: string, extra: Record<string, unknown>): Promise<CliFerry> {
  const turnPort = await freePort();
  const httpPort = await freePort();
  const range = await reservePortRange();
  const base = `http://127.0.0.1:${httpPort}`;
  const configFile = join(dir, 'config.json');
  const pidFile = join(dir, 'data', 'ferry.pid');
  const extraSignaling = (extra.signaling ?? {}) as Record<string, unknown>;
  writeFileSync(configFile, JSON.stringify({
    address: `127.0.0.1:${turnPort}`,
    realm: 'ferry.test',
    relay_ip: '127.0.0.1',
    relay_ports: `${range.lo}-${range.hi}`,
    peers: { allow: ['127.0.0.0/8'] },
    storage: `sqlite:${join(dir, 'data', 'ferry.db')}`,
    ...extra,
    signaling: { address: `127.0.0.1:${httpPort}`, ...extraSignaling },
  }));
  const server = spawnGuarded(process.execPath, [FERRY_BIN, 'start', '--fg', '--config', configFile, '--pid-file', pidFile], dir);
  let out = '';
  server.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  server.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const stop = async () => {
    await terminate(server, 3000);
    range.release();
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const up = existsSync(pidFile) && (await apiRequest(base, 'GET', '/healthz', undefined, undefined, { timeoutMs: 1000 }).then((r) => r.ok, () => false));
    if (up) break;
    if (server.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Ferry did not come up:\n${out.slice(-3000)}`);
    }
    await sleep(100);
  }
  return { turnPort, base, pidFile, configFile, output: () => out, stop };
}
