// The account, key and session commands, driven as an operator would (`node bin/ferry.js ...` in a
// temp dir): first with no Ferry running (on the store; sessions refused), then against a running
// Ferry (`ferry start --fg` as a real process on free loopback ports, killed in after() whatever
// happens), where each change must be seen by the live relay at once: TURN allocations and API keys
// are checked against it. Also: unique names (409 through the API and the CLI) and "did you mean"
// (answers given before anything is opened run the same CLI in this process: see cli()).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../../app/cli/main.js';
import { apiJson, apiRequest } from '../../../helpers/admin-http.js';
import { restCredentials } from '../../../helpers/ferry-process.js';
import { ferryCli, startCliFerry, type CliFerry, type CliRun } from '../../../helpers/ferry-cli.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import { exitIfStuck, sleep } from '../../../helpers/wait.js';

const SECRET = 'accounts-cli-rest-secret-0123456789';
const ADMIN = 'admin-token-for-the-accounts-cli-test';

type Run = CliRun;
const ferry = (args: string[], cwd: string) => ferryCli(args, cwd);

/**
 * The same CLI in this process (`run` from app/cli/main.ts), for answers given before any file or
 * process is touched (usage errors, --help, did you mean): spawning Node for each costs seconds here.
 */
async function cli(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

async function ok(args: string[], cwd: string): Promise<Run> {
  const r = await ferry(args, cwd);
  assert.equal(r.code, 0, `ferry ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

interface AccountJson { id: string; name: string; disabled: boolean; created_at: string; limit: number | null; max_bps: number | null }
const accounts = async (cwd: string) => (JSON.parse((await ok(['accounts', 'list', '--json'], cwd)).stdout) as { accounts: AccountJson[] }).accounts;
const keys = async (cwd: string, ref: string) =>
  (JSON.parse((await ok(['accounts', 'keys', 'list', ref, '--json'], cwd)).stdout) as { keys: Array<{ id: string; revoked_at: string | null }> }).keys;

describe('account commands with no Ferry running (on the store)', () => {
  const dir = tempDir('ferry-cli-accounts');
  before(() => writeFileSync(join(dir, 'config.json'), JSON.stringify({ auth_secrets: [SECRET], storage: 'sqlite:data/ferry.db' })));

  test('create, refuse a duplicate name, rename, limit, disable, enable, revoke, delete', { timeout: 240_000 }, async () => {
    const { id } = JSON.parse((await ok(['accounts', 'create', 'Acme'], dir)).stdout) as { id: string };
    const dup = await ferry(['accounts', 'create', 'ACME'], dir);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /an account named "ACME" exists already \(names are unique, ignoring case\)/);
    await ok(['accounts', 'create', 'beta'], dir);
    const clash = await ferry(['accounts', 'rename', 'beta', 'acme'], dir);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /exists already/);

    const renamed = await ok(['accounts', 'rename', 'acme', 'Acme Corp'], dir);
    assert.match(renamed.stdout, new RegExp(`renamed account ${id} from "Acme" to "Acme Corp" in the store`));
    await ok(['accounts', 'limit', 'acme corp', '10GB'], dir);
    const limited = (await accounts(dir)).find((a) => a.id === id)!;
    assert.deepEqual(limited, { id, name: 'Acme Corp', disabled: false, created_at: limited.created_at, limit: 10e9, max_bps: null });
    const table = (await ok(['accounts', 'list'], dir)).stdout;
    assert.match(table, /^ID\s+NAME\s+STATUS\s+LIMIT\s+CREATED\n/);
    assert.match(table, new RegExp(`${id}\\s+Acme Corp\\s+active\\s+10\\.0 GB\\s+\\d{4}-`));
    await ok(['accounts', 'limit', id, 'none'], dir);
    assert.equal((await accounts(dir))[0].limit, null);

    await ok(['accounts', 'disable', 'Acme Corp'], dir);
    assert.equal((await accounts(dir))[0].disabled, true);
    assert.equal((await ferry(['credentials', 'Acme Corp'], dir)).code, 1, 'no credentials for a disabled account');
    await ok(['accounts', 'enable', 'Acme Corp'], dir);
    assert.equal((await accounts(dir))[0].disabled, false);
    assert.equal((await ferry(['credentials', 'Acme Corp'], dir)).code, 0);

    const revoked = await ok(['accounts', 'revoke', id], dir);
    assert.match(revoked.stdout, /revoked the TURN credentials and signaling tokens issued so far to account .* in the store/);

    const deleted = await ok(['accounts', 'delete', 'beta'], dir);
    assert.match(deleted.stdout, /deleted account acc_\w+ \(beta\) in the store/);
    assert.deepEqual((await accounts(dir)).map((a) => a.name), ['Acme Corp']);
    await ok(['accounts', 'create', 'beta'], dir); // a deleted account's name is free again

    const missing = await ferry(['accounts', 'enable', 'nobody'], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no account "nobody"/);
  });

  test('keys list, add, revoke', { timeout: 120_000 }, async () => {
    assert.equal((await keys(dir, 'Acme Corp')).length, 1, 'the key made with the account');
    const added = JSON.parse((await ok(['accounts', 'keys', 'add', 'Acme Corp'], dir)).stdout) as { id: string; api_key: string };
    assert.match(added.id, /^key_/);
    assert.match(added.api_key, /^fk_/);
    assert.deepEqual((await keys(dir, 'Acme Corp')).map((k) => [k.id, k.revoked_at]).at(-1), [added.id, null]);
    const table = (await ok(['accounts', 'keys', 'list', 'Acme Corp'], dir)).stdout;
    assert.match(table, new RegExp(`^ID\\s+PREFIX\\s+CREATED\\s+REVOKED\\n(.*\\n)*${added.id}\\s+fk_\\S+…\\s+\\S+\\s+-\\n`));
    await ok(['accounts', 'keys', 'revoke', 'Acme Corp', added.id], dir);
    assert.notEqual((await keys(dir, 'Acme Corp')).find((k) => k.id === added.id)?.revoked_at, null);
    const unknown = await ferry(['accounts', 'keys', 'revoke', 'Acme Corp', 'key_nope'], dir);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no key "key_nope"/);
  });

  test('sessions need a running Ferry: exit 1 and say so', { timeout: 120_000 }, async () => {
    for (const args of [['sessions'], ['sessions', '--account', 'acme'], ['sessions', 'kill', '3']]) {
      const r = await ferry(args, dir);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /Ferry is not running \(pid file .*ferry\.pid\): sessions exist only in a running Ferry/);
    }
  });

  test('usage errors exit 2 before anything is done; every subcommand has --help', { timeout: 240_000 }, async () => {
    const usageErrors: Array<[string[], RegExp]> = [
      [['accounts', 'limit', 'acme', '10XB'], /SIZE: expected a size such as 500MB/],
      [['accounts', 'limit', 'acme', '0'], /SIZE: must be a positive whole number of bytes/],
      [['accounts', 'limit', 'acme'], /missing argument/],
      [['accounts', 'rename', 'acme', '  '], /name must be 1\.\.100 characters/],
      [['accounts', 'enable'], /missing argument/],
      [['accounts', 'delete', 'a', 'b'], /unexpected argument "b"/],
      [['accounts', 'keys'], /missing subcommand/],
      [['accounts', 'keys', 'revoke', 'acme'], /missing argument/],
      // Not a key id: ".." would be a path step in the admin API's URL.
      [['accounts', 'keys', 'revoke', 'acme', '..'], /KEY_ID: expected an API key id/],
      [['accounts', 'keys', 'revoke', 'acme', 'key/1'], /KEY_ID: expected an API key id/],
      [['sessions', 'kill'], /missing argument/],
      [['sessions', 'kill', 'abc'], /ID: expected a session id/],
      [['sessions', '--account', ''], /--account: must not be empty/],
      [['sessions', '--bogus'], /Unknown option '--bogus'/],
      [['sessions', 'list', 'extra'], /Unexpected argument 'extra'/],
    ];
    for (const [args, message] of usageErrors) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const subcommands = ['create', 'list', 'enable', 'disable', 'rename', 'delete', 'revoke', 'limit'].map((s) => ['accounts', s]);
    for (const args of [['accounts'], ...subcommands, ['accounts', 'keys'], ['accounts', 'keys', 'list'], ['accounts', 'keys', 'add'], ['accounts', 'keys', 'revoke'], ['sessions'], ['sessions', 'kill']]) {
      const r = await cli([...args, '--help']);
      assert.equal(r.code, 0, `${args.join(' ')} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: ferry ${args.join(' ')}`));
      if (args.length > 1 && args[1] !== 'keys' && args[1] !== 'kill') assert.match(r.stdout, /admin API/, 'says how it reaches the accounts');
    }
  });

  test('a mistyped command or subcommand: did you mean', { timeout: 120_000 }, async () => {
    const cases: Array<[string[], string]> = [
      [['acounts', 'list'], 'unknown command "acounts" (did you mean "accounts"?)'],
      [['accounts', 'dissable', 'x'], 'unknown subcommand "dissable" (did you mean "disable"?)'],
      [['accounts', 'kyes'], 'unknown subcommand "kyes" (did you mean "keys"?)'],
      [['accounts', 'keys', 'lst', 'x'], 'unknown subcommand "lst" (did you mean "list"?)'],
      [['sesions'], 'unknown command "sesions" (did you mean "sessions"?)'],
      [['sessions', 'kil', '3'], 'unknown subcommand "kil" (did you mean "kill"?)'],
      [['sessions', 'lsit'], 'unknown subcommand "lsit" (did you mean "list"?)'],
      [['config', 'chek', 'x.json'], 'unknown subcommand "chek" (did you mean "check"?)'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.ok(r.stderr.startsWith(`ferry: ${message}\n`), `${args.join(' ')}: ${r.stderr}`);
    }
  });
});

describe('account and session commands against a running Ferry', () => {
  const dir = tempDir('ferry-cli-accounts-live');
  const pidFile = join(dir, 'data', 'ferry.pid');
  let f: CliFerry | undefined;
  let turnPort = 0;
  let base = '';
  const clients: TestTurnClient[] = [];
  let peer: UdpPeer | undefined;

  /** A UDP TURN client with fresh REST credentials for `account`, allocated; the Allocate's code. */
  async function allocate(account: string): Promise<{ code: number; client: TestTurnClient }> {
    const { username, password } = restCredentials(SECRET, account);
    const client = await TestTurnClient.connect({ port: turnPort, username, password });
    clients.push(client);
    return { code: (await client.allocate()).code, client };
  }

  before(async () => {
    f = await startCliFerry(dir, { auth_secrets: [SECRET], signaling: { admin_token: ADMIN } });
    turnPort = f.turnPort;
    base = f.base;
  });

  after(async () => {
    for (const c of clients) c.close();
    peer?.close();
    await f?.stop();
    exitIfStuck();
  });

  test('create through the API: a duplicate name is 409 conflict, through the CLI exit 1', { timeout: 120_000 }, async () => {
    const created = await ok(['accounts', 'create', 'Acme'], dir);
    assert.equal(created.stderr, '', 'through the admin API: no restart note');
    const dup = await apiJson<{ error: { code: string; message: string } }>(base, 'POST', '/v1/accounts', ADMIN, { name: 'aCmE' });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.code, 'conflict');
    assert.match(dup.json.error.message, /an account named "aCmE" exists already/);
    const cli = await ferry(['accounts', 'create', 'ACME'], dir);
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr, 'ferry: an account named "ACME" exists already (names are unique, ignoring case)\n');
    const other = (await apiJson<{ id: string }>(base, 'POST', '/v1/accounts', ADMIN, { name: 'other' })).json;
    const rename = await apiJson<{ error: { code: string } }>(base, 'PATCH', `/v1/accounts/${other.id}`, ADMIN, { name: 'acme' });
    assert.deepEqual([rename.status, rename.json.error.code], [409, 'conflict']);
    const cliRename = await ferry(['accounts', 'rename', 'other', 'ACME'], dir);
    assert.equal(cliRename.code, 1);
    assert.match(cliRename.stderr, /exists already/);
  });

  test('disable and enable reach the live relay at once; rename and limit show in the list', { timeout: 120_000 }, async () => {
    const acme = (await accounts(dir)).find((a) => a.name === 'Acme')!;
    assert.equal((await allocate(acme.id)).code, 0);
    const disabled = await ok(['accounts', 'disable', 'acme'], dir);
    assert.match(disabled.stdout, /through the running Ferry \(pid \d+\)/);
    assert.equal((await allocate(acme.id)).code, 401, 'refused at once');
    await ok(['accounts', 'enable', 'acme'], dir);
    assert.equal((await allocate(acme.id)).code, 0, 'accepted again at once');

    await ok(['accounts', 'rename', acme.id, 'Acme Corp'], dir);
    await ok(['accounts', 'limit', 'Acme Corp', '1.5GiB'], dir);
    const live = (await apiJson<AccountJson>(base, 'GET', `/v1/accounts/${acme.id}`, ADMIN)).json;
    assert.deepEqual([live.name, live.limit], ['Acme Corp', 1.5 * 2 ** 30]);
    await ok(['accounts', 'limit', 'Acme Corp', 'none'], dir);
    assert.equal((await apiJson<AccountJson>(base, 'GET', `/v1/accounts/${acme.id}`, ADMIN)).json.limit, null);
  });

  test('keys add, list and revoke: the running Ferry accepts and then refuses the key', { timeout: 120_000 }, async () => {
    const added = JSON.parse((await ok(['accounts', 'keys', 'add', 'Acme Corp'], dir)).stdout) as { id: string; api_key: string };
    const ice = () => apiRequest(base, 'POST', '/v1/ice-servers', added.api_key, {}).then((r) => r.status);
    assert.equal(await ice(), 200);
    assert.equal((await keys(dir, 'Acme Corp')).length, 2);
    const revoked = await ok(['accounts', 'keys', 'revoke', 'Acme Corp', added.id], dir);
    assert.match(revoked.stdout, /through the running Ferry/);
    assert.equal(await ice(), 401);
    assert.notEqual((await keys(dir, 'Acme Corp')).find((k) => k.id === added.id)?.revoked_at, null);
  });

  test('sessions: table and JSON with names, --account by name, kill', { timeout: 120_000 }, async () => {
    for (const c of clients.splice(0)) c.close();
    await sleep(50);
    const acme = (await accounts(dir)).find((a) => a.name === 'Acme Corp')!;
    const other = (await accounts(dir)).find((a) => a.name === 'other')!;
    const mine = await allocate(acme.id);
    assert.equal(mine.code, 0);
    assert.equal((await allocate(other.id)).code, 0);

    type Sessions = { sessions: Array<{ id: number; account: string; name: string | null; transport: string }> };
    const all = JSON.parse((await ok(['sessions', '--json'], dir)).stdout) as Sessions;
    // Closed clients' allocations may linger until they time out: look at the live ones of each account.
    const ofAcme = all.sessions.filter((s) => s.account === acme.id);
    assert.ok(ofAcme.length >= 1);
    assert.ok(all.sessions.every((s) => s.name === (s.account === acme.id ? 'Acme Corp' : s.account === other.id ? 'other' : null)));
    const filtered = JSON.parse((await ok(['sessions', 'list', '--account', 'acme corp', '--json'], dir)).stdout) as Sessions;
    assert.deepEqual(filtered.sessions.map((s) => s.id), ofAcme.map((s) => s.id));
    const table = (await ok(['sessions', '--account', 'other'], dir)).stdout;
    assert.match(table, /^ID\s+ACCOUNT\s+NAME\s+TRANSPORT\s+CLIENT\s+RELAYED\s+AGE\s+TO_PEER\s+TO_CLIENT\n/);
    assert.match(table, new RegExp(`\\n\\s*\\d+\\s+${other.id}\\s+other\\s+udp\\s+127\\.0\\.0\\.1:\\d+\\s+127\\.0\\.0\\.1:\\d+\\s+\\d+s\\s+0 B\\s+0 B\\n`));

    const newest = Math.max(...ofAcme.map((s) => s.id));
    const killed = await ok(['sessions', 'kill', String(newest)], dir);
    assert.equal(killed.stdout, `closed session ${newest}\n`);
    const after = JSON.parse((await ok(['sessions', '--json'], dir)).stdout) as Sessions;
    assert.ok(!after.sessions.some((s) => s.id === newest), 'gone from the list');
    assert.equal((await mine.client.refresh(600)).code, 437, 'the client\'s next request is answered 437');
    const again = await ferry(['sessions', 'kill', String(newest)], dir);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`no live session ${newest}`));
  });

  test('revoke ends the credentials issued so far and closes the live allocations; delete ends the account', { timeout: 120_000 }, async () => {
    const other = (await accounts(dir)).find((a) => a.name === 'other')!;
    const before = restCredentials(SECRET, other.id);
    assert.equal((await allocate(other.id)).code, 0);
    const r = await ok(['accounts', 'revoke', 'other'], dir);
    assert.match(r.stdout, /through the running Ferry \(pid \d+\); [1-9]\d* live allocations? closed/);
    const old = await TestTurnClient.connect({ port: turnPort, username: before.username, password: before.password });
    clients.push(old);
    assert.equal((await old.allocate()).code, 401, 'credentials from before the revocation are refused');

    const deleted = await ok(['accounts', 'delete', 'other'], dir);
    assert.match(deleted.stdout, /deleted account acc_\w+ \(other\) through the running Ferry/);
    assert.equal((await allocate(other.id)).code, 401);
    assert.deepEqual((await accounts(dir)).map((a) => a.name), ['Acme Corp']);
  });

  test('status and usage show the account name beside the id', { timeout: 120_000 }, async () => {
    const acme = (await accounts(dir)).find((a) => a.name === 'Acme Corp')!;
    peer = await UdpPeer.open('127.0.0.1');
    const { code, client } = await allocate(acme.id);
    assert.equal(code, 0);
    assert.equal((await client.createPermission(peer.address)).code, 0);
    for (let i = 0; i < 4; i++) client.sendIndication(peer.address, Buffer.alloc(250, i));
    assert.ok(await peer.waitFor(4));

    // status: the live figures over the admin API, names from one GET /v1/accounts.
    type Status = { usage?: { top: Array<{ account: string; name: string | null; bytes: number }> } };
    const status = JSON.parse((await ok(['status', '--json'], dir)).stdout) as Status;
    const top = status.usage?.top.find((t) => t.account === acme.id);
    assert.deepEqual([top?.name, top?.bytes], ['Acme Corp', 1000]);
    assert.match((await ok(['status'], dir)).stdout, new RegExp(`top accounts: (.*, )?${acme.id} \\(Acme Corp\\) 1\\.00 kB`));

    // usage: from the store, once the running Ferry has written its counters (SIGUSR2 asks for it).
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGUSR2');
    type Usage = { usage: Array<{ account: string; name: string | null; bytes_to_peer: number }> };
    let row: Usage['usage'][number] | undefined;
    for (let i = 0; i < 50 && row?.bytes_to_peer !== 1000; i++) {
      await sleep(100);
      row = (JSON.parse((await ok(['usage', '--json'], dir)).stdout) as Usage).usage.find((u) => u.account === acme.id);
    }
    assert.deepEqual([row?.name, row?.bytes_to_peer], ['Acme Corp', 1000]);
    assert.match((await ok(['usage'], dir)).stdout, new RegExp(`\\n${acme.id}\\s+Acme Corp\\s+1000\\s+0\\s+4\\s+0\\n`));
    assert.match((await ok(['usage', '--account', 'ACME CORP'], dir)).stdout, new RegExp(`\\n${acme.id}\\s+Acme Corp\\s+1000`));
  });
});
