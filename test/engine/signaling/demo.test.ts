// The demo routes: /demo and /demo/<module>.js (the page's browser modules only; the SDK files:
// sdk.test.ts).
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
    // Its own scripts only, this origin only, never framed (the Chromium demo test runs under it).
    const csp = String(res.headers['content-security-policy']);
    for (const d of ["script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "default-src 'none'"]) assert.ok(csp.includes(d), `${d} in ${csp}`);
  });

  test('GET /demo/page.js: the compiled page script', async () => {
    const res = await app.inject({ method: 'GET', url: '/demo/page.js' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/javascript/);
    assert.match(res.body, /sdk\/ferry\.js/);
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
});
