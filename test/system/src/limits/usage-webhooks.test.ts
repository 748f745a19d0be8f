// Usage limits and their webhooks end to end: a real `ferry start --fg` process, an account with a
// tiny limit, a TURN client relaying known payload to a loopback peer, and a local HTTP receiver
// that checks every delivery's Ferry-Signature itself (HMAC-SHA256 over "<t>.<raw body>").
//  1. soft (486, 429 usage_limit) then hard (live allocation closed, session.closed reason 'limit'
//     with the exact payload bytes), periodic usage.report; the receiver is down around the hard
//     crossing and gets everything later, in order, without duplicates.
//  2. rollover: a ledger seeded (with the store's own API) so that the 1m timeframe started 45 s
//     ago and is over the limit; usage.reset at the rollover, then Allocate and ice-servers work.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountService } from '../../../../src/accounts/service.js';
import { hourOf } from '../../../../src/metering/types.js';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../../../../src/store/sqlite-usage-store.js';
import { LOOPBACK_PEERS, TEST_SECRET, restCredentials, signalingPort, startFerryProcess, type FerryProcess } from '../../../helpers/ferry-process.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import { until } from '../../../helpers/wait.js';
import { Receiver, type Received } from '../../../helpers/webhook-receiver.js';
import { apiJson } from '../../../helpers/admin-http.js';
import { Cleanups } from '../../../helpers/cleanups.js';

const HOOK_SECRET = 'e2e-usage-hook-secret-0123';
const ADMIN = 'e2e-usage-admin-token-0123';
const LIMIT = 10_000; // soft 50 % = 5000 bytes, hard 80 % = 8000 bytes
const CHUNK = 1000;

/**
 * The documented scheme, recomputed here: `t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`;
 * t (the attempt's time, so also recent for a retried event) within 30 s of receipt.
 */
function signatureOk(secret: string, header: unknown, raw: Buffer, receivedAt: number): boolean {
  const m = typeof header === 'string' ? /^t=(\d{1,15}),v1=([0-9a-f]{64})$/.exec(header) : null;
  if (m === null || Math.abs(receivedAt / 1000 - Number(m[1])) > 30) return false;
  const mac = createHmac('sha256', secret).update(`${m[1]}.`).update(raw).digest();
  return timingSafeEqual(mac, Buffer.from(m[2], 'hex'));
}

function assertSignedAndUnique(hooks: readonly Received[]): void {
  for (const h of hooks) {
    assert.ok(signatureOk(HOOK_SECRET, h.headers['ferry-signature'], h.raw, h.receivedAt), `signature of ${h.json.type} ${h.raw} (${String(h.headers['ferry-signature'])}, received at ${h.receivedAt})`);
    assert.match(h.json.id, /^evt_[0-9a-f]{32}$/);
    assert.equal(h.headers['idempotency-key'], h.json.id);
    assert.ok(Math.abs(Date.parse(h.json.created_at) - h.receivedAt) < 60_000, 'created_at is recent');
  }
  const ids = hooks.map((h) => h.json.id);
  assert.equal(new Set(ids).size, ids.length, 'no event delivered twice (Idempotency-Key)');
  const created = hooks.map((h) => Date.parse(h.json.created_at));
  assert.deepEqual(created, [...created].sort((a, b) => a - b), 'delivered in the order they were created');
}

function http(ferry: Ferry, method: string, path: string, token: string, body?: unknown) {
  return apiJson(`http://127.0.0.1:${ferry.signalingPort}`, method, path, token, body);
}

interface Ferry extends FerryProcess {
  readonly signalingPort: number;
}

async function launch(receiver: Receiver, storage: string, networkUsage: Record<string, string>): Promise<Ferry> {
  const handle = await startFerryProcess({
    peers: LOOPBACK_PEERS,
    storage,
    signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
    network_usage: { soft_limit: '50%', hard_limit: '80%', write_interval: '200ms', report_interval: '1s', ...networkUsage },
    webhooks: [{ url: `http://127.0.0.1:${receiver.port}/hooks`, secret: HOOK_SECRET, events: ['*'] }],
  });
  let port = 0;
  try {
    port = await signalingPort(handle);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return Object.assign(handle, { signalingPort: port });
}

describe('usage webhooks from a ferry process', () => {
  // Each test's process, sockets, receiver and files go when it ends, passed or not.
  const cleanups = new Cleanups();
  afterEach(async () => {
    await cleanups.run();
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'ferry-usage-hooks-'));
    cleanups.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };
  const turnClient = async (ferry: Ferry, cred: { username: string; password: string }) => {
    const c = await TestTurnClient.connect({ port: ferry.udpPort, ...cred });
    cleanups.push(() => c.close());
    return c;
  };

  it('soft then hard: 486, 429, the live allocation closed, signed events in order, reports, a receiver down for a while', async () => {
    const receiver = new Receiver();
    await receiver.listen();
    cleanups.push(() => receiver.close());
    const ferry = await launch(receiver, `sqlite:${join(tempDir(), 'ferry.db')}`, { timeframe: '1h' });
    cleanups.push(() => ferry.stop());
    const peer = await UdpPeer.open('127.0.0.1');
    cleanups.push(() => peer.close());

    const created = await http(ferry, 'POST', '/v1/accounts', ADMIN, { name: 'tiny' });
    assert.equal(created.status, 201);
    const { id, api_key: apiKey } = created.json as { id: string; api_key: string };
    const patched = await http(ferry, 'PATCH', `/v1/accounts/${id}`, ADMIN, { limit: LIMIT });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.limit, LIMIT);
    const ice = await http(ferry, 'POST', '/v1/ice-servers', apiKey);
    assert.equal(ice.status, 200);
    const { username, credential } = ice.json.iceServers[0] as { username: string; credential: string };
    assert.match(username, new RegExp(`^\\d+:${id}:\\d+$`));

    // A second allocation works before the limit (so the 486 below is the limit, not a quota).
    const probe = await turnClient(ferry, restCredentials(TEST_SECRET, id));
    assert.equal((await probe.allocate()).code, 0);
    assert.equal((await probe.refresh(0)).code, 0);

    const client = await turnClient(ferry, { username, password: credential });
    const relayed = (await client.allocate()).xorAddress(0x0016)!;
    assert.equal((await client.channelBind(0x4000, peer.address)).code, 0);
    let toPeer = 0;
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) client.sendChannelData(0x4000, Buffer.alloc(CHUNK, 7));
      toPeer += n;
      assert.ok(await peer.waitFor(toPeer), `the peer got ${toPeer} packets`);
    };
    await send(3);
    peer.send(Buffer.alloc(CHUNK, 9), relayed);
    assert.equal((await client.nextData())?.data.length, CHUNK);
    // 4000 bytes: a report says so; no limit event yet.
    await until(() => receiver.of(id, 'usage.report').some((h) => h.json.data.usage_bytes === 4000), 8000, 'usage.report of 4000 bytes');
    assert.deepEqual(receiver.of(id).filter((h) => h.json.type.endsWith('_limit')), []);
    assert.equal((await http(ferry, 'POST', '/v1/ice-servers', apiKey)).status, 200);

    await send(1); // 5000 bytes: the soft limit
    await until(() => receiver.of(id, 'usage.soft_limit').length > 0, 8000, 'usage.soft_limit');
    const soft = receiver.of(id, 'usage.soft_limit')[0].json.data;
    assert.deepEqual({ ...soft, timeframe_start: undefined, timeframe_end: undefined }, { account: id, usage_bytes: 5000, limit_bytes: LIMIT, timeframe_start: undefined, timeframe_end: undefined });
    assert.equal(Date.parse(soft.timeframe_end as string) - Date.parse(soft.timeframe_start as string), 3_600_000, 'the end of the 1h timeframe');
    assert.ok(Date.now() - Date.parse(soft.timeframe_start as string) < 60_000, 'the timeframe started with this process');
    const refused = await turnClient(ferry, restCredentials(TEST_SECRET, id));
    assert.equal((await refused.allocate()).code, 486, 'a new Allocate of the account is refused');
    const limited = await http(ferry, 'POST', '/v1/ice-servers', apiKey);
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.code, 'usage_limit');
    assert.equal(typeof limited.json.error.message, 'string');
    await send(1); // 6000 bytes: the live allocation still relays

    // The receiver goes down; the hard crossing, its session.closed and the reports wait in the outbox.
    await receiver.close();
    const downAt = Date.now();
    await send(2); // 8000 bytes: the hard limit
    const sessions = async () => (await http(ferry, 'GET', `/v1/sessions?account=${id}`, ADMIN)).json.sessions as unknown[];
    const end = Date.now() + 5000;
    while ((await sessions()).length > 0) {
      assert.ok(Date.now() < end, 'the live allocation is closed at the hard limit');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await client.refresh()).code, 437, 'the closed allocation is gone');
    client.sendChannelData(0x4000, Buffer.alloc(CHUNK, 7));
    assert.equal(await peer.waitFor(toPeer + 1, 500), false, 'nothing relayed after the close');
    const failures = () => ferry.logs().split('webhook delivery failed').length - 1;
    await until(() => failures() >= 2, 10_000, 'two failed deliveries while the receiver is down');
    const seenWhileDown = receiver.received.length;
    await receiver.listen(receiver.port);
    const upAt = Date.now();
    await until(() => receiver.of(id, 'session.closed').some((h) => h.json.data.reason === 'limit'), 15_000, 'session.closed after the receiver is back');
    const reportsOf = (bytes: number) => receiver.of(id, 'usage.report').filter((h) => h.json.data.usage_bytes === bytes).length;
    await until(() => reportsOf(8000) >= 2, 8000, 'two usage.report events of 8000 bytes');

    const mine = receiver.of(id);
    assertSignedAndUnique(receiver.received);
    const types = mine.map((h) => h.json.type);
    const at = (type: string, reason?: string) => types.findIndex((t, i) => t === type && (reason === undefined || mine[i].json.data.reason === reason));
    assert.deepEqual(types.filter((t) => t.endsWith('_limit')), ['usage.soft_limit', 'usage.hard_limit'], 'one event per crossing');
    assert.ok(at('usage.soft_limit') < at('usage.hard_limit') && at('usage.hard_limit') < at('session.closed', 'limit'), types.join(' '));
    const hard = mine[at('usage.hard_limit')];
    assert.deepEqual(hard.json.data, { account: id, usage_bytes: 8000, limit_bytes: LIMIT, timeframe_start: soft.timeframe_start, timeframe_end: soft.timeframe_end });
    const closed = mine[at('session.closed', 'limit')].json.data;
    assert.equal(closed.transport, 'udp');
    assert.deepEqual(
      [closed.bytes_to_peer, closed.packets_to_peer, closed.bytes_to_client, closed.packets_to_client],
      [7 * CHUNK, 7, CHUNK, 1],
      'the payload the test relayed, exactly',
    );
    // Created while the receiver was down, delivered only after it came back.
    const queued = receiver.received.slice(seenWhileDown);
    assert.ok(queued.length >= 3, `${queued.length} events after the receiver came back`);
    assert.ok(queued.every((h) => h.receivedAt >= upAt));
    assert.ok(queued.filter((h) => Date.parse(h.json.created_at) >= downAt && Date.parse(h.json.created_at) < upAt).length >= 3);
    assert.ok(Date.parse(hard.json.created_at) >= downAt && hard.receivedAt >= upAt, 'the hard limit event waited for the receiver');

    // usage.report: about once a second, consistent with what was relayed.
    const reports = receiver.of(id, 'usage.report').map((h) => h.json);
    assert.ok(reports.length >= 3, `${reports.length} reports`);
    const bytes = reports.map((r) => r.data.usage_bytes as number);
    assert.deepEqual(bytes, [...bytes].sort((a, b) => a - b), 'non-decreasing');
    assert.ok(bytes.every((b) => b > 0 && b <= 8000 && b % CHUNK === 0), bytes.join(','));
    for (const r of reports) {
      assert.deepEqual({ ...r.data, usage_bytes: 0 }, { account: id, usage_bytes: 0, limit_bytes: LIMIT, timeframe_start: soft.timeframe_start, timeframe_end: soft.timeframe_end });
    }
    for (let i = 1; i < reports.length; i++) {
      assert.ok(Date.parse(reports[i].created_at) - Date.parse(reports[i - 1].created_at) >= 900, 'one report per interval');
    }

    // The verifier refuses a tampered body, another secret and a stale timestamp.
    const sig = hard.headers['ferry-signature'];
    const tampered = Buffer.from(hard.raw.toString('utf8').replace('"usage_bytes":8000', '"usage_bytes":800'));
    assert.notDeepEqual(tampered, hard.raw);
    assert.equal(signatureOk(HOOK_SECRET, sig, tampered, hard.receivedAt), false);
    assert.equal(signatureOk('another-secret-0123456789', sig, hard.raw, hard.receivedAt), false);
    assert.equal(signatureOk(HOOK_SECRET, sig, hard.raw, hard.receivedAt + 600_000), false);
  });

  it('a timeframe rollover sends usage.reset and lifts the limits', async () => {
    const dir = tempDir();
    const storage = `sqlite:${join(dir, 'ferry.db')}`;
    // Seed with the store's own API: an account over its limit in a 1m timeframe that started 45 s ago.
    const store = openSqliteStore(storage);
    const start = Date.now() - 45_000;
    let id: string;
    let apiKey: string;
    try {
      const accounts = await AccountService.open(store, Date.now);
      const made = await accounts.createAccount('rollover');
      ({ id } = made.account);
      apiKey = made.apiKey;
      await accounts.updateAccount(id, { limit: LIMIT });
      const usage = new SqliteUsageStore(store.db);
      await usage.setTimeframe({ start, lengthMs: 60_000 });
      const deltas = [{ account: id, bytesToPeer: 6000, bytesToClient: 3000, packetsToPeer: 6, packetsToClient: 3 }];
      await usage.record({ writer: 'test', seq: 1, hour: hourOf(start), timeframeStart: start, deltas, sessions: [] });
    } finally {
      await store.close();
    }

    const receiver = new Receiver();
    await receiver.listen();
    cleanups.push(() => receiver.close());
    const ferry = await launch(receiver, storage, { timeframe: '1m' });
    cleanups.push(() => ferry.stop());
    const previous = new Date(start).toISOString();
    const next = new Date(start + 60_000).toISOString();
    const nextEnd = new Date(start + 120_000).toISOString();

    await until(() => receiver.of(id, 'usage.hard_limit').length > 0, 5000, 'usage.hard_limit at start');
    assert.deepEqual(receiver.of(id).filter((h) => h.json.type.endsWith('_limit')).map((h) => h.json.data), [
      { account: id, usage_bytes: 9000, limit_bytes: LIMIT, timeframe_start: previous, timeframe_end: next },
      { account: id, usage_bytes: 9000, limit_bytes: LIMIT, timeframe_start: previous, timeframe_end: next },
    ]);
    const before = await turnClient(ferry, restCredentials(TEST_SECRET, id));
    assert.equal((await before.allocate()).code, 486);
    assert.equal((await http(ferry, 'POST', '/v1/ice-servers', apiKey)).status, 429);
    assert.ok(Date.now() < start + 60_000, 'the checks above ran before the rollover');

    await until(() => receiver.of(id, 'usage.reset').length > 0, start + 75_000 - Date.now(), 'usage.reset at the rollover');
    const reset = receiver.of(id, 'usage.reset');
    assert.equal(reset.length, 1);
    assert.deepEqual(reset[0].json.data, { account: id, timeframe_start: next, timeframe_end: nextEnd, previous_timeframe_start: previous });
    assert.ok(Date.parse(reset[0].json.created_at) >= start + 60_000);
    const reports = receiver.of(id, 'usage.report').map((h) => h.json);
    assert.ok(reports.length >= 1, 'reports of the seeded usage');
    for (const r of reports) assert.deepEqual(r.data, { account: id, timeframe_start: previous, timeframe_end: next, usage_bytes: 9000, limit_bytes: LIMIT });

    const afterReset = await turnClient(ferry, restCredentials(TEST_SECRET, id));
    assert.equal((await afterReset.allocate()).code, 0, 'Allocate works again');
    assert.equal((await http(ferry, 'POST', '/v1/ice-servers', apiKey)).status, 200);
    assert.equal((await afterReset.refresh(0)).code, 0);
    assertSignedAndUnique(receiver.received);
  });
});
