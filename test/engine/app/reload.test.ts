// FerryHandle.reload (what SIGHUP applies), in process: peers, quotas, realm and log level change
// for new requests while live allocations stay; restart-only keys are reported and left alone.
// network_usage limits and webhooks apply live too: a lowered global limit refuses Allocates at
// once, an added webhook receives events signed with its secret (a local receiver on loopback), a
// report_interval set by a reload starts usage.report events.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/logger.js';
import { startFerry, type FerryHandle } from '../../../app/ferry.js';
import { verifySignature } from '../../../src/webhooks/index.js';
import { freePort, reservePortRange, type PortRange } from '../../helpers/ports.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { Receiver } from '../../helpers/webhook-receiver.js';

/** The config both suites start from: loopback listener and relay, an in-memory store. */
const baseConfig = (port: number, range: PortRange, keys: Record<string, unknown>): Record<string, unknown> => ({
  address: `127.0.0.1:${port}`,
  relay_ip: '127.0.0.1',
  relay_ports: `${range.lo}-${range.hi}`,
  signaling: { address: '127.0.0.1:0' },
  storage: 'sqlite::memory:',
  ...keys,
});

describe('FerryHandle.reload', () => {
  let handle: FerryHandle;
  let range: PortRange;
  let port = 0;
  const clients: TestTurnClient[] = [];
  const logger = createLogger('info', { write: () => {} });
  let base: Record<string, unknown> = {};

  const client = async (username = 'alice', password = 'alice-password') => {
    const c = await TestTurnClient.connect({ port, username, password });
    clients.push(c);
    return c;
  };

  before(async () => {
    port = await freePort();
    range = await reservePortRange();
    base = baseConfig(port, range, { realm: 'one', users: { alice: 'alice-password' }, quotas: { allocations_per_user: 1 } });
    handle = await startFerry(parseConfig(base, '/nonexistent/config.json'), logger);
  });

  after(async () => {
    for (const c of clients) c.close();
    await handle?.stop();
    range?.release();
  });

  it('applies peers, quotas, realm and log_level to new requests and keeps live allocations', async () => {
    const a = await client();
    assert.equal((await a.allocate()).code, 0);
    assert.equal(a.realm, 'one');
    // 127.0.0.1, the relay address, is relay-only by default: another loopback address shows the change.
    assert.equal((await a.createPermission({ address: '127.0.0.2' })).code, 403, 'loopback peers refused at first');
    assert.equal((await (await client()).allocate()).code, 486, 'one allocation per user');

    const diff = handle.reload(parseConfig({
      ...base,
      address: `127.0.0.1:${port + 1}`,
      realm: 'two',
      peers: { allow: ['127.0.0.0/8'] },
      quotas: { allocations_per_user: 5 },
      log_level: 'debug',
    }, '/nonexistent/config.json'));
    assert.deepEqual(diff, { live: ['peers', 'quotas', 'realm', 'log_level'], restart: ['address'] });

    assert.equal((await a.createPermission({ address: '127.0.0.2' })).code, 0, 'the live allocation is kept and the new policy applies');
    const b = await client();
    assert.equal((await b.allocate()).code, 0, 'the new quota applies');
    assert.equal(b.realm, 'two');
    assert.equal(logger.level, 'debug');
    assert.ok(handle.listening().every((l) => l.port === port), 'the address needs a restart');
  });

  it('applies users and refuses removed ones', async () => {
    handle.reload(parseConfig({ ...base, users: { bob: 'bob-password' }, quotas: { allocations_per_user: 5 } }, '/nonexistent/config.json'));
    assert.equal((await (await client('bob', 'bob-password')).allocate()).code, 0);
    assert.equal((await (await client()).allocate()).code, 401);
  });
});

describe('FerryHandle.reload: network_usage and webhooks', () => {
  let handle: FerryHandle | undefined;
  let range: PortRange | undefined;
  let peer: UdpPeer | undefined;
  let port = 0;
  let hookUrl = '';
  const receiver = new Receiver();
  const clients: TestTurnClient[] = [];
  const logger = createLogger('info', { write: () => {} });
  let base: Record<string, unknown> = {};
  const SECRET_1 = 'whsec-reload-first-0123456789';
  const SECRET_2 = 'whsec-reload-second-0123456789';
  const reload = (extra: Record<string, unknown>) => handle!.reload(parseConfig({ ...base, ...extra }, '/nonexistent/config.json'));

  const client = async (username: 'alice' | 'bob') => {
    const c = await TestTurnClient.connect({ port, username, password: `${username}-password` });
    clients.push(c);
    return c;
  };
  /** An allocation of `username` with a permission for the peer. */
  const relaying = async (username: 'alice' | 'bob') => {
    const c = await client(username);
    assert.equal((await c.allocate()).code, 0);
    assert.equal((await c.createPermission(peer!.address)).code, 0);
    return c;
  };
  /** Sends `n` indications of 100 bytes and waits until the peer has them all. */
  const relay = async (c: TestTurnClient, n: number) => {
    const want = peer!.received.length + n;
    for (let i = 0; i < n; i++) c.sendIndication(peer!.address, Buffer.alloc(100, i));
    assert.ok(await peer!.waitFor(want), 'relayed to the peer');
  };
  /** Allocates as bob until the answer is `code` (a fresh client each time, deallocated), at most `ms`. */
  const allocateUntil = async (code: number, ms: number): Promise<number> => {
    const end = Date.now() + ms;
    for (;;) {
      const c = await client('bob');
      const got = (await c.allocate()).code;
      if (got === 0) assert.equal((await c.refresh(0)).code, 0);
      c.close();
      if (got === code || Date.now() > end) return got;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    port = await freePort();
    range = await reservePortRange();
    peer = await UdpPeer.open('127.0.0.1');
    hookUrl = `http://127.0.0.1:${await receiver.listen()}/ferry`;
    base = baseConfig(port, range, { users: { alice: 'alice-password', bob: 'bob-password' }, peers: { allow: ['127.0.0.0/8'] } });
    handle = await startFerry(parseConfig(base, '/nonexistent/config.json'), logger);
  });

  after(async () => {
    for (const c of clients) c.close();
    await handle?.stop();
    peer?.close();
    await receiver.close();
    range?.release();
  });

  it('a lowered network_usage.global_limit refuses new Allocates (486) within a second and keeps live allocations', async () => {
    const alice = await relaying('alice');
    await relay(alice, 10); // 1000 payload bytes this timeframe
    assert.equal(await allocateUntil(0, 0), 0, 'no global limit yet');

    // 1000 of 2000 bytes: over the soft limit (10%), under the hard one (100%).
    const diff = reload({ network_usage: { global_limit: 2000, soft_limit: '10%', hard_limit: '100%' } });
    assert.deepEqual(diff, { live: ['network_usage.global_limit', 'network_usage.soft_limit', 'network_usage.hard_limit'], restart: [] });
    assert.equal(await allocateUntil(486, 1000), 486, 'new allocations refused');
    assert.equal((await alice.refresh()).code, 0, 'the live allocation stays');
    await relay(alice, 2); // and still relays
    assert.equal(handle!.allocationCount(), 1);

    // Raised: the refusal lifts within a second.
    reload({ network_usage: { global_limit: '1GB', soft_limit: '10%', hard_limit: '100%' } });
    assert.equal(await allocateUntil(0, 1000), 0, 'allocations accepted again');
    // Back to no limit; a changed timeframe is reported as needing a restart and is not applied.
    assert.deepEqual(reload({ network_usage: { timeframe: '7d' } }), {
      live: ['network_usage.global_limit', 'network_usage.soft_limit', 'network_usage.hard_limit'],
      restart: ['network_usage.timeframe'],
    });
    assert.deepEqual(reload({}), { live: [], restart: [] }, 'the running timeframe is still the first one');
    assert.equal((await alice.refresh()).code, 0);
  });

  it('a reload that adds a webhook delivers events to it, signed with its secret; a new secret signs the later ones', async () => {
    const diff = reload({ webhooks: [{ url: hookUrl, secret: SECRET_1, events: ['session.closed'] }] });
    assert.deepEqual(diff, { live: ['webhooks'], restart: [] });
    const first = await relaying('bob');
    await relay(first, 3);
    assert.equal((await first.refresh(0)).code, 0, 'deallocate: session.closed');
    assert.ok(await receiver.waitFor(1), 'delivered to the added webhook');
    const closed = receiver.received[0];
    assert.equal(closed.json.type, 'session.closed');
    assert.equal(closed.json.data.account, 'bob');
    assert.equal(closed.json.data.bytes_to_peer, 300);
    assert.ok(verifySignature(SECRET_1, closed.headers['ferry-signature'] as string, closed.body, 60), 'signed with the configured secret');

    // A new secret and every event type, with a global limit the usage is already over.
    reload({
      webhooks: [{ url: hookUrl, secret: SECRET_2, events: ['*'] }],
      network_usage: { global_limit: 2000, soft_limit: '10%', hard_limit: '100%' },
    });
    assert.ok(await receiver.waitFor(2), 'usage.soft_limit delivered');
    const soft = receiver.received[1];
    assert.equal(soft.json.type, 'usage.soft_limit');
    assert.equal(soft.json.data.account, null);
    assert.equal(soft.json.data.limit_bytes, 2000);
    assert.ok((soft.json.data.usage_bytes as number) >= 1500, String(soft.json.data.usage_bytes));
    const header = soft.headers['ferry-signature'] as string;
    assert.ok(verifySignature(SECRET_2, header, soft.body, 60), 'signed with the new secret');
    assert.equal(verifySignature(SECRET_1, header, soft.body, 60), false);
    await new Promise((r) => setTimeout(r, 1200)); // the limiter checks every second
    assert.deepEqual(receiver.received.map((r) => r.json.type), ['session.closed', 'usage.soft_limit'], 'one event per crossing');
  });

  it('a reload that sets network_usage.report_interval starts usage.report events; write_interval applies too', async () => {
    const running = { webhooks: [{ url: hookUrl, secret: SECRET_2, events: ['*'] }], network_usage: { global_limit: 2000, soft_limit: '10%', hard_limit: '100%' } };
    const seen = receiver.received.length;
    const diff = reload({ ...running, network_usage: { ...running.network_usage, report_interval: '1s', write_interval: '200ms' } });
    assert.deepEqual(diff, { live: ['network_usage.write_interval', 'network_usage.report_interval'], restart: [] });
    assert.ok(await receiver.waitFor(seen + 1), 'a usage.report delivered');
    const report = receiver.received[seen];
    assert.equal(report.json.type, 'usage.report');
    assert.ok(verifySignature(SECRET_2, report.headers['ferry-signature'] as string, report.body, 60));
  });
});
