// The `ferry` commands that do not keep a process running, driven as a user would: `node bin/ferry.js
// ...` in temp dirs (init, config check, accounts, credentials, usage and exit codes), plus the pure
// parts behind reload (which keys apply live) and the development setup.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccountService } from '../../../../src/accounts/service.js';
import { tempDir as makeTempDir } from '../../../helpers/temp-dir.js';
import { ensureDevAccount, loadDevSecrets } from '../../../../app/cli/dev-setup.js';
import { parseConfig } from '../../../../src/config/load.js';
import { diffConfig, RESTART_KEYS } from '../../../../src/config/reload.js';
import { LIVE_KEYS, RELOAD_KEYS } from '../../../../app/reload.js';
import { defaultConfig, knownKeys } from '../../../../src/config/schema.js';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const FERRY = join(ROOT, 'bin', 'ferry.js');

const tempDir = () => makeTempDir('ferry-cli');

function ferry(args: string[], cwd = tempDir()) {
  const res = spawnSync(process.execPath, [FERRY, ...args], { cwd, encoding: 'utf8', timeout: 30_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('ferry init', () => {
  it('writes a valid config, a certificate and a data directory, private files 0600', () => {
    const dir = tempDir();
    const r = ferry(['init', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, 'config.json');
    assert.equal(mode(file), 0o600);
    assert.equal(mode(join(dir, 'tls', 'key.pem')), 0o600);
    assert.ok(existsSync(join(dir, 'tls', 'cert.pem')));
    assert.ok(statSync(join(dir, 'data')).isDirectory());
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const loaded = parseConfig(raw, file);
    assert.equal(loaded.config.auth_secrets.length, 1);
    assert.equal(Buffer.from(loaded.config.auth_secrets[0], 'base64url').length, 32);
    assert.ok((loaded.config.signaling.admin_token ?? '').length >= 32);
    assert.equal(loaded.config.tls_address, '0.0.0.0:5349');
    assert.equal(loaded.storageUrl, `sqlite:${join(dir, 'data', 'ferry.db')}`);
    // Says what it wrote, where keys are documented, and what to run next.
    assert.match(r.stdout, /config\.json/);
    assert.match(r.stdout, /docs\/configuration\.md/);
    assert.match(r.stdout, /ferry start --config /);
    // The written config passes `config check`.
    assert.equal(ferry(['config', 'check', file]).code, 0);
  });

  it('refuses to overwrite an existing config unless --force', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), '{"realm": "mine"}');
    const r = ferry(['init'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exists.*--force/);
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"realm": "mine"}');
    const forced = ferry(['init', '--force'], dir);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(readFileSync(join(dir, 'config.json'), 'utf8'), '{"realm": "mine"}');
  });
});

describe('ferry config check', () => {
  it('exits 0 for a valid file and 1 with key-named problems for an invalid one', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ realm: 'x', quotas: { total_allocations: 5 } }));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ realm: '', quotas: { total_alocations: 5 } }));
    const ok = ferry(['config', 'check', 'ok.json'], dir);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /ok\.json: valid/);
    const bad = ferry(['config', 'check', 'bad.json'], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\n {2}realm: must not be empty/);
    assert.match(bad.stderr, /\n {2}quotas\.total_alocations: unknown key \(did you mean "total_allocations"\?\)/);
    assert.equal(ferry(['config', 'check'], dir).code, 2);
    assert.equal(ferry(['config', 'check', 'missing.json'], dir).code, 1);
  });
});

describe('ferry accounts and credentials (on the store, Ferry not running)', () => {
  const dir = tempDir();
  const secret = 'cli-test-secret-0123456789';
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ address: '127.0.0.1:3478', auth_secrets: [secret], signaling: { public_host: 'turn.example.org' }, storage: 'sqlite:store/accounts.db' }),
  );
  let id = '';

  it('create prints the account and its API key once', () => {
    const r = ferry(['accounts', 'create', 'acme'], dir);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { id: string; name: string; api_key: string };
    assert.match(out.id, /^acc_/);
    assert.equal(out.name, 'acme');
    assert.match(out.api_key, /^fk_/);
    id = out.id;
    assert.ok(existsSync(join(dir, 'store', 'accounts.db')), 'the store named by the config');
  });

  it('list shows it (text and --json)', () => {
    const text = ferry(['accounts', 'list'], dir);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`${id}\\s+acme\\s+active`));
    const json = JSON.parse(ferry(['accounts', 'list', '--json'], dir).stdout) as { accounts: Array<{ id: string; disabled: boolean }> };
    assert.deepEqual(json.accounts.map((a) => [a.id, a.disabled]), [[id, false]]);
  });

  it('credentials prints {iceServers} minted with the first secret for the account id', () => {
    const r = ferry(['credentials', 'acme', '--ttl', '2h'], dir);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { iceServers: Array<{ urls: string[]; username: string; credential: string }>; expires_at: string };
    assert.equal(out.iceServers.length, 1);
    const [server] = out.iceServers;
    assert.deepEqual(server.urls, [
      'stun:turn.example.org:3478',
      'turn:turn.example.org:3478?transport=udp',
      'turn:turn.example.org:3478?transport=tcp',
    ]);
    const [expiry, account] = server.username.split(':');
    assert.equal(account, id);
    const ttl = Number(expiry) - Date.now() / 1000;
    assert.ok(ttl > 7100 && ttl <= 7200, `ttl ${ttl}`);
    assert.equal(server.credential, createHmac('sha1', secret).update(server.username).digest('base64'));
    assert.equal(ferry(['credentials', id], dir).code, 0, 'by id too');
    assert.equal(ferry(['credentials', 'nobody'], dir).code, 1);
    assert.equal(ferry(['credentials', 'acme', '--ttl', 'soon'], dir).code, 2);
    assert.equal(ferry(['credentials'], dir).code, 2);
  });

  it('disable marks it disabled in the store; credentials are then refused', () => {
    const r = ferry(['accounts', 'disable', id], dir);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(ferry(['accounts', 'list', '--json'], dir).stdout) as { accounts: Array<{ disabled: boolean }> };
    assert.equal(json.accounts[0].disabled, true);
    assert.equal(ferry(['credentials', id], dir).code, 1);
    assert.equal(ferry(['accounts', 'disable', 'acc_nope'], dir).code, 1);
  });

  it('usage errors exit 2', () => {
    assert.equal(ferry(['accounts'], dir).code, 2);
    assert.equal(ferry(['accounts', 'frobnicate'], dir).code, 2);
    assert.equal(ferry(['accounts', 'create'], dir).code, 2);
    assert.equal(ferry(['accounts', 'list', 'extra'], dir).code, 2);
    assert.equal(ferry(['accounts', 'create', 'a', '--bogus'], dir).code, 2);
  });

  it('credentials without auth_secrets exits 1', () => {
    const d = tempDir();
    writeFileSync(join(d, 'config.json'), JSON.stringify({ storage: 'sqlite:a.db' }));
    assert.equal(ferry(['accounts', 'create', 'x'], d).code, 0);
    const r = ferry(['credentials', 'x'], d);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /auth_secrets/);
  });
});

describe('every command', () => {
  for (const cmd of [['init'], ['start'], ['stop'], ['status'], ['reload'], ['accounts'], ['credentials'], ['config']]) {
    it(`${cmd.join(' ')} --help exits 0, a bad option exits 2`, () => {
      const help = ferry([...cmd, '--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Usage: ferry /);
      const bad = ferry([...cmd, ...(cmd[0] === 'accounts' ? ['list'] : cmd[0] === 'config' ? ['check'] : []), '--no-such-option']);
      assert.equal(bad.code, 2, `${bad.stdout}${bad.stderr}`);
    });
  }

  it('stop, status and reload without a running Ferry: 1, 3, 1', () => {
    const dir = tempDir();
    assert.equal(ferry(['stop'], dir).code, 1);
    const status = ferry(['status'], dir);
    assert.equal(status.code, 3);
    assert.match(status.stdout, /not running/);
    assert.deepEqual(JSON.parse(ferry(['status', '--json'], dir).stdout).running, false);
    assert.equal(ferry(['reload'], dir).code, 1);
  });

  it('a pid file naming a process that is not Ferry counts as not running', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.pid'), `${process.ppid}\n`); // alive, but not ferry (the test runner)
    assert.equal(ferry(['status', '--pid-file', 'x.pid'], dir).code, 3);
    assert.equal(ferry(['stop', '--pid-file', 'x.pid'], dir).code, 1);
  });
});

describe('reload: which keys apply live', () => {
  it('covers every config key, once', () => {
    const all = [...LIVE_KEYS, ...RESTART_KEYS];
    assert.equal(new Set(all).size, all.length);
    // signaling and network_usage are split per sub-key (some apply live, some need a restart).
    const split = new Set(['signaling', 'network_usage']);
    const expected = knownKeys([]).flatMap((k) => (split.has(k) ? knownKeys([k]).map((s) => `${k}.${s}`) : [k]));
    assert.deepEqual([...all].sort(), expected.sort());
  });

  it('ferry reload --help names every live key and every restart key', () => {
    const help = ferry(['reload', '--help']).stdout.replace(/\s+/g, ' ');
    const live = /Applied live: (.*?)\. A change to (.*?) needs a restart/.exec(help);
    assert.ok(live, help);
    const names = (text: string) => text.replace(/ \([^)]*\)/g, '').split(', ');
    assert.deepEqual(names(live[1]), [...LIVE_KEYS]);
    assert.ok(names(live[1]).includes('signaling.cors_origins'));
    assert.deepEqual(names(live[2]), [...RESTART_KEYS]);
  });

  it('sorts changes into live and restart', () => {
    const old = defaultConfig();
    const next = parseConfig({
      auth_secrets: ['another-secret-0123456789'],
      realm: 'r2',
      log_level: 'debug',
      address: '127.0.0.1:3479',
      signaling: { address: '127.0.0.1:8081', admin_token: 'admin-token-0123456789' },
      peers: { allow: ['127.0.0.0/8'] },
    }).config;
    const d = diffConfig(old, next, RELOAD_KEYS);
    assert.deepEqual(d.live, ['auth_secrets', 'peers', 'realm', 'log_level', 'signaling.admin_token']);
    assert.deepEqual(d.restart, ['address', 'signaling.address']);
    assert.deepEqual(diffConfig(old, defaultConfig(), RELOAD_KEYS), { live: [], restart: [] });
  });

  it('network_usage applies live except its timeframe; webhooks apply live', () => {
    const old = defaultConfig();
    const hook = { url: 'https://hooks.example.org/ferry', secret: 'whsec-0123456789abcdef', events: ['*'] };
    const next = parseConfig({
      network_usage: { global_limit: '2TB', soft_limit: '80%', hard_limit: '95%', report_interval: '0', write_interval: '1s', archive_dir: 'archive', timeframe: '7d' },
      webhooks: [hook],
      metrics: { token: 'metrics-token-0123456789' },
    }).config;
    const d = diffConfig(old, next, RELOAD_KEYS);
    assert.deepEqual(d.live, [
      'network_usage.write_interval',
      'network_usage.archive_dir',
      'network_usage.global_limit',
      'network_usage.soft_limit',
      'network_usage.hard_limit',
      'network_usage.report_interval',
      'webhooks',
    ]);
    assert.deepEqual(d.restart, ['network_usage.timeframe', 'metrics']);
    // One changed sub-key is reported alone; a changed webhook secret is a webhooks change.
    const withHook = parseConfig({ webhooks: [hook] }).config;
    assert.deepEqual(diffConfig(old, parseConfig({ network_usage: { global_limit: 1000 } }).config, RELOAD_KEYS), { live: ['network_usage.global_limit'], restart: [] });
    assert.deepEqual(diffConfig(withHook, parseConfig({ webhooks: [{ ...hook, secret: 'whsec-another-0123456789' }] }).config, RELOAD_KEYS), { live: ['webhooks'], restart: [] });
    assert.deepEqual(diffConfig(withHook, parseConfig({ webhooks: [hook] }).config, RELOAD_KEYS), { live: [], restart: [] });
  });
});

describe('development setup', () => {
  it('creates secrets once (0600) and the dev account once', async () => {
    const dir = tempDir();
    const first = loadDevSecrets(join(dir, 'data'));
    assert.equal(first.created, true);
    assert.equal(mode(first.file), 0o600);
    const again = loadDevSecrets(join(dir, 'data'));
    assert.equal(again.created, false);
    assert.deepEqual(again.secrets, first.secrets);

    const store = openSqliteStore(`sqlite:${join(dir, 'data', 'ferry.db')}`);
    try {
      const accounts = await AccountService.open(store, Date.now);
      const a = await ensureDevAccount(accounts, first.file, first.secrets);
      assert.equal(a.created, true);
      assert.equal(mode(first.file), 0o600);
      const saved = loadDevSecrets(join(dir, 'data')).secrets;
      assert.equal(saved.api_key, a.apiKey);
      const b = await ensureDevAccount(accounts, first.file, saved);
      assert.deepEqual([b.created, b.accountId, b.apiKey], [false, a.accountId, a.apiKey]);
      assert.equal((await accounts.listAccounts()).length, 1);
    } finally {
      await store.close();
    }
  });
});
