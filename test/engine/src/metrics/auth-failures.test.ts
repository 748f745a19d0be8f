// Finding 9 of issue 9: /metrics must not tell an unknown user from a wrong password (nor an
// expired credential), or it enumerates user names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../../helpers/turn-server.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { FerryMetrics } from '../../../../src/metrics/index.js';
import { mintRestCredential } from '../../../../src/credentials/rest.js';

const SECRET = 'rest-secret-0123456789';

/** The auth-related series of /metrics after one failed Allocate with these credentials. */
async function afterOneFailure(username: string, password: string, debug: object[] = []): Promise<string> {
  const log = { info() {}, warn() {}, error() {}, debug: (obj: object) => void debug.push(obj) };
  const fx = await startServer({ secrets: [SECRET], log });
  const metrics = new FerryMetrics({ defaultMetrics: false });
  fx.listen(metrics.turnEvents());
  const c = await TestTurnClient.connect({ port: fx.udpPort, username, password });
  try {
    assert.equal((await c.allocate()).code, 401);
  } finally {
    c.close();
    await fx.stop();
  }
  const text = (await metrics.render()).body;
  return text
    .split('\n')
    .filter((l) => /^ferry_(auth_failures|rate_limited)_total/.test(l))
    .join('\n');
}

test('an unknown user, a wrong password and an expired credential look the same in /metrics', async () => {
  const unknown = await afterOneFailure('mallory', 'alice-pass');
  const wrongPassword = await afterOneFailure('alice', 'not-alices-password');
  const stale = mintRestCredential(SECRET, 'acct-1', 60, Date.now() - 3_600_000);
  const expired = await afterOneFailure(stale.username, stale.password);
  assert.equal(wrongPassword, unknown);
  assert.equal(expired, unknown);
  assert.match(unknown, /^ferry_auth_failures_total\{reason="credentials"\} 1$/m);
});

test('the debug log keeps the reason, and no password or key', async () => {
  const debug: object[] = [];
  await afterOneFailure('mallory', 'mallory-pass', debug);
  await afterOneFailure('alice', 'not-alices-password', debug);
  assert.deepEqual(
    debug.map((d) => ({ username: (d as { username?: string }).username, reason: (d as { reason?: string }).reason })),
    [{ username: 'mallory', reason: 'unknown' }, { username: 'alice', reason: 'bad-integrity' }],
  );
  const text = JSON.stringify(debug);
  for (const secret of ['mallory-pass', 'not-alices-password', 'alice-pass']) assert.ok(!text.includes(secret), secret);
});
