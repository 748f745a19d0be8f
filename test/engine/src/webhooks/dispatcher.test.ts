import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteWebhookOutbox } from '../../../../src/store/sqlite-webhook-outbox.js';
import { backoffMs, signatureHeader, verifySignature, WebhookDispatcher, type WebhookConfig } from '../../../../src/webhooks/index.js';
import { Receiver } from '../../../helpers/webhook-receiver.js';
import { freePort } from '../../../helpers/ports.js';
import { until } from '../../../helpers/wait.js';
import { parseConfig } from '../../../../src/config/load.js';
import { ConfigError } from '../../../../src/config/errors.js';

const SECRET = 'whsec-test-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'ferry-webhooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function setup(hooks: WebhookConfig[], file = ':memory:', extra: Partial<ConstructorParameters<typeof WebhookDispatcher>[0]> = {}) {
  const store = openSqliteStore(file === ':memory:' ? 'sqlite::memory:' : `sqlite:${file}`);
  const d = new WebhookDispatcher({ hooks, outbox: new SqliteWebhookOutbox(store.db), initialBackoffMs: 40, maxBackoffMs: 160, stopGraceMs: 200, ...extra });
  d.start();
  cleanups.push(async () => {
    await d.stop();
    await store.close();
  });
  return { store, d };
}

describe('signature scheme', () => {
  test('known vector: hex HMAC-SHA256(secret, "<t>.<body>")', () => {
    const header = signatureHeader(SECRET, '{"id":"evt_1"}', 1700000000);
    assert.equal(header, 't=1700000000,v1=7f849b5c4a4aadd4b1d80d84679ec6cc9833b2807e637eff7e5c0ff209c70cc8');
    assert.ok(verifySignature(SECRET, header, '{"id":"evt_1"}', 300, 1700000100));
  });

  test('refuses a changed body, another secret, a stale or future timestamp, malformed headers', () => {
    const body = '{"id":"evt_2"}';
    const header = signatureHeader(SECRET, body, 1700000000);
    assert.equal(verifySignature(SECRET, header, '{"id":"evt_3"}', 300, 1700000000), false);
    assert.equal(verifySignature('another-secret-0123456', header, body, 300, 1700000000), false);
    assert.equal(verifySignature(SECRET, header, body, 300, 1700000301), false);
    assert.equal(verifySignature(SECRET, header, body, 300, 1699999699), false);
    assert.ok(verifySignature(SECRET, header, Buffer.from(body), 300, 1700000300));
    for (const bad of [undefined, '', 't=1700000000', 'v1=00', header.replace('t=', 'x='), header.slice(0, -1)]) {
      assert.equal(verifySignature(SECRET, bad, body, 300, 1700000000), false, String(bad));
    }
  });

  test('backoff: 1 s doubling to 5 min, jittered', () => {
    assert.equal(backoffMs(1, 1000, 300_000, () => 0.5), 1000);
    assert.equal(backoffMs(4, 1000, 300_000, () => 0.5), 8000);
    assert.equal(backoffMs(30, 1000, 300_000, () => 0.99), 300_000);
    const spread = new Set(Array.from({ length: 20 }, () => backoffMs(2, 1000, 300_000)));
    assert.ok(spread.size > 1, 'jittered');
    for (const v of spread) assert.ok(v >= 1600 && v <= 2400, String(v));
  });
});

describe('dispatcher', () => {
  test('delivers signed events in order; a failing receiver holds back the later ones; retries back off', async () => {
    const r = new Receiver();
    r.status = (n) => (n <= 3 ? 500 : 204);
    const port = await r.listen();
    cleanups.push(() => r.close());
    const { d, store } = setup([{ url: `http://127.0.0.1:${port}/hook`, secret: SECRET, events: ['*'] }]);
    const ids = (await Promise.all([1, 2, 3].map((n) => d.enqueue('usage.report', { n })))).flat();
    assert.equal(ids.length, 3);
    assert.ok(await r.waitFor(6));
    const got = r.received.map((x) => x.json.data.n);
    assert.deepEqual(got, [1, 1, 1, 1, 2, 3], 'the first is retried until accepted; nothing overtakes it');
    for (const x of r.received) {
      assert.equal(x.headers['idempotency-key'], x.json.id);
      assert.equal(x.headers['content-type'], 'application/json');
      assert.ok(verifySignature(SECRET, x.headers['ferry-signature'] as string, x.body, 60), 'signature verifies');
      assert.equal(x.json.type, 'usage.report');
      assert.ok(!Number.isNaN(Date.parse(x.json.created_at)));
    }
    assert.deepEqual([...new Set(r.received.map((x) => x.json.id))], ids, 'one id per event, retries keep it');
    await until(() => d.lastBacklog === 0, 3000, 'delivered rows are deleted', 10);
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM webhook_outbox').get() as { n: number }).n, 0);
  });

  test('records attempts and the next attempt time while the receiver fails', async () => {
    const r = new Receiver();
    r.status = () => 503;
    const port = await r.listen();
    cleanups.push(() => r.close());
    const { d, store } = setup([{ url: `http://127.0.0.1:${port}/`, secret: SECRET, events: ['*'] }], ':memory:', {
      initialBackoffMs: 1000,
      maxBackoffMs: 300_000,
    });
    const before = Date.now();
    await d.enqueue('usage.reset', {});
    assert.ok(await r.waitFor(1));
    await until(() => (store.db.prepare('SELECT attempts FROM webhook_outbox').get() as { attempts: number }).attempts === 1, 3000, 'webhook_outbox attempts === 1', 10);
    const row = store.db.prepare('SELECT attempts, next_attempt_at, last_error FROM webhook_outbox').get() as {
      attempts: number;
      next_attempt_at: number;
      last_error: string;
    };
    assert.equal(row.last_error, 'HTTP 503');
    assert.ok(row.next_attempt_at - before >= 800 && row.next_attempt_at - Date.now() <= 1200, String(row.next_attempt_at - before));
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(r.received.length, 1, 'no retry before the backoff');
  });

  test('a receiver down for a while gets every event once back, in order, unique ids', async () => {
    const port = await freePort();
    const { d } = setup([{ url: `http://127.0.0.1:${port}/`, secret: SECRET, events: ['session.closed', 'usage.report'] }]);
    const ids: string[] = [];
    for (let n = 1; n <= 8; n++) ids.push(...await d.enqueue(n % 2 ? 'session.closed' : 'usage.report', { n }));
    assert.deepEqual((await d.enqueue('usage.hard_limit', { n: 99 })), [], 'not subscribed');
    await new Promise((res) => setTimeout(res, 400)); // several refused attempts
    assert.equal(await d.backlog(), 8);
    const r = new Receiver();
    await r.listen(port);
    cleanups.push(() => r.close());
    assert.ok(await r.waitFor(8));
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(r.received.map((x) => x.json.data.n), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(r.received.map((x) => x.json.id), ids);
    assert.equal(new Set(ids).size, 8);
    assert.equal(await d.backlog(), 0);
  });

  test('one row per matching webhook, each with its own id; a dead webhook does not hold back another', async () => {
    const r = new Receiver();
    const port = await r.listen();
    cleanups.push(() => r.close());
    const dead = await freePort();
    const { d } = setup([
      { url: `http://127.0.0.1:${port}/a`, secret: SECRET, events: ['*'] },
      { url: `http://127.0.0.1:${dead}/b`, secret: SECRET, events: ['usage.soft_limit'] },
    ]);
    const ids = await d.enqueue('usage.soft_limit', { n: 1 });
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
    assert.ok(await r.waitFor(1));
    assert.equal(r.received[0].json.id, ids[0]);
    // the receiver records the request before it answers, so the delivered row goes a moment later
    await until(() => d.lastBacklog === 1, 3000, 'the dead one keeps its row, the delivered one is gone', 10);
  });

  test('undelivered rows survive a restart and are delivered, in order, by the next dispatcher', async () => {
    const file = join(dir, 'restart.db');
    const port = await freePort();
    const hooks: WebhookConfig[] = [{ url: `http://127.0.0.1:${port}/`, secret: SECRET, events: ['*'] }];
    const first = openSqliteStore(`sqlite:${file}`);
    const d1 = new WebhookDispatcher({ hooks, outbox: new SqliteWebhookOutbox(first.db), initialBackoffMs: 40, maxBackoffMs: 80, stopGraceMs: 100 });
    d1.start();
    const ids = (await Promise.all([1, 2, 3].map((n) => d1.enqueue('usage.report', { n })))).flat();
    await new Promise((res) => setTimeout(res, 100));
    await d1.stop();
    await d1.stop(); // idempotent
    await first.close();

    const r = new Receiver();
    await r.listen(port);
    cleanups.push(() => r.close());
    const { d: d2 } = setup(hooks, file);
    assert.ok(await r.waitFor(3));
    assert.deepEqual(r.received.map((x) => x.json.id), ids);
    assert.deepEqual(r.received.map((x) => x.json.data.n), [1, 2, 3]);
    await until(() => d2.lastBacklog === 0, 3000, 'd2.backlog() === 0', 10);
  });

  test('rows of a webhook no longer configured stay stored but are not in the backlog', async () => {
    const file = join(dir, 'removed.db');
    const dead = await freePort();
    const { d: d1, store: s1 } = setup([{ url: `http://127.0.0.1:${dead}/old`, secret: SECRET, events: ['*'] }], file);
    await d1.enqueue('usage.report', {});
    assert.equal(await d1.backlog(), 1);
    await d1.stop();
    const { d: d2 } = setup([{ url: `http://127.0.0.1:${dead}/new`, secret: SECRET, events: ['*'] }], file);
    assert.equal(await d2.backlog(), 0);
    assert.equal((s1.db.prepare('SELECT count(*) AS n FROM webhook_outbox').get() as { n: number }).n, 1);
  });

  test('update() (config reload): added, changed and removed webhooks; a removed URL keeps its rows until re-added', async () => {
    const SECRET2 = 'whsec-rotated-0123456789';
    const a = new Receiver();
    const b = new Receiver();
    const later = new Receiver(); // listens on the dead port once its webhook is removed
    cleanups.push(() => a.close(), () => b.close(), () => later.close());
    const urlA = `http://127.0.0.1:${await a.listen()}/a`;
    const urlB = `http://127.0.0.1:${await b.listen()}/b`;
    const deadPort = await freePort();
    const urlD = `http://127.0.0.1:${deadPort}/d`;
    const { d, store } = setup([
      { url: urlA, secret: SECRET, events: ['session.closed'] },
      { url: urlD, secret: SECRET, events: ['*'] },
    ]);
    const rows = () => store.db.prepare('SELECT webhook, attempts FROM webhook_outbox').all() as { webhook: string; attempts: number }[];
    const [, storedForD] = await d.enqueue('session.closed', { n: 1 });
    assert.ok(await a.waitFor(1));
    assert.ok(verifySignature(SECRET, a.received[0].headers['ferry-signature'] as string, a.received[0].body, 60));
    await until(() => rows().some((r) => r.webhook === urlD && r.attempts >= 1), 3000, 'D refuses connections: its row waits', 10);

    // A: new secret and events; B: added; D: removed (its row stays, out of the backlog).
    const { kept, ...changes } = d.update([
      { url: urlA, secret: SECRET2, events: ['*'] },
      { url: urlB, secret: SECRET, events: ['usage.report'] },
    ]);
    assert.deepEqual(changes, { added: 1, removed: 1, changed: 1 });
    assert.equal(await kept, 1);
    await until(() => d.lastBacklog === 0, 3000, 'the removed URL is not in the backlog', 10);
    assert.deepEqual(rows().map((r) => r.webhook), [urlD], 'but its row is kept');

    const ids = await d.enqueue('usage.report', { n: 2 });
    assert.equal(ids.length, 2, 'A (now *) and B; not D');
    assert.ok(await a.waitFor(2));
    assert.ok(await b.waitFor(1));
    const [atA, atB] = [a.received[1], b.received[0]];
    assert.equal(atA.json.type, 'usage.report');
    assert.ok(verifySignature(SECRET2, atA.headers['ferry-signature'] as string, atA.body, 60), 'the new secret signs');
    assert.equal(verifySignature(SECRET, atA.headers['ferry-signature'] as string, atA.body, 60), false, 'not the old one');
    assert.ok(verifySignature(SECRET, atB.headers['ferry-signature'] as string, atB.body, 60));
    assert.deepEqual((await d.enqueue('session.closed', { n: 3 })).length, 1, 'B does not take session.closed');
    assert.ok(await a.waitFor(3));

    // The removed URL reachable now: nothing is sent to it.
    await later.listen(deadPort);
    await new Promise((res) => setTimeout(res, 400)); // > maxBackoffMs: a live worker would have retried
    assert.equal(later.received.length, 0);

    // Re-added with a new secret: the kept row goes out, signed with the secret configured now.
    const readded = d.update([
      { url: urlA, secret: SECRET2, events: ['*'] },
      { url: urlB, secret: SECRET, events: ['usage.report'] },
      { url: urlD, secret: SECRET2, events: ['usage.reset'] },
    ]);
    assert.deepEqual({ ...readded, kept: await readded.kept }, { added: 1, removed: 0, changed: 0, kept: 0 });
    assert.ok(await later.waitFor(1));
    assert.equal(later.received[0].json.id, storedForD);
    assert.deepEqual(later.received[0].json.data, { n: 1 });
    assert.ok(verifySignature(SECRET2, later.received[0].headers['ferry-signature'] as string, later.received[0].body, 60));
    await until(() => rows().length === 0 && d.lastBacklog === 0, 3000, 'rows().length === 0 && d.lastBacklog === 0', 10);

    // An invalid list is refused and changes nothing.
    assert.throws(() => d.update([{ url: urlA, secret: SECRET, events: ['*'] }, { url: urlA, secret: SECRET2, events: ['*'] }]), /appears twice/);
    assert.throws(() => d.update([{ url: 'not a url', secret: SECRET, events: ['*'] }]), TypeError);
    assert.throws(() => d.update([{ url: urlA, secret: '', events: ['*'] }]), TypeError);
    assert.throws(() => d.update([{ url: urlA, secret: SECRET, events: [] }]), TypeError);
    assert.equal((await d.enqueue('usage.report', { n: 4 })).length, 2, 'A and B still configured');
    assert.equal((await d.enqueue('usage.reset', { n: 5 })).length, 2, 'A and D still configured');
    await d.stop();
    assert.throws(() => d.update([]), /stopped/);
  });

  test('stop() ends promptly with a request hanging', async () => {
    const { createServer } = await import('node:http');
    const hang = createServer(() => undefined);
    await new Promise<void>((res) => hang.listen(0, '127.0.0.1', () => res()));
    cleanups.push(() => {
      hang.closeAllConnections();
      hang.close();
    });
    const port = (hang.address() as { port: number }).port;
    const store = openSqliteStore('sqlite::memory:');
    const d = new WebhookDispatcher({ hooks: [{ url: `http://127.0.0.1:${port}/`, secret: SECRET, events: ['*'] }], outbox: new SqliteWebhookOutbox(store.db), stopGraceMs: 100 });
    d.start();
    await d.enqueue('usage.report', {});
    await new Promise((res) => setTimeout(res, 50));
    const t0 = Date.now();
    await d.stop();
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`);
    assert.equal(await d.backlog(), 1, 'the row stays for the next start');
    await store.close();
  });
});

describe('config: webhooks and metrics', () => {
  const url = 'https://hooks.example.org/ferry';
  test('accepts valid webhooks and metrics.token', () => {
    const { config } = parseConfig({
      webhooks: [
        { url, secret: SECRET, events: ['*'] },
        { url: 'http://127.0.0.1:9000/x', secret: SECRET, events: ['session.closed', 'usage.report'] },
      ],
      metrics: { token: 'metrics-token-0123456789' },
    });
    assert.equal(config.webhooks.length, 2);
    assert.equal(config.metrics.token, 'metrics-token-0123456789');
    assert.deepEqual(parseConfig({}).config.webhooks, []);
  });

  const bad: [string, unknown, string][] = [
    ['ftp url', { webhooks: [{ url: 'ftp://x.example/', secret: SECRET, events: ['*'] }] }, 'webhooks[0].url'],
    ['not a url', { webhooks: [{ url: 'nope', secret: SECRET, events: ['*'] }] }, 'webhooks[0].url'],
    ['short secret', { webhooks: [{ url, secret: 'short', events: ['*'] }] }, 'webhooks[0].secret'],
    ['unknown event', { webhooks: [{ url, secret: SECRET, events: ['usage.exploded'] }] }, 'webhooks[0].events[0]'],
    ['no events', { webhooks: [{ url, secret: SECRET, events: [] }] }, 'webhooks[0].events'],
    ['unknown key', { webhooks: [{ url, secret: SECRET, events: ['*'], retries: 3 }] }, 'webhooks[0].retries'],
    ['duplicate url', { webhooks: [{ url, secret: SECRET, events: ['*'] }, { url, secret: SECRET, events: ['*'] }] }, 'webhooks'],
    ['short metrics token', { metrics: { token: 'short' } }, 'metrics.token'],
  ];
  for (const [name, raw, path] of bad) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => parseConfig(raw),
        (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.path === path),
      );
    });
  }
});
