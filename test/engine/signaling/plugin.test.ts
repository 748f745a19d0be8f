// signalingPlugin mounted into a fastify server that is not Ferry's: under a prefix, next to the
// host's own routes, with its own validation, request decoration and hub, and nothing leaking out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { BODY_LIMIT, signalingPlugin } from '../../../signaling/app.js';
import { errorOf, testApp, WIRED, type TestApp } from '../../helpers/signaling-app.js';

describe('signalingPlugin in another fastify server', () => {
  let t: TestApp;
  let host: FastifyInstance;
  before(async () => {
    t = await testApp({
      ...WIRED,
      build: (deps) => {
        host = Fastify({ logger: false });
        host.post('/host/echo', async (request) => ({ body: request.body ?? 'none', principal: 'principal' in request }));
        void host.register(signalingPlugin, { ...deps, prefix: '/ferry' });
        return host;
      },
    });
  });
  after(() => t.close());

  it('serves the API under the prefix, validating with its zod schemas', async () => {
    assert.equal((await t.request({ method: 'GET', url: '/ferry/healthz', auth: null })).statusCode, 200);
    const created = await t.request({ method: 'POST', url: '/ferry/v1/accounts', payload: { name: 'mounted' } });
    assert.equal(created.statusCode, 201, created.body);
    const refused = await t.request({ method: 'POST', url: '/ferry/v1/accounts', payload: { name: 7 } });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(errorOf(refused).code, 'invalid_request', 'its own error answers');
    // The host's body limit is fastify's 1 MiB; the plugin's routes keep theirs.
    const big = await t.request({ method: 'POST', url: '/ferry/v1/accounts', payload: { name: 'x'.repeat(BODY_LIMIT) } });
    assert.equal(big.statusCode, 413, big.body);
    assert.equal((await t.request({ method: 'GET', url: '/ferry/v1/sessions' })).statusCode, 200);
    assert.equal((await t.request({ method: 'GET', url: '/v1/accounts' })).statusCode, 404, 'nothing outside the prefix');
  });

  it('keeps its body parser and request decoration to itself', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/host/echo',
      auth: null,
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    // The host's own JSON parser refuses an empty JSON body; the plugin's reads it as no body.
    assert.equal(res.statusCode, 400, res.body);
    const echoed = await t.request({ method: 'POST', url: '/host/echo', auth: null, payload: { a: 1 } });
    assert.deepEqual(echoed.json(), { body: { a: 1 }, principal: false });
  });

  it('decorates only its own scope with the signaling hub', () => {
    assert.equal(host.hasDecorator('signaling'), false);
    assert.equal(host.hasRequestDecorator('principal'), false);
  });
});
