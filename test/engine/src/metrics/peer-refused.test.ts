// Peer refusals in /metrics (issue 9): every 403 of the peer policy counted by reason, the data-path
// drops of relay-only permissions counted at scrape time, and each refusal logged at debug level.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../../helpers/turn-server.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import { FerryMetrics } from '../../../../src/metrics/index.js';
import { combineTurnEvents } from '../../../../app/turn-events.js';

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(labels === '' ? `${name} ` : `${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

let fx: Fixture;
const metrics = new FerryMetrics({ defaultMetrics: false });
const open: { close(): void }[] = [];

before(async () => {
  fx = await startServer({ allow: [], deny: ['8.8.4.0/24'], serverAddresses: ['127.0.0.0/8'], relayAddresses: ['127.0.0.1'] });
  metrics.observe({ relayOnlyDrops: () => fx.server.relayOnlyDrops() });
  fx.listen(combineTurnEvents(metrics.turnEvents()));
});
after(async () => {
  for (const o of open) o.close();
  await fx.stop();
});

test('ferry_peer_refused_total by reason and ferry_relay_only_dropped_packets_total', async () => {
  let text = (await metrics.render()).body;
  for (const reason of ['denied', 'special-purpose', 'own-address', 'unspecified', 'not-relay-port']) {
    assert.equal(sample(text, 'ferry_peer_refused_total', `reason="${reason}"`), 0, `${reason} present from the start`);
  }
  assert.equal(sample(text, 'ferry_relay_only_dropped_packets_total', ''), 0);

  const c = await TestTurnClient.connect({ port: fx.udpPort, username: 'alice', password: 'alice-pass' });
  open.push(c);
  const echo = await UdpPeer.open('127.0.0.1', true);
  open.push(echo);
  assert.equal((await c.allocate()).code, 0);
  for (const address of ['8.8.4.4', '10.0.0.1', '192.168.1.1', '127.0.0.2', '0.0.0.0']) {
    assert.equal((await c.createPermission({ address })).code, 403, address);
  }
  assert.equal((await c.channelBind(0x4000, echo.address)).code, 403);
  assert.equal((await c.createPermission({ address: '127.0.0.1' })).code, 0, 'the relay address: relay-only');
  c.sendIndication(echo.address, Buffer.from('x'));
  c.sendIndication(echo.address, Buffer.from('y'));
  c.sendIndication(echo.address, Buffer.from('z'));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(echo.received.length, 0);

  text = (await metrics.render()).body;
  assert.equal(sample(text, 'ferry_peer_refused_total', 'reason="denied"'), 1);
  assert.equal(sample(text, 'ferry_peer_refused_total', 'reason="special-purpose"'), 2);
  assert.equal(sample(text, 'ferry_peer_refused_total', 'reason="own-address"'), 1);
  assert.equal(sample(text, 'ferry_peer_refused_total', 'reason="unspecified"'), 1);
  assert.equal(sample(text, 'ferry_peer_refused_total', 'reason="not-relay-port"'), 1);
  assert.equal(sample(text, 'ferry_relay_only_dropped_packets_total', ''), 3);
  const labelNames = new Set([...text.matchAll(/[{,]([a-z_]+)="/g)].map((m) => m[1]));
  for (const bad of ['account', 'user', 'username', 'peer', 'peer_id', 'address']) assert.equal(labelNames.has(bad), false, bad);
  assert.equal((await c.refresh(0)).code, 0);
});

test('a refusal is logged at debug level with its reason', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = { info() {}, warn() {}, error() {}, debug: (obj: object, msg?: string) => lines.push({ ...obj, msg }) };
  const logged = await startServer({ allow: [], serverAddresses: ['127.0.0.1'], relayAddresses: ['127.0.0.1'], log });
  try {
    const c = await TestTurnClient.connect({ port: logged.udpPort, username: 'alice', password: 'alice-pass' });
    open.push(c);
    assert.equal((await c.allocate()).code, 0);
    assert.equal((await c.createPermission({ address: '10.1.2.3' })).code, 403);
    assert.equal((await c.channelBind(0x4000, { address: '127.0.0.1', port: logged.udpPort })).code, 403);
    const refusals = lines.filter((l) => l.msg === 'peer refused by the peer policy');
    assert.deepEqual(refusals.map((l) => [l.reason, l.peer, l.port]), [['special-purpose', '10.1.2.3', 0], ['not-relay-port', '127.0.0.1', logged.udpPort]]);
    assert.equal((await c.refresh(0)).code, 0);
  } finally {
    await logged.stop();
  }
});
