import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { buildRelayPlan, chooseRelayIps, serverAddresses, type InterfaceMap } from '../../../app/relay-options.js';
import { captureLog } from '../../helpers/log-capture.js';
import type { PeerPolicy } from '../../../turn/interfaces.js';
import { tempDir } from '../../helpers/temp-dir.js';

function iface(address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  const base = { address, netmask: '', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...base, family } : { ...base, family, scopeid: 0 };
}

const HOST: InterfaceMap = {
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  eth0: [iface('fe80::1', 'IPv6'), iface('192.0.2.7', 'IPv4'), iface('2001:db8::7', 'IPv6')],
  eth1: [iface('198.51.100.9', 'IPv4')],
};
const LOOPBACK_ONLY: InterfaceMap = { lo: HOST.lo };
const allowed = (p: PeerPolicy, address: string, family: 4 | 6): boolean => p.check(address, family) === 'allow';

describe('relay address choice', () => {
  it('uses relay_ip when set, split by family', () => {
    const loaded = parseConfig({ relay_ip: ['10.0.0.1', 'fd00::1', '10.0.0.2'] });
    assert.deepEqual(chooseRelayIps(loaded, HOST), { ips4: ['10.0.0.1', '10.0.0.2'], ips6: ['fd00::1'], source: 'relay_ip' });
    assert.deepEqual(chooseRelayIps(parseConfig({ relay_ip: '10.0.0.1' }), HOST).ips4, ['10.0.0.1']);
  });

  it('uses a specific listening address', () => {
    assert.deepEqual(chooseRelayIps(parseConfig({ address: '127.0.0.1:3478' }), HOST), {
      ips4: ['127.0.0.1'],
      ips6: [],
      source: 'listening address',
    });
    assert.deepEqual(chooseRelayIps(parseConfig({ address: '[::1]:3478' }), HOST), { ips4: [], ips6: ['::1'], source: 'listening address' });
  });

  it('takes the first non-internal IPv4 and non-link-local IPv6 when listening on all interfaces', () => {
    for (const address of ['0.0.0.0:3478', '[::]:3478']) {
      assert.deepEqual(chooseRelayIps(parseConfig({ address }), HOST), {
        ips4: ['192.0.2.7'],
        ips6: ['2001:db8::7'],
        source: 'network interfaces',
      });
    }
  });

  it('falls back to 127.0.0.1', () => {
    assert.deepEqual(chooseRelayIps(parseConfig({}), LOOPBACK_ONLY), { ips4: ['127.0.0.1'], ips6: [], source: 'loopback fallback' });
  });
});

describe('server addresses for the peer policy', () => {
  it('lists listening, relay and external IPs', () => {
    const loaded = parseConfig({
      address: '192.0.2.7:3478',
      tls_address: '192.0.2.8:5349',
      tls: { cert: 'c', key: 'k' },
      relay_ip: '192.0.2.9',
      external_ip: ['203.0.113.1', '2001:db8::1'],
    });
    assert.deepEqual(serverAddresses(loaded, chooseRelayIps(loaded, HOST), HOST).sort(), [
      '192.0.2.7',
      '192.0.2.8',
      '192.0.2.9',
      '2001:db8::1',
      '203.0.113.1',
    ]);
  });

  it('lists every interface address when listening on all interfaces', () => {
    const loaded = parseConfig({});
    const own = serverAddresses(loaded, chooseRelayIps(loaded, HOST), HOST);
    for (const ip of ['127.0.0.1', '::1', 'fe80::1', '192.0.2.7', '2001:db8::7', '198.51.100.9']) assert.ok(own.includes(ip), ip);
  });

  it('adds all of 127.0.0.0/8 and ::1 when listening on a wildcard address, not on a specific one', () => {
    for (const address of ['0.0.0.0:3478', '[::]:3478']) {
      const loaded = parseConfig({ address });
      const own = serverAddresses(loaded, chooseRelayIps(loaded, {}), {});
      assert.ok(own.includes('127.0.0.0/8') && own.includes('::1'), `${address}: ${own.join(' ')}`);
    }
    const specific = parseConfig({ address: '192.0.2.7:3478' });
    assert.ok(!serverAddresses(specific, chooseRelayIps(specific, HOST), HOST).includes('127.0.0.0/8'));
  });
});

describe('buildRelayPlan', () => {
  it('maps the config to TurnServerOptions', async () => {
    const { logger: log, lines } = captureLog('debug');
    const loaded = parseConfig({
      address: '127.0.0.1:3478',
      realm: 'example.org',
      relay_ports: '50000-50010',
      external_ip: '203.0.113.5',
      users: { alice: 'alice-password' },
      peers: { allow: ['127.0.0.0/8'] },
      quotas: { total_allocations: 7, max_bps: '1.5MB', connections_per_ip: 3, allocate_timeout: '2m' },
    });
    const plan = await buildRelayPlan(loaded, { log, interfaces: () => HOST });
    const o = plan.options;
    assert.equal(o.realm, 'example.org');
    assert.deepEqual(o.listen, [{ host: '127.0.0.1', port: 3478 }]);
    assert.equal(o.tls, undefined);
    assert.deepEqual(o.relay, { ips4: ['127.0.0.1'], ips6: [], portMin: 50000, portMax: 50010, externalIp4: '203.0.113.5' });
    assert.deepEqual(o.quotas, { allocationsPerUser: 100, totalAllocations: 7, permissionsPerAllocation: 100, channelsPerAllocation: 100 });
    assert.equal(o.maxBps, 1_500_000);
    assert.deepEqual(o.connections, { perIp: 3, total: 10000, allocateTimeoutMs: 120_000 });
    assert.equal(o.auth.lookup('alice', 'example.org', Date.now()).ok, true);
    assert.equal(o.auth.lookup('bob', 'example.org', Date.now()).ok, false);
    // loopback peers are allowed by peers.allow; other special-purpose ranges stay refused
    assert.equal(allowed(o.peerPolicy, '127.0.0.2', 4), true);
    assert.equal(allowed(o.peerPolicy, '10.1.2.3', 4), false);
    assert.equal(allowed(o.peerPolicy, '8.8.8.8', 4), true);
    assert.ok(lines.some((l) => l.chosen_from === 'listening address'));
  });

  it('logs a warning on the loopback fallback', async () => {
    const { logger: log, lines } = captureLog('debug');
    await buildRelayPlan(parseConfig({}), { log, interfaces: () => LOOPBACK_ONLY });
    assert.ok(lines.some((l) => l.level === 40 && l.chosen_from === 'loopback fallback'));
  });

  it('makes the relay and external addresses relay-only and refuses its other own addresses', async () => {
    const { logger: log } = captureLog('debug');
    const plan = await buildRelayPlan(parseConfig({ relay_ip: '8.8.4.4', external_ip: ['1.1.1.1', '2606:4700::1'] }), { log, interfaces: () => HOST });
    const p = plan.options.peerPolicy;
    assert.deepEqual(plan.relayAddresses, ['8.8.4.4', '1.1.1.1'], 'no IPv6 relay address: the IPv6 external_ip is unused');
    assert.equal(p.check('8.8.4.4', 4), 'relay-only');
    assert.equal(p.check('1.1.1.1', 4), 'relay-only');
    assert.equal(p.check('2606:4700::1', 6), 'own-address');
    assert.equal(p.check('192.0.2.7', 4), 'own-address', 'an interface address of the wildcard listener');
    assert.equal(p.check('127.0.0.9', 4), 'own-address');
    assert.equal(p.check('9.9.9.9', 4), 'allow');
  });

  it('on the embedded defaults, the loopback relay address is relay-only, other loopback addresses stay refused', async () => {
    const { logger: log } = captureLog('debug');
    const plan = await buildRelayPlan(parseConfig({}), { log, interfaces: () => LOOPBACK_ONLY });
    assert.deepEqual(plan.relayAddresses, ['127.0.0.1']);
    assert.equal(plan.options.peerPolicy.check('127.0.0.1', 4), 'relay-only');
    assert.equal(plan.options.peerPolicy.check('127.0.0.2', 4), 'own-address');
    assert.equal(plan.options.peerPolicy.check('::1', 6), 'own-address');
    const all = await buildRelayPlan(parseConfig({ peers: { allow: ['0.0.0.0/0', '::/0'] } }), { log, interfaces: () => LOOPBACK_ONLY });
    assert.equal(all.options.peerPolicy.check('127.0.0.1', 4), 'relay-only');
    assert.equal(all.options.peerPolicy.check('127.0.0.2', 4), 'own-address');
    assert.equal(all.options.peerPolicy.check('0.0.0.0', 4), 'unspecified');
  });

  it('reports unreadable TLS files as a ConfigError naming the key', async () => {
    const dir = tempDir('ferry-tls');
    const file = join(dir, 'config.json');
    const loaded = { ...parseConfig({ tls_address: '127.0.0.1:5349', tls: { cert: 'cert.pem', key: 'key.pem' } }), source: file };
    await assert.rejects(buildRelayPlan(loaded, { log: captureLog('debug').logger, interfaces: () => HOST }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`^tls\\.cert: cannot read ${join(dir, 'cert.pem')}: no such file`));
      return true;
    });
    writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
    writeFileSync(join(dir, 'key.pem'), 'not a key');
    await assert.rejects(buildRelayPlan(loaded, { log: captureLog('debug').logger, interfaces: () => HOST }), /^ConfigError: tls\.cert, tls\.key: cannot use cert\.pem with key\.pem/);
  });
});

describe('logger', () => {
  it('redacts secrets', () => {
    const { logger: log, lines } = captureLog('debug');
    log.info({ password: 'p1', users: { alice: 'p2' }, config: { auth_secrets: ['s1'], users: { bob: 'p3' } }, nested: { deep: { secret: 's2' } } }, 'x');
    const text = JSON.stringify(lines);
    for (const s of ['p1', 'p2', 'p3', 's1', 's2']) assert.ok(!text.includes(`"${s}"`), `${s} leaked: ${text}`);
    assert.match(text, /\[redacted\]/);
  });
});
