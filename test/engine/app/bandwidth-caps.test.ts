// Bandwidth caps through the whole of Ferry (startFerry, real clock, real sockets): quotas.max_bps
// per allocation from the config, max_bps per account from the admin API applied to live
// allocations, a reload changing the allocation cap live, and the dropped excess reported by /v1/sessions and /metrics. Every payload byte
// sent is either relayed or counted as capped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/logger.js';
import { startFerry, type FerryHandle } from '../../../app/ferry.js';
import { mintRestCredential } from '../../../src/credentials/rest.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { freePort } from '../../helpers/ports.js';
import { sleep } from '../../helpers/wait.js';
import { apiJson } from '../../helpers/admin-http.js';

const ADMIN = 'caps-admin-token-0123456789';
const SECRET = 'caps-rest-secret-0123456789';
const METRICS = 'caps-metrics-token-0123456789';
const ALLOCATION_BPS = 2000;

interface SessionRow {
  account: string;
  client: string;
  bytes_to_peer: number;
  packets_to_peer: number;
  capped_bytes_to_peer: number;
  capped_packets_to_peer: number;
}

describe('bandwidth caps (max_bps) in a running Ferry', () => {
  let dir: string;
  let ferry: FerryHandle | undefined;
  const open: { close(): void }[] = [];
  const sink = new Writable({ write: (_c, _e, done) => done() });
  let api = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-caps-'));
    const configFile = join(dir, 'ferry.json');
    writeFileSync(configFile, JSON.stringify({
      address: `127.0.0.1:${await freePort()}`,
      relay_ip: '127.0.0.1',
      users: { alice: 'alice-password-123' },
      auth_secrets: [SECRET],
      peers: { allow: ['127.0.0.0/8'] },
      quotas: { max_bps: '2KB' },
      signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
      metrics: { token: METRICS },
      storage: 'sqlite::memory:',
    }));
    ferry = await startFerry(await loadConfig(configFile), createLogger('silent', sink));
    api = `http://127.0.0.1:${ferry.signalingAddress().port}`;
  });
  after(async () => {
    for (const o of open) o.close();
    await ferry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = (method: string, path: string, body?: unknown) => apiJson<Record<string, unknown>>(api, method, path, ADMIN, body);
  const session = async (c: TestTurnClient): Promise<SessionRow> => {
    const { json } = await admin('GET', '/v1/sessions');
    const row = (json.sessions as SessionRow[]).find((s) => s.client === `127.0.0.1:${c.localPort}`);
    assert.ok(row, 'the allocation is listed');
    return row;
  };
  /** A client with a channel to `peer`; REST credentials of `account`, or the static user. */
  const relayTo = async (peer: UdpPeer, account?: string): Promise<TestTurnClient> => {
    const udp = ferry!.listening().find((l) => l.transport === 'udp')!;
    const cred = account === undefined
      ? { username: 'alice', password: 'alice-password-123' }
      : mintRestCredential(SECRET, account, 600, Date.now());
    const c = await TestTurnClient.connect({ port: udp.port, username: cred.username, password: cred.password });
    open.push(c);
    assert.equal((await c.allocate()).code, 0);
    assert.equal((await c.channelBind(0x4000, peer.address)).code, 0);
    return c;
  };
  const newPeer = async () => {
    const p = await UdpPeer.open('127.0.0.1');
    open.push(p);
    return p;
  };
  /** Waits until the peer's count stops growing for 300 ms. */
  const settle = async (p: UdpPeer) => {
    let seen = -1;
    while (seen !== p.received.length) {
      seen = p.received.length;
      await sleep(300);
    }
    return seen;
  };

  it('quotas.max_bps: a burst passes one second\'s worth; the rest is dropped and reported', async () => {
    const p = await newPeer();
    const c = await relayTo(p);
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) c.sendChannelData(0x4000, Buffer.alloc(100, i));
    const got = await settle(p);
    const refillPackets = Math.ceil(((Date.now() - t0) / 1000) * ALLOCATION_BPS / 100);
    assert.ok(got >= 20 && got <= 20 + refillPackets, `${got} packets: 20 of burst, at most ${refillPackets} refilled`);
    const s = await session(c);
    assert.deepEqual(
      [s.bytes_to_peer, s.packets_to_peer, s.capped_bytes_to_peer, s.capped_packets_to_peer],
      [got * 100, got, (100 - got) * 100, 100 - got],
      'each payload byte is relayed or capped',
    );
    const res = await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
    const text = await res.text();
    assert.match(text, new RegExp(`^ferry_capped_packets_total\\{transport="udp",direction="to_peer"\\} ${100 - got}$`, 'm'));
    assert.match(text, new RegExp(`^ferry_capped_bytes_total\\{transport="udp",direction="to_peer"\\} ${(100 - got) * 100}$`, 'm'));
    assert.equal((await c.refresh(0)).code, 0);
  });

  it('an account\'s max_bps holds its allocations together and is lifted live', async () => {
    const created = await admin('POST', '/v1/accounts', { name: 'capped' });
    const id = created.json.id as string;
    assert.equal((await admin('PATCH', `/v1/accounts/${id}`, { max_bps: 1500 })).status, 200);
    const p = await newPeer();
    const [a, b] = [await relayTo(p, id), await relayTo(p, id)];
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) for (const c of [a, b]) c.sendChannelData(0x4000, Buffer.alloc(100));
    const got = await settle(p);
    const refill = Math.ceil(((Date.now() - t0) / 1000) * 1500 / 100);
    assert.ok(got >= 15 && got <= 15 + refill, `${got} packets for the account: 15 of burst, at most ${refill} refilled`);
    const [sa, sb] = [await session(a), await session(b)];
    assert.equal(sa.account, id);
    assert.equal(sa.packets_to_peer + sb.packets_to_peer, got);
    assert.equal(sa.capped_packets_to_peer + sb.capped_packets_to_peer, 80 - got);

    // Lifted: after a second, a's own 2,000-byte bucket is full again and the account no longer
    // holds it to 1,500 bytes.
    assert.equal((await admin('PATCH', `/v1/accounts/${id}`, { max_bps: null })).status, 200);
    await sleep(1100);
    for (let i = 0; i < 20; i++) a.sendChannelData(0x4000, Buffer.alloc(100));
    assert.equal((await settle(p)) - got, 20, 'only the allocation cap is left');
    for (const c of [a, b]) assert.equal((await c.refresh(0)).code, 0);
  });

  it('a reload changes quotas.max_bps for the live allocations', async () => {
    const p = await newPeer();
    const c = await relayTo(p);
    const reloadWith = async (maxBps: string) => {
      const file = join(dir, 'ferry.json');
      const config = JSON.parse(readFileSync(file, 'utf8')) as { quotas: { max_bps: string } };
      config.quotas.max_bps = maxBps;
      writeFileSync(file, JSON.stringify(config));
      ferry!.reload(await loadConfig(file));
    };
    await reloadWith('0');
    for (let i = 0; i < 100; i++) c.sendChannelData(0x4000, Buffer.alloc(100));
    assert.equal(await settle(p), 100, 'no cap after the reload');
    await reloadWith('1KB');
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) c.sendChannelData(0x4000, Buffer.alloc(100));
    const got = (await settle(p)) - 100;
    const refill = Math.ceil(((Date.now() - t0) / 1000) * 1000 / 100);
    assert.ok(got >= 15 && got <= 15 + refill, `${got} packets: a 1,500-byte burst, at most ${refill} refilled`);
    assert.equal((await session(c)).capped_packets_to_peer, 100 - got);
    assert.equal((await c.refresh(0)).code, 0);
  });
});
