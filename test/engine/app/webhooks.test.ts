// startFerry with webhooks and metrics configured: session.closed reaches the receiver (also for
// allocations closed by stop()), and /metrics on the signaling address wants metrics.token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/logger.js';
import { startFerry, type FerryHandle } from '../../../app/ferry.js';
import { verifySignature } from '../../../src/webhooks/index.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { Receiver } from '../../helpers/webhook-receiver.js';
import { freePort } from '../../helpers/ports.js';

const HOOK_SECRET = 'wiring-hook-secret-0123';
const METRICS_TOKEN = 'wiring-metrics-token-0123';


describe('startFerry with webhooks and metrics', () => {
  let dir: string;
  let ferry: FerryHandle | undefined;
  const receiver = new Receiver();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-wiring-'));
    const port = await receiver.listen();
    const configFile = join(dir, 'ferry.json');
    writeFileSync(configFile, JSON.stringify({
      address: `127.0.0.1:${await freePort()}`,
      users: { alice: 'alice-password-123' },
      signaling: { address: '127.0.0.1:0' },
      webhooks: [{ url: `http://127.0.0.1:${port}/ferry`, secret: HOOK_SECRET, events: ['session.closed'] }],
      metrics: { token: METRICS_TOKEN },
    }));
    ferry = await startFerry(await loadConfig(configFile), createLogger('silent'));
  });
  after(async () => {
    await ferry?.stop();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers session.closed and counts the allocation in /metrics', async () => {
    const udp = ferry!.listening().find((l) => l.transport === 'udp')!;
    const client = await TestTurnClient.connect({ port: udp.port, username: 'alice', password: 'alice-password-123' });
    try {
      assert.equal((await client.allocate()).code, 0);
      assert.equal((await client.refresh(0)).code, 0);
    } finally {
      client.close();
    }
    assert.ok(await receiver.waitFor(1));
    const got = receiver.received[0];
    assert.equal(got.json.type, 'session.closed');
    assert.ok(verifySignature(HOOK_SECRET, got.headers['ferry-signature'] as string, got.body, 60));

    const url = `http://127.0.0.1:${ferry!.signalingAddress().port}/metrics`;
    assert.equal((await fetch(url)).status, 401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^ferry_allocations_total\{transport="udp"\} 1$/m);
    assert.match(text, /^ferry_sessions_closed_total\{reason="[a-z-]+"\} 1$/m);
    assert.match(text, /^ferry_webhook_backlog 0$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.ok(!text.includes('alice'));
  });

  it('stop(): allocations closed by the shutdown are still delivered', async () => {
    const udp = ferry!.listening().find((l) => l.transport === 'udp')!;
    const client = await TestTurnClient.connect({ port: udp.port, username: 'alice', password: 'alice-password-123' });
    try {
      assert.equal((await client.allocate()).code, 0);
      await ferry!.stop();
    } finally {
      client.close();
    }
    assert.ok(await receiver.waitFor(2, 1000));
    assert.equal(receiver.received[1].json.data.reason, 'shutdown');
  });
});
