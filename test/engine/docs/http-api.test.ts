// docs/http-api.md against the OpenAPI document: a route added to the API but not to the page
// (or the reverse), a wrong credential in the route table, or an answer the page does not mention
// fails here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, WIRED, type TestApp } from '../../helpers/signaling-app.js';
import { links, readDoc, section } from '../../helpers/markdown.js';

const PAGE = readDoc('docs/http-api.md');

interface Route {
  readonly method: string;
  readonly path: string;
  readonly admin: boolean;
  readonly statuses: readonly string[];
}

function mustSection(title: string): string {
  const s = section(PAGE, title);
  assert.ok(s !== undefined, `docs/http-api.md: no section "${title}"`);
  return s;
}

describe('docs/http-api.md documents the HTTP API', () => {
  let t: TestApp;
  let routes: Route[];
  before(async () => {
    t = await testApp(WIRED);
    const doc = (await t.request({ method: 'GET', url: '/openapi.json', auth: null })).json() as {
      paths: Record<string, Record<string, { security?: Array<Record<string, unknown>>; responses?: Record<string, unknown> }>>;
    };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => {
        const security = op.security ?? [];
        return {
          method: method.toUpperCase(),
          path,
          admin: security.length > 0 && security.every((s) => 'adminToken' in s),
          statuses: Object.keys(op.responses ?? {}),
        };
      }),
    );
  });
  after(() => t.close());

  it('lists every route in the Routes table, admin routes with the admin credential', () => {
    const table = mustSection('Routes');
    const rows = new Map<string, string>();
    for (const line of table.split('\n')) {
      const m = /^\| `([A-Z]+ \/[^`]*)`[^|]*\| ([^|]+) \|/.exec(line);
      if (m) rows.set(m[1], m[2].trim());
    }
    assert.ok(routes.some((r) => r.path === '/v1/sessions' && r.admin), 'the OpenAPI document lists the admin routes');
    for (const r of routes) {
      const credential = rows.get(`${r.method} ${r.path}`);
      assert.ok(credential !== undefined, `${r.method} ${r.path}: no row in the Routes table`);
      if (r.admin) assert.equal(credential, 'admin', `${r.method} ${r.path}: an admin route`);
      else assert.notEqual(credential, 'admin', `${r.method} ${r.path}: not an admin-only route`);
    }
  });

  it('has a section per route that mentions every answer of the OpenAPI document', () => {
    for (const r of routes) {
      const s = section(PAGE, `\`${r.method} ${r.path}\``);
      assert.ok(s !== undefined, `no section "### \`${r.method} ${r.path}\`"`);
      for (const status of r.statuses) {
        assert.match(s, new RegExp(`\\b${status}\\b`), `${r.method} ${r.path}: answer ${status} not mentioned`);
      }
    }
  });

  it('says that /openapi.json is the machine-readable form, and the README links the page', () => {
    const intro = PAGE.slice(0, PAGE.indexOf('\n## '));
    assert.match(intro, /`GET \/openapi\.json` is the machine-readable form/);
    assert.ok(links(readDoc('README.md')).some((l) => l.target === 'docs/http-api.md'));
  });
});
