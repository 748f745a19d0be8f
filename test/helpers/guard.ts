// `node guard.js CMD [ARGS...]`: runs CMD and kills it as soon as this guard's stdin reaches EOF, i.e.
// when the test process that spawned the guard dies, even from a native crash that skips every exit
// handler (SIGSEGV in a WebRTC addon). Signals to the process group reach CMD directly; the guard
// outlives CMD and exits with its status.
import { spawn } from 'node:child_process';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  process.stderr.write('usage: guard.js CMD [ARGS...]\n');
  process.exit(2);
}
const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
child.on('error', (err) => {
  process.stderr.write(`guard: cannot run ${cmd}: ${err.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
process.stdin.on('end', () => child.kill('SIGKILL'));
process.stdin.on('error', () => child.kill('SIGKILL'));
process.stdin.resume();
