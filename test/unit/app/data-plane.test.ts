// The data plane choice (app/data-plane.ts): every pair of data_plane and addon load outcome,
// the addon missing included (a machine that built it cannot produce that at start), the default
// threads from the cores within 1..256, and the warnings: one for an "auto" fallback saying why and
// how to get the addon, one for relay_threads set while the TypeScript path runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseDataPlane, dataPlaneLogLine, relayThreadsOf, type DataPlaneInput } from '../../../app/data-plane.js';
import { ConfigError } from '../../../src/config/errors.js';
import type { AddonLoad, NativeAddon } from '../../../turn/index.js';

// The decision only hands the addon on: any object stands for it.
const addon = { DataPlane: class {} } as unknown as NativeAddon;
const loaded: AddonLoad = { ok: true, addon, path: '/srv/ferry/build/Release/ferry_native.node' };
const missing: AddonLoad = { ok: false, reason: 'not built (no /srv/ferry/build/Release/ferry_native.node)' };
const input = (over: Partial<DataPlaneInput>): DataPlaneInput => ({ setting: 'auto', relayThreads: undefined, load: loaded, cores: 8, ...over });

describe('chooseDataPlane', () => {
  it('auto with the addon: native, threads = the cores, no warning', () => {
    const d = chooseDataPlane(input({}));
    assert.ok(d.ok);
    assert.deepEqual(d.choice, { plane: 'native', addon, addonPath: loaded.path, threads: 8 });
    assert.deepEqual(d.warnings, []);
  });

  it('native with the addon: native with relay_threads when set', () => {
    const d = chooseDataPlane(input({ setting: 'native', relayThreads: 3 }));
    assert.ok(d.ok);
    assert.equal(d.choice.plane, 'native');
    assert.equal(d.choice.threads, 3);
    assert.deepEqual(d.warnings, []);
  });

  it('auto without the addon: the TypeScript path and ONE warning with the loader\'s reason and how to get the addon', () => {
    const d = chooseDataPlane(input({ load: missing }));
    assert.ok(d.ok);
    assert.deepEqual(d.choice, { plane: 'js', threads: 1 });
    assert.equal(d.warnings.length, 1);
    const [w] = d.warnings;
    assert.match(w, /^data_plane "auto": the native data plane is not available \(not built \(no \/srv\/ferry\/build\/Release\/ferry_native\.node\)\)/);
    assert.match(w, /TypeScript path/);
    assert.match(w, /To use it, build the addon with npm rebuild ferry-relay \(needs a C\+\+ compiler and Python for node-gyp\) and restart$/);
    assert.doesNotMatch(w, /relay_threads/, 'relay_threads not set: not mentioned');
  });

  it('auto without the addon, relay_threads set: still one warning, which says relay_threads is not used', () => {
    const d = chooseDataPlane(input({ load: missing, relayThreads: 4 }));
    assert.ok(d.ok);
    assert.equal(d.warnings.length, 1);
    assert.match(d.warnings[0], /on the JS thread; relay_threads \(4\) is not used\. To use it/);
  });

  it('native without the addon: a ConfigError naming data_plane, with the reason and the way out', () => {
    const d = chooseDataPlane(input({ setting: 'native', load: missing, relayThreads: 2 }));
    assert.equal(d.ok, false);
    assert.ok(!d.ok && d.error instanceof ConfigError);
    const { error } = d as { error: ConfigError };
    assert.match(error.message, /^data_plane: "native" needs the native addon, which cannot be loaded: not built \(no \/srv\/ferry/);
    assert.match(error.message, /\. Build it with npm rebuild ferry-relay \(needs a C\+\+ compiler and Python for node-gyp\), or set data_plane to "auto" or "js"$/);
    assert.deepEqual(error.problems.map((p) => p.path), ['data_plane']);
  });

  it('native with an addon built for another Node: the loader\'s reason is quoted', () => {
    const other: AddonLoad = { ok: false, reason: '/x/ferry_native.node: The module was compiled against a different Node.js version using NODE_MODULE_VERSION 137' };
    const d = chooseDataPlane(input({ setting: 'native', load: other }));
    assert.ok(!d.ok);
    assert.match(d.error.message, /NODE_MODULE_VERSION 137/);
  });

  it('js: the TypeScript path even with the addon loaded; relay_threads set is warned about as not used', () => {
    const plain = chooseDataPlane(input({ setting: 'js' }));
    assert.ok(plain.ok);
    assert.deepEqual(plain.choice, { plane: 'js', threads: 1 });
    assert.deepEqual(plain.warnings, []);
    const withThreads = chooseDataPlane(input({ setting: 'js', relayThreads: 16, load: missing }));
    assert.ok(withThreads.ok);
    assert.deepEqual(withThreads.warnings, ['data_plane is "js": relay_threads (16) is not used: the TypeScript path relays on the JS thread']);
  });
});

describe('relay threads by default', () => {
  it('the cores, at least 1 and at most 256; relay_threads when set', () => {
    assert.equal(relayThreadsOf(undefined, 2), 2);
    assert.equal(relayThreadsOf(undefined, 0), 1);
    assert.equal(relayThreadsOf(undefined, 384), 256);
    assert.equal(relayThreadsOf(5, 384), 5);
    assert.equal(relayThreadsOf(1, 2), 1);
  });
});

describe('the start log line', () => {
  it('names the plane, and the threads and addon file of the native one', () => {
    assert.deepEqual(dataPlaneLogLine({ plane: 'js', threads: 1 }), { fields: { data_plane: 'js' }, message: 'data plane: js (TypeScript, on the JS thread)' });
    const native = dataPlaneLogLine({ plane: 'native', addon, addonPath: loaded.path, threads: 4 });
    assert.equal(native.message, 'data plane: native, 4 relay threads');
    assert.deepEqual(native.fields, { data_plane: 'native', relay_threads: 4, addon: loaded.path });
    assert.equal(dataPlaneLogLine({ plane: 'native', addon, addonPath: loaded.path, threads: 1 }).message, 'data plane: native, 1 relay thread');
  });
});
