// Process control for the bench: every child is spawned as its own process-group leader, tracked,
// and killed (the whole group) on stop, on exit, on error and on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** "" while running, else e.g. "exit code 1" or "killed by SIGKILL". */
  exitStatus(): string;
  /** The last lines of the child's log file (or of what it printed, when piped). */
  tail(lines?: number): string;
}

const live = new Set<Child>();
const tempDirs = new Set<string>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* ESRCH: the group is gone */
  }
}

export interface SpawnOptions {
  readonly cwd?: string;
  /** Send stdout and stderr to this file (appended); otherwise both are piped to the caller. */
  readonly logFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export function spawnChild(name: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): Child {
  let fd: number | undefined;
  if (opts.logFile) fd = openSync(opts.logFile, 'a');
  const proc = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
  });
  if (fd !== undefined) closeSync(fd);
  if (proc.pid === undefined) {
    throw new Error(`${name}: could not start ${cmd} (is it installed and on PATH?)`);
  }
  const pid = proc.pid;
  let done = false;
  let status = '';
  let piped = '';
  const keep = (b: Buffer): void => {
    piped = (piped + b.toString('utf8')).slice(-16_384);
  };
  if (!opts.logFile) {
    proc.stderr?.on('data', keep);
  }
  const child: Child = {
    name,
    pid,
    proc,
    exited: new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        done = true;
        status = signal ? `killed by ${signal}` : `exit code ${code}`;
        live.delete(child);
        killGroup(pid, 'SIGKILL'); // leftovers of the group, if the leader forked
        resolve({ code, signal });
      });
    }),
    hasExited: () => done,
    exitStatus: () => status,
    tail: (lines = 15) => {
      let text = piped;
      if (opts.logFile) {
        try {
          text = readFileSync(opts.logFile, 'utf8').slice(-16_384);
        } catch {
          text = '';
        }
      }
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
  };
  proc.once('error', (err) => {
    done = true;
    live.delete(child);
    piped += `\nspawn error: ${err.message}`;
  });
  live.add(child);
  return child;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true if `p` settled within `ms`, false otherwise. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM the child's group, wait up to graceMs, then SIGKILL and wait (bounded) for the exit. */
export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (child.hasExited()) return;
  killGroup(child.pid, 'SIGTERM');
  if (await within(child.exited, graceMs)) return;
  killGroup(child.pid, 'SIGKILL');
  if (!(await within(child.exited, 3000))) {
    throw new Error(`${child.name} (pid ${child.pid}) did not exit after SIGKILL`);
  }
}

/** Synchronous last resort: SIGKILL every live child group and remove temp dirs. */
export function killAllSync(): void {
  for (const c of live) killGroup(c.pid, 'SIGKILL');
  live.clear();
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  tempDirs.clear();
}

export function registerTempDir(dir: string): void {
  tempDirs.add(dir);
}

/**
 * Kill every child on exit, on SIGINT/SIGTERM, on an uncaught error, and when the whole run exceeds
 * `deadlineMs` (a bound on the bench, whatever hangs).
 */
export function installCleanup(deadlineMs: number, log: (msg: string) => void): void {
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping children`);
      killAllSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
  const fatal = (err: unknown): void => {
    log(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    killAllSync();
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  setTimeout(() => {
    log(`bench exceeded its ${Math.round(deadlineMs / 1000)} s bound: killing children`);
    killAllSync();
    process.exit(2);
  }, deadlineMs).unref();
}
