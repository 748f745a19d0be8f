// Reload as a loop over components (app/reload.ts): every config key is applied live by exactly
// one component or listed as restart-only, so a new key cannot be silently ignored; validate runs
// on all components before any applies, and a failure on the way changes nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type LoadedConfig } from '../../../src/config/load.js';
import { RESTART_KEYS } from '../../../src/config/reload.js';
import { defaultConfig, knownKeys } from '../../../src/config/schema.js';
import type { Component } from '../../../app/components/component.js';
import { LIMITS_KEYS } from '../../../app/components/limits.js';
import { LOGGING_KEYS } from '../../../app/components/logging.js';
import { METERING_KEYS } from '../../../app/components/metering.js';
import { SIGNALING_KEYS } from '../../../app/components/signaling.js';
import { TURN_KEYS } from '../../../app/components/turn.js';
import { WEBHOOKS_KEYS } from '../../../app/components/webhooks.js';
import { checkKeyOwners, LIVE_KEYS, reloadComponents } from '../../../app/reload.js';

/** Each component's live keys, by component. */
const OWNERS: Record<string, readonly string[]> = {
  turn: TURN_KEYS,
  logging: LOGGING_KEYS,
  signaling: SIGNALING_KEYS,
  metering: METERING_KEYS,
  limits: LIMITS_KEYS,
  webhooks: WEBHOOKS_KEYS,
};

/** A component that records what reload does to it; `fail` makes its validate throw. */
function fake(name: string, keys: readonly string[], calls: string[], fail = false): Component {
  return {
    name,
    keys,
    start: async () => {},
    stop: async () => {},
    validate(next: LoadedConfig) {
      calls.push(`validate ${name}`);
      if (fail) throw new Error(`${keys[0]}: refused (${next.config.realm})`);
    },
    apply(_next: LoadedConfig, changed: ReadonlySet<string>) {
      calls.push(`apply ${name} ${[...changed].join(',')}`);
    },
  };
}

describe('reload keys', () => {
  it('every config key (signaling.* and network_usage.* per sub-key) is owned by exactly one component or is restart-only', () => {
    const split = new Set(['signaling', 'network_usage']);
    const schemaKeys = knownKeys([]).flatMap((k) => (split.has(k) ? knownKeys([k]).map((s) => `${k}.${s}`) : [k]));
    for (const key of schemaKeys) {
      const owners = Object.entries(OWNERS).filter(([, keys]) => keys.includes(key)).map(([name]) => name);
      const restart = (RESTART_KEYS as readonly string[]).includes(key);
      assert.equal(owners.length + (restart ? 1 : 0), 1, `${key}: owned by ${owners.join(', ') || 'no component'}${restart ? ' and restart-only' : ''}`);
    }
    const declared = [...Object.values(OWNERS).flat(), ...RESTART_KEYS];
    assert.deepEqual(declared.filter((k) => !schemaKeys.includes(k)), [], 'no declared key is unknown to the schema');
  });

  it('LIVE_KEYS is what the components own', () => {
    assert.deepEqual([...LIVE_KEYS].sort(), Object.values(OWNERS).flat().sort());
    const calls: string[] = [];
    const all = Object.entries(OWNERS).map(([name, keys]) => fake(name, keys, calls));
    assert.doesNotThrow(() => checkKeyOwners(all));
    assert.throws(() => checkKeyOwners(all.slice(1)), /no component applies users, auth_secrets/);
    assert.throws(() => checkKeyOwners([...all, fake('again', ['realm'], calls)]), /owned twice: realm/);
    assert.throws(() => checkKeyOwners([...all, fake('new', ['storage'], calls)]), /not in LIVE_KEYS or owned twice: storage/);
  });
});

describe('reloadComponents', () => {
  const current = defaultConfig();
  const next = parseConfig({ realm: 'two', log_level: 'debug', address: '127.0.0.1:3479' });

  it('validates every component, then applies to every one; returns the diff and the config with only the live keys taken', () => {
    const calls: string[] = [];
    const components = [fake('turn', TURN_KEYS, calls), fake('logging', LOGGING_KEYS, calls)];
    const { diff, config } = reloadComponents(components, current, next, { beforeApply: () => void calls.push('tls') });
    assert.deepEqual(calls, ['validate turn', 'validate logging', 'tls', 'apply turn realm,log_level', 'apply logging realm,log_level']);
    assert.deepEqual(diff, { live: ['realm', 'log_level'], restart: ['address'] });
    assert.equal(config.realm, 'two');
    assert.equal(config.log_level, 'debug');
    assert.equal(config.address, current.address, 'restart-only keys keep their running values');
  });

  it('a failing validate, anywhere in the list, applies nothing', () => {
    const calls: string[] = [];
    const components = [fake('turn', TURN_KEYS, calls), fake('logging', LOGGING_KEYS, calls, true), fake('webhooks', WEBHOOKS_KEYS, calls)];
    assert.throws(() => reloadComponents(components, current, next, { beforeApply: () => void calls.push('tls') }), /^Error: log_level: refused \(two\)$/);
    assert.deepEqual(calls, ['validate turn', 'validate logging']);
  });

  it('a failing step between validate and apply (TLS files) applies nothing', () => {
    const calls: string[] = [];
    const components = [fake('turn', TURN_KEYS, calls), fake('logging', LOGGING_KEYS, calls)];
    const tls = () => {
      throw new Error('tls.cert, tls.key: cannot use cert.pem with key.pem');
    };
    assert.throws(() => reloadComponents(components, current, next, { beforeApply: tls }), /cannot use cert\.pem/);
    assert.deepEqual(calls, ['validate turn', 'validate logging']);
  });
});
