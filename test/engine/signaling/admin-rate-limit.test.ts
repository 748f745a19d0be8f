// Issue 9: repeated failed admin tokens from one client IP slow down (429 with Retry-After).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, errorOf, testApp, type TestApp } from '../../helpers/signaling-app.js';
import { ADMIN_FAILURES_PER_MINUTE } from '../../../src/credentials/failed-token-limit.js';

describe('admin API: failed tokens per client IP', () => {
  const clock = { ms: Date.UTC(2030, 0, 1) };
  let t: TestApp;
  before(async () => {
    t = await testApp({ relay: { now: () => clock.ms, usage: { usage: async () => [] } } });
  });
  after(() => t.close());

  const list = (remoteAddress: string, auth: string | null) => t.request({ method: 'GET', url: '/v1/accounts', remoteAddress, auth });

  it('past the budget: 429 with a JSON body and Retry-After, for a right token too, until it refills; other IPs unaffected', async () => {
    assert.equal(ADMIN_FAILURES_PER_MINUTE, 10);
    for (let i = 0; i < 10; i++) assert.equal((await list('192.0.2.10', `wrong-token-${i}-0123456789`)).statusCode, 401, `guess ${i + 1}`);
    const blocked = await list('192.0.2.10', 'wrong-token-x-0123456789');
    assert.equal(blocked.statusCode, 429);
    assert.equal(errorOf(blocked).code, 'too_many_requests');
    assert.equal(blocked.headers['retry-after'], '6');
    // Not checked at all meanwhile: the right token gets the same 429, so it tells nothing.
    const right = await list('192.0.2.10', ADMIN_TOKEN);
    assert.equal(right.statusCode, 429);
    assert.equal(right.body.replace(/retry in \d+ s/, ''), blocked.body.replace(/retry in \d+ s/, ''));

    assert.equal((await list('192.0.2.11', ADMIN_TOKEN)).statusCode, 200, 'another IP');

    clock.ms += 6_000; // one failure's worth
    assert.equal((await list('192.0.2.10', ADMIN_TOKEN)).statusCode, 200, 'a right token does not spend the budget');
    assert.equal((await list('192.0.2.10', ADMIN_TOKEN)).statusCode, 200);
    assert.equal((await list('192.0.2.10', 'wrong-token-y-0123456789')).statusCode, 401);
    assert.equal((await list('192.0.2.10', ADMIN_TOKEN)).statusCode, 429);
  });

  it('a missing Authorization header is a 401 that spends nothing', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await list('192.0.2.20', null)).statusCode, 401);
    assert.equal((await list('192.0.2.20', ADMIN_TOKEN)).statusCode, 200);
  });

  it('guesses through /v1/usage (admin token or API key) spend the same budget', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await t.request({ method: 'GET', url: '/v1/usage', remoteAddress: '192.0.2.30', auth: `guess-${i}-0123456789abcdef` });
      assert.equal(res.statusCode, 401);
    }
    const usage = await t.request({ method: 'GET', url: '/v1/usage', remoteAddress: '192.0.2.30', auth: ADMIN_TOKEN });
    assert.equal(usage.statusCode, 429);
    assert.equal((await list('192.0.2.30', ADMIN_TOKEN)).statusCode, 429);
  });

  it('a revoked or unknown API key (at /v1/usage or an admin route) neither spends nor meets the admin budget', async () => {
    const acme = await t.createAccount('acme');
    const keys = (await t.request({ method: 'GET', url: `/v1/accounts/${acme.id}/keys` })).json() as { keys: { id: string }[] };
    assert.equal((await t.request({ method: 'DELETE', url: `/v1/accounts/${acme.id}/keys/${keys.keys[0].id}` })).statusCode, 204);
    const unknown = `fk_${'A'.repeat(43)}`;
    for (let i = 0; i < 20; i++) {
      const res = await t.request({ method: 'GET', url: '/v1/usage', remoteAddress: '192.0.2.40', auth: i % 2 === 0 ? acme.api_key : unknown });
      assert.equal(res.statusCode, 401, `poll ${i + 1}`);
    }
    // On an admin route too, an API key is refused without counting.
    for (let i = 0; i < 20; i++) assert.equal((await list('192.0.2.40', acme.api_key)).statusCode, 401);
    assert.equal((await t.request({ method: 'GET', url: '/v1/usage', remoteAddress: '192.0.2.40', auth: ADMIN_TOKEN })).statusCode, 200);
    assert.equal((await list('192.0.2.40', ADMIN_TOKEN)).statusCode, 200);
  });

  it('429 is documented on admin routes', async () => {
    const doc = (await t.request({ method: 'GET', url: '/openapi.json', auth: null })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    assert.ok('429' in doc.paths['/v1/accounts'].get.responses);
    assert.ok('429' in doc.paths['/v1/usage'].get.responses);
  });
});
