// scripts/setup.sh (npm's pretest) leaves alone what it did not start: a turnserver listening on
// coturn's default port 3478 keeps running, and no service manager is asked to stop anything. The
// "turnserver" here is our own process (a copy of sleep under that name), reported on 3478 by a
// stand-in `ss`; stand-ins for systemctl, service and friends record any call. Nothing on the
// machine is touched: the setup's other steps find everything in place and only check.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/temp-dir.js';
import { exited, terminate, track } from '../../helpers/reaper.js';
import { sleep } from '../../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const RECORDERS = ['systemctl', 'service', 'invoke-rc.d', 'update-rc.d', 'pkill', 'killall'];

describe('scripts/setup.sh', () => {
  const dir = tempDir('ferry-setup');
  const calls = join(dir, 'calls.log');
  const sleepBin = ['/usr/bin/sleep', '/bin/sleep'].find((p) => existsSync(p));
  assert.ok(sleepBin, 'sleep(1)');
  copyFileSync(sleepBin, join(dir, 'turnserver'));
  chmodSync(join(dir, 'turnserver'), 0o755);
  const turnserver = spawn(join(dir, 'turnserver'), ['120'], { stdio: 'ignore', detached: true });
  track(turnserver);
  after(async () => { await terminate(turnserver, 1000); });

  const script = (body: string) => `#!/bin/sh\n${body}\n`;
  for (const name of RECORDERS) {
    writeFileSync(join(dir, name), script(`echo "${name} $*" >>'${calls}'`));
    chmodSync(join(dir, name), 0o755);
  }
  // What `ss -Hlnptu 'sport = :3478'` prints while coturn's service listens there.
  writeFileSync(join(dir, 'ss'), script(`echo 'udp UNCONN 0 0 0.0.0.0:3478 0.0.0.0:* users:(("turnserver",pid=${turnserver.pid},fd=3))'`));
  chmodSync(join(dir, 'ss'), 0o755);

  test('a running turnserver on 3478 is left running and no service is stopped', { timeout: 120_000 }, async () => {
    assert.equal(readFileSync(`/proc/${turnserver.pid}/comm`, 'utf8').trim(), 'turnserver');
    // FERRY_TEST_RUNTIMES=20: the Node 24 step is not what this is about (and the pretest has done it).
    const r = await promisify(execFile)('bash', [join(ROOT, 'scripts', 'setup.sh')], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 100_000,
      env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, FERRY_TEST_RUNTIMES: '20' },
    }).catch((err: { code?: number; stdout?: string; stderr?: string }) => assert.fail(`setup.sh failed (${err.code}):\n${err.stdout}\n${err.stderr}`));
    await sleep(300); // a kill's exit event arrives
    assert.equal(exited(turnserver), false, `setup.sh stopped the turnserver it did not start:\n${r.stdout}`);
    assert.equal(existsSync(calls) ? readFileSync(calls, 'utf8') : '', '', 'no service manager calls');
    assert.doesNotMatch(r.stdout, /stopping/);
  });
});
