// The data plane keys of the config (src/config/data-plane.ts): data_plane is "auto" unless set,
// relay_threads is unset (the cores, chosen at start) unless set; bad values are refused with the
// key named (a near miss of a data_plane value gets a did-you-mean); both need a restart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../../src/config/load.js';
import { MAX_RELAY_THREADS } from '../../../../src/config/data-plane.js';
import { diffConfig, RESTART_KEYS } from '../../../../src/config/reload.js';
import { defaultConfig } from '../../../../src/config/schema.js';

/** The one problem line of the ConfigError thrown for `raw`. */
function problem(raw: unknown): string {
  try {
    parseConfig(raw, '/etc/ferry/config.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.problems.length, 1, err.message);
    return `${err.problems[0].path}: ${err.problems[0].message}`;
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('data_plane and relay_threads', () => {
  it('default: data_plane "auto", relay_threads not set', () => {
    const c = defaultConfig();
    assert.equal(c.data_plane, 'auto');
    assert.equal(c.relay_threads, undefined);
    assert.equal('relay_threads' in c, false);
  });

  it('takes each plane and any thread count from 1 to 256', () => {
    for (const plane of ['auto', 'native', 'js'] as const) assert.equal(parseConfig({ data_plane: plane }).config.data_plane, plane);
    for (const n of [1, 2, 64, MAX_RELAY_THREADS]) assert.equal(parseConfig({ relay_threads: n }).config.relay_threads, n);
    assert.equal(MAX_RELAY_THREADS, 256);
  });

  it('refuses other planes, naming the key, with a did-you-mean for a near miss', () => {
    assert.equal(problem({ data_plane: 'fast' }), 'data_plane: expected one of "auto", "native", "js"');
    assert.equal(problem({ data_plane: 'nativ' }), 'data_plane: expected one of "auto", "native", "js" (did you mean "native"?)');
    assert.equal(problem({ data_plane: 'JS' }), 'data_plane: expected one of "auto", "native", "js" (did you mean "js"?)');
    assert.equal(problem({ data_plane: 'typescript' }), 'data_plane: expected one of "auto", "native", "js"');
    assert.equal(problem({ data_plane: true }), 'data_plane: expected one of "auto", "native", "js"');
    assert.equal(problem({ data_plane: null }), 'data_plane: expected one of "auto", "native", "js"');
  });

  it('refuses thread counts that are not a whole number from 1 to 256, naming the key', () => {
    const range = 'relay_threads: expected a whole number of threads, 1 to 256';
    assert.equal(problem({ relay_threads: 0 }), range);
    assert.equal(problem({ relay_threads: -2 }), range);
    assert.equal(problem({ relay_threads: 1.5 }), range);
    assert.equal(problem({ relay_threads: '4' }), range);
    assert.equal(problem({ relay_threads: null }), range);
    assert.equal(problem({ relay_threads: 257 }), 'relay_threads: must be at most 256 (threads beyond the cores only add context switches)');
    assert.equal(problem({ relay_threads: 1e9 }), 'relay_threads: must be at most 256 (threads beyond the cores only add context switches)');
  });

  it('a misspelt key gets a did-you-mean', () => {
    assert.equal(problem({ relay_thread: 2 }), 'relay_thread: unknown key (did you mean "relay_threads"?)');
    assert.equal(problem({ dataplane: 'js' }), 'dataplane: unknown key (did you mean "data_plane"?)');
  });

  it('both are restart-only: a change is listed as one that needs a restart, never applied live', () => {
    assert.ok((RESTART_KEYS as readonly string[]).includes('data_plane'));
    assert.ok((RESTART_KEYS as readonly string[]).includes('relay_threads'));
    const old = defaultConfig();
    const next = parseConfig({ data_plane: 'js', relay_threads: 2 }).config;
    assert.deepEqual(diffConfig(old, next, { live: [], restart: RESTART_KEYS }).restart, ['data_plane', 'relay_threads']);
    // Writing the default out is no change.
    assert.deepEqual(diffConfig(old, parseConfig({ data_plane: 'auto' }).config, { live: [], restart: RESTART_KEYS }).restart, []);
  });
});
