// Usage limits and bandwidth caps in the API: PATCH /v1/accounts/:id {limit, max_bps} (stored, shown,
// validated, removable)
// and /v1/ice-servers answering 429 usage_limit while the account is limited.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSize } from '../../../src/config/units.js';
import { AccountService } from '../../../src/accounts/service.js';
import { errorOf, testApp, type TestApp } from '../../helpers/signaling-app.js';

describe('usage limits in the API', () => {
  let t: TestApp;
  const limited = new Set<string>();
  before(async () => {
    t = await testApp({ relay: { usageLimited: (id) => limited.has(id) } });
  });
  after(() => t.close());

  it('PATCH sets, shows and removes an account limit; bad values are 400', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: 'limited' } });
    const { id } = created.json() as { id: string };
    const set = await t.request({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: { limit: '10GB' } });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal((set.json() as { limit: number }).limit, parseSize('10GB'));
    assert.equal(t.accounts.limits().get(id), parseSize('10GB'));
    const read = await t.request({ method: 'GET', url: `/v1/accounts/${id}` });
    assert.equal((read.json() as { limit: number }).limit, parseSize('10GB'));
    // Stored: a service opened afresh on the same store sees it.
    const again = await AccountService.open(t.store, Date.now);
    assert.equal(again.limits().get(id), parseSize('10GB'));

    for (const bad of ['lots', -5, 0, 1.5, true]) {
      const res = await t.request({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: { limit: bad } });
      assert.equal(res.statusCode, 400, `${JSON.stringify(bad)}: ${res.body}`);
    }
    const bytes = await t.request({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: { limit: 5000 } });
    assert.equal((bytes.json() as { limit: number }).limit, 5000);
    const removed = await t.request({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: { limit: null } });
    assert.equal(removed.statusCode, 200);
    assert.equal((removed.json() as { limit: null }).limit, null);
    assert.equal(t.accounts.limits().has(id), false);
  });

  it('PATCH sets, shows and removes an account bandwidth cap, tells the relay at once; bad values are 400', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: 'capped' } });
    const { id } = created.json() as { id: string };
    assert.equal(((await t.request({ method: 'GET', url: `/v1/accounts/${id}` })).json() as { max_bps: null }).max_bps, null);
    const set = await t.request({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: { max_bps: '1MB' } });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal((set.json() as { max_bps: number }).max_bps, 1_000_000);
    assert.equal(t.accounts.maxBps(id), 1_000_000);
    assert.deepEqual(t.maxBpsCalls.at(-1), [id, 1_000_000]);
    const again = await AccountService.open(t.store, Date.now);
    assert.equal(again.maxBps(id), 1_000_000, 'stored');

    const calls = t.maxBpsCalls.length;
    const renamed = await t.request({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: { name: 'still capped' } });
    assert.equal((renamed.json() as { max_bps: number }).max_bps, 1_000_000, 'other changes keep the cap');
    assert.equal(t.maxBpsCalls.length, calls, 'and do not touch the relay');

    for (const bad of ['fast', -1, 0, 2.5, false, {}]) {
      const res = await t.request({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: { max_bps: bad } });
      assert.equal(res.statusCode, 400, `${JSON.stringify(bad)}: ${res.body}`);
      assert.equal(errorOf(res).code, 'invalid_request');
    }
    assert.equal(t.accounts.maxBps(id), 1_000_000, 'refused values change nothing');
    const removed = await t.request({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: { max_bps: null } });
    assert.equal((removed.json() as { max_bps: null }).max_bps, null);
    assert.equal(t.accounts.maxBps(id), 0);
    assert.deepEqual(t.maxBpsCalls.at(-1), [id, 0]);
    const empty = await t.request({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: {} });
    assert.equal(empty.statusCode, 400);
  });

  it('/v1/ice-servers answers 429 usage_limit while the account is limited', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: 'ice' } });
    const { id, api_key } = created.json() as { id: string; api_key: string };
    assert.equal((await t.request({ method: 'POST', url: '/v1/ice-servers', auth: api_key })).statusCode, 200);
    limited.add(id);
    const res = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: api_key });
    assert.equal(res.statusCode, 429);
    assert.equal(errorOf(res).code, 'usage_limit');
    limited.delete(id);
    assert.equal((await t.request({ method: 'POST', url: '/v1/ice-servers', auth: api_key })).statusCode, 200);
  });
});
