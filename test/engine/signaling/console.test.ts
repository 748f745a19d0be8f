// The operator console over HTTP (signaling/console.ts) in the signaling app: the page and its two
// assets (dist/console-app, built by scripts/build-console.js in `npm test`) with their types, the
// strict CSP and the other security headers, ETag revalidation, and a JSON 404 for every other name
// under /console/, traversal attempts included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONSOLE_CSP } from '../../../signaling/console.js';
import { errorOf, testApp, type TestApp } from '../../helpers/signaling-app.js';

const APP_DIR = new URL('../../../console-app/', import.meta.url); // dist/test/engine/signaling → dist/console-app

describe('console files', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(() => t.close());
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  /** The headers every console answer carries, 304s included. */
  function assertGuarded(res: Awaited<ReturnType<typeof get>>, what: string): void {
    assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, what);
    assert.equal(res.headers['x-frame-options'], 'DENY', what);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
    assert.equal(res.headers['referrer-policy'], 'no-referrer', what);
    assert.equal(res.headers['cache-control'], 'no-cache', what);
  }

  test('the CSP: only this origin\'s script and styles, nothing inline, no framing, no form posts', () => {
    const directives = new Map(CONSOLE_CSP.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('script-src'), ["'self'"]);
    assert.deepEqual(directives.get('style-src'), ["'self'"]);
    assert.deepEqual(directives.get('connect-src'), ["'self'"]);
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(directives.get('base-uri'), ["'none'"]);
    assert.deepEqual(directives.get('form-action'), ["'none'"]);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval|\*|https?:/);
  });

  test('GET /console: the page, text/html, with the CSP and the other guards, public (no token needed)', async () => {
    const res = await t.request({ method: 'GET', url: '/console', auth: null });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assertGuarded(res, '/console');
    assert.equal(res.body, readFileSync(new URL('index.html', APP_DIR), 'utf8'));
    assert.match(String(res.headers.etag), /^"[A-Za-z0-9_-]{32}"$/);
  });

  test('the page loads only /console/console.js and /console/console.css, nothing inline or from elsewhere', async () => {
    const html = (await get('/console')).body;
    const refs = [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]);
    // In-page links (#main, #/overview ...) and the empty data: icon (so the browser asks for no favicon).
    const loaded = refs.filter((r) => !r.startsWith('#') && r !== 'data:,');
    assert.deepEqual(loaded.sort(), ['/console/console.css', '/console/console.js']);
    assert.match(html, /<script type="module" src="\/console\/console\.js"><\/script>/);
    // Every script has a src (nothing inline to run), no inline style, no event handler attribute.
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1], /\bsrc=/);
      assert.equal(m[2].trim(), '');
    }
    assert.doesNotMatch(html, /<style\b|\sstyle\s*=|\son[a-z]+\s*=/i);
    assert.match(html, /<meta name="referrer" content="no-referrer">/);
  });

  for (const [file, type] of [['console.js', 'text/javascript; charset=utf-8'], ['console.css', 'text/css; charset=utf-8']] as const) {
    test(`GET /console/${file}: ${type}, the built file, guarded, revalidated with its ETag`, async () => {
      const res = await get(`/console/${file}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], type);
      assertGuarded(res, file);
      assert.equal(res.body, readFileSync(new URL(file, APP_DIR), 'utf8'));
      const etag = String(res.headers.etag);
      assert.match(etag, /^"[A-Za-z0-9_-]{32}"$/);

      const again = await get(`/console/${file}`, { 'if-none-match': etag });
      assert.equal(again.statusCode, 304);
      assert.equal(again.body, '');
      assert.equal(again.headers.etag, etag);
      assertGuarded(again, `${file} 304`);
      assert.equal((await get(`/console/${file}`, { 'if-none-match': `"other", W/${etag}` })).statusCode, 304, 'weak comparison, lists');
      assert.equal((await get(`/console/${file}`, { 'if-none-match': '"stale"' })).statusCode, 200);
    });
  }

  test('the bundle imports nothing and names no other origin', async () => {
    const js = (await get('/console/console.js')).body;
    assert.doesNotMatch(js, /^\s*import[\s{*]/m);
    assert.doesNotMatch(js, /\bimport\s*\(/);
    assert.doesNotMatch(js, /https?:\/\/(?!www\.w3\.org\/)/, 'no URL of another origin (the SVG namespace aside)');
    const css = (await get('/console/console.css')).body;
    assert.doesNotMatch(css, /@import|url\(\s*["']?(?:https?:)?\/\//);
  });

  test('GET /console (If-None-Match): 304 with the same guards', async () => {
    const first = await get('/console');
    const res = await get('/console', { 'if-none-match': String(first.headers.etag) });
    assert.equal(res.statusCode, 304);
    assertGuarded(res, '/console 304');
  });

  test('GET /console/: 301 to /console', async () => {
    const res = await get('/console/');
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers.location, '/console');
  });

  for (const url of [
    '/console/index.html', '/console/console.js.map', '/console/console.css.map', '/console/nope.js', '/console/CONSOLE.JS',
    '/console/..%2F..%2Fpackage.json', '/console/%2e%2e%2fconsole-app%2findex.html', '/console/%2e%2e', '/console/../package.json',
    '/console/..%2Fsignaling%2Fconsole.js', '/console/.hidden', '/console/a/console.js', '/console/console.js%00.map',
    '/console/main.ts', '/console/console.js/', '/console/console.js%2F',
  ]) {
    test(`GET ${url}: JSON 404`, async () => {
      const res = await get(url);
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(errorOf(res).code, 'not_found');
      assert.doesNotMatch(res.body, /"name"\s*:\s*"ferry-relay"|<html/i);
    });
  }

  test('POST /console: not a route (404), the page is only read', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/console', payload: {} });
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(errorOf(res).code, 'not_found');
  });
});
