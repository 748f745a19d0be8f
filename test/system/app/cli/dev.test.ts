// `ferry start --fg` with no config file at all: the embedded defaults plus the development setup
// (secrets in ./data/dev-secrets.json, a `dev` account once, a ready-to-run curl command on stderr).
// It needs the default ports (3478 UDP/TCP, 8080 TCP) on every interface: it fails when they are busy.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnGuarded, terminate } from '../../../helpers/reaper.js';
import { canBindTcp, canBindUdp } from '../../../helpers/ports.js';
import { until } from '../../../helpers/wait.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const FERRY = join(ROOT, 'bin', 'ferry.js');

const ANY = '0.0.0.0';
const portsFree = async () => (await canBindUdp(3478, ANY)) && (await canBindTcp(3478, ANY)) && (await canBindTcp(8080, ANY));

describe('ferry start --fg without a config file', () => {
  const dir = tempDir('ferry-cli-dev');
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await terminate(c, 2000);
  });

  /** Starts Ferry in `dir`, waits for the development notice on stderr, returns the API key it shows. */
  async function startDev(): Promise<{ child: ChildProcess; apiKey: string; stderr: () => string }> {
    const child = spawnGuarded(process.execPath, [FERRY, 'start', '--fg'], dir);
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await until(() => /Bearer fk_[\w-]+/.test(stderr) || child.exitCode !== null, 15_000, `the dev notice\n${stdout}\n${stderr}`);
    assert.equal(child.exitCode, null, `exited: ${stdout}\n${stderr}`);
    assert.ok(!stdout.includes('Bearer fk_'), 'the notice is not in the JSON log');
    return { child, apiKey: /Bearer (fk_[\w-]+)/.exec(stderr)![1], stderr: () => stderr };
  }

  test('provisions secrets and a dev account, mints ICE servers with the printed curl, reuses them next time', { timeout: 60_000 }, async () => {
    // The embedded defaults listen on 3478 and 8080: the test needs them (tests run one file at a time).
    assert.ok(await portsFree(), 'the default ports 3478/8080 are in use by another process');
    const first = await startDev();
    assert.match(first.stderr(), /development setup/);
    // Two demo URLs, the signaling token in the fragment, the second one calling the first.
    assert.match(first.stderr(), /^ {4}http:\/\/localhost:8080\/demo#token=st_[\w.-]+&me=alice&peer=bob$/m);
    assert.match(first.stderr(), /^ {4}http:\/\/localhost:8080\/demo#token=st_[\w.-]+&me=bob&peer=alice&call=1$/m);
    assert.match(first.stderr(), /curl -s -X POST http:\/\/localhost:8080\/v1\/ice-servers -H 'Authorization: Bearer fk_/);
    const secretsFile = join(dir, 'data', 'dev-secrets.json');
    assert.equal(statSync(secretsFile).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(secretsFile, 'utf8')) as { api_key: string; auth_secret: string; admin_token: string };
    assert.equal(saved.api_key, first.apiKey);

    const res = await fetch('http://127.0.0.1:8080/v1/ice-servers', { method: 'POST', headers: { authorization: `Bearer ${first.apiKey}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { iceServers: Array<{ urls: string[] }> };
    assert.ok(body.iceServers[0].urls.some((u) => u.startsWith('turn:')));

    first.child.kill('SIGTERM');
    await until(() => first.child.exitCode !== null, 10_000, 'first Ferry stopped');
    assert.equal(first.child.exitCode, 0);

    const second = await startDev();
    assert.equal(second.apiKey, first.apiKey, 'the same dev account and key');
    const again = JSON.parse(readFileSync(secretsFile, 'utf8')) as typeof saved;
    assert.deepEqual([again.auth_secret, again.admin_token], [saved.auth_secret, saved.admin_token]);
    second.child.kill('SIGTERM');
    await until(() => second.child.exitCode !== null, 10_000, 'second Ferry stopped');
    const list = spawnSync(process.execPath, [FERRY, 'accounts', 'list', '--json'], { cwd: dir, encoding: 'utf8' });
    const accounts = (JSON.parse(list.stdout) as { accounts: Array<{ name: string }> }).accounts;
    assert.deepEqual(accounts.map((a) => a.name), ['dev']);
  });
});
