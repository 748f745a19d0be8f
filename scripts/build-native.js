#!/usr/bin/env node
// The package's install script: builds the native data plane (binding.gyp → build/Release/
// ferry_native.node) with node-gyp, and checks that this Node loads it. Quiet when it works; when it
// cannot build (not Linux, no compiler, no python3, a time limit), it prints node-gyp's output and
// one warning, and exits 0 so that installing Ferry does not fail: with data_plane "auto" (the
// default) Ferry then relays on its TypeScript data path.
//
//   FERRY_NATIVE_REQUIRED=1        a build that fails fails the install (exit 1); 0 or unset: it warns
//   FERRY_NATIVE_BUILD_TIMEOUT_S   time limit of the build in seconds (default 600); the build's
//                                  processes are killed when it passes
//   npm_config_nodedir             where node-gyp finds Node's headers (read by node-gyp itself)
//
//   node scripts/build-native.js [DIR]   builds in DIR (a folder with binding.gyp and native/src/,
//                                        as scripts/setup.sh makes for another Node); default: the
//                                        package this script belongs to
//
// node-gyp is the one npm puts on PATH for lifecycle scripts; else the one $npm_config_node_gyp
// names; else the one bundled with the npm found on PATH (a run by hand). The addon is loaded by the
// Node that runs this script, so run it with the Node the build is for.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, realpathSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = buildDir(process.argv.slice(2));
const ADDON = join('build', 'Release', 'ferry_native.node');
const SHOWN = DIR === ROOT ? ADDON : join(DIR, ADDON);
/** node-gyp's output kept for a failure report: its end, where the error is. */
const OUTPUT_LIMIT = 64 * 1024;
/** After SIGTERM to a build that overran, how long before SIGKILL. */
const KILL_GRACE_MS = 5000;

const required = parseRequired(process.env.FERRY_NATIVE_REQUIRED);

/** FERRY_NATIVE_REQUIRED: 1 or 0 (or unset); anything else is refused rather than guessed. */
function parseRequired(raw) {
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  console.error(`ferry-relay: FERRY_NATIVE_REQUIRED must be 1 or 0, got '${raw}'`);
  process.exit(1);
}

/** The folder to build in: the package's own, or the one argument (which must hold a binding.gyp). */
function buildDir(args) {
  if (args.length === 0) return ROOT;
  const dir = resolve(args[0]);
  if (args.length > 1 || !existsSync(join(dir, 'binding.gyp'))) {
    console.error(`usage: node scripts/build-native.js [DIR]  (DIR holds binding.gyp; got ${args.map((a) => `'${a}'`).join(' ')})`);
    process.exit(1);
  }
  return dir;
}

/** Ends the script after a build that did not happen: the warning, exit 0 (1 when required). */
function fail(reason, output = '') {
  if (output.trim() !== '') process.stderr.write(`${output.replace(/\s*$/, '')}\n`);
  const lines = required
    ? [
        `ferry-relay: ERROR: the native data plane (${SHOWN}) was not built: ${reason}.`,
        'ferry-relay: FERRY_NATIVE_REQUIRED=1 makes this an error rather than a fallback. Retry after fixing it (Linux with g++, make and python3): npm rebuild ferry-relay (in a checkout of Ferry: node scripts/build-native.js)',
      ]
    : [
        `ferry-relay: WARNING: the native data plane (${SHOWN}) was not built: ${reason}.`,
        'ferry-relay: Ferry works without it: with data_plane "auto" (the default) it relays on its TypeScript data path ("native" refuses to start).',
        'ferry-relay: To build it later (Linux with g++, make and python3): npm rebuild ferry-relay (in a checkout of Ferry: node scripts/build-native.js)',
      ];
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(required ? 1 : 0);
}

function timeoutMs() {
  const raw = process.env.FERRY_NATIVE_BUILD_TIMEOUT_S;
  if (raw === undefined || raw === '') return 600_000;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) fail(`FERRY_NATIVE_BUILD_TIMEOUT_S must be a positive number of seconds, got '${raw}'`);
  return s * 1000;
}

function executableOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The command that runs node-gyp: [file, args before 'rebuild'], or a reason it cannot be found. */
function findNodeGyp() {
  const onPath = executableOnPath('node-gyp');
  if (onPath !== undefined) return { cmd: onPath, args: [] };
  const named = process.env.npm_config_node_gyp;
  if (named !== undefined && named !== '') {
    if (!existsSync(named)) return { reason: `npm_config_node_gyp names ${named}, which does not exist` };
    return { cmd: process.execPath, args: [named] };
  }
  const npm = executableOnPath('npm');
  if (npm !== undefined) {
    // npm-cli.js sits in <npm>/bin/; node-gyp is a dependency of npm itself.
    const bundled = join(dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(bundled)) return { cmd: process.execPath, args: [bundled] };
  }
  return { reason: 'node-gyp was not found (not on PATH, no npm_config_node_gyp, no npm with its own)' };
}

function build(gyp, limitMs) {
  return new Promise((resolve) => {
    // A process group of its own, so that a build that overruns is stopped with its make and
    // compilers, not only node-gyp.
    const child = spawn(gyp.cmd, [...gyp.args, 'rebuild'], { cwd: DIR, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (chunk) => {
      output += chunk;
      if (output.length > 2 * OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    let overran = false;
    let killer;
    const killGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      overran = true;
      killGroup('SIGTERM');
      killer = setTimeout(() => {
        killGroup('SIGKILL');
        // A process that left the group may still hold the pipes: stop waiting for them.
        child.stdout.destroy();
        child.stderr.destroy();
      }, KILL_GRACE_MS);
    }, limitMs);
    // In its own group the build does not get the terminal's Ctrl-C, nor npm's signals: it stops
    // with this script.
    const onSignal = (signal) => {
      killGroup('SIGKILL');
      process.exit(128 + constants.signals[signal]);
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, onSignal);
    const onExit = () => killGroup('SIGKILL');
    process.once('exit', onExit);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ error: `cannot run ${gyp.cmd}: ${err.message}`, output });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(s, onSignal);
      process.off('exit', onExit);
      if (killer !== undefined) clearTimeout(killer);
      const tail = output.length > OUTPUT_LIMIT ? `…${output.slice(-OUTPUT_LIMIT)}` : output;
      if (overran) resolve({ error: `node-gyp rebuild did not finish within ${limitMs / 1000} s (FERRY_NATIVE_BUILD_TIMEOUT_S) and was stopped`, output: tail });
      else if (code !== 0) resolve({ error: `node-gyp rebuild failed (${signal ?? `exit code ${code}`}; its output is above)`, output: tail });
      else resolve({ output: tail });
    });
  });
}

if (process.platform !== 'linux') {
  fail(`it runs on Linux only (epoll, recvmmsg), and this is ${process.platform}`);
}
const limitMs = timeoutMs();
const gyp = findNodeGyp();
if (gyp.reason !== undefined) fail(gyp.reason);
const result = await build(gyp, limitMs);
if (result.error !== undefined) fail(result.error, result.output);
// A shared object links with undefined symbols; only loading it proves it is whole.
try {
  createRequire(import.meta.url)(join(DIR, ADDON));
} catch (err) {
  // Not left where the loader would try it again at every start.
  rmSync(join(DIR, ADDON), { force: true });
  fail(`node-gyp built it, but this Node (${process.version}) cannot load it: ${err.message.split('\n')[0]}`, result.output);
}
