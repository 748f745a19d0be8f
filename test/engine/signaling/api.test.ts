// The admin API, its authentication, the error contract and /openapi.json, through app.inject().
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, errorOf, testApp, WIRED, type TestApp } from '../../helpers/signaling-app.js';

const json = (res: { json(): unknown }) => res.json() as Record<string, unknown>;

describe('admin API', () => {
  let t: TestApp;
  before(async () => { t = await testApp({ closedPerCall: 2 }); });
  after(() => t.close());

  it('GET /healthz answers ok without credentials', async () => {
    const res = await t.request({ method: 'GET', url: '/healthz', auth: null });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('creates an account and shows its API key once', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: '  Acme  ' } });
    assert.equal(res.statusCode, 201, res.body);
    const body = json(res);
    assert.deepEqual(Object.keys(body).sort(), ['api_key', 'id', 'name']);
    assert.match(String(body.id), /^acc_[0-9a-z]{16}$/);
    assert.equal(body.name, 'Acme');
    assert.match(String(body.api_key), /^fk_/);

    const read = await t.request({ method: 'GET', url: `/v1/accounts/${String(body.id)}` });
    assert.equal(read.statusCode, 200);
    const account = json(read);
    assert.deepEqual(account, { id: body.id, name: 'Acme', disabled: false, created_at: new Date(t.clock.ms).toISOString(), limit: null, max_bps: null });
    assert.ok(!read.body.includes(String(body.api_key)), 'the key is not shown again');
  });

  it('lists, renames, disables and deletes accounts', async () => {
    const a = await t.createAccount('list-a');
    const b = await t.createAccount('list-b');
    const list = await t.request({ method: 'GET', url: '/v1/accounts' });
    assert.equal(list.statusCode, 200);
    const ids = (list.json() as { accounts: Array<{ id: string }> }).accounts.map((x) => x.id);
    assert.ok(ids.includes(a.id) && ids.includes(b.id));

    const renamed = await t.request({ method: 'PATCH', url: `/v1/accounts/${a.id}`, payload: { name: 'renamed' } });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal(json(renamed).name, 'renamed');
    assert.equal(json(renamed).disabled, false);

    const disabled = await t.request({ method: 'PATCH', url: `/v1/accounts/${a.id}`, payload: { disabled: true } });
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal(json(disabled).disabled, true);
    assert.ok(t.closeCalls.includes(a.id), 'disabling closes the account\'s allocations');

    const del = await t.request({ method: 'DELETE', url: `/v1/accounts/${b.id}` });
    assert.equal(del.statusCode, 204);
    assert.equal(del.body, '');
    const gone = await t.request({ method: 'GET', url: `/v1/accounts/${b.id}` });
    assert.equal(gone.statusCode, 404);
    assert.equal(errorOf(gone).code, 'not_found');
    const again = await t.request({ method: 'DELETE', url: `/v1/accounts/${b.id}` });
    assert.equal(again.statusCode, 404);
    const list2 = (await t.request({ method: 'GET', url: '/v1/accounts' })).json() as { accounts: Array<{ id: string }> };
    assert.ok(!list2.accounts.some((x) => x.id === b.id));
  });

  it('creates, lists and revokes API keys', async () => {
    const a = await t.createAccount('keys');
    const created = await t.request({ method: 'POST', url: `/v1/accounts/${a.id}/keys` });
    assert.equal(created.statusCode, 201, created.body);
    const key = created.json() as { id: string; api_key: string };
    assert.deepEqual(Object.keys(key).sort(), ['api_key', 'id']);
    assert.match(key.id, /^key_/);
    assert.notEqual(key.api_key, a.api_key);

    const listed = await t.request({ method: 'GET', url: `/v1/accounts/${a.id}/keys` });
    assert.equal(listed.statusCode, 200);
    const keys = (listed.json() as { keys: Array<{ id: string; prefix: string; revoked_at: string | null }> }).keys;
    assert.equal(keys.length, 2);
    assert.ok(keys.every((k) => k.revoked_at === null && a.api_key.startsWith(k.prefix.slice(0, 3))));
    assert.ok(!listed.body.includes(key.api_key) && !listed.body.includes(a.api_key), 'no secret in the listing');

    // The new key works on the account API until revoked.
    const use = () => t.request({ method: 'POST', url: '/v1/ice-servers', auth: key.api_key });
    assert.equal((await use()).statusCode, 200);
    const revoked = await t.request({ method: 'DELETE', url: `/v1/accounts/${a.id}/keys/${key.id}` });
    assert.equal(revoked.statusCode, 204);
    const refused = await use();
    assert.equal(refused.statusCode, 401);
    assert.equal(errorOf(refused).code, 'unauthorized');
    const other = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: a.api_key });
    assert.equal(other.statusCode, 200, 'the other key still works');

    const unknown = await t.request({ method: 'DELETE', url: `/v1/accounts/${a.id}/keys/key_nope` });
    assert.equal(unknown.statusCode, 404);
    assert.equal(errorOf(unknown).code, 'not_found');
    const noAccount = await t.request({ method: 'POST', url: '/v1/accounts/acc_nope/keys' });
    assert.equal(noAccount.statusCode, 404);
    assert.equal((await t.request({ method: 'GET', url: '/v1/accounts/acc_nope/keys' })).statusCode, 404);
  });

  it('revokes an account\'s credentials and closes its allocations', async () => {
    const a = await t.createAccount('revoke');
    const res = await t.request({ method: 'POST', url: `/v1/accounts/${a.id}/revoke` });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { revoked: true, closed_allocations: 2 });
    assert.equal(t.closeCalls.at(-1), a.id);
    const missing = await t.request({ method: 'POST', url: '/v1/accounts/acc_nope/revoke' });
    assert.equal(missing.statusCode, 404);
    assert.equal(errorOf(missing).code, 'not_found');
  });

  it('answers 404 for unknown accounts', async () => {
    for (const [method, payload] of [['GET', undefined], ['PATCH', { name: 'x' }], ['DELETE', undefined]] as const) {
      const res = await t.request({ method, url: '/v1/accounts/acc_0000000000000000', ...(payload ? { payload } : {}) });
      assert.equal(res.statusCode, 404, `${method}: ${res.body}`);
      assert.match(errorOf(res).message, /acc_0000000000000000/);
    }
  });
});

describe('admin authentication', () => {
  let t: TestApp;
  before(async () => { t = await testApp(WIRED); });
  after(() => t.close());

  const adminRoutes = [
    ['POST', '/v1/accounts', { name: 'x' }],
    ['GET', '/v1/accounts', undefined],
    ['GET', '/v1/accounts/acc_x', undefined],
    ['PATCH', '/v1/accounts/acc_x', { disabled: true }],
    ['DELETE', '/v1/accounts/acc_x', undefined],
    ['POST', '/v1/accounts/acc_x/keys', undefined],
    ['GET', '/v1/accounts/acc_x/keys', undefined],
    ['DELETE', '/v1/accounts/acc_x/keys/key_x', undefined],
    ['POST', '/v1/accounts/acc_x/revoke', undefined],
    ['GET', '/v1/sessions', undefined],
    ['GET', '/v1/sessions?account=acc_x', undefined],
    ['DELETE', '/v1/sessions/1', undefined],
    ['DELETE', '/v1/accounts/acc_x/sessions', undefined],
  ] as const;

  it('refuses a missing, wrong or malformed admin token with 401 JSON (before reading the body)', async () => {
    for (const [i, [method, url, payload]] of adminRoutes.entries()) {
      for (const authorization of [undefined, `Bearer ${ADMIN_TOKEN}x`, `Bearer ${ADMIN_TOKEN.slice(0, -1)}`, `Basic ${ADMIN_TOKEN}`, ADMIN_TOKEN]) {
        const res = await t.app.inject({
          method,
          url,
          // One client address per route: all these wrong tokens from one would reach its budget (429).
          remoteAddress: `192.0.2.${i + 1}`,
          headers: authorization ? { authorization } : {},
          ...(payload ? { payload } : { payload: '{bad json', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) } }),
        });
        assert.equal(res.statusCode, 401, `${method} ${url} with ${authorization}: ${res.body}`);
        assert.equal(errorOf(res).code, 'unauthorized');
        assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      }
    }
  });

  it('accepts the scheme name in any case', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.statusCode, 200);
  });

  it('refuses API keys and signaling tokens on admin routes: account A cannot read account B', async () => {
    const a = await t.createAccount('A');
    const b = await t.createAccount('B');
    const token = ((await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: a.api_key })).json() as { token: string }).token;
    for (const cred of [a.api_key, token]) {
      for (const [method, url] of [['GET', `/v1/accounts/${b.id}`], ['GET', `/v1/accounts/${a.id}`], ['GET', '/v1/accounts'], ['GET', `/v1/accounts/${b.id}/keys`], ['DELETE', `/v1/accounts/${b.id}`]] as const) {
        // From another client address: ten wrong admin tokens reach its budget (429 for the check below).
        const res = await t.request({ method, url, auth: cred, remoteAddress: '192.0.2.100' });
        assert.equal(res.statusCode, 401, `${method} ${url}`);
        assert.ok(!res.body.includes('"B"'), 'nothing of B leaks');
      }
    }
    assert.equal((await t.request({ method: 'GET', url: `/v1/accounts/${b.id}` })).statusCode, 200, 'B still exists');
  });

  it('answers 503 with a JSON error when no admin token is configured', async () => {
    const off = await testApp({ adminToken: null });
    try {
      for (const auth of [null, ADMIN_TOKEN, '']) {
        const res = await off.request({ method: 'GET', url: '/v1/accounts', auth });
        assert.equal(res.statusCode, 503);
        const e = errorOf(res);
        assert.equal(e.code, 'admin_disabled');
        assert.match(e.message, /disabled/);
        assert.match(e.message, /signaling\.admin_token/);
      }
      assert.equal((await off.request({ method: 'GET', url: '/healthz', auth: null })).statusCode, 200);
    } finally {
      await off.close();
    }
  });
});

describe('request errors are JSON naming the problem', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(() => t.close());

  it('malformed JSON → 400 invalid_json', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/accounts', payload: '{"name": ', headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 400);
    assert.equal(errorOf(res).code, 'invalid_json');
  });

  it('a missing or mistyped field → 400 invalid_request naming the field', async () => {
    for (const payload of [{}, { name: 42 }]) {
      const res = await t.request({ method: 'POST', url: '/v1/accounts', payload });
      assert.equal(res.statusCode, 400, res.body);
      const e = errorOf(res);
      assert.equal(e.code, 'invalid_request');
      assert.match(e.message, /body\.name/);
    }
    const noBody = await t.request({ method: 'POST', url: '/v1/accounts' });
    assert.equal(noBody.statusCode, 400);
    assert.match(errorOf(noBody).message, /body/);
  });

  it('an unknown field → 400 naming it', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: 'x', nmae: 'y' } });
    assert.equal(res.statusCode, 400);
    assert.match(errorOf(res).message, /nmae/);
    const ttl = await t.request({ method: 'PATCH', url: '/v1/accounts/acc_x', payload: { disabled: 'yes' } });
    assert.equal(ttl.statusCode, 400);
    assert.match(errorOf(ttl).message, /body\.disabled/);
  });

  it('an invalid name → 400 from the account rules', async () => {
    for (const name of ['   ', 'x'.repeat(101), 'a\u0007b']) {
      const res = await t.request({ method: 'POST', url: '/v1/accounts', payload: { name } });
      assert.equal(res.statusCode, 400, JSON.stringify(name));
      const e = errorOf(res);
      assert.equal(e.code, 'invalid_request');
      assert.match(e.message, /name/);
    }
  });

  it('PATCH with nothing to change → 400', async () => {
    const res = await t.request({ method: 'PATCH', url: '/v1/accounts/acc_x', payload: {} });
    assert.equal(res.statusCode, 400);
    assert.match(errorOf(res).message, /at least one of name, disabled, limit, max_bps/);
  });

  it('a body over 64 KB → 413', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: 'x'.repeat(70_000) } });
    assert.equal(res.statusCode, 413);
    const e = errorOf(res);
    assert.equal(e.code, 'body_too_large');
    assert.match(e.message, /65536 bytes/);
  });

  it('a body that is not JSON → 415', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/accounts', payload: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.statusCode, 415);
    assert.equal(errorOf(res).code, 'unsupported_media_type');
  });

  it('an unknown route or method → 404 JSON', async () => {
    for (const [method, url] of [['GET', '/nope'], ['GET', '/v1/accounts/x/y/z'], ['PUT', '/v1/accounts'], ['GET', '/v1/ice-servers?token=st_secret']] as const) {
      const res = await t.request({ method, url, auth: null });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      const e = errorOf(res);
      assert.equal(e.code, 'not_found');
      assert.ok(!e.message.includes('st_secret'), 'the query string is not echoed');
    }
    // A bodyless POST as browsers send it (JSON content type, empty body) to an unknown path.
    const empty = await t.request({ method: 'POST', url: '/nope', payload: '', headers: { 'content-type': 'application/json' }, auth: null });
    assert.equal(empty.statusCode, 404);
    assert.equal(errorOf(empty).code, 'not_found');
  });

  it('an internal failure → 500 without details', async () => {
    const broken = await testApp();
    try {
      await broken.store.close();
      const res = await broken.request({ method: 'GET', url: '/v1/accounts' });
      assert.equal(res.statusCode, 500);
      assert.deepEqual(errorOf(res), { code: 'internal', message: 'internal error' });
    } finally {
      await broken.close();
    }
  });
});

describe('GET /openapi.json', () => {
  let t: TestApp;
  before(async () => { t = await testApp(WIRED); });
  after(() => t.close());

  it('documents every route from the zod schemas', async () => {
    const res = await t.request({ method: 'GET', url: '/openapi.json', auth: null });
    assert.equal(res.statusCode, 200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<string, Record<string, {
        requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> };
        responses: Record<string, unknown>;
        security?: unknown[];
      }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    assert.match(doc.openapi, /^3\./);
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    assert.deepEqual(routes, [
      'DELETE /v1/accounts/{id}',
      'DELETE /v1/accounts/{id}/keys/{keyId}',
      'DELETE /v1/accounts/{id}/sessions',
      'DELETE /v1/sessions/{id}',
      'GET /healthz',
      'GET /v1/accounts',
      'GET /v1/accounts/{id}',
      'GET /v1/accounts/{id}/keys',
      'GET /v1/overview',
      'GET /v1/relays',
      'GET /v1/sessions',
      'GET /v1/signal',
      'GET /v1/usage',
      'GET /v1/usage/export.csv',
      'PATCH /v1/accounts/{id}',
      'POST /v1/accounts',
      'POST /v1/accounts/{id}/keys',
      'POST /v1/accounts/{id}/revoke',
      'POST /v1/ice-servers',
      'POST /v1/signal-tokens',
    ]);
    const create = doc.paths['/v1/accounts'].post;
    const schema = create.requestBody?.content['application/json'].schema;
    assert.ok(schema?.properties?.name, 'the body schema comes from zod');
    assert.deepEqual(schema?.required, ['name']);
    assert.ok(create.responses['201'] && create.responses['401'], 'success and error responses documented');
    assert.deepEqual(create.security, [{ adminToken: [] }]);
    assert.ok(doc.components.securitySchemes.adminToken && doc.components.securitySchemes.apiKey);
    const ice = doc.paths['/v1/ice-servers'].post as { requestBody?: { required?: boolean }; responses: Record<string, unknown> };
    assert.ok(ice.responses['200'] && ice.responses['503']);
    assert.equal(ice.requestBody?.required, false, 'the ttl body is optional');
    assert.ok(!JSON.stringify(doc).includes('x-optional-body'));
  });
});
