// Two real Ferry processes on one real redis-server, one webhook receiver: a session.closed event
// made on node A while the receiver fails survives A's kill -9 and is delivered once, by node B,
// after A's delivery lease expired (10 s by default).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFerryProcess, TEST_PASSWORD, TEST_USER, type FerryProcess } from '../../../helpers/ferry-process.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { Receiver } from '../../../helpers/webhook-receiver.js';
import { verifySignature } from '../../../../src/webhooks/index.js';
import { sleep, until } from '../../../helpers/wait.js';

const SECRET = 'whsec-fleet-system-0123456789';

describe('webhooks of a fleet: an event outlives the node that made it', () => {
  let redis: TestRedis;
  const receiver = new Receiver();
  const nodes: FerryProcess[] = [];
  let status = 503;
  const answered: number[] = [];

  before(async () => {
    redis = await startRedis();
    receiver.status = () => {
      answered.push(status);
      return status;
    };
    await receiver.listen();
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    await receiver.close();
    await redis?.stop();
  });

  it('kill -9 of the node holding the delivery: the other node delivers its event, once', async (t) => {
    const admin = await redis.client();
    const config = { storage: redis.url, webhooks: [{ url: `http://127.0.0.1:${receiver.port}/hook`, secret: SECRET, events: ['session.closed'] }] };
    const a = await startFerryProcess(config);
    nodes.push(a);
    for (let i = 0; i < 100 && (await admin.keys('ferry:webhook:*:lease')).length === 0; i++) await sleep(50);
    const [leaseKey] = await admin.keys('ferry:webhook:*:lease');
    assert.ok(leaseKey, 'node A took the delivery lease');
    const holder = await admin.get(leaseKey);
    const b = await startFerryProcess(config);
    nodes.push(b);

    const client = await TestTurnClient.connect({ port: a.udpPort, username: TEST_USER, password: TEST_PASSWORD });
    try {
      assert.equal((await client.allocate()).code, 0);
      assert.equal((await client.refresh(0)).code, 0);
    } finally {
      client.close();
    }
    assert.ok(await receiver.waitFor(1, 5000), 'node A tried the event (answered 503)');
    const id = receiver.received[0].json.id;
    assert.equal(receiver.received[0].json.type, 'session.closed');
    assert.equal(await admin.get(leaseKey), holder, 'still node A');

    assert.match(holder ?? '', /^[A-Za-z0-9._-]+\/[0-9a-f]+$/, 'the lease names its node: "<node id>/<random>"');
    a.signal('SIGKILL');
    await until(() => !a.running(), 5000, 'node A is gone');
    const killed = Date.now();
    status = 200;
    await until(() => answered.includes(200), 15_000, 'node B delivered the event', 50);
    const took = receiver.received[answered.indexOf(200)];
    assert.equal(took.json.id, id, 'the same event, the same id');
    assert.equal(took.headers['idempotency-key'], id);
    assert.ok(verifySignature(SECRET, took.headers['ferry-signature'] as string, took.body, 60));
    const after = took.receivedAt - killed;
    t.diagnostic(`delivered by node B ${after} ms after node A's kill -9 (lease 10 s)`);
    assert.ok(after >= 5000, `${after} ms: not before A's lease (10 s, renewed every 3.3 s) could expire`);
    assert.ok(after <= 10_000 + 1000 + 2500, `${after} ms after the kill`);
    assert.notEqual(await admin.get(leaseKey), holder, 'node B holds the lease');
    await sleep(500);
    assert.equal(answered.filter((s) => s === 200).length, 1, 'accepted once');
    assert.equal(await admin.xlen(leaseKey.replace(/:lease$/, ':events')), 0, 'nothing left');
  });
});
