// `ferry start --fg` with no config file at all: the embedded defaults plus the development setup
// (secrets in ./data/dev-secrets.json, a `dev` account once, a ready-to-run curl command on stderr).
// It listens on the default ports (3478 UDP/TCP, 8080 TCP) on every interface, so each Ferry runs in a
// network namespace of its own (test/helpers/private-net.ts): whatever holds those ports on the machine
// (a coturn service, another Ferry) neither breaks the test nor is touched by it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { terminate } from '../../../helpers/reaper.js';
import { runInNetOf, spawnInPrivateNet } from '../../../helpers/private-net.js';
import { until } from '../../../helpers/wait.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const FERRY = join(ROOT, 'bin', 'ferry.js');

// POST /v1/ice-servers on the default signaling port with the API key in argv[1]: prints the status, then the body.
const MINT = `fetch('http://127.0.0.1:8080/v1/ice-servers', { method: 'POST', headers: { authorization: 'Bearer ' + process.argv[1] } })
  .then(async (r) => console.log(r.status + '\\n' + (await r.text())))
  .catch((e) => { console.error(e); process.exit(1); });`;

describe('ferry start --fg without a config file', () => {
  const dir = tempDir('ferry-cli-dev');
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await terminate(c, 2000);
  });

  /**
   * Starts Ferry in `dir` in a network namespace of its own, waits for the development notice on
   * stderr, returns the API key it shows and the pid whose namespace it listens in.
   */
  async function startDev(): Promise<{ child: ChildProcess; apiKey: string; netPid: number; stderr: () => string }> {
    const { child, netPid } = spawnInPrivateNet(process.execPath, [FERRY, 'start', '--fg'], dir);
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await until(() => /Bearer fk_[\w-]+/.test(stderr) || child.exitCode !== null, 15_000, `the dev notice\n${stdout}\n${stderr}`);
    assert.equal(child.exitCode, null, `exited: ${stdout}\n${stderr}`);
    assert.ok(!stdout.includes('Bearer fk_'), 'the notice is not in the JSON log');
    return { child, apiKey: /Bearer (fk_[\w-]+)/.exec(stderr)![1], netPid: await netPid(), stderr: () => stderr };
  }

  test('provisions secrets and a dev account, mints ICE servers with the printed curl, reuses them next time', { timeout: 60_000 }, async () => {
    const first = await startDev();
    assert.match(first.stderr(), /development setup/);
    // Two demo URLs, the signaling token in the fragment, the second one calling the first.
    assert.match(first.stderr(), /^ {4}http:\/\/localhost:8080\/demo#token=st_[\w.-]+&me=alice&peer=bob$/m);
    assert.match(first.stderr(), /^ {4}http:\/\/localhost:8080\/demo#token=st_[\w.-]+&me=bob&peer=alice&call=1$/m);
    assert.match(first.stderr(), /curl -s -X POST http:\/\/localhost:8080\/v1\/ice-servers -H 'Authorization: Bearer fk_/);
    assert.match(first.stderr(), /operator console: http:\/\/localhost:8080\/console \(sign in with the admin token: "admin_token" in \S+\)/);
    const secretsFile = join(dir, 'data', 'dev-secrets.json');
    assert.equal(statSync(secretsFile).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(secretsFile, 'utf8')) as { api_key: string; auth_secret: string; admin_token: string };
    assert.equal(saved.api_key, first.apiKey);

    // What the printed curl does, from inside Ferry's namespace (its 8080 is not the machine's).
    const mint = await runInNetOf(first.netPid, process.execPath, ['-e', MINT, first.apiKey]);
    assert.equal(mint.code, 0, `minting through the default port failed:\n${mint.stdout}\n${mint.stderr}`);
    const [status, json] = [Number(mint.stdout.split('\n')[0]), mint.stdout.slice(mint.stdout.indexOf('\n') + 1)];
    assert.equal(status, 200, mint.stdout);
    const body = JSON.parse(json) as { iceServers: Array<{ urls: string[] }> };
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
