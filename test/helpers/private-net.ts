// A network namespace of its own for a process that has to listen on fixed ports (Ferry's embedded
// defaults, 3478 and 8080, when started without a config file): inside it those ports are free
// whatever else runs on the machine (a coturn service, another Ferry), and nothing it binds is seen
// outside. `unshare --net` makes the namespace (needs root) and it ends with its last process, so
// nothing is left behind even when the test process is killed. Commands reach the process's
// listeners by entering its namespace with nsenter.
import { spawn, type ChildProcess } from 'node:child_process';
import { spawnGuarded } from './reaper.js';
import { until } from './wait.js';

// The shell brings loopback up, names its pid (which becomes the command's: exec), then runs it.
const PREFIX = 'private-net pid ';
const WRAPPER = `ip link set lo up && echo "${PREFIX}$$" >&2 && exec "$@"`;

export interface PrivateNetProcess {
  /** The guard's child process (stdout and stderr are the command's). */
  readonly child: ChildProcess & { stdout: NonNullable<ChildProcess['stdout']>; stderr: NonNullable<ChildProcess['stderr']> };
  /** The pid inside whose network namespace the command runs, once the wrapper has named it. */
  netPid(ms?: number): Promise<number>;
}

/** Spawns `cmd args` (guarded, see reaper.ts) in a fresh network namespace with only loopback, up. */
export function spawnInPrivateNet(cmd: string, args: readonly string[], cwd?: string): PrivateNetProcess {
  const child = spawnGuarded('unshare', ['--net', 'sh', '-c', WRAPPER, 'sh', cmd, ...args], cwd);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const pid = (): number | undefined => {
    const m = new RegExp(`${PREFIX}(\\d+)`).exec(stderr);
    return m ? Number(m[1]) : undefined;
  };
  return {
    child,
    netPid: async (ms = 10_000) => {
      await until(() => pid() !== undefined || child.exitCode !== null, ms, `the private network namespace (unshare --net, needs root)\n${stderr}`);
      const p = pid();
      if (p === undefined) throw new Error(`unshare --net did not start the command (exit ${child.exitCode}):\n${stderr}`);
      return p;
    },
  };
}

/** Runs `cmd args` inside the network namespace of `pid`; resolves with its exit code and output (killed after `ms`). */
export function runInNetOf(pid: number, cmd: string, args: readonly string[], ms = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), ms);
    c.once('error', (err) => { stderr += `\nspawn error: ${err.message}`; });
    c.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
