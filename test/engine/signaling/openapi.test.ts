// GET /openapi.json is a valid OpenAPI 3.1 document (checked against the OpenAPI Initiative's JSON
// Schema for 3.1, test/helpers/fixtures/openapi-3.1.schema.json, Apache-2.0, from
// https://spec.openapis.org/oas/3.1/schema/2022-10-07) that tells the truth: the CSV export is
// text/csv, /metrics is Prometheus text, the WebSocket /v1/signal is described with the answers it
// really gives and its frames' schemas, and info.version is package.json's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { buildSignalingApp } from '../../../signaling/app.js';
import { errorOf, testApp, WIRED, type TestApp } from '../../helpers/signaling-app.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, unknown>;

interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  responses: Record<string, { description?: string; content?: Record<string, unknown>; 'x-websocket-frames'?: Record<string, { $ref: string }> }>;
  security?: Array<Record<string, string[]>>;
}
interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

/** Every "$ref" in `node`. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('GET /openapi.json', () => {
  let t: TestApp;
  let doc: Doc;
  let apiKey = '';
  before(async () => {
    const metrics = { render: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '# HELP up Up.\n# TYPE up gauge\nup 1\n' }) };
    t = await testApp({ ...WIRED, build: (deps) => buildSignalingApp({ ...deps, metrics }) });
    apiKey = (await t.createAccount('acme')).api_key;
    const res = await t.request({ method: 'GET', url: '/openapi.json', auth: null });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    doc = res.json() as Doc;
  });
  after(() => t.close());

  it('is valid OpenAPI 3.1: the OAI schema accepts it, every $ref and security scheme resolves', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    // The OAI schema points Schema Objects at its "meta" anchor through $dynamicRef, which ajv
    // does not follow across the document; nothing overrides the anchor, so a plain $ref to it is
    // the same schema (the document's own Schema Objects are JSON Schema, checked by zod's output).
    const oas = JSON.stringify(readJson('test/helpers/fixtures/openapi-3.1.schema.json')).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}');
    assert.ok(!oas.includes('$dynamicRef'));
    const validate = ajv.compile(JSON.parse(oas) as object);
    assert.equal(validate(doc), true, JSON.stringify(validate.errors, null, 2));
    // The schema can fail: a response without its description is refused.
    const broken = structuredClone(doc);
    delete broken.paths['/v1/usage/export.csv'].get.responses['200'].description;
    assert.equal(validate(broken), false);
    for (const ref of refs(doc)) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
      assert.ok(m && m[1] in doc.components.schemas, `${ref} resolves`);
    }
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const requirement of op.security ?? []) {
          for (const scheme of Object.keys(requirement)) assert.ok(scheme in doc.components.securitySchemes, `${method} ${path}: ${scheme}`);
        }
      }
    }
  });

  it('info.version is package.json\'s version', () => {
    const pkg = readJson('package.json');
    assert.equal(typeof pkg.version, 'string');
    assert.equal(doc.info.version, pkg.version);
  });

  it('the CSV export is declared text/csv, and served so; JSON routes stay application/json', async () => {
    const ok = doc.paths['/v1/usage/export.csv'].get.responses['200'];
    assert.deepEqual(Object.keys(ok.content ?? {}), ['text/csv']);
    const served = await t.request({ method: 'GET', url: '/v1/usage/export.csv' });
    assert.equal(served.statusCode, 200);
    assert.match(String(served.headers['content-type']), /^text\/csv/);
    assert.deepEqual(Object.keys(doc.paths['/v1/usage'].get.responses['200'].content ?? {}), ['application/json']);
    assert.deepEqual(Object.keys(doc.paths['/v1/usage/export.csv'].get.responses['401'].content ?? {}), ['application/json'], 'errors are JSON');
  });

  it('/metrics: Prometheus text, its token optional', async () => {
    const op = doc.paths['/metrics'].get;
    assert.deepEqual(Object.keys(op.responses['200'].content ?? {}), ['text/plain']);
    assert.match(op.responses['200'].description ?? '', /Prometheus text exposition format 0\.0\.4/);
    assert.deepEqual(op.security, [{}, { metricsToken: [] }]);
    const served = await t.request({ method: 'GET', url: '/metrics', auth: null });
    assert.equal(served.statusCode, 200);
    assert.match(String(served.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  });

  it('/v1/signal: a GET with peer_id and a token parameter or bearer; each documented answer is one the route gives', async () => {
    const op = doc.paths['/v1/signal'].get;
    assert.deepEqual(op.parameters?.map((p) => [p.name, p.in, p.required === true]), [['peer_id', 'query', true], ['token', 'query', false], ['Upgrade', 'header', true]]);
    assert.deepEqual(op.security, [{ apiKey: [] }, { signalToken: [] }, { signalTokenQuery: [] }]);
    assert.deepEqual(Object.keys(op.responses).sort(), ['101', '400', '401', '403', '426', '429', '503']);
    // What the route answers (without an Upgrade header, so no socket opens).
    const answers: [string, string | null, number, string][] = [
      ['/v1/signal?peer_id=a', apiKey, 426, 'upgrade_required'],
      ['/v1/signal?peer_id=a', null, 401, 'unauthorized'],
      ['/v1/signal?peer_id=a&token=st_forged.x', null, 401, 'unauthorized'],
      ['/v1/signal?peer_id=no%20spaces', apiKey, 400, 'bad_request'],
    ];
    for (const [url, auth, status, code] of answers) {
      const res = await t.request({ method: 'GET', url, auth });
      assert.equal(res.statusCode, status, `${url}: ${res.body}`);
      assert.equal(errorOf(res).code, code);
      assert.ok(String(status) in op.responses, `${status} is documented`);
    }
  });

  it('/v1/signal: the frames\' schemas accept real frames and refuse malformed ones', () => {
    const frames = doc.paths['/v1/signal'].get.responses['101']['x-websocket-frames'];
    assert.deepEqual(frames, { client: { $ref: '#/components/schemas/SignalClientFrame' }, server: { $ref: '#/components/schemas/SignalServerFrame' } });
    const ajv = new Ajv2020({ strict: false });
    const client = ajv.compile(doc.components.schemas.SignalClientFrame as object);
    const server = ajv.compile(doc.components.schemas.SignalServerFrame as object);
    assert.equal(client({ type: 'offer', to: 'bob', payload: { type: 'offer', sdp: 'v=0' }, id: 1 }), true, JSON.stringify(client.errors));
    assert.equal(client({ type: 'candidate', to: 'bob', payload: null }), true);
    assert.equal(client({ type: 'ping' }), true);
    assert.equal(client({ type: 'offer', to: 'bob' }), false, 'no payload');
    assert.equal(client({ type: 'shout', to: 'bob', payload: {} }), false);
    assert.equal(server({ type: 'welcome', peer_id: 'alice' }), true, JSON.stringify(server.errors));
    assert.equal(server({ type: 'error', code: 'peer_unavailable', message: 'gone', to: 'bob' }), true);
    assert.equal(server({ type: 'error', code: 'no_such_code', message: 'x' }), false);
  });
});
