// Keeps track of child processes tests start and kills their process groups when the test process
// exits for any reason (normal exit, uncaught error, SIGINT/SIGTERM from the runner).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const GUARD = fileURLToPath(new URL('./guard.js', import.meta.url));

const live = new Set<ChildProcess>();
let installed = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // children are spawned detached: pid == pgid
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}

function killAll(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Registers a child spawned with `detached: true`; it is forgotten once it exits. */
export function track(child: ChildProcess): void {
  install();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * SIGTERM to the group, SIGKILL after `graceMs`; resolves once the child has exited. With
 * `leaderOnly`, the SIGTERM goes to the spawned process alone: a guard (spawnGuarded) forwards it to
 * its command, which then gets exactly one, as from a service manager (a signal to the whole group
 * reaches the command twice, directly and through the guard, and Ferry takes a second SIGTERM for
 * "exit now").
 */
export function terminate(child: ChildProcess, graceMs = 3000, opts: { leaderOnly?: boolean } = {}): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      // Reap anything the child left in its group.
      if (child.pid !== undefined) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none */ } }
      resolve();
    });
    if (opts.leaderOnly === true) {
      try { child.kill('SIGTERM'); } catch { /* already gone */ }
    } else killGroup(child, 'SIGTERM');
  });
}

/** Kills the whole group at once (used on timeouts). */
export function killNow(child: ChildProcess): void {
  killGroup(child, 'SIGKILL');
}

/**
 * Spawns `cmd` under guard.js in its own process group, tracked: killed on stop, on this process's
 * exit, and (through the guard's stdin reaching EOF) even when this process dies without running
 * exit handlers. stdout/stderr are pipes. `env` replaces this process's environment when given.
 */
export function spawnGuarded(cmd: string, args: readonly string[], cwd?: string, env?: NodeJS.ProcessEnv): ChildProcess & {
  stdout: NonNullable<ChildProcess['stdout']>;
  stderr: NonNullable<ChildProcess['stderr']>;
} {
  const child = spawn(process.execPath, [GUARD, cmd, ...args], { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);
  return child as ChildProcess & { stdout: NonNullable<ChildProcess['stdout']>; stderr: NonNullable<ChildProcess['stderr']> };
}
