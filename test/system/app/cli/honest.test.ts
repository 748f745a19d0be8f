// An honest CLI, with real processes on free loopback ports: `ferry start` (background) reports
// success only when its own child serves, and a port already held by another process fails with
// exit 1 and one message naming the config key, with no Ferry left running; `ferry reload` checks
// the file first and reports the running process's outcome (applied, refused); `ferry status` shows
// what the process actually listens on (its runtime state), not what the file says now, and not a
// dead process's stale state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { ferryCli } from '../../../helpers/ferry-cli.js';
import { freePort, reservePortRange, type PortRange } from '../../../helpers/ports.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { makeSelfSignedCert } from '../../../helpers/tls-cert.js';
import { sleep, until } from '../../../helpers/wait.js';

const ADMIN = 'admin-token-for-the-honest-cli-test';
const ADMIN_B = 'second-admin-token-for-the-honest-cli';

/** Runs `ferry args...` in `cwd` to completion (killed after 30 s). */
const ferry = (args: string[], cwd: string) => ferryCli(args, cwd);

/** Pids of live processes whose command line mentions `needle` (a test's own temp dir): none may outlive a failed start. */
function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'Z') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) out.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function killAll(needle: string): void {
  for (const pid of processesMentioning(needle)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** A foreign STUN server: answers every Binding request with a success (what the old start probed for). */
async function foreignStunServer(port: number): Promise<UdpSocket> {
  const s = createSocket('udp4');
  s.on('message', (m, from) => {
    if (m.length < 20 || m.readUInt16BE(0) !== 0x0001) return;
    const res = Buffer.alloc(20);
    res.writeUInt16BE(0x0101, 0);
    m.copy(res, 4, 4, 20); // magic cookie and transaction id
    s.send(res, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve());
  });
  return s;
}

async function foreignHttpServer(port: number): Promise<Server> {
  const srv = createHttpServer((_req, res) => res.end('{"status":"ok"}'));
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
  return srv;
}

async function foreignTcpServer(port: number): Promise<{ close(): void }> {
  const srv = createTcpServer((c) => c.destroy());
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
  return { close: () => srv.close() };
}

/** A config for a temp dir: free ports, its own relay range, an admin token. */
async function configFor(range: PortRange, extra: Record<string, unknown> = {}) {
  const turnPort = await freePort();
  const httpPort = await freePort();
  const config: Record<string, unknown> = {
    address: `127.0.0.1:${turnPort}`,
    realm: 'ferry.test',
    relay_ip: '127.0.0.1',
    relay_ports: `${range.lo}-${range.hi}`,
    auth_secrets: ['a-rest-secret-for-the-honest-cli'],
    signaling: { address: `127.0.0.1:${httpPort}`, admin_token: ADMIN },
    storage: 'sqlite:data/ferry.db',
    ...extra,
  };
  return { turnPort, httpPort, config };
}

describe('ferry start: a listener port held by another process', () => {
  let range: PortRange | undefined;
  const dirs: string[] = [];
  before(async () => {
    range = await reservePortRange();
  });
  after(() => {
    for (const d of dirs) killAll(d);
    range?.release();
  });

  // key: the config key whose port the other process holds; hold: takes it, returns the release.
  const cases: Array<{ key: string; tls?: boolean; hold: (c: { turnPort: number; httpPort: number; tlsPort: number }) => Promise<() => void>; what: string }> = [
    { key: 'address', what: 'a foreign STUN server answering Binding requests on the UDP port', hold: async (c) => { const s = await foreignStunServer(c.turnPort); return () => s.close(); } },
    { key: 'address', what: 'a foreign TCP server on the TCP port', hold: async (c) => { const s = await foreignTcpServer(c.turnPort); return () => s.close(); } },
    { key: 'tls_address', tls: true, what: 'a foreign TCP server on the TLS port', hold: async (c) => { const s = await foreignTcpServer(c.tlsPort); return () => s.close(); } },
    { key: 'signaling.address', what: 'a foreign HTTP server on the signaling port', hold: async (c) => { const s = await foreignHttpServer(c.httpPort); return () => s.close(); } },
  ];

  for (const c of cases) {
    test(`${c.key} held by ${c.what}: background and foreground start exit 1 naming ${c.key}; nothing left running`, { timeout: 60_000 }, async () => {
      const dir = tempDir('ferry-honest-start');
      dirs.push(dir);
      const tlsPort = await freePort();
      const cert = c.tls ? makeSelfSignedCert() : undefined;
      const { turnPort, httpPort, config } = await configFor(range!, cert ? { tls_address: `127.0.0.1:${tlsPort}`, tls: { cert: cert.certPath, key: cert.keyPath } } : {});
      const configFile = join(dir, 'config.json');
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      const port = c.key === 'address' ? turnPort : c.key === 'tls_address' ? tlsPort : httpPort;
      const expected = `ferry: cannot listen on 127.0.0.1:${port} (${c.key}): address already in use`;
      const release = await c.hold({ turnPort, httpPort, tlsPort });
      try {
        const bg = await ferry(['start', '--config', configFile], dir);
        assert.equal(bg.code, 1, `background start must fail:\n${bg.stdout}${bg.stderr}`);
        assert.equal(bg.stdout, '');
        assert.equal(bg.stderr.split('\n')[0], expected, bg.stderr);
        assert.equal(bg.stderr.match(/cannot listen/g)?.length, 1, `one message:\n${bg.stderr}`);
        assert.equal(existsSync(join(dir, 'data', 'ferry.pid')), false, 'no pid file left');
        assert.deepEqual(processesMentioning(dir), [], 'no Ferry left running');
        assert.equal((await ferry(['status'], dir)).code, 3);

        const fg = await ferry(['start', '--fg', '--config', configFile], dir);
        assert.equal(fg.code, 1, fg.stderr);
        assert.equal(fg.stderr, `${expected}\n`, 'the same message in the foreground');
      } finally {
        release();
        cert?.remove();
      }
    });
  }
});

describe('ferry reload and status against a running Ferry', () => {
  const dir = tempDir('ferry-honest-run');
  const configFile = join(dir, 'config.json');
  const pidFile = join(dir, 'data', 'ferry.pid');
  const stateFile = join(dir, 'data', 'ferry.state.json');
  const logFile = join(dir, 'data', 'ferry.log');
  let range: PortRange | undefined;
  let config: Record<string, unknown> = {};
  let turnPort = 0;
  let httpPort = 0; // as bound: the config asks for port 0
  let pid = 0;
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const write = (c: Record<string, unknown>) => writeFileSync(configFile, JSON.stringify(c, null, 2));
  const state = () => JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number; reloads_started: number; reload: { seq: number; outcome: string } | null; listeners: Array<{ transport: string; address: string; port: number; key: string }> };
  const accountsWith = async (token: string) => (await fetch(`http://127.0.0.1:${httpPort}/v1/accounts`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3000) })).status;

  before(async () => {
    range = await reservePortRange();
    const c = await configFor(range, {});
    turnPort = c.turnPort;
    config = { ...c.config, signaling: { address: '127.0.0.1:0', admin_token: ADMIN } };
    write(config);
  });

  after(() => {
    killAll(dir);
    range?.release();
  });

  test('start reports the listeners as bound, the signaling port the system chose included', { timeout: 30_000 }, async () => {
    const r = await ferry(['start'], dir);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${log()}`);
    pid = Number(/pid (\d+)/.exec(r.stdout)?.[1]);
    const s = state();
    assert.equal(s.pid, pid);
    const http = s.listeners.find((l) => l.transport === 'http');
    assert.ok(http && http.port > 0 && http.key === 'signaling.address', JSON.stringify(s.listeners));
    httpPort = http.port;
    assert.match(r.stdout, new RegExp(`listening: udp 127\\.0\\.0\\.1:${turnPort} \\(address\\)`));
    assert.match(r.stdout, new RegExp(`listening: http 127\\.0\\.0\\.1:${httpPort} \\(signaling\\.address\\)`));
    assert.ok(log().includes(`signaling on http://127.0.0.1:${httpPort}`), 'the port the process logged');
    assert.equal(await accountsWith(ADMIN), 200);
  });

  test('reload of a valid change: exit 0, says what changed, and the running Ferry uses it', { timeout: 30_000 }, async () => {
    write({ ...config, signaling: { address: '127.0.0.1:0', admin_token: ADMIN_B } });
    const r = await ferry(['reload'], dir);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, `reload applied (pid ${pid}): signaling.admin_token changed\n`);
    assert.equal(await accountsWith(ADMIN_B), 200, 'the new admin token works');
    assert.equal(await accountsWith(ADMIN), 401, 'the old one no longer does');
    config = { ...config, signaling: { address: '127.0.0.1:0', admin_token: ADMIN_B } };
  });

  test('reload of an invalid file: exit 1 with the config check lines; the process is not signalled', { timeout: 30_000 }, async () => {
    const before = state();
    write({ ...config, auth_secrets: ['short'], quotas: { total_allocations: 0 } });
    const check = await ferry(['config', 'check', configFile], dir);
    assert.equal(check.code, 1);
    const r = await ferry(['reload'], dir);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `${check.stderr}ferry: not reloaded: pid ${pid} keeps its running configuration\n`);
    assert.match(r.stderr, /\n {2}auth_secrets\[0\]: /);
    await sleep(300);
    assert.equal(state().reloads_started, before.reloads_started, 'no reload began');
    assert.equal(log().split('SIGHUP: reloading the configuration').length - 1, before.reloads_started, 'no SIGHUP reached it');
    assert.equal(await accountsWith(ADMIN_B), 200, 'the running config is untouched');
  });

  test('reload refused by the process (a key that needs a restart changed): exit 1 with the reason, nothing applied', { timeout: 30_000 }, async () => {
    const otherPort = await freePort();
    // address needs a restart; the admin token changed too, but a refused reload applies nothing.
    write({ ...config, address: `127.0.0.1:${otherPort}`, signaling: { address: '127.0.0.1:0', admin_token: ADMIN } });
    const r = await ferry(['reload'], dir);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stderr, `ferry: reload refused by pid ${pid}; the running configuration stays:\n  address: changed in the file; needs a restart (ferry stop, then ferry start)\n`);
    assert.equal(await accountsWith(ADMIN_B), 200, 'the admin token in force is still the previous one');
    assert.equal(state().reload?.outcome, 'refused');
  });

  test('status shows what the process listens on, not what the edited file says', { timeout: 30_000 }, async () => {
    // The file now names another TURN port (previous test) and another signaling port.
    const fileHttp = await freePort();
    write({ ...config, address: `127.0.0.1:${await freePort()}`, signaling: { address: `127.0.0.1:${fileHttp}`, admin_token: ADMIN_B } });
    const r = await ferry(['status', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { pid: number; config_changed: boolean; health: string; last_reload: { outcome: string }; listeners: Array<{ transport: string; address: string; port: number; key: string }> };
    assert.equal(s.pid, pid);
    assert.deepEqual(
      s.listeners.map((l) => [l.transport, l.port, l.key]),
      [['udp', turnPort, 'address'], ['tcp', turnPort, 'address'], ['http', httpPort, 'signaling.address']],
    );
    assert.equal(s.config_changed, true);
    assert.equal(s.last_reload.outcome, 'refused');
    assert.equal(s.health, 'ok', 'live figures from where it actually listens');
    const text = await ferry(['status'], dir);
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`listening: udp 127\\.0\\.0\\.1:${turnPort} \\(address\\)`));
    assert.match(text.stdout, new RegExp(`listening: http 127\\.0\\.0\\.1:${httpPort} \\(signaling\\.address\\)`));
    assert.ok(!text.stdout.includes(String(fileHttp)), text.stdout);
    assert.match(text.stdout, /changed since it was loaded/);
  });

  test('concurrent reloads both report an outcome of a reload that began after their check', { timeout: 30_000 }, async () => {
    write(config); // back to the running addresses, the admin token in force: nothing to change
    const [a, b] = await Promise.all([ferry(['reload'], dir), ferry(['reload'], dir)]);
    for (const r of [a, b]) {
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, `reload applied (pid ${pid}): nothing changed\n`);
    }
  });

  test('a dead process\'s state is not shown as running', { timeout: 30_000 }, async () => {
    process.kill(pid, 'SIGKILL');
    await until(() => processesMentioning(dir).length === 0, 10_000, 'the killed Ferry is gone');
    assert.ok(existsSync(stateFile), 'a killed process leaves its state file behind');
    const r = await ferry(['status', '--json'], dir);
    assert.equal(r.code, 3, r.stdout);
    assert.equal((JSON.parse(r.stdout) as { running: boolean }).running, false);
    assert.equal((await ferry(['reload'], dir)).code, 1);
  });
});
