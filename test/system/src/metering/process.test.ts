// Metering in a real `ferry start --fg` process with a file-backed store: SIGUSR2 writes the ledger
// at once, SIGTERM writes the rest (a restart then keeps every byte), kill -9 loses at most one
// write interval, and a second SIGTERM exits at once after writing the usage. The ledger is read with `ferry usage --json` (run in-process).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../../../app/cli/main.js';
import { freePort, reservePortRange } from '../../../helpers/ports.js';
import { exited, spawnGuarded, terminate } from '../../../helpers/reaper.js';
import { waitForStun } from '../../../helpers/stun-ping.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import { sleep, until } from '../../../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const FERRY = join(ROOT, 'bin', 'ferry.js');

interface Running {
  readonly port: number;
  readonly pid: number;
  logs(): string;
  exitedNow(): boolean;
  /** The exit code once exited (null when killed by a signal or still running). */
  exitCode(): number | null;
  stop(): Promise<void>;
}

async function startProcess(dir: string, writeInterval: string, extra: Record<string, unknown> = {}): Promise<Running> {
  const port = await freePort();
  const range = await reservePortRange();
  const configPath = join(dir, 'config.json');
  const pidFile = join(dir, 'ferry.pid');
  rmSync(pidFile, { force: true });
  writeFileSync(
    configPath,
    JSON.stringify({
      address: `127.0.0.1:${port}`,
      relay_ip: '127.0.0.1',
      relay_ports: `${range.lo}-${range.hi}`,
      users: { alice: 'alice-pass-1' },
      peers: { allow: ['127.0.0.0/8'] },
      signaling: { address: '127.0.0.1:0' },
      storage: 'sqlite:ferry.db',
      network_usage: { write_interval: writeInterval },
      log_level: 'info',
      ...extra,
    }),
  );
  const child = spawnGuarded(process.execPath, [FERRY, 'start', '--fg', '--config', configPath, '--pid-file', pidFile], ROOT);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= terminate(child, 5000).then(() => range.release()));
  try {
    await waitForStun(port, 10_000, '127.0.0.1', () => (exited(child) ? `ferry exited early:\n${out}` : undefined));
    await until(() => existsSync(pidFile), 5000, 'pid file');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    pid: Number(readFileSync(pidFile, 'utf8').trim()),
    logs: () => out,
    exitedNow: () => exited(child),
    exitCode: () => child.exitCode,
    stop,
  };
}

async function usage(dir: string): Promise<{ bytes_to_peer: number; bytes_to_client: number; packets_to_peer: number; packets_to_client: number } | undefined> {
  let stdout = '';
  const code = await run(['usage', '--json', '--account', 'alice', '--config', join(dir, 'config.json')], {
    stdout: (t) => (stdout += t),
    stderr: () => {},
  });
  assert.equal(code, 0);
  const body = JSON.parse(stdout) as { usage: Array<{ account: string; bytes_to_peer: number; bytes_to_client: number; packets_to_peer: number; packets_to_client: number }> };
  const row = body.usage.find((r) => r.account === 'alice');
  return row && { bytes_to_peer: row.bytes_to_peer, bytes_to_client: row.bytes_to_client, packets_to_peer: row.packets_to_peer, packets_to_client: row.packets_to_client };
}

/** Relays `toPeer` bytes (one ChannelData) and `toClient` bytes (one datagram back) through Ferry. */
async function traffic(port: number, toPeer: number, toClient: number): Promise<TestTurnClient> {
  const peer = await UdpPeer.open('127.0.0.1');
  const client = await TestTurnClient.connect({ port, transport: 'udp', username: 'alice', password: 'alice-pass-1' });
  try {
    const relayed = (await client.allocate()).xorAddress(0x0016)!;
    assert.equal((await client.channelBind(0x4000, peer.address)).code, 0);
    client.sendChannelData(0x4000, Buffer.alloc(toPeer, 1));
    assert.ok(await peer.waitFor(1));
    peer.send(Buffer.alloc(toClient, 2), relayed);
    assert.ok(await client.nextData());
  } finally {
    peer.close();
  }
  return client;
}

describe('metering in a ferry process', () => {
  const dirs: string[] = [];
  const procs: Running[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'ferry-metering-'));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const p of procs) await p.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('SIGUSR2 writes at once; SIGTERM writes the rest; a restart keeps every byte', async () => {
    const dir = tempDir();
    const first = await startProcess(dir, '1h');
    procs.push(first);
    const c1 = await traffic(first.port, 1000, 300);
    assert.equal(await usage(dir), undefined, 'nothing written before the interval');
    process.kill(first.pid, 'SIGUSR2');
    await until(() => first.logs().includes('SIGUSR2: usage written to the ledger'), 5000, 'SIGUSR2 flush');
    assert.deepEqual(await usage(dir), { bytes_to_peer: 1000, bytes_to_client: 300, packets_to_peer: 1, packets_to_client: 1 });

    c1.sendChannelData(0x4000, Buffer.alloc(0)); // an empty ChannelData: dropped, not billed (issue 9, finding 7)
    const c2 = await traffic(first.port, 2000, 20);
    await sleep(100);
    await first.stop(); // SIGTERM
    c1.close();
    c2.close();
    assert.deepEqual(await usage(dir), { bytes_to_peer: 3000, bytes_to_client: 320, packets_to_peer: 2, packets_to_client: 2 });

    const second = await startProcess(dir, '1h');
    procs.push(second);
    const c3 = await traffic(second.port, 5, 7);
    await second.stop();
    c3.close();
    assert.deepEqual(await usage(dir), { bytes_to_peer: 3005, bytes_to_client: 327, packets_to_peer: 3, packets_to_client: 3 });
  });

  it('a second SIGTERM exits at once (143) while the first stop still waits, the usage written', async () => {
    // A webhook receiver that never answers holds the first stop (it delivers for up to 2 s).
    const hang = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    try {
      const dir = tempDir();
      const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/`;
      const p = await startProcess(dir, '1h', { webhooks: [{ url, secret: 'hanging-receiver-secret', events: ['session.closed'] }] });
      procs.push(p);
      const c = await traffic(p.port, 1500, 150);
      process.kill(p.pid, 'SIGTERM');
      await until(() => p.logs().includes('"msg":"stopping"'), 5000, 'the first stop began');
      await sleep(300);
      assert.equal(p.exitedNow(), false, 'the first stop is still waiting for the receiver');
      process.kill(p.pid, 'SIGTERM');
      await until(() => p.exitedNow(), 5000, 'ferry exited after the second signal');
      await p.stop();
      c.close();
      assert.ok(!p.logs().includes('"msg":"stopped"'), 'it did not wait for the first stop to end');
      assert.match(p.logs(), /second signal: writing the usage, then exiting/);
      assert.equal(p.exitCode(), 143);
      assert.deepEqual(await usage(dir), { bytes_to_peer: 1500, bytes_to_client: 150, packets_to_peer: 1, packets_to_client: 1 });
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });

  it('kill -9 loses at most one write interval', async () => {
    const dir = tempDir();
    const p = await startProcess(dir, '300ms');
    procs.push(p);
    const c1 = await traffic(p.port, 4000, 400);
    await sleep(1000); // more than one interval: written
    const c2 = await traffic(p.port, 50, 5);
    process.kill(p.pid, 'SIGKILL');
    await until(() => p.exitedNow(), 5000, 'ferry killed');
    await p.stop();
    c1.close();
    c2.close();
    const got = await usage(dir);
    assert.ok(got !== undefined);
    assert.ok(got.bytes_to_peer >= 4000 && got.bytes_to_peer <= 4050, `bytes_to_peer ${got.bytes_to_peer}`);
    assert.ok(got.bytes_to_client >= 400 && got.bytes_to_client <= 405, `bytes_to_client ${got.bytes_to_client}`);
  });
});
