// The operator's lifecycle, driven through the CLI as a user would (`node bin/ferry.js ...` in a temp
// dir, free loopback ports): start in the background → status → reload with a changed auth secret
// while a werift data channel keeps flowing through the relay → reload with a broken config (refused,
// the running config stays) → status with the usage the pair relayed, checked against `ferry usage`
// → stop. The relay process is SIGKILLed in after() whatever happens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../../helpers/werift-quirks.js';
import type { RTCPeerConnection, RTCDataChannel } from 'werift';
import { restCredentials } from '../../../helpers/ferry-process.js';
import { freePort, reservePortRange, type PortRange } from '../../../helpers/ports.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { exitIfStuck, sleep, until } from '../../../helpers/wait.js';
import { connectRelayPair } from '../../../helpers/werift-pair.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const FERRY = join(ROOT, 'bin', 'ferry.js');
const USER = 'alice';
const PASSWORD = 'alice-static-password';
const SECRET_A = 'first-rest-secret-0123456789';
const SECRET_B = 'second-rest-secret-0123456789';
const ADMIN = 'admin-token-for-the-cli-test-0123';
const ADMIN_B = 'second-admin-token-for-the-cli-test';

interface Run { code: number | null; stdout: string; stderr: string }

interface StatusUsage {
  timeframe: { start: string; end: string } | null;
  bytes_to_peer: number;
  bytes_to_client: number;
  packets_to_peer: number;
  packets_to_client: number;
  accounts: number;
  top: Array<{ account: string; bytes: number; bytes_to_peer: number; bytes_to_client: number }>;
  global_limit: unknown;
}
interface UsageJson {
  timeframe: { start: string; end: string } | null;
  usage: Array<{ account: string; bytes_to_peer: number; bytes_to_client: number; packets_to_peer: number; packets_to_client: number }>;
}

/** Runs `ferry args...` without blocking the event loop (werift keeps running meanwhile). */
function ferry(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FERRY, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Alive and not a zombie (the background Ferry's parent has exited; whoever inherits it may reap it late). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false; // gone between the two checks
  }
}

interface Pair { a: RTCPeerConnection; b: RTCPeerConnection; tx: RTCDataChannel; received: string[] }

async function connectPair(urls: string): Promise<Pair> {
  const received: string[] = [];
  const { a, b, tx } = await connectRelayPair({ urls, username: USER, credential: PASSWORD }, {
    label: 'cli',
    remoteChannel: (rx) => rx.onMessage.subscribe((m) => received.push(m.toString())),
  });
  return { a, b, tx, received };
}

/** Sends `n` paced messages tagged `tag` and waits until they have all arrived, in order. */
async function flow(p: Pair, tag: string, n = 50): Promise<void> {
  const start = p.received.length;
  const sent: string[] = [];
  for (let i = 0; i < n; i++) {
    const msg = `${tag}-${i}`;
    sent.push(msg);
    p.tx.send(msg);
    if (i % 10 === 9) await sleep(2);
  }
  await until(() => p.received.length >= start + n, 15_000, `${tag}: ${n} messages (got ${p.received.length - start})`);
  assert.deepEqual(p.received.slice(start), sent);
}

/** One Allocate over UDP with TURN REST credentials from `secret`: the response code (0 = success). */
async function allocateWith(port: number, secret: string | { username: string; password: string }): Promise<number> {
  const { username, password } = typeof secret === 'string' ? restCredentials(secret, 'cli-check') : secret;
  const c = await TestTurnClient.connect({ port, username, password });
  try {
    return (await c.allocate()).code;
  } finally {
    c.close();
  }
}

describe('ferry start (background) → status → reload → stop', () => {
  const dir = tempDir('ferry-cli-e2e');
  const configFile = join(dir, 'config.json');
  const pidFile = join(dir, 'data', 'ferry.pid');
  const logFile = join(dir, 'data', 'ferry.log');
  let turnPort = 0;
  let httpPort = 0;
  let range: PortRange | undefined;
  let pid = 0;
  let pair: Pair | undefined;
  let config: Record<string, unknown> = {};
  /** The config after the first reload: new auth secret and admin token. */
  let configB: Record<string, unknown> = {};
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const logLines = () => log().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; level?: number });

  before(async () => {
    turnPort = await freePort();
    httpPort = await freePort();
    range = await reservePortRange();
    config = {
      address: `127.0.0.1:${turnPort}`,
      realm: 'ferry.test',
      relay_ip: '127.0.0.1',
      relay_ports: `${range.lo}-${range.hi}`,
      users: { [USER]: PASSWORD },
      auth_secrets: [SECRET_A],
      peers: { allow: ['127.0.0.0/8'] },
      signaling: { address: `127.0.0.1:${httpPort}`, admin_token: ADMIN },
      storage: 'sqlite:data/ferry.db',
    };
    configB = { ...config, auth_secrets: [SECRET_B], signaling: { address: `127.0.0.1:${httpPort}`, admin_token: ADMIN_B } };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
  });

  after(async () => {
    await Promise.allSettled([pair?.a.close(), pair?.b.close()]);
    const p = pid || Number(existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : 0);
    if (p > 0 && alive(p)) process.kill(p, 'SIGKILL');
    range?.release();
    exitIfStuck();
  });

  test('start without --fg runs Ferry in the background and refuses a second start', { timeout: 30_000 }, async () => {
    const r = await ferry(['start'], dir); // ./config.json is found in the working directory
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${log()}`);
    const printed = /pid (\d+)/.exec(r.stdout);
    assert.ok(printed, r.stdout);
    pid = Number(printed[1]);
    assert.equal(Number(readFileSync(pidFile, 'utf8')), pid);
    assert.ok(alive(pid));
    assert.ok(logLines().some((l) => l.msg === 'configuration loaded'), 'JSON log lines in data/ferry.log');

    const again = await ferry(['start', '--config', configFile], dir);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`already running \\(pid ${pid}`));
  });

  test('status: running, pid, listeners and live figures from the admin API', { timeout: 20_000 }, async () => {
    const r = await ferry(['status', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { running: boolean; pid: number; uptime_s: number; listeners: Array<{ transport: string; address: string; port: number }>; health: string; accounts?: number; usage?: StatusUsage };
    assert.equal(s.running, true);
    assert.equal(s.pid, pid);
    assert.ok(s.uptime_s >= 0);
    for (const t of ['udp', 'tcp']) assert.ok(s.listeners.some((l) => l.transport === t && l.address === '127.0.0.1' && l.port === turnPort), t);
    assert.ok(s.listeners.some((l) => l.transport === 'http' && l.port === httpPort));
    assert.equal(s.health, 'ok');
    assert.equal(s.accounts, 0);
    // Nothing relayed yet: the current timeframe (persisted at start) with no usage.
    assert.ok(s.usage, r.stdout);
    assert.ok(s.usage.timeframe !== null && Date.parse(s.usage.timeframe.end) > Date.parse(s.usage.timeframe.start), r.stdout);
    assert.deepEqual([s.usage.accounts, s.usage.bytes_to_peer, s.usage.bytes_to_client, s.usage.top.length, s.usage.global_limit], [0, 0, 0, 0, null]);
    const text = await ferry(['status'], dir);
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`running: pid ${pid}`));
    assert.match(text.stdout, new RegExp(`udp 127\\.0\\.0\\.1:${turnPort}`));
    assert.match(text.stdout, /usage in the timeframe .* 0 accounts\n\s+client to peer: 0 B in 0 packets/);
  });

  test('reload applies a new auth secret while a data channel keeps flowing through the relay', { timeout: 90_000 }, async () => {
    assert.equal(await allocateWith(turnPort, SECRET_A), 0, 'secret A works before the reload');
    pair = await connectPair(`turn:127.0.0.1:${turnPort}`);
    await flow(pair, 'before');

    writeFileSync(configFile, JSON.stringify(configB, null, 2));
    const r = await ferry(['reload'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `reload applied (pid ${pid}): auth_secrets, signaling.admin_token changed\n`);
    await until(
      () => logLines().some((l) => l.msg === 'configuration reloaded: auth_secrets, signaling.admin_token applied'),
      10_000,
      `reload logged:\n${log()}`,
    );

    await flow(pair, 'after');
    const status = JSON.parse((await ferry(['status', '--json'], dir)).stdout) as { allocations?: number };
    // status reads the new admin token from the file: the running process took it over.
    assert.ok((status.allocations ?? 0) >= 2, `status counts the pair's allocations: ${JSON.stringify(status)}`);
    assert.equal(await allocateWith(turnPort, SECRET_B), 0, 'the new secret works');
    assert.equal(await allocateWith(turnPort, SECRET_A), 401, 'the old secret is refused');
    assert.ok(alive(pid), 'same process');
  });

  test('a broken config is refused on reload and the running config stays in force', { timeout: 30_000 }, async () => {
    writeFileSync(configFile, JSON.stringify({ ...configB, auth_secrets: ['short'], quotas: { total_allocations: 0 } }, null, 2));
    // `ferry reload` checks the file first: exit 1 with the `config check` lines, and the process is never signalled.
    const r = await ferry(['reload', '--config', configFile], dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /\n {2}auth_secrets\[0\]: a secret must be at least 16 characters/);
    assert.match(r.stderr, /\n {2}quotas\.total_allocations/);
    assert.match(r.stderr, new RegExp(`not reloaded: pid ${pid} keeps its running configuration`));
    assert.equal(logLines().filter((l) => l.msg === 'SIGHUP: reloading the configuration').length, 1, 'no SIGHUP since the first reload');

    assert.equal(await allocateWith(turnPort, SECRET_B), 0, 'the secret in force still works');
    await flow(pair!, 'still');
    assert.equal((await ferry(['config', 'check', configFile], dir)).code, 1);
  });

  test('accounts create and disable go through the running Ferry; credentials mint locally', { timeout: 30_000 }, async () => {
    // The config in force again on disk (the previous test left a broken one), without reloading.
    writeFileSync(configFile, JSON.stringify(configB, null, 2));
    const created = await ferry(['accounts', 'create', 'acme'], dir);
    assert.equal(created.code, 0, created.stderr);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const minted = await ferry(['credentials', 'acme'], dir);
    assert.equal(minted.code, 0, minted.stderr);
    const [server] = (JSON.parse(minted.stdout) as { iceServers: Array<{ urls: string[]; username: string; credential: string }> }).iceServers;
    assert.ok(server.urls.includes(`turn:127.0.0.1:${turnPort}?transport=udp`), server.urls.join(' '));
    const creds = { username: server.username, password: server.credential };
    assert.equal(await allocateWith(turnPort, creds), 0, 'minted with the secret in force (B)');

    const disabled = await ferry(['accounts', 'disable', id], dir);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /through the running Ferry/);
    assert.equal(await allocateWith(turnPort, creds), 401, 'the running relay refuses the disabled account at once');
    const list = JSON.parse((await ferry(['accounts', 'list', '--json'], dir)).stdout) as { accounts: Array<{ id: string; disabled: boolean }> };
    assert.deepEqual(list.accounts.map((a) => [a.id, a.disabled]), [[id, true]]);
  });

  test('status shows the usage the data channel relayed, consistent with `ferry usage`', { timeout: 30_000 }, async () => {
    assert.ok(pair, 'the pair from the reload test is still connected');
    await flow(pair, 'usage');
    const flushes = () => logLines().filter((l) => l.msg === 'SIGUSR2: usage written to the ledger').length;
    /** SIGUSR2, then `ferry usage --json` once the flush is logged: the ledger as of now. */
    const flushedUsage = async (): Promise<UsageJson> => {
      const before = flushes();
      process.kill(pid, 'SIGUSR2');
      await until(() => flushes() > before, 10_000, `SIGUSR2 flush logged:\n${log()}`);
      const r = await ferry(['usage', '--json'], dir);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as UsageJson;
    };
    const sum = (u: UsageJson, k: 'bytes_to_peer' | 'bytes_to_client' | 'packets_to_peer' | 'packets_to_client') => u.usage.reduce((n, r) => n + r[k], 0);

    // The pair keeps exchanging (consent checks, SCTP): status lies between two flushed readings.
    const earlier = await flushedUsage();
    const r = await ferry(['status', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const s = (JSON.parse(r.stdout) as { usage?: StatusUsage }).usage;
    const later = await flushedUsage();
    assert.ok(s, r.stdout);
    assert.deepEqual(s.timeframe, earlier.timeframe);
    for (const k of ['bytes_to_peer', 'bytes_to_client', 'packets_to_peer', 'packets_to_client'] as const) {
      assert.ok(sum(earlier, k) <= s[k] && s[k] <= sum(later, k), `${k}: ${sum(earlier, k)} <= ${s[k]} <= ${sum(later, k)}`);
    }
    assert.ok(s.bytes_to_peer > 0 && s.bytes_to_client > 0, 'relayed both ways');
    assert.ok(s.bytes_to_peer >= 150 * 'usage-0'.length, 'at least the data channel messages');
    assert.equal(s.accounts, later.usage.length);
    const top = [...later.usage].sort((a, b) => b.bytes_to_peer + b.bytes_to_client - (a.bytes_to_peer + a.bytes_to_client))[0];
    assert.equal(s.top[0].account, top.account);
    assert.equal(s.top[0].bytes, s.top[0].bytes_to_peer + s.top[0].bytes_to_client);

    const text = await ferry(['status'], dir);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`usage in the timeframe ${earlier.timeframe!.start.replace(/\./g, '\\.')} \\.\\. .*: ${s.accounts} accounts?\n`));
    assert.match(text.stdout, /client to peer: \d+(\.\d+)? [kMG]?B in \d+ packets/);
    assert.match(text.stdout, new RegExp(`top accounts: ${top.account} `));
  });

  test('stop: SIGTERM, waits for the exit, exit 0; then status says not running (3)', { timeout: 30_000 }, async () => {
    await Promise.allSettled([pair?.a.close(), pair?.b.close()]);
    pair = undefined;
    const r = await ferry(['stop'], dir);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`stopped \\(pid ${pid}\\)`));
    assert.equal(alive(pid), false);
    assert.equal(existsSync(pidFile), false, 'pid file removed');
    assert.ok(logLines().some((l) => l.msg === 'stopped'), 'clean stop logged');
    assert.equal((await ferry(['status'], dir)).code, 3);
    assert.equal((await ferry(['stop'], dir)).code, 1);
  });
});
