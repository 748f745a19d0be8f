// ferry_connections_refused_total{reason}: the engine's connectionRefused events, through the
// composed TurnEvents, counted by cap (per-ip, total); both series exist from the start.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startServer, type Fixture } from '../../../helpers/turn-server.js';
import { FerryMetrics } from '../../../../src/metrics/index.js';
import { combineTurnEvents } from '../../../../app/turn-events.js';

let fx: Fixture;
const metrics = new FerryMetrics({ defaultMetrics: false });
const sockets: Socket[] = [];

before(async () => {
  fx = await startServer();
  fx.listen(combineTurnEvents(metrics.turnEvents()));
});
after(async () => {
  for (const s of sockets) s.destroy();
  await fx.stop();
});

function sample(text: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`ferry_connections_refused_total{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function open(from: string): Promise<boolean> {
  const s = connect({ host: '127.0.0.1', port: fx.tcpPort, localAddress: from });
  sockets.push(s);
  s.on('error', () => {});
  // Resolves false when the server closes it within a second.
  return new Promise((r) => {
    const t = setTimeout(() => r(true), 1000);
    s.once('close', () => {
      clearTimeout(t);
      r(false);
    });
  });
}

test('refused connections are counted by reason', async () => {
  let text = (await metrics.render()).body;
  assert.equal(sample(text, 'reason="per-ip"'), 0);
  assert.equal(sample(text, 'reason="total"'), 0);

  fx.server.update({ connections: { perIp: 1, total: 2, allocateTimeoutMs: 60_000 } });
  assert.equal(await open('127.0.0.1'), true);
  assert.equal(await open('127.0.0.1'), false, 'second from one address: per-ip');
  assert.equal(await open('127.0.0.2'), true);
  assert.equal(await open('127.0.0.3'), false, 'third in all: total');
  text = (await metrics.render()).body;
  assert.equal(sample(text, 'reason="per-ip"'), 1);
  assert.equal(sample(text, 'reason="total"'), 1);
});
