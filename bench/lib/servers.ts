// Starting the servers under test (coturn, Ferry) and the echo peer, each in its own process group,
// with readiness checked by a STUN Binding request (bounded: `readyMs`, or as soon as it exits).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, spawnChild, stopChild, type Child } from './children.js';
import type { PortRange as RelayRange } from '../../test/helpers/ports.js';
import { waitForStun } from '../../test/helpers/stun-ping.js';

export interface Server {
  readonly name: string;
  readonly port: number;
  readonly child: Child;
  /** The exact command line, for the report. */
  readonly command: string[];
  stop(): Promise<void>;
}

async function waitReady(child: Child, port: number, readyMs: number, what: string): Promise<void> {
  const exited = () => (child.hasExited() ? `${what} exited during startup (${child.exitStatus()}):\n${child.tail()}` : undefined);
  try {
    await waitForStun(port, readyMs, '127.0.0.1', exited);
  } catch (err) {
    if (child.hasExited()) throw err; // the exit message above
    await stopChild(child, 1000);
    throw new Error(`${what} did not answer STUN on 127.0.0.1:${port} within ${readyMs / 1000} s:\n${child.tail()}`);
  }
}

function server(name: string, port: number, child: Child, command: string[]): Server {
  return { name, port, child, command, stop: () => stopChild(child) };
}

export function startEcho(fwd: string, port: number): Child {
  return spawnChild('echo-peer', fwd, ['echo', String(port)]);
}

export function coturnVersion(): string {
  const r = spawnSync('turnserver', ['--version'], { encoding: 'utf8', timeout: 5000 });
  return r.error ? 'not installed' : (r.stdout || r.stderr || '').trim().split('\n')[0];
}

/**
 * coturn with `relayThreads` relay threads (`--relay-threads N`, default ONE; engine v3 = one UDP
 * relay thread per thread, each with its own listening socket).
 */
export async function startCoturn(port: number, relay: RelayRange, tmp: string, readyMs: number, relayThreads = 1): Promise<Server> {
  const args = [
    '-n', '--no-tls', '--no-dtls', '--no-cli', '--relay-threads', String(relayThreads),
    '--listening-ip', '127.0.0.1', '--relay-ip', '127.0.0.1', '-p', String(port),
    '--min-port', String(relay.lo), '--max-port', String(relay.hi),
    '--user', 'u:p', '--realm', 'ferry', '--lt-cred-mech', '--allow-loopback-peers',
    '--log-file', join(tmp, 'coturn.log'), '--simple-log', '--no-stdout-log', '--pidfile', join(tmp, 'coturn.pid'),
  ];
  const child = spawnChild('coturn', 'turnserver', args, { logFile: join(tmp, 'coturn.out') });
  await waitReady(child, port, readyMs, 'coturn');
  return server('coturn', port, child, ['turnserver', ...args]);
}

export interface FerryStart {
  /** Run the TURN engine alone on the same config (bench/unmetered-relay.ts: no ledger, limits, webhooks, metrics or signaling). */
  readonly unmetered?: boolean;
  /** The server's name in logs and reports, and of its config and log files in tmp (default ferry / ferry-unmetered). */
  readonly name?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Ferry (`ferry start --fg`), or with `unmetered` its TURN engine alone on the same config. */
export async function startFerry(
  repoRoot: string, port: number, relay: RelayRange, tmp: string, readyMs: number, extra: Record<string, unknown>, how: FerryStart = {},
): Promise<Server> {
  const { unmetered = false, env } = how;
  const config = {
    address: `127.0.0.1:${port}`,
    realm: 'ferry',
    relay_ports: `${relay.lo}-${relay.hi}`,
    users: { u: 'p' },
    peers: { allow: ['127.0.0.0/8'] },
    log_level: 'warn',
    signaling: { address: '127.0.0.1:0' },
    storage: 'sqlite::memory:',
    ...extra,
  };
  const name = how.name ?? (unmetered ? 'ferry-unmetered' : 'ferry');
  const configPath = join(tmp, `${name}.json`);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const args = unmetered ? ['dist/bench/unmetered-relay.js', configPath] : ['bin/ferry.js', 'start', '--fg', '--config', configPath];
  const child = spawnChild(name, process.execPath, args, { cwd: repoRoot, logFile: join(tmp, `${name}.log`), ...(env ? { env } : {}) });
  await waitReady(child, port, readyMs, `${name} (${join(repoRoot, args[0])})`);
  return server(name, port, child, ['node', ...args]);
}

/** The bare Node dgram relay (bench/bare-relay.ts): the ceiling of a Node data path without TURN. */
export async function startBareNode(repoRoot: string, port: number, peerPort: number, tmp: string, readyMs: number): Promise<Server> {
  const args = ['dist/bench/bare-relay.js', String(port), String(peerPort)];
  const child = spawnChild('node-bare', process.execPath, args, { cwd: repoRoot, logFile: join(tmp, 'node-bare.log') });
  const deadline = performance.now() + readyMs;
  while (!child.tail().includes('ready')) {
    if (child.hasExited()) throw new Error(`node-bare exited during startup (${child.exitStatus()}):\n${child.tail()}`);
    if (performance.now() > deadline) {
      await stopChild(child, 1000);
      throw new Error(`node-bare did not start within ${readyMs / 1000} s`);
    }
    await sleep(50);
  }
  return server('node-bare', port, child, ['node', ...args]);
}
