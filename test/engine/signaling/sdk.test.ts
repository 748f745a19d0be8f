// The SDK files over HTTP (signaling/sdk.ts) in the signaling app: the bundle and its source map
// (dist/sdk, built by scripts/build-sdk.js in `npm test`), the compiled modules (dist/client),
// their types and caching headers, and JSON 404s for every other name, traversal attempts included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { etagMatches, sdkFileUrl } from '../../../signaling/sdk.js';
import { errorOf, testApp, type TestApp } from '../../helpers/signaling-app.js';

const BUNDLE = new URL('../../../sdk/ferry.js', import.meta.url); // dist/test/engine/signaling → dist/sdk

describe('SDK files', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(() => t.close());
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  test('GET /sdk/ferry.js: the bundle, as text/javascript with an ETag, revalidated every time', async () => {
    const res = await get('/sdk/ferry.js');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.body, readFileSync(BUNDLE, 'utf8'));
    // One module: no import left, and the exports of client/index.ts.
    assert.doesNotMatch(res.body, /^\s*import\s/m);
    assert.match(res.body, /^export \{[^}]*\bconnect\b[^}]*\}/m);
    assert.match(res.body, /\/\/# sourceMappingURL=ferry\.js\.map\s*$/);
    const etag = String(res.headers.etag);
    assert.match(etag, /^"[A-Za-z0-9_-]{32}"$/);

    const again = await get('/sdk/ferry.js', { 'if-none-match': etag });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    assert.equal(again.headers.etag, etag);
    assert.equal(again.headers['cache-control'], 'no-cache');
    assert.equal((await get('/sdk/ferry.js', { 'if-none-match': `"other", W/${etag}` })).statusCode, 304, 'weak comparison, lists');
    assert.equal((await get('/sdk/ferry.js', { 'if-none-match': '"stale"' })).statusCode, 200);
  });

  test('HEAD /sdk/ferry.js: headers only', async () => {
    const res = await t.app.inject({ method: 'HEAD', url: '/sdk/ferry.js' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.body, '');
  });

  test('GET /sdk/ferry.js.map: the source map as JSON, TypeScript sources inlined', async () => {
    const res = await get('/sdk/ferry.js.map');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.ok(res.headers.etag);
    const map = JSON.parse(res.body) as { version: number; sources: string[]; sourcesContent: string[] };
    assert.equal(map.version, 3);
    assert.ok(map.sources.some((s) => s.endsWith('client/client.ts')), map.sources.join(', '));
    assert.equal(map.sourcesContent.length, map.sources.length);
  });

  test('GET /sdk/index.js and the modules it imports (the compiled SDK, one module each)', async () => {
    const res = await get('/sdk/index.js');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    const deps = [...res.body.matchAll(/from '\.\/([a-z0-9-]+\.js)'/g)].map((m) => m[1]);
    assert.ok(deps.includes('client.js'), deps.join(', '));
    for (const d of deps) assert.equal((await get(`/sdk/${d}`)).statusCode, 200, d);
  });

  for (const url of [
    '/sdk/..%2F..%2Fpackage.json', '/sdk/..%2Fcli%2Fmain.js', '/sdk/%2e%2e%2fclient.js', '/sdk/../../package.json',
    '/sdk/..%2Fsdk%2Fferry.js', '/sdk/ferry.d.ts', '/sdk/index.js.map', '/sdk/nope.js', '/sdk/INDEX.JS', '/sdk/.hidden.js',
    '/sdk/index.ts', '/sdk/', '/sdk/a/b.js', '/sdk/ferry.js%00.map',
  ]) {
    test(`GET ${url}: JSON 404`, async () => {
      const res = await get(url);
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(errorOf(res).code, 'not_found');
      assert.doesNotMatch(res.body, /"name"\s*:\s*"ferry-relay"/);
    });
  }

  test('names map to files only through the fixed list and one flat pattern', () => {
    assert.equal(sdkFileUrl('ferry.js')?.url.pathname.endsWith('/dist/sdk/ferry.js'), true);
    assert.equal(sdkFileUrl('call.js')?.url.pathname.endsWith('/dist/client/call.js'), true);
    for (const bad of ['../ferry.js', 'a/b.js', 'ferry.d.ts', '.js', 'x.js.map', '']) assert.equal(sdkFileUrl(bad), undefined, bad);
  });

  test('If-None-Match: one tag, a list, weak tags, *', () => {
    assert.equal(etagMatches(undefined, '"a"'), false);
    assert.equal(etagMatches('"a"', '"a"'), true);
    assert.equal(etagMatches('W/"a"', '"a"'), true);
    assert.equal(etagMatches('"b", "a"', '"a"'), true);
    assert.equal(etagMatches('*', '"a"'), true);
    assert.equal(etagMatches('"b"', '"a"'), false);
    assert.equal(etagMatches('a', '"a"'), false);
  });
});
