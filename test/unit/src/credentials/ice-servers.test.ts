import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialError } from '../../../../src/credentials/errors.js';
import { IceServerIssuer, normalizeHost } from '../../../../src/credentials/ice-servers.js';
import { parseRestUsername, restPassword } from '../../../../src/credentials/rest.js';

const SECRET = 'ice-servers-test-secret';
const NOW = 1_700_000_000_500;

function issuer(over: Partial<ConstructorParameters<typeof IceServerIssuer>[0]> = {}) {
  return new IceServerIssuer({ secret: () => SECRET, turnPort: 3478, now: () => NOW, ...over });
}

test('shape: one server, urls in order, Ferry-minted credential, ISO expiry', () => {
  const r = issuer({ tlsPort: 5349 }).issue('acc_x', undefined, 'relay.example.org');
  assert.equal(r.iceServers.length, 1);
  const [s] = r.iceServers;
  assert.deepEqual(s.urls, [
    'stun:relay.example.org:3478',
    'turn:relay.example.org:3478?transport=udp',
    'turn:relay.example.org:3478?transport=tcp',
    'turns:relay.example.org:5349?transport=tcp',
  ]);
  assert.deepEqual(parseRestUsername(s.username), { expiry: 1_700_003_600, account: 'acc_x', issuedAt: NOW });
  assert.equal(s.credential, restPassword(SECRET, s.username));
  assert.equal(r.expires_at, new Date(1_700_003_600_000).toISOString());
  assert.deepEqual(Object.keys(r).sort(), ['expires_at', 'iceServers']);
  assert.deepEqual(Object.keys(s).sort(), ['credential', 'urls', 'username']);
});

test('no TLS: no turns: url', () => {
  const urls = issuer().issue('acc_x', undefined, 'h').iceServers[0].urls;
  assert.deepEqual(urls, ['stun:h:3478', 'turn:h:3478?transport=udp', 'turn:h:3478?transport=tcp']);
});

test('ttl: default 3600 (maxTtl when lower); out of 60..maxTtl or not whole seconds: refused, never clamped', () => {
  const minted: [number | undefined, number, number][] = [[undefined, 86_400, 3600], [120, 86_400, 120], [60, 86_400, 60], [86_400, 86_400, 86_400], [undefined, 600, 600]];
  for (const [ttl, maxTtlSeconds, expected] of minted) {
    const r = issuer({ maxTtlSeconds }).issue('acc_x', ttl, 'h');
    const expiry = parseRestUsername(r.iceServers[0].username)?.expiry;
    assert.equal(expiry, Math.floor(NOW / 1000) + expected, `${ttl} / ${maxTtlSeconds}`);
  }
  const refused: [number, number][] = [[1, 86_400], [59, 86_400], [-5, 86_400], [59.9, 86_400], [100.7, 86_400], [86_401, 86_400], [10 ** 9, 86_400], [Infinity, 86_400], [NaN, 86_400], [7200, 600]];
  for (const [ttl, maxTtlSeconds] of refused) {
    assert.throws(
      () => issuer({ maxTtlSeconds }).issue('acc_x', ttl, 'h'),
      (e: unknown) => e instanceof CredentialError && e.code === 'invalid' && /ttl must be from 1m to/.test(e.message),
      `${ttl} / ${maxTtlSeconds}`,
    );
  }
});

test('host: publicHost wins, ports stripped, IPv6 bracketed', () => {
  const cases: [string | undefined, string, string][] = [
    [undefined, 'example.org', 'example.org'],
    [undefined, 'Example.ORG:8443', 'example.org'],
    [undefined, '203.0.113.7:80', '203.0.113.7'],
    [undefined, '[2001:db8::1]:8443', '[2001:db8::1]'],
    [undefined, '[2001:DB8::1]', '[2001:db8::1]'],
    [undefined, '::1', '[::1]'],
    ['turn.example.net', 'ignored.example.org:1234', 'turn.example.net'],
    ['turn.example.net:9999', 'ignored', 'turn.example.net'],
    ['2001:db8::5', 'ignored', '[2001:db8::5]'],
    ['[2001:db8::5]:1', 'ignored', '[2001:db8::5]'],
  ];
  for (const [publicHost, requestHost, host] of cases) {
    const urls = issuer({ tlsPort: 5349, ...(publicHost ? { publicHost } : {}) }).issue('acc_x', undefined, requestHost).iceServers[0].urls;
    assert.deepEqual(urls, [`stun:${host}:3478`, `turn:${host}:3478?transport=udp`, `turn:${host}:3478?transport=tcp`, `turns:${host}:5349?transport=tcp`], requestHost);
  }
});

test('unusable request hosts: CredentialError invalid; bad publicHost refused at construction', () => {
  for (const h of ['', ' ', 'evil.com?transport=tcp', 'a b', 'h:port', '[::1', '[nothex::]', '[::1]x', 'x/y', 'user@host', '1:2:3']) {
    assert.equal(normalizeHost(h), null, h);
    assert.throws(() => issuer().issue('acc_x', undefined, h), (e: unknown) => e instanceof CredentialError && e.code === 'invalid', h);
  }
  assert.throws(() => issuer({ publicHost: 'bad host' }), /publicHost/);
  assert.throws(() => issuer({ turnPort: 0 }), /turnPort/);
  assert.throws(() => issuer({ tlsPort: 70000 }), /tlsPort/);
});

test('no secret: CredentialError no_secret (route: 503); the secret is read per call', () => {
  let secret: string | undefined;
  const i = issuer({ secret: () => secret });
  assert.throws(() => i.issue('acc_x', undefined, 'h'), (e: unknown) => e instanceof CredentialError && e.code === 'no_secret');
  secret = '';
  assert.throws(() => i.issue('acc_x', undefined, 'h'), (e: unknown) => e instanceof CredentialError && e.code === 'no_secret');
  secret = 'rotated-secret-value';
  const s = i.issue('acc_x', undefined, 'h').iceServers[0];
  assert.equal(s.credential, restPassword('rotated-secret-value', s.username));
});
