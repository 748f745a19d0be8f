import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stdoutDestination } from '../../../src/log-destination.js';
import { freePort, reservePortRange } from '../../helpers/ports.js';
import { waitForStun } from '../../helpers/stun-ping.js';
import { exited, spawnGuarded, terminate } from '../../helpers/reaper.js';
import { sleep, withTimeout } from '../../helpers/wait.js';
import { tempDir } from '../../helpers/temp-dir.js';

// dist/test/system/src/log-destination.test.js → the repository root
const FERRY = fileURLToPath(new URL('../../../../bin/ferry.js', import.meta.url));

test('the destination writes whole lines and stops on a dead descriptor instead of retrying', () => {
  const dir = tempDir('ferry-log');
  const fd = openSync(join(dir, 'out.log'), 'w');
  const d = stdoutDestination(fd);
  d.write('{"msg":"one"}\n');
  closeSync(fd);
  d.write('{"msg":"two"}\n'); // EBADF: marks the destination broken, does not throw
  assert.equal(d.broken, true);
  assert.equal(readFileSync(join(dir, 'out.log'), 'utf8'), '{"msg":"one"}\n');
});

test('ferry exits 0 on SIGTERM even after the reader of its stdout went away (EPIPE)', async () => {
  const dir = tempDir('ferry-epipe');
  const port = await freePort();
  const range = await reservePortRange();
  const config = join(dir, 'c.json');
  writeFileSync(
    config,
    JSON.stringify({ address: `127.0.0.1:${port}`, relay_ports: `${range.lo}-${range.hi}`, users: { a: 'b' }, signaling: { address: '127.0.0.1:0' }, storage: 'sqlite::memory:' }),
  );
  // Under the guard, whose exit code is ferry's (128 if ferry died of a signal). Ferry writes to the
  // guard's stdout/stderr pipes, so destroying them below gives ferry the EPIPE.
  const child = spawnGuarded(process.execPath, [FERRY, 'start', '--fg', '--config', config]);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitForStun(port, 20_000, '127.0.0.1', () => (exited(child) ? `ferry exited early (${child.exitCode})` : undefined));
    child.stdout.destroy();
    child.stderr.destroy();
    await sleep(200);
    child.kill('SIGTERM');
    const code = await withTimeout(exit, 5000, 'ferry exits on SIGTERM');
    assert.equal(code, 0);
  } finally {
    await terminate(child);
    range.release();
  }
});
