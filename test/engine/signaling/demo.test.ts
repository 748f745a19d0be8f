// The demo routes: /demo, /demo/<module>.js (the page's browser modules only) and /sdk/<file>.js
// (the compiled SDK, traversal-safe).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerDemo } from '../../../signaling/demo.js';

describe('demo routes', () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify({ logger: false });
    registerDemo(app);
    await app.ready();
  });
  after(async () => { await app.close(); });

  test('GET /demo: the page, asking for nothing secret', async () => {
    const res = await app.inject({ method: 'GET', url: '/demo' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /<script type="module" src="\/demo\/page\.js">/);
    assert.match(res.body, /id="token"/);
    assert.doesNotMatch(res.body, /fk_|st_[A-Za-z0-9]{8}/, 'no key or token in the page');
  });

  test('GET /demo/page.js: the compiled page script', async () => {
    const res = await app.inject({ method: 'GET', url: '/demo/page.js' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/javascript/);
    assert.match(res.body, /sdk\/index\.js/);
    // The modules it imports, and nothing else of the compiled signaling/demo/ (html.js is the server's).
    const deps = [...res.body.matchAll(/from '\.\/([a-z0-9-]+\.js)'/g)].map((m) => m[1]);
    assert.deepEqual(deps.sort(), ['hints.js', 'stats.js']);
    for (const d of deps) {
      const r = await app.inject({ method: 'GET', url: `/demo/${d}` });
      assert.equal(r.statusCode, 200, d);
      assert.match(String(r.headers['content-type']), /^text\/javascript/);
    }
    for (const url of ['/demo/html.js', '/demo/page.js.map', '/demo/..%2Fdemo.js', '/demo/nope.js']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
    }
  });

  test('GET /sdk/index.js and the modules it imports, as text/javascript', async () => {
    const res = await app.inject({ method: 'GET', url: '/sdk/index.js' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/javascript/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    const deps = [...res.body.matchAll(/from '\.\/([a-z0-9-]+\.js)'/g)].map((m) => m[1]);
    assert.ok(deps.includes('client.js'), deps.join(', '));
    for (const d of deps) {
      const r = await app.inject({ method: 'GET', url: `/sdk/${d}` });
      assert.equal(r.statusCode, 200, d);
    }
  });

  for (const url of [
    '/sdk/..%2F..%2Fpackage.json', '/sdk/..%2Fcli%2Fmain.js', '/sdk/%2e%2e%2fclient.js', '/sdk/../../package.json',
    '/sdk/index.js.map', '/sdk/nope.js', '/sdk/INDEX.JS', '/sdk/.hidden.js', '/sdk/index.ts', '/sdk/',
  ]) {
    test(`GET ${url}: 404`, async () => {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, res.body);
      assert.doesNotMatch(res.body, /"name"\s*:\s*"ferry-relay"/);
    });
  }
});
