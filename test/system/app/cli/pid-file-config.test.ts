// The config key pid_file, as a systemd unit or a container uses it: `ferry start --fg --config F`
// (no --pid-file) writes its pid file and runtime state where F says, and every command given
// --config F finds the running Ferry there: status shows its listeners, accounts go through its
// admin API, sessions reach it, stop stops it. A reload that moves the pid file is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiRequest } from '../../../helpers/admin-http.js';
import { FERRY_BIN, ferryCli, type CliRun } from '../../../helpers/ferry-cli.js';
import { freePort, reservePortRange, type PortRange } from '../../../helpers/ports.js';
import { spawnGuarded, terminate } from '../../../helpers/reaper.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { sleep } from '../../../helpers/wait.js';

const ADMIN = 'admin-token-for-the-pid-file-test';

describe('pid_file in the config file', () => {
  const dir = tempDir('ferry-pid-file');
  // The config in dir/etc, the pid file in dir/run (relative to the config file), the commands run
  // in dir: the default pid file (dir/etc/data/ferry.pid) is never written.
  const configFile = join(dir, 'etc', 'config.json');
  const pidFile = join(dir, 'run', 'ferry.pid');
  const stateFile = join(dir, 'run', 'ferry.state.json');
  let config: Record<string, unknown>;
  let server: ReturnType<typeof spawnGuarded>;
  let range: PortRange;
  let turnPort: number;
  let base: string;
  let out = '';
  let pid = 0; // the Ferry's own (server.pid is the reaper's guard around it)

  const ferry = (...args: string[]): Promise<CliRun> => ferryCli([...args, '--config', configFile], dir);
  const ok = async (...args: string[]): Promise<CliRun> => {
    const r = await ferry(...args);
    assert.equal(r.code, 0, `ferry ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r;
  };

  before(async () => {
    turnPort = await freePort();
    const httpPort = await freePort();
    range = await reservePortRange();
    base = `http://127.0.0.1:${httpPort}`;
    mkdirSync(join(dir, 'etc'));
    config = {
      address: `127.0.0.1:${turnPort}`,
      relay_ip: '127.0.0.1',
      relay_ports: `${range.lo}-${range.hi}`,
      storage: 'sqlite:ferry.db',
      auth_secrets: ['pid-file-test-secret-0123456789'],
      pid_file: '../run/ferry.pid',
      signaling: { address: `127.0.0.1:${httpPort}`, admin_token: ADMIN },
    };
    writeFileSync(configFile, JSON.stringify(config));
    server = spawnGuarded(process.execPath, [FERRY_BIN, 'start', '--fg', '--config', configFile], dir);
    server.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    server.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const up = existsSync(stateFile) && (await apiRequest(base, 'GET', '/healthz', undefined, undefined, { timeoutMs: 1000 }).then((r) => r.ok, () => false));
      if (up) break;
      if (server.exitCode !== null || Date.now() > deadline) throw new Error(`Ferry did not write ${stateFile} and serve:\n${out.slice(-3000)}`);
      await sleep(100);
    }
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  });

  after(async () => {
    await terminate(server, 3000);
    range.release();
  });

  test('ferry start --fg writes the pid file and the runtime state where pid_file says', () => {
    assert.ok(pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start\0--fg\0--config'), `pid ${pid} is the ferry start --fg`);
    assert.equal((JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number }).pid, pid);
    assert.ok(!existsSync(join(dir, 'etc', 'data', 'ferry.pid')), 'not the default pid file');
  });

  test('ferry status --config finds it, with its listeners', async () => {
    const r = await ok('status');
    assert.match(r.stdout, new RegExp(`^ferry is running: pid ${pid}`));
    assert.match(r.stdout, new RegExp(`listening: udp 127\\.0\\.0\\.1:${turnPort} \\(address\\)`));
    assert.match(r.stdout, new RegExp(`listening: http ${base.slice('http://'.length).replace(/\./g, '\\.')} \\(signaling\\.address\\)`));
    assert.match(r.stdout, /health: ok/);
    const json = JSON.parse((await ok('status', '--json')).stdout) as { running: boolean; pid_file: string };
    assert.deepEqual([json.running, json.pid_file], [true, pidFile]);
  });

  test('ferry accounts ... --config goes through the admin API: the running Ferry refuses a disabled account at once', async () => {
    const created = await ok('accounts', 'create', 'acme');
    const { id } = JSON.parse(created.stdout) as { id: string };
    const { api_key: key } = JSON.parse((await ok('accounts', 'keys', 'add', 'acme')).stdout) as { api_key: string };
    assert.equal((await apiRequest(base, 'POST', '/v1/signal-tokens', key, {})).status, 201);
    const disabled = await ok('accounts', 'disable', 'acme');
    assert.match(disabled.stdout, new RegExp(`${id}.*through the running Ferry \\(pid ${pid}\\)`));
    assert.equal(disabled.stderr, '');
    assert.equal((await apiRequest(base, 'POST', '/v1/signal-tokens', key, {})).status, 401);
    const sessions = await ok('sessions');
    assert.doesNotMatch(sessions.stderr, /not running/);
  });

  test('--pid-file still takes precedence', async () => {
    const r = await ferryCli(['status', '--config', configFile, '--pid-file', join(dir, 'elsewhere.pid')], dir);
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /ferry is not running \(pid file .*elsewhere\.pid\)/);
  });

  test('a reload that changes pid_file is refused: it needs a restart', async () => {
    writeFileSync(configFile, JSON.stringify({ ...config, pid_file: '../run/other.pid', log_level: 'debug' }));
    try {
      // The file now names another pid file: the running one is found by --pid-file.
      const r = await ferry('reload', '--pid-file', pidFile);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /reload refused by pid \d+; the running configuration stays:\n {2}pid_file: changed in the file; needs a restart/);
      const lost = await ferry('status');
      assert.equal(lost.code, 3, 'the commands given the file look where it says now');
    } finally {
      writeFileSync(configFile, JSON.stringify(config));
    }
    const status = await ok('status');
    assert.match(status.stdout, /last reload: refused/);
  });

  test('ferry stop --config stops it and removes the pid file', async () => {
    const r = await ok('stop');
    assert.match(r.stdout, new RegExp(`ferry stopped \\(pid ${pid}\\)`));
    assert.ok(!existsSync(pidFile));
    assert.ok(!existsSync(stateFile));
  });
});
