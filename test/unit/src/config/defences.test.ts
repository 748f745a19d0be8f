// The nonce and rate_limits config keys (issue 9: stateless nonces, rate limits on unauthenticated work).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../../src/config/load.js';
import { diffConfig } from '../../../../src/config/reload.js';
import { RELOAD_KEYS } from '../../../../app/reload.js';
import { requestDefencesOf } from '../../../../app/relay-options.js';

function problem(raw: unknown): string {
  try {
    parseConfig(raw, '/etc/ferry/config.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('nonce and rate_limits config', () => {
  it('defaults: random secret, 10 minutes, 50 challenges a second and 60 failures a minute per IP', () => {
    assert.deepEqual(requestDefencesOf(parseConfig({}).config), {
      nonceTtlMs: 600_000,
      rateLimits: { challengesPerIp: 50, authFailuresPerIp: 60 },
    });
  });

  it('passes a secret and a lifetime to the engine', () => {
    const c = parseConfig({ nonce: { secret: 'fleet-nonce-secret-0123', lifetime: '90s' }, rate_limits: { challenges_per_ip: 0, auth_failures_per_ip: 5 } }).config;
    const d = requestDefencesOf(c);
    assert.equal(d.nonceTtlMs, 90_000);
    assert.deepEqual(d.nonceSecret, Buffer.from('fleet-nonce-secret-0123'));
    assert.deepEqual(d.rateLimits, { challengesPerIp: 0, authFailuresPerIp: 5 });
  });

  it('refuses bad values, naming the key', () => {
    assert.match(problem({ nonce: { secret: 'short' } }), /^ {2}nonce\.secret: must be at least 16 characters$/m);
    assert.match(problem({ nonce: { lifetime: '5s' } }), /^ {2}nonce\.lifetime: must be between 10s and 1d/m);
    assert.match(problem({ nonce: { lifetime: '2d' } }), /^ {2}nonce\.lifetime: must be between 10s and 1d/m);
    assert.match(problem({ nonce: { lifetime: 'soon' } }), /^ {2}nonce\.lifetime: expected a duration/m);
    assert.match(problem({ nonce: { ttl: '10m' } }), /nonce/);
    assert.match(problem({ rate_limits: { challenges_per_ip: -1 } }), /^ {2}rate_limits\.challenges_per_ip: expected a whole number, 0 for no limit$/m);
    assert.match(problem({ rate_limits: { auth_failures_per_ip: 1.5 } }), /^ {2}rate_limits\.auth_failures_per_ip: expected a whole number/m);
    // It would be taken for an API key, which the admin-token budget does not count.
    assert.match(problem({ signaling: { admin_token: `fk_${'a'.repeat(43)}` } }), /^ {2}signaling\.admin_token: must not have the shape of an API key/m);
  });

  it('both apply on reload', () => {
    const old = parseConfig({}).config;
    const next = parseConfig({ nonce: { lifetime: '1m' }, rate_limits: { challenges_per_ip: 10 } }).config;
    assert.deepEqual(diffConfig(old, next, RELOAD_KEYS), { live: ['nonce', 'rate_limits'], restart: [] });
  });
});
