// `ferry credentials --ttl` and POST /v1/ice-servers {ttl} take the same values (src/credentials/ttl.ts):
// each value below goes to both; an accepted one mints the same lifetime, a refused one gets the
// same message (API: 400 naming body.ttl; CLI: exit 2 naming --ttl).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../../app/cli/main.js';
import { parseRestUsername } from '../../../../src/credentials/rest.js';
import { errorOf, testApp, type TestApp } from '../../../helpers/signaling-app.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const ACCEPTED: [string | number, number][] = [
  ['60', 60], ['90s', 90], ['15m', 900], ['1h', 3600], ['1h30m', 5400], ['86400', 86_400], ['24h', 86_400], [120, 120],
];
const REFUSED: (string | number)[] = ['59', '30s', '0', '86401', '25h', '1500ms', 'soon', 30, 86_401];

/** The lifetime a REST username carries: expiry second − the issue second. */
function ttlOf(username: string): number {
  const u = parseRestUsername(username);
  assert.ok(u?.issuedAt !== undefined, username);
  return u.expiry - Math.floor(u.issuedAt / 1000);
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

describe('TTLs: the CLI and the API accept the same values', () => {
  let t: TestApp;
  let apiKey = '';
  let config = '';
  before(async () => {
    t = await testApp();
    apiKey = (await t.createAccount('acme')).api_key;
    const dir = tempDir('ferry-ttl');
    config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ address: '127.0.0.1:3478', auth_secrets: ['ttl-test-secret-0123456789'], storage: 'sqlite:accounts.db' }));
    const created = await cli(['accounts', 'create', 'acme', '--config', config]);
    assert.equal(created.code, 0, created.stderr);
  });
  after(() => t.close());

  const api = (ttl: string | number) => t.request({ method: 'POST', url: '/v1/ice-servers', auth: apiKey, payload: { ttl } });

  it('accepted: the same lifetime from both', async () => {
    for (const [ttl, seconds] of ACCEPTED) {
      const res = await api(ttl);
      assert.equal(res.statusCode, 200, `${ttl}: ${res.body}`);
      assert.equal(ttlOf((res.json() as { iceServers: [{ username: string }] }).iceServers[0].username), seconds, `API ${ttl}`);
      const r = await cli(['credentials', 'acme', '--ttl', String(ttl), '--config', config]);
      assert.equal(r.code, 0, `${ttl}: ${r.stderr}`);
      assert.equal(ttlOf((JSON.parse(r.stdout) as { iceServers: [{ username: string }] }).iceServers[0].username), seconds, `CLI ${ttl}`);
    }
  });

  it('refused: API 400 naming body.ttl and the range, CLI exit 2 with the same message', async () => {
    for (const ttl of REFUSED) {
      const res = await api(ttl);
      assert.equal(res.statusCode, 400, `${ttl}: ${res.body}`);
      const { code, message } = errorOf(res);
      assert.equal(code, 'invalid_request');
      assert.match(message, /^body\.ttl: /);
      assert.match(message, /from 1m to 1d \(60 to 86400 seconds\)/, message);
      // The CLI gets the value as a string, as the API's {"ttl": "<value>"}: the same message.
      const asString = errorOf(await api(String(ttl))).message;
      const r = await cli(['credentials', 'acme', '--ttl', String(ttl), '--config', config]);
      assert.equal(r.code, 2, `${ttl}: ${r.stdout}`);
      assert.equal(r.stderr.split('\n')[0], `ferry: --ttl: ${asString.slice('body.ttl: '.length)}`, String(ttl));
    }
  });

  it('signaling tokens: the same forms, their own range (1s..1d)', async () => {
    const mint = (ttl: unknown) => t.request({ method: 'POST', url: '/v1/signal-tokens', auth: apiKey, payload: { ttl } });
    for (const [ttl, seconds] of [['1s', 1], ['15m', 900], ['600', 600], [86_400, 86_400]] as const) {
      const res = await mint(ttl);
      assert.equal(res.statusCode, 201, `${ttl}: ${res.body}`);
      assert.equal(Date.parse((res.json() as { expires_at: string }).expires_at), t.clock.ms + seconds * 1000, String(ttl));
    }
    for (const ttl of [0, '0s', '25h', 86_401, '0.5s']) {
      const res = await mint(ttl);
      assert.equal(res.statusCode, 400, String(ttl));
      assert.match(errorOf(res).message, /^body\.ttl: .*from 1s to 1d \(1 to 86400 seconds\)/);
    }
  });
});
