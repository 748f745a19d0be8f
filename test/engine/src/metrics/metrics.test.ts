import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../../helpers/turn-server.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import * as C from '../../../../turn/codec/constants.js';
import { FerryMetrics } from '../../../../src/metrics/index.js';
import { combineTurnEvents } from '../../../../app/turn-events.js';
import { WebhookDispatcher, verifySignature } from '../../../../src/webhooks/index.js';
import { openSqliteStore, type SqliteAccountStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteWebhookOutbox } from '../../../../src/store/sqlite-webhook-outbox.js';
import { AccountService } from '../../../../src/accounts/service.js';
import { IceServerIssuer } from '../../../../src/credentials/ice-servers.js';
import { SignalTokens } from '../../../../src/credentials/signal-token.js';
import { buildSignalingApp } from '../../../../signaling/app.js';
import type { MetricsEndpoint } from '../../../../signaling/deps.js';
import { Receiver } from '../../../helpers/webhook-receiver.js';

const SECRET = 'whsec-test-0123456789';

/** The value of one sample line `name{labels} value` ('' labels: no braces). */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(labels === '' ? `${name} ` : `${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics and session.closed for a real allocation', () => {
  let fx: Fixture;
  let store: SqliteAccountStore;
  let dispatcher: WebhookDispatcher;
  const metrics = new FerryMetrics();
  const receiver = new Receiver();
  const open: { close(): void }[] = [];

  before(async () => {
    fx = await startServer();
    store = openSqliteStore('sqlite::memory:');
    const port = await receiver.listen();
    dispatcher = new WebhookDispatcher({
      hooks: [{ url: `http://127.0.0.1:${port}/`, secret: SECRET, events: ['session.closed'] }],
      outbox: new SqliteWebhookOutbox(store.db),
      initialBackoffMs: 40,
    });
    dispatcher.start();
    metrics.observe({ sessions: () => fx.server.sessions() });
    metrics.observe({ webhookBacklog: () => dispatcher.lastBacklog });
    fx.listen(combineTurnEvents(metrics.turnEvents(), dispatcher.turnEvents()));
  });
  after(async () => {
    for (const o of open) o.close();
    await fx.stop();
    await dispatcher.stop();
    await store.close();
    await receiver.close();
  });

  test('relayed bytes and packets count live and after close; session.closed is delivered', async () => {
    const c = await TestTurnClient.connect({ port: fx.udpPort, transport: 'udp', username: 'alice', password: 'alice-pass' });
    open.push(c);
    const p = await UdpPeer.open('127.0.0.1');
    open.push(p);
    const relayed = (await c.allocate()).xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
    assert.equal((await c.createPermission(p.address)).code, 0);
    c.sendIndication(p.address, Buffer.from('hello'));
    assert.ok(await p.waitFor(1));
    p.send(Buffer.from('reply!'), relayed);
    assert.ok(await c.nextData());

    let text = (await metrics.render()).body;
    assert.equal(sample(text, 'ferry_allocations_active', 'transport="udp"'), 1);
    assert.equal(sample(text, 'ferry_allocations_total', 'transport="udp"'), 1);
    assert.equal(sample(text, 'ferry_relayed_bytes_total', 'transport="udp",direction="to_peer"'), 5, 'live counters at scrape time');
    assert.equal(sample(text, 'ferry_relayed_bytes_total', 'transport="udp",direction="to_client"'), 6);

    assert.equal((await c.refresh(0)).code, 0);
    text = (await metrics.render()).body;
    assert.equal(sample(text, 'ferry_allocations_active', 'transport="udp"'), 0);
    assert.equal(sample(text, 'ferry_relayed_bytes_total', 'transport="udp",direction="to_peer"'), 5, 'kept after close');
    assert.equal(sample(text, 'ferry_relayed_bytes_total', 'transport="udp",direction="to_client"'), 6);
    assert.equal(sample(text, 'ferry_relayed_packets_total', 'transport="udp",direction="to_peer"'), 1);
    assert.equal(sample(text, 'ferry_relayed_packets_total', 'transport="udp",direction="to_client"'), 1);
    assert.equal(sample(text, 'ferry_relayed_bytes_total', 'transport="tcp",direction="to_peer"'), 0);
    assert.match(text, /^ferry_sessions_closed_total\{reason="[a-z-]+"\} 1$/m);

    assert.ok(await receiver.waitFor(1));
    const got = receiver.received[0];
    assert.ok(verifySignature(SECRET, got.headers['ferry-signature'] as string, got.body, 60));
    assert.equal(got.json.type, 'session.closed');
    const d = got.json.data;
    assert.equal(d.transport, 'udp');
    assert.deepEqual(d.client, { address: '127.0.0.1', port: c.localPort });
    assert.deepEqual([d.bytes_to_peer, d.packets_to_peer, d.bytes_to_client, d.packets_to_client], [5, 1, 6, 1]);
    assert.equal(typeof d.reason, 'string');
    assert.ok(Date.parse(d.ended_at as string) >= Date.parse(d.started_at as string));
    assert.equal(typeof d.account, 'string');
    assert.ok(!got.body.includes('alice-pass'), 'no secrets');
    assert.equal('username' in d, false);
  });

  test('auth failures by reason; the text has every metric and no account or user label', async () => {
    const c = await TestTurnClient.connect({ port: fx.udpPort, transport: 'udp', username: 'alice', password: 'wrong-password' });
    open.push(c);
    assert.equal((await c.allocate()).code, 401);
    metrics.limitEvent('soft_limit');
    const text = (await metrics.render()).body;
    assert.ok((sample(text, 'ferry_auth_failures_total', 'reason="credentials"') ?? 0) >= 1, text);
    assert.equal(sample(text, 'ferry_limit_events_total', 'event="soft_limit"'), 1);
    assert.equal(sample(text, 'ferry_webhook_backlog', ''), 0);
    for (const name of [
      'ferry_allocations_active',
      'ferry_allocations_total',
      'ferry_sessions_closed_total',
      'ferry_relayed_bytes_total',
      'ferry_relayed_packets_total',
      'ferry_auth_failures_total',
      'ferry_limit_events_total',
      'ferry_webhook_backlog',
      'ferry_signaling_connections',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    const labelNames = new Set([...text.matchAll(/[{,]([a-z_]+)="/g)].map((m) => m[1]));
    for (const bad of ['account', 'user', 'username', 'peer', 'peer_id']) assert.equal(labelNames.has(bad), false, bad);
    assert.ok(!text.includes('alice'), 'no username anywhere');
  });

  test('combineTurnEvents: a throwing listener does not stop the others', () => {
    const seen: string[] = [];
    const events = combineTurnEvents(
      { authFailure: () => { throw new Error('boom'); } },
      undefined,
      { authFailure: (r) => seen.push(r) },
    );
    events.authFailure?.('unknown', '192.0.2.1');
    assert.deepEqual(seen, ['unknown']);
  });
});

describe('GET /metrics', () => {
  async function app(token: string | undefined) {
    const store = openSqliteStore('sqlite::memory:');
    const accounts = await AccountService.open(store, Date.now);
    const secret = () => 'rest-secret-0123456789abcdef';
    const metrics = new FerryMetrics({ defaultMetrics: false });
    const endpoint: MetricsEndpoint = {
      ...(token !== undefined ? { token } : {}),
      render: () => metrics.render(),
      observeSignaling: (stats) => {
        metrics.observe({ signalingPeers: () => stats().peers });
      },
    };
    const a = buildSignalingApp({
      accounts,
      iceServers: new IceServerIssuer({ secret, turnPort: 3478, now: Date.now }),
      tokens: new SignalTokens({ secret, directory: accounts.directory, now: Date.now }),
      metrics: endpoint,
    });
    await a.ready();
    return {
      inject: (authorization?: string) => a.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} }),
      async close() {
        await a.close();
        await store.close();
      },
    };
  }

  test('without metrics.token: open, Prometheus text', async () => {
    const a = await app(undefined);
    const res = await a.inject();
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(sample(res.body, 'ferry_signaling_connections', ''), 0);
    assert.doesNotMatch(res.body, /^process_/m, 'default metrics off here');
    await a.close();
  });

  test('with metrics.token: 401 without or with a wrong bearer, 200 with it', async () => {
    const token = 'metrics-token-0123456789';
    const a = await app(token);
    assert.equal((await a.inject()).statusCode, 401);
    assert.equal((await a.inject('Bearer metrics-token-wrong-000000')).statusCode, 401);
    assert.equal((await a.inject(`Basic ${token}`)).statusCode, 401);
    const ok = await a.inject(`Bearer ${token}`);
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /# TYPE ferry_allocations_active gauge/);
    await a.close();
  });
});
