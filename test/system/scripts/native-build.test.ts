// scripts/build-native.js, the package's install script, run as npm runs it in a copy of the files
// it reads (package.json, binding.gyp, the script): a build that fails (no compiler, not Linux, over
// its time limit, an addon that does not load) prints one warning and exits 0, so installing Ferry
// still works and it relays on the TypeScript data path; FERRY_NATIVE_REQUIRED=1 makes it exit 1.
// A build that works says nothing. The failures use npm's real node-gyp with a compiler that is not
// there, or a stand-in node-gyp on PATH; the one real compile is a ten-line Node-API addon with a
// binding.gyp of its own (the real addon's build is proven by scripts/setup.sh on every test run and
// by the package test's `npm rebuild ferry-relay`).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, type RunResult } from '../../helpers/run-command.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url)); // dist/test/system/scripts → root
const ADDON = join('build', 'Release', 'ferry_native.node');

/** The node-gyp bundled with the npm on PATH (what npm gives install scripts). */
function npmNodeGyp(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const npm = join(dir, 'npm');
    if (dir === '' || !existsSync(npm)) continue;
    const gyp = join(dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(gyp)) return gyp;
  }
  throw new Error('no npm with its node-gyp on PATH');
}

/** This Node's installation prefix when it has its headers (node-gyp then needs no download). */
function nodeDir(): string | undefined {
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : process.env.npm_config_nodedir;
}

/**
 * The environment of an install script: none of the outer npm's variables but node-gyp's (npm's
 * own), this Node first on PATH, its headers; `extra` on top (undefined removes a variable).
 */
function scriptEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && !/^FERRY_NATIVE_/.test(k)) env[k] = v;
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  env.npm_config_node_gyp = npmNodeGyp();
  const dir = nodeDir();
  if (dir !== undefined) env.npm_config_nodedir = dir;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A package folder with the install script and what it reads; `gyp` replaces binding.gyp. */
function packageCopy(name: string, gyp?: string): string {
  const dir = join(tempDir(`ferry-native-${name}`), 'ferry-relay');
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  cpSync(join(ROOT, 'scripts', 'build-native.js'), join(dir, 'scripts', 'build-native.js'));
  if (gyp === undefined) cpSync(join(ROOT, 'binding.gyp'), join(dir, 'binding.gyp'));
  else writeFileSync(join(dir, 'binding.gyp'), gyp);
  // binding.gyp finds node-addon-api from the package folder, as in a user's node_modules.
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** A folder with an executable `node-gyp` running `body` (sh), to put first on PATH. */
function standInNodeGyp(body: string): string {
  const bin = tempDir('ferry-native-gyp');
  writeFileSync(join(bin, 'node-gyp'), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, 'node-gyp'), 0o755);
  return bin;
}

function install(dir: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<RunResult> {
  return runCommand(process.execPath, [...nodeArgs, join(dir, 'scripts', 'build-native.js')], { cwd: dir, env, timeoutMs: 60_000 });
}

const warnings = (r: RunResult) => r.stderr.split('\n').filter((l) => /^ferry-relay: (WARNING|ERROR):/.test(l));

/** The one warning of a fallback: what failed, that Ferry runs its TypeScript path, how to retry. */
function assertFallback(r: RunResult, reason: RegExp): void {
  assert.equal(r.code, 0, `exit code 0 (the install goes on):\n${r.stderr}`);
  const w = warnings(r);
  assert.equal(w.length, 1, `one warning:\n${r.stderr}`);
  assert.match(w[0], /^ferry-relay: WARNING: the native data plane \(build\/Release\/ferry_native\.node\) was not built: /);
  assert.match(w[0], reason);
  assert.match(r.stderr, /data_plane "auto" \(the default\) it relays on its TypeScript data path/);
  assert.match(r.stderr, /npm rebuild ferry-relay/);
  assert.equal(r.stdout, '', 'nothing on stdout');
}

function assertRequiredFailure(r: RunResult, reason: RegExp): void {
  assert.equal(r.code, 1, `FERRY_NATIVE_REQUIRED=1: exit code 1:\n${r.stderr}`);
  const w = warnings(r);
  assert.equal(w.length, 1, r.stderr);
  assert.match(w[0], /^ferry-relay: ERROR: the native data plane .* was not built: /);
  assert.match(w[0], reason);
}

describe('scripts/build-native.js (the install script)', () => {
  const pids: number[] = [];
  after(() => {
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone, as it should be */ }
    }
  });

  test('without a compiler: node-gyp\'s output, one warning, exit 0; FERRY_NATIVE_REQUIRED=1: exit 1', { timeout: 120_000 }, async () => {
    const dir = packageCopy('no-compiler');
    const missing = join(dir, 'no-toolchain');
    const env = scriptEnv({ CC: join(missing, 'gcc'), CXX: join(missing, 'g++') });
    const r = await install(dir, env);
    assertFallback(r, /node-gyp rebuild failed \(exit code 1; its output is above\)/);
    assert.ok(r.stderr.includes(missing), `node-gyp's own output names the missing compiler:\n${r.stderr}`);
    assert.match(r.stderr, /gyp ERR!/);
    assert.ok(!existsSync(join(dir, ADDON)), 'no addon');
    assertRequiredFailure(await install(dir, { ...env, FERRY_NATIVE_REQUIRED: '1' }), /node-gyp rebuild failed/);
  });

  test('a build that works says nothing, and its addon loads', { timeout: 120_000 }, async () => {
    // A whole Node-API addon in C (one function), so the compile takes seconds.
    const gyp = "{ 'targets': [ { 'target_name': 'ferry_native', 'sources': [ 'native/src/probe.c' ] } ] }\n";
    const dir = packageCopy('works', gyp);
    mkdirSync(join(dir, 'native', 'src'), { recursive: true });
    writeFileSync(join(dir, 'native', 'src', 'probe.c'), [
      '#include <node_api.h>',
      'static napi_value answer(napi_env env, napi_callback_info info) {',
      '  (void)info; napi_value v; napi_create_int32(env, 42, &v); return v;',
      '}',
      'NAPI_MODULE_INIT() {',
      '  napi_value fn; napi_create_function(env, "answer", NAPI_AUTO_LENGTH, answer, NULL, &fn);',
      '  napi_set_named_property(env, exports, "answer", fn); return exports;',
      '}',
      '',
    ].join('\n'));
    const r = await install(dir, scriptEnv());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'quiet on success (stdout)');
    assert.equal(r.stderr, '', 'quiet on success (stderr)');
    const probe = await runCommand(process.execPath, ['-e', 'console.log(require(process.argv[1]).answer())', join(dir, ADDON)], {
      cwd: dir, env: scriptEnv(), timeoutMs: 30_000,
    });
    assert.equal(probe.stdout.trim(), '42', probe.stderr);
  });

  test('not on Linux: not built (node-gyp not run), one warning, exit 0; FERRY_NATIVE_REQUIRED=1: exit 1', { timeout: 60_000 }, async () => {
    const dir = packageCopy('darwin');
    const ran = join(dir, 'node-gyp-ran');
    const env = scriptEnv({ PATH: `${standInNodeGyp(`touch '${ran}'`)}${delimiter}${scriptEnv().PATH}` });
    // This Node, told it runs on macOS before the script starts.
    const darwin = ['--import', 'data:text/javascript,Object.defineProperty(process,"platform",{value:"darwin"})'];
    assertFallback(await install(dir, env, darwin), /runs on Linux only .* this is darwin/);
    assertRequiredFailure(await install(dir, { ...env, FERRY_NATIVE_REQUIRED: '1' }, darwin), /this is darwin/);
    assert.ok(!existsSync(ran), 'node-gyp was not run');
  });

  test('a build over FERRY_NATIVE_BUILD_TIMEOUT_S is stopped with the processes it started', { timeout: 60_000 }, async () => {
    const dir = packageCopy('slow');
    const pidFile = join(dir, 'compiler.pid');
    // A "compiler" that never ends, started by the build as make would start it.
    const bin = standInNodeGyp(`echo 'gyp info it worked if it ends with ok'\nsleep 120 &\necho $! >'${pidFile}'\nwait`);
    const env = scriptEnv({ PATH: `${bin}${delimiter}${scriptEnv().PATH}`, FERRY_NATIVE_BUILD_TIMEOUT_S: '1' });
    const started = Date.now();
    const r = await install(dir, env);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    pids.push(pid);
    assertFallback(r, /did not finish within 1 s \(FERRY_NATIVE_BUILD_TIMEOUT_S\) and was stopped/);
    assert.match(r.stderr, /gyp info it worked/, 'the build\'s output is shown');
    assert.ok(Date.now() - started < 15_000, `stopped in ${Date.now() - started} ms`);
    const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
    await until(() => !alive(), 5000, `the build's child ${pid} is stopped`);
  });

  test('an addon that builds but does not load is removed, with the warning', { timeout: 60_000 }, async () => {
    const dir = packageCopy('broken');
    const bin = standInNodeGyp(`mkdir -p build/Release && echo 'not an ELF file' >'${ADDON}'`);
    const r = await install(dir, scriptEnv({ PATH: `${bin}${delimiter}${scriptEnv().PATH}` }));
    assertFallback(r, new RegExp(`node-gyp built it, but this Node \\(${process.version.replace(/\./g, '\\.')}\\) cannot load it: .+`));
    assert.ok(!existsSync(join(dir, ADDON)), 'the addon that does not load is not left for the loader');
  });

  test('bad settings are named: FERRY_NATIVE_REQUIRED refuses a value it does not know, a bad time limit is a failed build', { timeout: 60_000 }, async () => {
    const dir = packageCopy('settings');
    const ran = join(dir, 'node-gyp-ran');
    const path = `${standInNodeGyp(`touch '${ran}'`)}${delimiter}${scriptEnv().PATH}`;
    const yes = await install(dir, scriptEnv({ PATH: path, FERRY_NATIVE_REQUIRED: 'yes' }));
    assert.equal(yes.code, 1, yes.stderr);
    assert.match(yes.stderr, /FERRY_NATIVE_REQUIRED must be 1 or 0, got 'yes'/);
    assertFallback(await install(dir, scriptEnv({ PATH: path, FERRY_NATIVE_BUILD_TIMEOUT_S: '-5' })),
      /FERRY_NATIVE_BUILD_TIMEOUT_S must be a positive number of seconds, got '-5'/);
    assert.ok(!existsSync(ran), 'node-gyp was not run');
  });
});
