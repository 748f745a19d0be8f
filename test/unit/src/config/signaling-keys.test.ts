// The signaling and storage config keys.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig, resolveStorageUrl } from '../../../../src/config/load.js';

function problems(raw: unknown): string {
  try {
    parseConfig(raw, '/etc/ferry/config.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('signaling and storage config', () => {
  it('defaults: signaling on 0.0.0.0:8080, no admin token, SQLite under the working directory', async () => {
    const loaded = await loadConfig();
    assert.deepEqual(loaded.config.signaling, { address: '0.0.0.0:8080', cors_origins: [] });
    assert.deepEqual(loaded.signalingListen, { host: '0.0.0.0', port: 8080, family: 4 });
    assert.equal(loaded.config.storage, 'sqlite:data/ferry.db');
    assert.equal(loaded.storageUrl, `sqlite:${join(process.cwd(), 'data', 'ferry.db')}`);
  });

  it('resolves a relative SQLite path against the config file\'s directory', () => {
    const loaded = parseConfig({ storage: 'sqlite:db/accounts.db' }, '/etc/ferry/config.json');
    assert.equal(loaded.storageUrl, 'sqlite:/etc/ferry/db/accounts.db');
    assert.equal(resolveStorageUrl('sqlite:/var/lib/ferry.db', '/etc'), 'sqlite:/var/lib/ferry.db');
    assert.equal(resolveStorageUrl('sqlite::memory:', '/etc'), 'sqlite::memory:');
  });

  it('accepts every signaling key, and port 0 for signaling.address only', () => {
    const loaded = parseConfig({
      signaling: { address: '[::1]:0', admin_token: 'x'.repeat(16), public_host: 'turn.example.org' },
    });
    assert.deepEqual(loaded.signalingListen, { host: '::1', port: 0, family: 6 });
    assert.equal(loaded.config.signaling.admin_token, 'x'.repeat(16));
    for (const host of ['203.0.113.5', '2001:db8::1', '[2001:db8::1]', 'localhost']) {
      assert.equal(parseConfig({ signaling: { public_host: host } }).config.signaling.public_host, host);
    }
    assert.match(problems({ address: '127.0.0.1:0' }), /address: port must be between 1 and 65535/);
  });

  it('signaling.cors_origins: origins as browsers send them, or ["*"] alone', () => {
    const origins = ['https://app.example.com', 'http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'https://xn--bcher-kva.example'];
    assert.deepEqual(parseConfig({ signaling: { cors_origins: origins } }).config.signaling.cors_origins, origins);
    assert.deepEqual(parseConfig({ signaling: { cors_origins: ['*'] } }).config.signaling.cors_origins, ['*']);
    assert.deepEqual(parseConfig({ signaling: { cors_origins: [] } }).config.signaling.cors_origins, []);
    const refused: Array<[unknown, RegExp]> = [
      ['https://app.example.com', /signaling\.cors_origins: expected a list of origins/],
      [[42], /signaling\.cors_origins\[0\]: expected an origin string/],
      [['https://app.example.com/'], /signaling\.cors_origins\[0\]: .*did you mean "https:\/\/app\.example\.com"\?/],
      [['https://app.example.com/path'], /did you mean "https:\/\/app\.example\.com"\?/],
      [['https://App.Example.com'], /did you mean "https:\/\/app\.example\.com"\?/],
      [['https://app.example.com:443'], /did you mean "https:\/\/app\.example\.com"\?/],
      [['http://user@app.example.com'], /did you mean "http:\/\/app\.example\.com"\?/],
      [['app.example.com'], /signaling\.cors_origins\[0\]: "app\.example\.com" is not an origin: expected "scheme:\/\/host\[:port\]"/],
      [['ftp://files.example.com'], /only http and https origins/],
      [['https://*.example.com'], /wildcards in a host are not supported/],
      [['null'], /"null" cannot be allowed/],
      [['*', 'https://app.example.com'], /signaling\.cors_origins: "\*" allows every origin: give it alone/],
      [['https://a.example.com', 'https://a.example.com'], /signaling\.cors_origins: "https:\/\/a\.example\.com" is listed twice/],
    ];
    for (const [value, expected] of refused) {
      assert.match(problems({ signaling: { cors_origins: value } }), expected, JSON.stringify(value));
    }
    assert.match(problems({ signaling: { cors_origin: [] } }), /signaling\.cors_origin: unknown key \(did you mean "cors_origins"\?\)/);
  });

  it('refuses bad values, naming the key', () => {
    assert.match(problems({ signaling: { admin_token: 'short' } }), /signaling\.admin_token: must be at least 16 characters/);
    assert.match(problems({ signaling: { address: 'localhost:8080' } }), /signaling\.address:/);
    for (const host of ['https://turn.example.org', 'turn.example.org:3478', 'a b', '']) {
      assert.match(problems({ signaling: { public_host: host } }), /signaling\.public_host:/, host);
    }
    assert.match(problems({ signaling: { adress: '0.0.0.0:1' } }), /adress/);
    assert.match(problems({ storage: 'postgres://localhost' }), /storage: expected "sqlite:<file>"/);
    assert.match(problems({ storage: 'redis://localhost:6379/16' }), /storage: the database must be a number 0-15/);
    assert.match(problems({ storage: 'redis://:6379' }), /storage: /);
    assert.equal(parseConfig({ storage: 'redis://user:pw@10.0.0.5:6380/2' }).storageUrl, 'redis://user:pw@10.0.0.5:6380/2');
    assert.equal(parseConfig({ storage: 'rediss://redis.example.org' }).storageUrl, 'rediss://redis.example.org');
    assert.match(problems({ cluster: { heartbeat: '5s', ttl: '6s' } }), /cluster\.ttl: must be more than twice cluster\.heartbeat/);
    assert.match(problems({ cluster: { node_id: 'a b' } }), /cluster\.node_id: expected 1-63 letters/);
    assert.match(problems({ cluster: { public_host: 'https://x' } }), /cluster\.public_host:/);
    assert.match(problems({ cluster: { heartbeat: '10ms' } }), /cluster\.heartbeat: must be between/);
    assert.match(problems({ storage: 'sqlite:' }), /storage:/);
  });
});
