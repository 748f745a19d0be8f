import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stdoutDestination } from '../../src/log-destination.js';
import { freePort, reservePortRange } from '../helpers/ports.js';
import { stunPing } from '../helpers/stun-ping.js';

test('the destination writes whole lines and stops on a dead descriptor instead of retrying', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-log-'));
  const fd = openSync(join(dir, 'out.log'), 'w');
  const d = stdoutDestination(fd);
  d.write('{"msg":"one"}\n');
  closeSync(fd);
  d.write('{"msg":"two"}\n'); // EBADF: marks the destination broken, does not throw
  assert.equal(d.broken, true);
  assert.equal(readFileSync(join(dir, 'out.log'), 'utf8'), '{"msg":"one"}\n');
});

test('ferry exits 0 on SIGTERM even after the reader of its stdout went away (EPIPE)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-epipe-'));
  const port = await freePort();
  const range = await reservePortRange();
  const config = join(dir, 'c.json');
  writeFileSync(
    config,
    JSON.stringify({ address: `127.0.0.1:${port}`, relay_ports: `${range.lo}-${range.hi}`, users: { a: 'b' }, signaling: { address: '127.0.0.1:0' }, storage: 'sqlite::memory:' }),
  );
  const child = spawn(process.execPath, ['bin/ferry.js', 'start', '--fg', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await stunPing(port);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(up, 'ferry answered STUN');
    child.stdout!.destroy();
    child.stderr!.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    range.release();
  }
});
