// Runs a command to completion under a time limit (npm, npx, tsc and node steps of the package
// tests): under guard.js in its own process group (spawnGuarded), output collected, the whole group
// killed once the limit passes, and a failure or timeout reported with the command's last output.
import { spawnGuarded, killNow } from './reaper.js';

export interface RunOptions {
  readonly cwd: string;
  /** Replaces the environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** How long the command took. */
  readonly ms: number;
}

const tail = (text: string, n = 4000) => (text.length > n ? `…${text.slice(-n)}` : text);

/** Runs `cmd args`; rejects on a timeout (after killing the group), resolves with any exit code. */
export function runCommand(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const child = spawnGuarded(cmd, args, opts.cwd, opts.env);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const line = [cmd, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killNow(child);
      reject(new Error(`${line}: no result within ${opts.timeoutMs} ms (killed)\n--- stdout ---\n${tail(stdout)}\n--- stderr ---\n${tail(stderr)}`));
    }, opts.timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** runCommand that also rejects when the command exits with anything but 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const r = await runCommand(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${[cmd, ...args].join(' ')}: exit code ${r.code}\n--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`);
  }
  return r;
}
