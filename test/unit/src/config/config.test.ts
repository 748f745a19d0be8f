import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../../../src/config/load.js';
import { cidrProblem, parseHostPort, parsePortRange } from '../../../../src/config/net.js';
import { ConfigSchema, defaultConfig, knownKeys, unwrapSchema } from '../../../../src/config/schema.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { formatSize, parseDuration, parsePercent, parseSize, sizeSchema, durationSchema, percentSchema } from '../../../../src/config/units.js';

/** The ConfigError thrown for `raw`. */
function configError(raw: unknown): ConfigError {
  try {
    parseConfig(raw, '/etc/ferry/config.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be refused`);
}

function tempFile(name: string, content: string): string {
  const file = join(tempDir('ferry-config'), name);
  writeFileSync(file, content);
  return file;
}

describe('config defaults', () => {
  it('fills every default from an empty object', () => {
    assert.deepEqual(defaultConfig(), {
      address: '0.0.0.0:3478',
      realm: 'ferry',
      relay_ports: '49152-65535',
      data_plane: 'auto',
      users: {},
      auth_secrets: [],
      peers: { allow: [], deny: [] },
      quotas: {
        allocations_per_user: 100,
        total_allocations: 10000,
        permissions_per_allocation: 100,
        channels_per_allocation: 100,
        max_bps: 0,
        connections_per_ip: 1000,
        total_connections: 10000,
        allocate_timeout: '30s',
      },
      signaling: { address: '0.0.0.0:8080', cors_origins: [] },
      storage: 'sqlite:data/ferry.db',
      network_usage: { timeframe: '30d', write_interval: '10s', soft_limit: '90%', hard_limit: '93%', report_interval: '1h' },
      webhooks: [],
      metrics: {},
      nonce: { lifetime: '10m' },
      rate_limits: { challenges_per_ip: 50, auth_failures_per_ip: 60, allocations_per_account: 6000, allocations_per_ip: 120 },
      cluster: { heartbeat: '2s', ttl: '10s' },
      log_level: 'info',
    });
  });

  it('loadConfig() without a path uses the embedded defaults, parsed', async () => {
    const loaded = await loadConfig();
    assert.equal(loaded.source, null);
    assert.deepEqual(loaded.config, defaultConfig());
    assert.deepEqual(loaded.listen, { host: '0.0.0.0', port: 3478, family: 4 });
    assert.deepEqual(loaded.relayPorts, { min: 49152, max: 65535 });
    assert.equal(loaded.tlsListen, undefined);
  });

  it('keeps defaults of a nested object when only some of its keys are set', () => {
    const { config } = parseConfig({ quotas: { total_allocations: 5 }, peers: { allow: ['127.0.0.0/8'] } });
    assert.deepEqual(config.quotas, {
      allocations_per_user: 100,
      total_allocations: 5,
      permissions_per_allocation: 100,
      channels_per_allocation: 100,
      max_bps: 0,
      connections_per_ip: 1000,
      total_connections: 10000,
      allocate_timeout: '30s',
    });
    assert.deepEqual(config.peers, { allow: ['127.0.0.0/8'], deny: [] });
  });

  it('describes every key', () => {
    const missing: string[] = [];
    const visit = (node: unknown, path: string[]) => {
      const inner = unwrapSchema(node);
      if (inner.def.type !== 'object' || inner.def.shape === undefined) return;
      for (const [key, child] of Object.entries(inner.def.shape)) {
        if (!(child as { description?: string }).description) missing.push([...path, key].join('.'));
        visit(child, [...path, key]);
      }
    };
    visit(ConfigSchema, []);
    assert.ok(knownKeys([]).includes('quotas'));
    assert.deepEqual(missing, []);
  });
});

describe('config validation names the key', () => {
  const cases: [string, unknown, string][] = [
    ['address not host:port', { address: 'localhost' }, 'address'],
    ['address with a hostname', { address: 'example.com:3478' }, 'address'],
    ['address port out of range', { address: '127.0.0.1:70000' }, 'address'],
    ['address IPv6 without brackets', { address: '::1:3478' }, 'address'],
    ['relay_ip not an IP', { relay_ip: 'eth0' }, 'relay_ip'],
    ['relay_ip unspecified', { relay_ip: '0.0.0.0' }, 'relay_ip'],
    ['relay_ip list entry', { relay_ip: ['10.0.0.1', 'x'] }, 'relay_ip[1]'],
    ['tls_address', { tls_address: 'x', tls: { cert: 'c', key: 'k' } }, 'tls_address'],
    ['tls.cert empty', { tls_address: '0.0.0.0:5349', tls: { cert: '', key: 'k' } }, 'tls.cert'],
    ['realm empty', { realm: '' }, 'realm'],
    ['realm not a string', { realm: 7 }, 'realm'],
    ['external_ip two IPv4', { external_ip: ['1.1.1.1', '2.2.2.2'] }, 'external_ip'],
    ['external_ip not an IP', { external_ip: 'my.host' }, 'external_ip'],
    ['relay_ports reversed', { relay_ports: '60000-50000' }, 'relay_ports'],
    ['relay_ports below 1024', { relay_ports: '80-90' }, 'relay_ports'],
    ['relay_ports above 65535', { relay_ports: '50000-70000' }, 'relay_ports'],
    ['relay_ports not a range', { relay_ports: 50000 }, 'relay_ports'],
    ['users not an object', { users: ['alice'] }, 'users'],
    ['users empty password', { users: { alice: '' } }, 'users.alice'],
    ['auth_secrets too short', { auth_secrets: ['short'] }, 'auth_secrets[0]'],
    ['auth_secrets not a list', { auth_secrets: 'a-long-enough-secret' }, 'auth_secrets'],
    ['peers.allow bad CIDR', { peers: { allow: ['10.0.0.0/33'] } }, 'peers.allow[0]'],
    ['peers.deny not a CIDR', { peers: { deny: ['ten'] } }, 'peers.deny[0]'],
    ['quotas.allocations_per_user zero', { quotas: { allocations_per_user: 0 } }, 'quotas.allocations_per_user'],
    ['quotas.total_allocations negative', { quotas: { total_allocations: -1 } }, 'quotas.total_allocations'],
    ['quotas.permissions_per_allocation fraction', { quotas: { permissions_per_allocation: 1.5 } }, 'quotas.permissions_per_allocation'],
    ['quotas.channels_per_allocation string', { quotas: { channels_per_allocation: '10' } }, 'quotas.channels_per_allocation'],
    ['quotas.max_bps word', { quotas: { max_bps: 'fast' } }, 'quotas.max_bps'],
    ['quotas.max_bps negative', { quotas: { max_bps: -1 } }, 'quotas.max_bps'],
    ['quotas.max_bps list', { quotas: { max_bps: [1] } }, 'quotas.max_bps'],
    ['quotas.connections_per_ip zero', { quotas: { connections_per_ip: 0 } }, 'quotas.connections_per_ip'],
    ['quotas.total_connections fraction', { quotas: { total_connections: 2.5 } }, 'quotas.total_connections'],
    ['quotas.allocate_timeout under 1s', { quotas: { allocate_timeout: '500ms' } }, 'quotas.allocate_timeout'],
    ['quotas.allocate_timeout a number', { quotas: { allocate_timeout: 30 } }, 'quotas.allocate_timeout'],
    ['log_level unknown', { log_level: 'verbose' }, 'log_level'],
  ];
  for (const [name, raw, key] of cases) {
    it(name, () => {
      const err = configError(raw);
      assert.match(err.message, /^invalid configuration in \/etc\/ferry\/config\.json:\n/);
      assert.ok(err.message.includes(`\n  ${key}: `), `${key} not named in:\n${err.message}`);
      assert.ok(err.problems.some((p) => p.path === key));
    });
  }

  it('uses the documented wording for positive integers', () => {
    assert.match(configError({ quotas: { total_allocations: 0 } }).message, /^ {2}quotas\.total_allocations: expected a positive integer$/m);
  });

  it('lists every problem, one line each', () => {
    const err = configError({ realm: '', log_level: 'loud', quotas: { total_allocations: 0 } });
    assert.equal(err.problems.length, 3);
    assert.equal(err.message.split('\n').length, 4);
  });

  it('accepts the forms it documents', () => {
    const { config } = parseConfig({
      address: '[::]:3478',
      relay_ip: ['192.0.2.10', '2001:db8::10'],
      external_ip: ['198.51.100.1', '2001:db8::1'],
      relay_ports: '50000-50100',
      users: { alice: 'wonderland' },
      auth_secrets: ['0123456789abcdef'],
      peers: { allow: ['127.0.0.0/8', '::1', '10.1.2.3'], deny: ['0.0.0.0/0', '2001:db8::/32'] },
      log_level: 'silent',
    });
    assert.deepEqual(config.relay_ip, ['192.0.2.10', '2001:db8::10']);
  });

  it('refuses a non-object config', () => {
    assert.match(configError([]).message, /\(top level\): expected a JSON object/);
  });
});

describe('unknown keys', () => {
  it('refuses an unknown top-level key and suggests the likely one', () => {
    const err = configError({ relay_port: '50000-50100' });
    assert.match(err.message, /\n {2}relay_port: unknown key \(did you mean "relay_ports"\?\)/);
  });

  it('refuses an unknown nested key', () => {
    assert.match(configError({ quotas: { total: 5 } }).message, /\n {2}quotas\.total: unknown key/);
    assert.match(configError({ peers: { alow: [] } }).message, /\n {2}peers\.alow: unknown key \(did you mean "allow"\?\)/);
    assert.match(
      configError({ tls_address: '0.0.0.0:5349', tls: { cert: 'c', key: 'k', ca: 'x' } }).message,
      /\n {2}tls\.ca: unknown key/,
    );
  });

  it('gives no suggestion when nothing is close', () => {
    assert.match(configError({ zzzzzzzz: 1 }).message, /\n {2}zzzzzzzz: unknown key$/m);
  });
});

describe('address parsing', () => {
  it('parses IPv6 in brackets', async () => {
    assert.deepEqual(parseHostPort('[::1]:3478'), { host: '::1', port: 3478, family: 6 });
    const loaded = await loadConfig(tempFile('config.json', JSON.stringify({ address: '[::1]:3478' })));
    assert.deepEqual(loaded.listen, { host: '::1', port: 3478, family: 6 });
  });

  it('parses IPv4', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000, family: 4 });
    assert.deepEqual(parseHostPort('0.0.0.0:3478'), { host: '0.0.0.0', port: 3478, family: 4 });
  });

  it('refuses malformed addresses', () => {
    for (const bad of ['[::1]', '[::1]3478', '[127.0.0.1]:1', '::1:3478', '1.2.3.4', '1.2.3.4:', '1.2.3.4:0', '1.2.3.4:x', 'host:1', '01.2.3.4:1']) {
      assert.throws(() => parseHostPort(bad), Error, bad);
    }
  });

  it('parses port ranges', () => {
    assert.deepEqual(parsePortRange('49152-65535'), { min: 49152, max: 65535 });
    assert.deepEqual(parsePortRange('50000-50000'), { min: 50000, max: 50000 });
    for (const bad of ['1023-2000', '2000-1000', '50000', '50000-', 'a-b', '50000-65536']) {
      assert.throws(() => parsePortRange(bad), Error, bad);
    }
  });

  it('checks CIDR syntax', () => {
    for (const ok of ['10.0.0.0/8', '0.0.0.0/0', '::/0', '2001:db8::/32', 'fd00::/8', '127.0.0.1', '::1', '::ffff:10.0.0.0/104']) {
      assert.equal(cidrProblem(ok), null, ok);
    }
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0/8', '10.0.0.0/', '10.0.0.0/08', 'fe80::1%eth0/64', 'example.com', '']) {
      assert.notEqual(cidrProblem(bad), null, bad);
    }
  });
});

describe('TLS refinement', () => {
  it('requires tls when tls_address is set, naming tls', () => {
    const err = configError({ tls_address: '0.0.0.0:5349' });
    assert.match(err.message, /\n {2}tls: required when tls_address is set/);
  });

  it('requires tls_address when tls is set', () => {
    assert.match(configError({ tls: { cert: 'c.pem', key: 'k.pem' } }).message, /\n {2}tls_address: required when tls is set/);
  });

  it('requires both files', () => {
    assert.match(configError({ tls_address: '0.0.0.0:5349', tls: { cert: 'c.pem' } }).message, /\n {2}tls\.key: /);
  });

  it('reports the refinement together with other problems', () => {
    const err = configError({ tls_address: '0.0.0.0:5349', realm: '' });
    assert.deepEqual(err.problems.map((p) => p.path).sort(), ['realm', 'tls']);
  });

  it('accepts tls_address with tls and parses it', () => {
    const loaded = parseConfig({ tls_address: '[::]:5349', tls: { cert: 'c.pem', key: 'k.pem' } });
    assert.deepEqual(loaded.tlsListen, { host: '::', port: 5349, family: 6 });
  });
});

describe('config files', () => {
  it('reports bad JSON with the path, line and column', async () => {
    const file = tempFile('bad.json', '{\n  "realm": "x",\n  "quotas": { "total_allocations": 1, },\n}\n');
    await assert.rejects(loadConfig(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.message.startsWith(`${file}: invalid JSON at line 3, column 39:`), err.message);
      assert.match(err.message, /trailing comma/);
      return true;
    });
  });

  it('reports a missing file with its path', async () => {
    const file = join(tmpdir(), 'ferry-no-such-dir', 'config.json');
    await assert.rejects(loadConfig(file), (err: unknown) => err instanceof ConfigError && err.message === `${file}: cannot read the config file: no such file`);
  });

  it('names the file in validation errors', async () => {
    const file = tempFile('config.json', '{ "quotas": { "total_allocations": 0 } }');
    await assert.rejects(loadConfig(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, `invalid configuration in ${file}:\n  quotas.total_allocations: expected a positive integer`);
      return true;
    });
  });

  it('accepts a UTF-8 byte order mark', async () => {
    const file = tempFile('config.json', '\uFEFF{ "realm": "example.org" }');
    assert.equal((await loadConfig(file)).config.realm, 'example.org');
  });
});

describe('units', () => {
  it('parses sizes in SI and IEC units', () => {
    const cases: [string | number, number][] = [
      ['2TB', 2e12],
      ['500MB', 5e8],
      ['1.5GiB', 1610612736],
      ['1kB', 1000],
      ['1KB', 1000],
      ['1KiB', 1024],
      ['10 MiB', 10 * 1024 * 1024],
      ['0.1kB', 100],
      ['512', 512],
      ['512B', 512],
      ['3PiB', 3 * 2 ** 50],
      [4096, 4096],
      ['0', 0],
    ];
    for (const [input, bytes] of cases) assert.equal(parseSize(input), bytes, String(input));
  });

  it('refuses bad sizes', () => {
    for (const bad of ['', 'MB', '2XB', '-1MB', '1.MB', '1e3MB', '10PB10', '9999999PiB']) {
      assert.throws(() => parseSize(bad), /size/, bad);
    }
    assert.throws(() => parseSize(-1));
    assert.throws(() => parseSize(1.5));
  });

  it('formats sizes in SI units, three significant digits, readable back by parseSize', () => {
    const cases: [number, string][] = [
      [0, '0 B'],
      [999, '999 B'],
      [1000, '1.00 kB'],
      [1234, '1.23 kB'],
      [45_600_000, '45.6 MB'],
      [999_499, '999 kB'],
      [999_500, '1.00 MB'],
      [789e9, '789 GB'],
      [1.5e12, '1.50 TB'],
      [2.5e18, '2500 PB'],
    ];
    for (const [bytes, text] of cases) assert.equal(formatSize(bytes), text, String(bytes));
    for (const bytes of [1, 999, 1001, 56_789, 12_345_678, 987_654_321_000]) {
      assert.ok(Math.abs(parseSize(formatSize(bytes)) - bytes) <= bytes * 0.005, `${bytes} → ${formatSize(bytes)}`);
    }
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => formatSize(bad), RangeError, String(bad));
  });

  it('parses durations', () => {
    const cases: [string, number][] = [
      ['30d', 30 * 86_400_000],
      ['10s', 10_000],
      ['1h30m', 5_400_000],
      ['250ms', 250],
      ['1m', 60_000],
      ['1m30s', 90_000],
      ['1.5h', 5_400_000],
      ['2w', 14 * 86_400_000],
      ['1d2h3m4s5ms', 86_400_000 + 7_200_000 + 180_000 + 4000 + 5],
      [' 5s ', 5000],
    ];
    for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, input);
  });

  it('refuses bad durations', () => {
    for (const bad of ['', '10', 's', '10x', '1h 30m', '30m1h', '1s1s', '1h30', '-5s', '5 s']) {
      assert.throws(() => parseDuration(bad), /duration|units/, bad);
    }
  });

  it('parses percentages', () => {
    assert.equal(parsePercent('90%'), 0.9);
    assert.equal(parsePercent('12.5%'), 0.125);
    assert.equal(parsePercent('0%'), 0);
    assert.equal(parsePercent('100%'), 1);
    for (const bad of ['90', '101%', '-5%', '%', 'ninety%']) assert.throws(() => parsePercent(bad), /percentage/, bad);
  });

  it('provides zod schemas that report the problem as an issue', () => {
    assert.equal(sizeSchema().parse('1GiB'), 2 ** 30);
    assert.equal(durationSchema().parse('1h'), 3_600_000);
    assert.equal(percentSchema().parse('50%'), 0.5);
    const r = durationSchema().safeParse('soon');
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0].message, /expected a duration/);
    assert.equal(sizeSchema().safeParse(true).success, false);
  });
});
