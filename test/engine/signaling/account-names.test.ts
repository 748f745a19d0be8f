// Unique account names through the admin API (app.inject): POST and PATCH answer 409 conflict for a
// name another live account has, ignoring ASCII case, and /openapi.json documents the 409.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, WIRED, type TestApp } from '../../helpers/signaling-app.js';

describe('unique account names in the admin API', () => {
  let t: TestApp;
  before(async () => { t = await testApp(WIRED); });
  after(() => t.close());

  it('POST /v1/accounts with a taken name: 409 conflict, nothing created', async () => {
    await t.createAccount('Acme');
    const res = await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: ' ACME ' } });
    assert.equal(res.statusCode, 409, res.body);
    assert.deepEqual(res.json(), { error: { code: 'conflict', message: 'an account named "ACME" exists already (names are unique, ignoring case)' } });
    assert.deepEqual((await t.accounts.listAccounts()).map((a) => a.name), ['Acme']);
  });

  it('PATCH a taken name: 409, the account keeps its name; its own name in another case is fine', async () => {
    const other = await t.createAccount('other');
    const res = await t.request({ method: 'PATCH', url: `/v1/accounts/${other.id}`, payload: { name: 'acme', disabled: true } });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'conflict');
    const kept = await t.accounts.getAccount(other.id);
    assert.deepEqual([kept?.name, kept?.disabled], ['other', false], 'nothing of a refused update applied');
    const own = await t.request({ method: 'PATCH', url: `/v1/accounts/${other.id}`, payload: { name: 'OTHER' } });
    assert.equal(own.statusCode, 200, own.body);
  });

  it('a deleted account frees its name', async () => {
    const gone = await t.createAccount('gone');
    assert.equal((await t.request({ method: 'DELETE', url: `/v1/accounts/${gone.id}` })).statusCode, 204);
    await t.createAccount('gone');
  });

  it('/openapi.json documents the 409 of create and update', async () => {
    const doc = (await t.request({ method: 'GET', url: '/openapi.json', auth: null })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    assert.ok(doc.paths['/v1/accounts'].post.responses['409']);
    assert.ok(doc.paths['/v1/accounts/{id}'].patch.responses['409']);
  });
});
