/**
 * `ferry start` in the background: runs `ferry start --fg` detached, logging to a file, and
 * reports success only when that child itself says it is serving. The child tells its parent
 * over an IPC channel: `ready` once every listener is bound, signaling answers and its runtime
 * state file is written, or `failed` with the message it printed (e.g. `ferry: cannot listen on
 * 127.0.0.1:3478 (address): address already in use`). Both carry a nonce the parent made for
 * this start, so nothing else (another server answering on the port, another process's message)
 * can pass for the child. No answer within START_TIMEOUT_MS: the child is stopped, and killed if
 * it does not exit, so a failed start never leaves it running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_FAILURE, EXIT_OK, loadOrReport, type CliIo } from './common.js';
import { removePid, runningPid, writePid } from './pid-file.js';
import { dataPlaneLine, listenerLines, type StateDataPlane, type StateListener } from './runtime-state.js';

/** How long `ferry start` (background) waits for its child to report that it serves. */
export const START_TIMEOUT_MS = 10_000;
/** How long a child that did not report in time gets to exit after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** The environment variable that hands the child the nonce of its start. */
const NONCE_ENV = 'FERRY_START_NONCE';

const BIN = fileURLToPath(new URL('../../../bin/ferry.js', import.meta.url)); // dist/app/cli → root

export type StartReport =
  | { readonly type: 'ready'; readonly listeners: readonly StateListener[]; readonly data_plane?: StateDataPlane }
  | { readonly type: 'failed'; readonly message: string };

type ChildMessage = StartReport & { readonly nonce: string; readonly pid: number };

/** The nonce of this process's start when a background `ferry start` spawned it; taken once. */
const startNonce: string | undefined = (() => {
  const nonce = process.env[NONCE_ENV];
  delete process.env[NONCE_ENV];
  return nonce !== undefined && typeof process.send === 'function' ? nonce : undefined;
})();

/**
 * In the child: reports ready or failed to the background `ferry start` that spawned it (once),
 * then closes the channel. Does nothing in a Ferry not started that way.
 */
export async function tellParent(report: StartReport): Promise<void> {
  if (startNonce === undefined || !process.connected) return;
  const message: ChildMessage = { ...report, nonce: startNonce, pid: process.pid };
  await new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));
  if (process.connected) process.disconnect();
}

/** The last `lines` lines of the log, read from at most its last 64 KiB (the log is appended to, never rotated). */
function logTail(file: string, lines = 20): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 64 * 1024));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

type Outcome =
  | { readonly kind: 'ready'; readonly listeners: readonly StateListener[]; readonly dataPlane: StateDataPlane | undefined }
  | { readonly kind: 'exit'; readonly how: string; readonly message: string | undefined }
  | { readonly kind: 'timeout' };

const isReport = (m: unknown, nonce: string, pid: number): m is ChildMessage => {
  const r = m as Partial<ChildMessage> | null;
  return typeof r === 'object' && r !== null && r.nonce === nonce && r.pid === pid && (r.type === 'ready' ? Array.isArray(r.listeners) : r.type === 'failed' && typeof r.message === 'string');
};

/** Waits for the child's ready, its exit (with the failure it reported, if any), or the timeout. */
function awaitChild(child: ChildProcess, nonce: string, pid: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let failure: string | undefined;
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), START_TIMEOUT_MS);
    child.on('message', (m: unknown) => {
      if (!isReport(m, nonce, pid)) return;
      if (m.type === 'failed') failure = m.message;
      else {
        clearTimeout(timer);
        resolve({ kind: 'ready', listeners: m.listeners, dataPlane: m.data_plane });
      }
    });
    // 'close' (not 'exit'): after the IPC channel is drained too, so a failure reported just before the exit is read.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ kind: 'exit', how: signal !== null ? `signal ${signal}` : `exit code ${code}`, message: failure });
    });
  });
}

/** SIGTERM, then SIGKILL after KILL_GRACE_MS; resolves once the child has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function daemon(config: string | undefined, pidFile: string, logFile: string, dev: boolean, io: CliIo): Promise<number> {
  const loaded = await loadOrReport(io, config);
  if (loaded === null) return EXIT_FAILURE;
  const running = runningPid(pidFile);
  if (running !== undefined) {
    io.stderr(`ferry: already running (pid ${running}, pid file ${pidFile})\n`);
    return EXIT_FAILURE;
  }
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a', 0o640);
  const nonce = randomBytes(16).toString('hex');
  const args = [BIN, 'start', '--fg', '--pid-file', pidFile, ...(dev ? ['--dev'] : []), ...(config !== undefined ? ['--config', config] : [])];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
    cwd: process.cwd(),
    env: { ...process.env, [NONCE_ENV]: nonce },
  });
  closeSync(fd);
  let spawnError: string | undefined;
  child.once('error', (err) => (spawnError = err.message));
  if (child.pid === undefined) {
    await new Promise((r) => setImmediate(r));
    io.stderr(`ferry: cannot start: ${spawnError ?? 'spawn failed'}\n`);
    return EXIT_FAILURE;
  }
  const pid = child.pid;
  writePid(pidFile, pid);
  const outcome = await awaitChild(child, nonce, pid);
  if (outcome.kind === 'ready') {
    if (child.connected) child.disconnect();
    child.unref();
    io.stdout(
      [
        `ferry started in the background: pid ${pid}`,
        ...listenerLines(outcome.listeners),
        // The plane is said here too: a fallback's warning goes to the log file, which nobody reads at start.
        ...(outcome.dataPlane !== undefined ? [dataPlaneLine(outcome.dataPlane)] : []),
        `  log: ${logFile}`,
        ...(dev || config === undefined ? [`  development setup: the demo URLs and the dev account's API key are in the log's first lines`] : []),
        `  pid file: ${pidFile}`,
        `  stop it with: ferry stop --pid-file ${pidFile}`,
        '',
      ].join('\n'),
    );
    return EXIT_OK;
  }
  if (outcome.kind === 'timeout') {
    await stopChild(child);
    io.stderr(`ferry: pid ${pid} did not report that it serves within ${START_TIMEOUT_MS / 1000} s: stopped it\n`);
  }
  removePid(pidFile, pid);
  if (outcome.kind === 'exit' && outcome.message !== undefined) {
    // The child's own message, as a foreground start prints it; its log has the details.
    io.stderr(`${outcome.message.trimEnd()}\n  (log: ${logFile})\n`);
    return EXIT_FAILURE;
  }
  if (outcome.kind === 'exit') io.stderr(`ferry: failed to start (${spawnError ?? outcome.how})\n`);
  const tail = logTail(logFile);
  if (tail.trim() !== '') io.stderr(`--- last lines of ${logFile} ---\n${tail}\n`);
  return EXIT_FAILURE;
}
