// The README's route table and Admin API section against the OpenAPI document: a route added to
// the API but not to the README (or the reverse) fails here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testApp, WIRED, type TestApp } from '../../helpers/signaling-app.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README section ${title}`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('README documents the HTTP API', () => {
  let t: TestApp;
  let routes: Array<{ method: string; path: string; admin: boolean }>;
  before(async () => {
    t = await testApp(WIRED);
    const doc = (await t.request({ method: 'GET', url: '/openapi.json', auth: null })).json() as {
      paths: Record<string, Record<string, { security?: Array<Record<string, unknown>> }>>;
    };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        admin: (op.security ?? []).some((s) => 'adminToken' in s),
      })),
    );
  });
  after(() => t.close());

  it('lists every route in the Signaling API table', () => {
    const table = section('Signaling API');
    for (const r of routes) assert.ok(table.includes(`\`${r.method} ${r.path}`), `${r.method} ${r.path} in the route table`);
  });

  it('lists every admin route in the Admin API section, and says where the OpenAPI document is', () => {
    const admin = section('Admin API');
    assert.ok(routes.some((r) => r.path === '/v1/sessions' && r.admin));
    for (const r of routes.filter((x) => x.admin)) {
      const listed = new RegExp(`\`(?:[A-Z]+\\|)*${r.method}(?:\\|[A-Z]+)* ${r.path.replace(/[{}[\]?]/g, '\\$&')}[\`[]`);
      assert.match(admin, listed, `${r.method} ${r.path} in the Admin API section`);
    }
    assert.match(admin, /`\/openapi\.json`/);
  });
});
