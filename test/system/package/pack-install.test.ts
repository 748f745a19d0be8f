// The package as a user gets it. `npm pack` runs in a copy of the repository's sources (its prepack
// and prepare scripts build dist/ there, leaving this checkout's dist/ alone); the tarball is
// installed into an empty project (npm's cache first, the registry for what is missing; for the
// better-sqlite3 addon see NATIVE_BUILD), and there:
//   - the tarball holds only the built package (no tests, benches, sources, scripts) and what
//     its install script needs to build the native data plane (binding.gyp, native/src/,
//     scripts/build-native.js);
//   - `npx ferry --help` works without a build step;
//   - `ferry-relay`, `ferry-relay/client` and `ferry-relay/webhooks` import with the optional peers
//     (werift, node-datachannel) absent, deep imports are refused, verifySignature checks a signature;
//   - with werift and ws installed as a user would, two SDK peers call each other through a Ferry
//     started by the installed `ferry` command (relay forced, the relayed path checked);
//   - a TypeScript file type-checks against the published types (and type errors are caught);
//   - `npm rebuild ferry-relay` there builds the native data plane from the tarball's files.
// The scripts run there are in test/helpers/fixtures/package-probe/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { apiJson } from '../../helpers/admin-http.js';
import { freePort, reservePortRange, type PortRange } from '../../helpers/ports.js';
import { exited, spawnGuarded, terminate } from '../../helpers/reaper.js';
import { runCommand, runOk } from '../../helpers/run-command.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { sleep } from '../../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url)); // dist/test/system/package → root
const REPO_TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const ADMIN_TOKEN = 'pack-install-admin-token-0123456789';
/** What `npm pack` needs from a clone: the sources, the build configs and scripts, the docs it ships. */
const PACK_INPUTS = [
  'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'CHANGELOG.md',
  'bin', 'scripts', 'turn', 'signaling', 'src', 'app', 'client', 'console', 'protocol', 'binding.gyp', 'native/src',
];
const SHIPPED_DIRS = ['app', 'client', 'console-app', 'protocol', 'sdk', 'signaling', 'src', 'turn'];
/** npm's cache first, the registry only for what it lacks. */
const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error'];
/**
 * FERRY_PACK_TEST_NATIVE_BUILD=1: install exactly as a user does, compiling better-sqlite3's addon
 * (1 to 5 minutes on two busy cores). By default the install skips install scripts and the project
 * gets the addon this checkout built for the Node under test (the same better-sqlite3 version, or
 * it is compiled after all): the package and its dependency tree are what is under test here.
 */
const NATIVE_BUILD = process.env.FERRY_PACK_TEST_NATIVE_BUILD === '1';

/** This Node's installation prefix when it has its headers (better-sqlite3 compiles against them). */
function nodeDir(): string | undefined {
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node.h')) ? prefix : undefined;
}

/**
 * The environment for npm and the installed package: none of the outer `npm test`'s npm_*
 * variables, this Node first on PATH (npm, its scripts and node-gyp use the Node under test).
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  const dir = nodeDir();
  if (dir !== undefined) env.npm_config_nodedir = dir;
  env.npm_config_update_notifier = 'false';
  return env;
}

/** Where this test process loads `name` from (the checkout's node_modules, built for this Node). */
function packageDir(name: string): string {
  // Not require.resolve(`${name}/package.json`): a package's `exports` may not list it (werift's does not).
  for (const dir of createRequire(import.meta.url).resolve.paths(name) ?? []) {
    if (existsSync(join(dir, name, 'package.json'))) return join(dir, name);
  }
  throw new Error(`${name} is not installed`);
}
/**
 * The folder of the package this process loads for `name`: resolved as an import of this file, so
 * on Node 24 it is the copy built for it (scripts/addon-redirect.js), not node_modules' (Node 20).
 */
function loadedPackageDir(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(name))); // import.meta.resolve goes through the hooks; require.resolve does not
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of ${name} above its entry`);
    dir = up;
  }
  return dir;
}
const versionOf = (name: string): string =>
  (JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;

describe('npm pack → npm install into an empty project', () => {
  const env = userEnv();
  const timings: Record<string, number> = {};
  let tarball: string;
  let entries: string[];
  let app: string;
  let ferry: ChildProcess | undefined;
  let ferryOut = '';
  let range: PortRange | undefined;

  before(async () => {
    const work = tempDir('ferry-pack');
    const src = join(work, 'src');
    for (const p of PACK_INPUTS) cpSync(join(ROOT, p), join(src, p), { recursive: true });
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(src, 'node_modules'), 'dir');
    const out = join(work, 'out');
    mkdirSync(out);
    const pack = await runOk('npm', ['pack', '--pack-destination', out, '--loglevel', 'error'], { cwd: src, env, timeoutMs: 180_000 });
    timings.pack = pack.ms;
    const tgz = readdirSync(out).filter((f) => f.endsWith('.tgz'));
    assert.equal(tgz.length, 1, tgz.join(', '));
    tarball = join(out, tgz[0]);
    entries = (await runOk('tar', ['-tzf', tarball], { cwd: work, timeoutMs: 30_000 })).stdout.split('\n').filter((l) => l !== '');

    app = join(work, 'app');
    cpSync(join(ROOT, 'test', 'helpers', 'fixtures', 'package-probe'), app, { recursive: true });
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'ferry-pack-probe', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
    const install = await runOk('npm', [...NPM_INSTALL, ...(NATIVE_BUILD ? [] : ['--ignore-scripts']), tarball], {
      cwd: app, env, timeoutMs: NATIVE_BUILD ? 600_000 : 180_000,
    });
    timings.install = install.ms;
    // Only better-sqlite3 and Ferry itself have install scripts (their native addons): anything else
    // would need a look. Ferry's builds its data plane; see the last test.
    const lock = JSON.parse(readFileSync(join(app, 'node_modules', '.package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean; version?: string }>;
    };
    const scripted = Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript === true).map(([k]) => k);
    assert.deepEqual(scripted.sort(), ['node_modules/better-sqlite3', 'node_modules/ferry-relay']);
    if (!NATIVE_BUILD) {
      // The addon this checkout's tests load (the Node under test's ABI) when it is the same
      // better-sqlite3; else compiled here, as a user's install does.
      const addon = join('build', 'Release', 'better_sqlite3.node');
      const installed = join(app, 'node_modules', 'better-sqlite3');
      const loaded = loadedPackageDir('better-sqlite3');
      const loadedVersion = (JSON.parse(readFileSync(join(loaded, 'package.json'), 'utf8')) as { version: string }).version;
      if (lock.packages['node_modules/better-sqlite3'].version === loadedVersion) {
        mkdirSync(dirname(join(installed, addon)), { recursive: true });
        cpSync(join(loaded, addon), join(installed, addon));
      } else {
        timings.rebuild = (await runOk('npm', ['rebuild', 'better-sqlite3', '--loglevel', 'error'], { cwd: app, env, timeoutMs: 600_000 })).ms;
      }
    }
  });

  after(async () => {
    if (ferry) await terminate(ferry, 3000);
    range?.release();
    console.log(`pack-install: ${tarball ? `${statSync(tarball).size} bytes, ${entries.length} entries; ` : ''}ms ${JSON.stringify(timings)}`);
  });

  test('the tarball holds the built package only, with every exported file and its types', () => {
    const files = entries.map((e) => e.replace(/^package\//, ''));
    assert.ok(entries.every((e) => e.startsWith('package/')), 'one package/ root');
    const allowed = new RegExp(
      `^(package\\.json|README\\.md|CHANGELOG\\.md|bin/ferry\\.js|dist/(${SHIPPED_DIRS.join('|')})/.+|binding\\.gyp|native/src/.+|scripts/build-native\\.js)$`,
    );
    assert.deepEqual(files.filter((f) => !allowed.test(f)), [], 'nothing outside the shipped folders');
    assert.deepEqual(files.filter((f) => /(^|\/)(test|bench)\/|\.test\.|(?<!\.d)\.ts$|tsconfig/.test(f)), [], 'no tests, benches, sources or configs');
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', 'ferry-relay', 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>;
    };
    for (const [entry, target] of Object.entries(pkg.exports)) {
      const targets = typeof target === 'string' ? [target] : [target.types, target.default];
      for (const t of targets) assert.ok(files.includes(t.replace(/^\.\//, '')), `${entry}: ${t} is in the tarball`);
      if (typeof target !== 'string') assert.match(target.types, /\.d\.ts$/, `${entry} has types`);
    }
    for (const f of ['dist/sdk/ferry.js', 'dist/sdk/ferry.js.map', 'dist/sdk/ferry.d.ts', 'dist/app/cli/main.js', 'dist/signaling/demo/page.js', 'dist/console-app/index.html', 'dist/console-app/console.js', 'dist/console-app/console.css']) {
      assert.ok(files.includes(f), f);
    }
    // Every compiled module of the package has its declarations beside it.
    // The bundles (the SDK's, the console's) are browser files, not modules to import with types.
    const js = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js') && f !== 'dist/sdk/ferry.js' && f !== 'dist/console-app/console.js');
    assert.deepEqual(js.filter((f) => !files.includes(f.replace(/\.js$/, '.d.ts'))), []);
    // The native data plane's build inputs, every source of it, and nothing else of native/.
    const sources = readdirSync(join(ROOT, 'native', 'src'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(ROOT.length));
    assert.ok(sources.length > 0, 'native/src/ has sources');
    assert.deepEqual(files.filter((f) => f.startsWith('native/')).sort(), [...sources].sort());
    for (const f of ['binding.gyp', 'scripts/build-native.js']) assert.ok(files.includes(f), f);
  });

  test('npx ferry --help: the command runs from the installed package', async () => {
    const r = await runOk('npx', ['ferry', '--help'], { cwd: app, env, timeoutMs: 30_000 });
    assert.match(r.stdout, /Usage: ferry/);
    const bad = await runCommand('npx', ['ferry', 'no-such-command'], { cwd: app, env, timeoutMs: 30_000 });
    assert.equal(bad.code, 2, bad.stderr);
  });

  test('the entries import without the optional peers; deep imports are refused; verifySignature checks a signature', async () => {
    const r = await runOk(process.execPath, ['probe-imports.mjs'], { cwd: app, env, timeoutMs: 30_000 });
    const got = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(got.werift, 'ERR_MODULE_NOT_FOUND', 'werift is not installed: the SDK loaded without it');
    assert.equal(got.nodeDataChannel, 'ERR_MODULE_NOT_FOUND');
    assert.equal(got.deepImport, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    assert.equal(got.version, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    for (const name of ['connect', 'FerryClient', 'FerryError', 'weriftAdapter', 'nodeDataChannelAdapter', 'standardAdapter', 'pathFromStats']) {
      assert.ok((got.client as string[]).includes(name), `ferry-relay/client exports ${name}`);
    }
    for (const name of ['startFerry', 'loadConfig', 'parseConfig', 'createLogger', 'ConfigError']) {
      assert.ok((got.server as string[]).includes(name), `ferry-relay exports ${name}`);
    }
    assert.deepEqual(got.signature, { valid: true, tampered: false, staleCode: 'timestamp_out_of_range', header: 'Ferry-Signature' });
  });

  test('two SDK peers (werift) call each other through a Ferry started by the installed command', async () => {
    const t0 = Date.now();
    // --ignore-scripts: werift and ws have none, and better-sqlite3 is not built again.
    await runOk('npm', [...NPM_INSTALL, '--ignore-scripts', `werift@${versionOf('werift')}`, `ws@${versionOf('ws')}`], {
      cwd: app, env, timeoutMs: 180_000,
    });
    timings.installPeers = Date.now() - t0;

    const turnPort = await freePort();
    const signalingPort = await freePort();
    range = await reservePortRange();
    const config = {
      address: `127.0.0.1:${turnPort}`,
      relay_ip: '127.0.0.1',
      relay_ports: `${range.lo}-${range.hi}`,
      auth_secrets: ['pack-install-rest-secret-0123456789'],
      peers: { allow: ['127.0.0.0/8'] },
      signaling: { address: `127.0.0.1:${signalingPort}`, admin_token: ADMIN_TOKEN },
      storage: 'sqlite::memory:',
      log_level: 'warn',
    };
    writeFileSync(join(app, 'ferry.json'), JSON.stringify(config, null, 2));
    const t1 = Date.now();
    ferry = spawnGuarded(process.execPath, [join(app, 'node_modules', '.bin', 'ferry'), 'start', '--fg', '--config', 'ferry.json'], app, env);
    ferry.stdout?.setEncoding('utf8').on('data', (d: string) => { ferryOut += d; });
    ferry.stderr?.setEncoding('utf8').on('data', (d: string) => { ferryOut += d; });
    const url = `http://127.0.0.1:${signalingPort}`;
    for (let ok = false, end = Date.now() + 15_000; !ok;) {
      assert.ok(!exited(ferry), `ferry exited:\n${ferryOut.slice(-3000)}`);
      assert.ok(Date.now() < end, `${url}/healthz not answering within 15 s:\n${ferryOut.slice(-3000)}`);
      ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then((res) => res.ok, () => false);
      if (!ok) await sleep(100);
    }
    timings.ferryStart = Date.now() - t1;
    // The operator console ships built in the package: its page and bundle are served.
    for (const path of ['/console', '/console/console.js', '/console/console.css']) {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 200, `${path} from the installed package`);
      assert.ok((await res.text()).length > 100, `${path} has content`);
    }

    const account = await apiJson(url, 'POST', '/v1/accounts', ADMIN_TOKEN, { name: 'pack-install' });
    assert.equal(account.status, 201, JSON.stringify(account.json));
    const apiKey = String(account.json.api_key);
    const minted = await apiJson(url, 'POST', '/v1/signal-tokens', apiKey, {});
    assert.equal(minted.status, 201, JSON.stringify(minted.json));

    const t2 = Date.now();
    const r = await runOk(process.execPath, ['call.mjs', JSON.stringify({ url, apiKey, token: minted.json.token })], {
      cwd: app, env, timeoutMs: 60_000,
    });
    timings.call = Date.now() - t2;
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      toCallee: string; toCaller: string; paths: string[]; local: { candidateType?: string; address?: string; ip?: string; port?: number } | null;
    };
    assert.equal(got.toCallee, 'hello from pack-a');
    assert.equal(got.toCaller, 'hello from pack-b');
    assert.deepEqual(got.paths, ['relay', 'relay']);
    assert.equal(got.local?.candidateType, 'relay', JSON.stringify(got.local));
    assert.equal(got.local?.address ?? got.local?.ip, '127.0.0.1');
    const port = Number(got.local?.port);
    assert.ok(port >= range.lo && port <= range.hi, `relayed from ${port}, outside Ferry's ${range.lo}-${range.hi}`);
  });

  test('a TypeScript file type-checks against the published types, and their errors are caught', async () => {
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        // The user's own @types/node: the repository's, rather than another install.
        types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['check.mts'],
    };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const t0 = Date.now();
    const ok = await runCommand(REPO_TSC, ['-p', 'tsconfig.json'], { cwd: app, env, timeoutMs: 120_000 });
    timings.tsc = Date.now() - t0;
    assert.equal(ok.code, 0, `${ok.stdout}${ok.stderr}`);
    // The same file with one wrong call: the types are real, not `any`.
    writeFileSync(join(app, 'wrong.mts'), "import { connect } from 'ferry-relay/client';\nvoid connect({ url: 1, peerId: 'a' });\n");
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['wrong.mts'] }, null, 2));
    const bad = await runCommand(REPO_TSC, ['-p', 'tsconfig.json'], { cwd: app, env, timeoutMs: 120_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /wrong\.mts\(2,\d+\): error TS2322/, bad.stdout);
  });

  test('npm rebuild ferry-relay builds the native data plane from the tarball, and it loads', async () => {
    const installed = join(app, 'node_modules', 'ferry-relay');
    // FERRY_NATIVE_REQUIRED=1: a build that fails fails the command instead of warning.
    const r = await runOk('npm', ['rebuild', 'ferry-relay', '--foreground-scripts', '--loglevel', 'error'], {
      cwd: app, env: { ...env, FERRY_NATIVE_REQUIRED: '1' }, timeoutMs: 600_000,
    });
    timings.nativeBuild = r.ms;
    assert.doesNotMatch(r.stderr, /ferry-relay: (WARNING|ERROR)/, r.stderr);
    const probe = "const a = require(process.argv[1]); if (typeof a.DataPlane !== 'function') throw new Error('no DataPlane export'); console.log('ok')";
    const load = await runOk(process.execPath, ['-e', probe, join(installed, 'build', 'Release', 'ferry_native.node')], { cwd: app, env, timeoutMs: 30_000 });
    assert.equal(load.stdout.trim(), 'ok');
  });
});
