import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, reservePortRange } from '../../../helpers/ports.js';
import { spawnGuarded, terminate } from '../../../helpers/reaper.js';
import { withTimeout } from '../../../helpers/wait.js';
import { tempDir as makeTempDir } from '../../../helpers/temp-dir.js';

// dist/test/system/app/cli/cli.test.js → the repository root
const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const FERRY = join(ROOT, 'bin', 'ferry.js');

/** A fresh temp directory, removed when the test process exits. */
const tempDir = (): string => makeTempDir('ferry-cli');

/** Runs `ferry args...` to completion in `cwd` (a fresh temp dir by default). */
function ferry(args: string[], cwd = tempDir()) {
  const res = spawnSync(process.execPath, [FERRY, ...args], { cwd, encoding: 'utf8', timeout: 20_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('ferry CLI usage', () => {
  it('--help prints usage and exits 0', () => {
    const r = ferry(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: ferry <command>/);
    assert.match(r.stdout, /start/);
  });

  it('start --help describes start and exits 0', () => {
    const r = ferry(['start', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: ferry start/);
    assert.match(r.stdout, /--config FILE/);
  });

  it('an unknown command prints usage on stderr and exits 2', () => {
    const r = ferry(['launch']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown command "launch"/);
    assert.match(r.stderr, /Usage: ferry <command>/);
  });

  it('no command and an unknown option exit 2', () => {
    assert.equal(ferry([]).code, 2);
    const r = ferry(['start', '--daemon']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--daemon/);
  });

  it('--version prints the package version', () => {
    const r = ferry(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });
});

describe('ferry start with a bad config', () => {
  it('exits 1 and names the key', () => {
    const dir = tempDir();
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ quotas: { total_allocations: 0 }, log_level: 'loud' }));
    const r = ferry(['start', '--fg', '--config', file], dir);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`invalid configuration in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:`));
    assert.match(r.stderr, /\n {2}quotas\.total_allocations: expected a positive integer/);
    assert.match(r.stderr, /\n {2}log_level: /);
  });

  it('exits 1 on invalid JSON with the position', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), '{ "realm": "x" "users": {} }');
    // no --config: ./config.json is used when present
    const r = ferry(['start', '--fg'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config\.json: invalid JSON at line 1, column 16/);
  });

  it('exits 1 when --config names a missing file', () => {
    const r = ferry(['start', '--config', 'nope.json']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nope\.json: cannot read the config file: no such file/);
  });
});

describe('ferry start', () => {
  it('listens, logs where, and stops cleanly on SIGTERM', { timeout: 20_000 }, async () => {
    const port = await freePort();
    const range = await reservePortRange();
    const relayPorts = `${range.lo}-${range.hi}`;
    const dir = tempDir();
    const password = 'wonderland-password';
    const secret = 'rest-secret-0123456789';
    writeFileSync(
      join(dir, 'ferry.json'),
      JSON.stringify({
        address: `127.0.0.1:${port}`,
        relay_ports: relayPorts,
        users: { alice: password },
        auth_secrets: [secret],
        peers: { allow: ['127.0.0.0/8'] },
        signaling: { address: '127.0.0.1:0' },
      }),
    );
    // Under the guard: its exit code is ferry's (128 if ferry died of a signal), its signal null.
    const child = spawnGuarded(process.execPath, [FERRY, 'start', '--fg', '--config', 'ferry.json'], dir);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      // Complete lines only: a chunk may end in the middle of one.
      const lines = () => stdout.split('\n').slice(0, -1).filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      const listening = (t: string) => lines().some((l) => l.transport === t && l.port === port && l.address === '127.0.0.1');
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (listening('udp') && listening('tcp') && lines().some((l) => l.relay_ports !== undefined)) resolve();
        });
        void exited.then(({ code }) => reject(new Error(`ferry exited early (${code})\nstdout:\n${stdout}\nstderr:\n${stderr}`)));
      });
      await withTimeout(ready, 10_000, () => `no listening lines\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      const relay = lines().find((l) => l.relay_ports !== undefined);
      assert.ok(relay, 'a line gives the relay addresses');
      assert.deepEqual(relay.relay_ips, ['127.0.0.1']);
      assert.equal(relay.relay_ports, relayPorts);

      const started = Date.now();
      child.kill('SIGTERM');
      const { code } = await exited;
      assert.equal(code, 0, stderr);
      assert.ok(Date.now() - started < 5000, 'stopped within 5 s');
      assert.ok(!stdout.includes(password) && !stdout.includes(secret), 'no secret in the log');
      assert.ok(lines().some((l) => l.msg === 'stopped'));
    } finally {
      await terminate(child);
      range.release();
    }
  });

  it('warns when no credentials are configured', { timeout: 20_000 }, async () => {
    const port = await freePort();
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ address: `127.0.0.1:${port}`, signaling: { address: '127.0.0.1:0' }, log_level: 'warn' }));
    const child = spawnGuarded(process.execPath, [FERRY, 'start', '--fg'], dir);
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const warned = new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (/only STUN Binding works/.test(stdout)) resolve();
        });
      });
      await withTimeout(warned, 10_000, () => `no warning: ${stdout}`);
      const warning = JSON.parse(stdout.split('\n')[0]) as { level: number };
      assert.equal(warning.level, 40);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      await terminate(child);
    }
  });
});
