// CORS (signaling.cors_origins) through the whole signaling app with fastify inject: the account
// routes a browser calls and /sdk/* answer listed origins (preflight too), nothing else ever gets
// CORS headers, an unlisted origin gets none, and without a list nothing changes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { buildSignalingApp } from '../../../signaling/app.js';
import { CORS_MAX_AGE_S } from '../../../signaling/cors.js';
import { testApp, WIRED, type TestApp } from '../../helpers/signaling-app.js';

const APP = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

/** Every Access-Control-* header of a response, and Vary. */
function corsHeaders(res: LightMyRequestResponse): Record<string, unknown> {
  return Object.fromEntries(Object.entries(res.headers).filter(([k]) => k.startsWith('access-control-') || k === 'vary'));
}

function assertNoCors(res: LightMyRequestResponse, what: string): void {
  const found = Object.keys(res.headers).filter((k) => k.startsWith('access-control-'));
  assert.deepEqual(found, [], `${what}: no CORS headers (${res.statusCode})`);
}

/** A test app whose cors_origins is `list.value`, read per request as a reload would change it. */
async function corsApp(list: { value: readonly string[] }): Promise<TestApp> {
  return testApp({
    ...WIRED,
    build: (deps) =>
      buildSignalingApp({
        ...deps,
        get corsOrigins() {
          return list.value;
        },
        metrics: { render: async () => ({ contentType: 'text/plain; version=0.0.4', body: '' }) },
      }),
  });
}

const preflight = (t: TestApp, url: string, origin: string, method = 'POST') =>
  t.request({
    method: 'OPTIONS',
    url,
    auth: null,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
  });

describe('CORS for browser apps on other origins', () => {
  const list: { value: readonly string[] } = { value: [APP, 'http://localhost:5173'] };
  let t: TestApp;
  let apiKey = '';
  let accountId = '';
  before(async () => {
    t = await corsApp(list);
    const created = await t.createAccount('web');
    apiKey = created.api_key;
    accountId = created.id;
  });
  after(() => t.close());

  it('answers a listed origin on /v1/ice-servers, /v1/signal-tokens and /sdk/*, errors included', async () => {
    for (const url of ['/v1/ice-servers', '/v1/signal-tokens']) {
      const res = await t.request({ method: 'POST', url, auth: apiKey, payload: {}, headers: { origin: APP } });
      assert.equal(res.statusCode, url === '/v1/ice-servers' ? 200 : 201, res.body);
      assert.deepEqual(corsHeaders(res), { 'access-control-allow-origin': APP, vary: 'Origin' }, url);
      // A refused key: the page can still read why.
      const refused = await t.request({ method: 'POST', url, auth: 'fk_wrong', payload: {}, headers: { origin: 'http://localhost:5173' } });
      assert.equal(refused.statusCode, 401);
      assert.equal(refused.headers['access-control-allow-origin'], 'http://localhost:5173');
    }
    const sdk = await t.request({ method: 'GET', url: '/sdk/index.js', auth: null, headers: { origin: APP } });
    assert.equal(sdk.statusCode, 200);
    assert.deepEqual(corsHeaders(sdk), { 'access-control-allow-origin': APP, vary: 'Origin' });
    const missing = await t.request({ method: 'GET', url: '/sdk/nope.js', auth: null, headers: { origin: APP } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['access-control-allow-origin'], APP);
  });

  it('answers the preflight: 204 with the methods, Authorization and Content-Type, Max-Age, Vary', async () => {
    const res = await preflight(t, '/v1/ice-servers', APP);
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.deepEqual(corsHeaders(res), {
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'Authorization, Content-Type',
      'access-control-max-age': String(CORS_MAX_AGE_S),
      vary: 'Origin',
    });
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    const tokens = await preflight(t, '/v1/signal-tokens?x=1', APP);
    assert.equal(tokens.statusCode, 204);
    assert.equal(tokens.headers['access-control-allow-origin'], APP);
    const sdk = await preflight(t, '/sdk/index.js', APP, 'GET');
    assert.equal(sdk.statusCode, 204);
    assert.equal(sdk.headers['access-control-allow-methods'], 'GET, HEAD');
  });

  it('gives an unlisted origin no CORS headers: its requests run, the browser keeps the answer from the page', async () => {
    for (const origin of [OTHER, 'null', `${APP}/`, 'https://APP.example.com', 'http://app.example.com', `${APP}, ${OTHER}`]) {
      const res = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: apiKey, payload: {}, headers: { origin } });
      assert.equal(res.statusCode, 200);
      assertNoCors(res, origin);
      assert.equal(res.headers.vary, 'Origin', 'the answer depends on Origin: caches must know');
      const pre = await preflight(t, '/v1/ice-servers', origin);
      assert.equal(pre.statusCode, 404, origin);
      assertNoCors(pre, `preflight from ${origin}`);
      assert.equal(pre.headers['content-type'], 'application/json; charset=utf-8');
    }
    // No Origin at all (a server or native client): nothing to answer.
    const plain = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: apiKey, payload: {} });
    assertNoCors(plain, 'no Origin');
  });

  it('never gives the admin API, /v1/usage, /metrics or the other routes CORS, even for a listed origin', async () => {
    const admin = [
      { method: 'GET', url: '/v1/accounts' },
      { method: 'POST', url: '/v1/accounts', payload: { name: 'x' } },
      { method: 'GET', url: `/v1/accounts/${accountId}` },
      { method: 'GET', url: `/v1/accounts/${accountId}/keys` },
      { method: 'GET', url: '/v1/sessions' },
      { method: 'DELETE', url: '/v1/sessions/1' },
      { method: 'GET', url: '/v1/usage' },
      { method: 'GET', url: '/v1/usage/export.csv' },
    ] as const;
    for (const r of admin) {
      const res = await t.request({ ...r, headers: { origin: APP } });
      assert.ok(res.statusCode < 500, `${r.method} ${r.url}: ${res.statusCode} ${res.body}`);
      assertNoCors(res, `${r.method} ${r.url}`);
      assert.equal(res.headers.vary, undefined, `${r.method} ${r.url}: answered as without CORS`);
      // With the account's API key (usage accepts one): still no CORS.
      const asAccount = await t.request({ ...r, auth: apiKey, headers: { origin: APP } });
      assertNoCors(asAccount, `${r.method} ${r.url} with an API key`);
      const pre = await preflight(t, r.url, APP, r.method);
      assert.equal(pre.statusCode, 404, `preflight ${r.url}`);
      assertNoCors(pre, `preflight ${r.method} ${r.url}`);
    }
    for (const url of ['/metrics', '/healthz', '/openapi.json', '/demo', '/demo/page.js', '/v1/signal', '/nowhere']) {
      const res = await t.request({ method: 'GET', url, auth: null, headers: { origin: APP } });
      assertNoCors(res, url);
      assertNoCors(await preflight(t, url, APP, 'GET'), `preflight ${url}`);
    }
  });

  it('["*"] answers every origin with "*", still only on those routes; a changed list applies to the next request', async () => {
    list.value = ['*'];
    try {
      const res = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: apiKey, payload: {}, headers: { origin: OTHER } });
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal((await preflight(t, '/v1/signal-tokens', 'null')).headers['access-control-allow-origin'], '*');
      assertNoCors(await t.request({ method: 'GET', url: '/v1/accounts', headers: { origin: OTHER } }), '/v1/accounts with *');
      assertNoCors(await preflight(t, '/v1/accounts', OTHER), 'preflight /v1/accounts with *');
      list.value = [OTHER];
      const now = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: apiKey, payload: {}, headers: { origin: APP } });
      assertNoCors(now, 'APP after the list changed');
      assert.equal((await preflight(t, '/v1/ice-servers', OTHER)).headers['access-control-allow-origin'], OTHER);
    } finally {
      list.value = [APP, 'http://localhost:5173'];
    }
  });
});

describe('CORS without signaling.cors_origins', () => {
  let t: TestApp;
  let apiKey = '';
  before(async () => {
    t = await corsApp({ value: [] });
    apiKey = (await t.createAccount('web')).api_key;
  });
  after(() => t.close());

  it('answers no origin: no Access-Control-* headers anywhere, no preflight route', async () => {
    for (const url of ['/v1/ice-servers', '/v1/signal-tokens']) {
      const res = await t.request({ method: 'POST', url, auth: apiKey, payload: {}, headers: { origin: APP } });
      assert.ok(res.statusCode === 200 || res.statusCode === 201, res.body);
      assertNoCors(res, url);
      const pre = await preflight(t, url, APP);
      assert.equal(pre.statusCode, 404);
      assertNoCors(pre, `preflight ${url}`);
    }
    assertNoCors(await t.request({ method: 'GET', url: '/sdk/index.js', auth: null, headers: { origin: APP } }), '/sdk/index.js');
  });

  it('the default app (no corsOrigins dep) has no CORS either', async () => {
    const plain = await testApp();
    try {
      const key = (await plain.createAccount('web')).api_key;
      const res = await plain.request({ method: 'POST', url: '/v1/ice-servers', auth: key, payload: {}, headers: { origin: APP } });
      assert.equal(res.statusCode, 200);
      assertNoCors(res, 'default app');
      assertNoCors(await preflight(plain, '/v1/ice-servers', APP), 'default app preflight');
    } finally {
      await plain.close();
    }
  });
});
