#!/usr/bin/env node
// Runs the compiled tests (dist/test/**/*.test.js) with node's built-in runner, one file at a time,
// each in its own process group under a time limit, and closes with node's summary lines summed
// over all files.
//
// Usage: node scripts/run-tests.js [substring ...]   (only files whose path contains one of them)
//
// - A file still running after FERRY_TEST_FILE_TIMEOUT_S seconds (default 420; the slowest file
//   takes about 115 s here) counts as failed. Its process group (the processes it started, but
//   for those in groups of their own, which the tests' reaper and guard processes end) gets
//   SIGTERM, so the tests' handlers clean up, and SIGKILL for whatever is left 10 s later. No file
//   starts once the whole run has taken FERRY_TEST_TOTAL_TIMEOUT_S seconds (default 2400). A hang
//   is a failure in bounded time, never a run that waits forever. SIGINT, SIGTERM and SIGHUP to
//   this runner stop the running file the same way.
// - A file whose process was killed by test/helpers/native-hang-watchdog.ts (node-datachannel's
//   known DTLS/TURN deadlock: libjuice's poll thread waiting on a lock for 5 s, or a stalled main
//   thread for 15 s; recorded in the file named by $FERRY_TEST_HANG_MARKER) and failed runs once more;
//   the runner says so, with the watchdog's evidence. Any other failure stands.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const FILE_TIMEOUT_MS = seconds('FERRY_TEST_FILE_TIMEOUT_S', 420) * 1000;
const TOTAL_TIMEOUT_MS = seconds('FERRY_TEST_TOTAL_TIMEOUT_S', 2400) * 1000;
const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${name} must be a positive number of seconds, got '${raw}'`);
    process.exit(2);
  }
  return n;
}

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const markerDir = mkdtempSync(join(tmpdir(), 'ferry-test-hangs-'));
/** How long a file's processes get to clean up after SIGTERM before SIGKILL. */
const GRACE_MS = 10_000;
let current; // the running child, stopped with its group if this runner is told to stop
let stopCode; // set when this runner got a signal: no further file starts
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(signal, () => {
    if (stopCode !== undefined) return;
    stopCode = code;
    if (current) terminate(current);
    else finish(code);
  });
}

function finish(code) {
  rmSync(markerDir, { recursive: true, force: true });
  process.exit(code);
}

function signalGroup(child, signal) {
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

/** Resolves once no process is left in the child's group, or after `ms`. */
async function groupGone(child, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { process.kill(-child.pid, 0); } catch { return; }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * SIGTERM to the file's process group, so the tests' own handlers (the reaper, network namespace
 * teardown) clean up; SIGKILL to whatever is left GRACE_MS later.
 */
function terminate(child) {
  signalGroup(child, 'SIGTERM');
  setTimeout(() => signalGroup(child, 'SIGKILL'), GRACE_MS).unref();
}

/** Runs one file; resolves with its summary counts (undefined when it printed none) and how it ended. */
function runFile(file, marker) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', file], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, FERRY_TEST_HANG_MARKER: marker },
    });
    current = child;
    const counts = {};
    let partial = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^# (\w+) (\d+)$/.exec(line);
        if (m && COUNTS.includes(m[1])) counts[m[1]] = Number(m[2]);
      }
    });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; terminate(child); }, FILE_TIMEOUT_MS);
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      // After a SIGTERM the file's processes may still be cleaning up: give them the grace period.
      if (timedOut || stopCode !== undefined) await groupGone(child, GRACE_MS);
      signalGroup(child, 'SIGKILL'); // whatever is left in the group
      current = undefined;
      resolve({ counts: 'tests' in counts ? counts : undefined, code, signal, timedOut });
    });
  });
}

function hangRecords(marker) {
  let text = '';
  try { text = readFileSync(marker, 'utf8'); } catch { return []; }
  return text.split('\n').filter((l) => l.trim() !== '');
}

const filters = process.argv.slice(2);
let files = walk('dist/test', []).sort();
if (filters.length > 0) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  finish(1);
}

const started = Date.now();
const total = Object.fromEntries(COUNTS.map((k) => [k, 0]));
const failedFiles = [];
const retried = [];
for (const [index, file] of files.entries()) {
  if (Date.now() - started > TOTAL_TIMEOUT_MS) {
    console.log(`# runner: not run, the run has taken over ${TOTAL_TIMEOUT_MS / 1000} s: ${file}`);
    total.tests += 1;
    total.fail += 1;
    failedFiles.push(file);
    continue;
  }
  let result;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const marker = join(markerDir, `${index}-${attempt}.jsonl`);
    result = await runFile(file, marker);
    if (stopCode !== undefined) finish(stopCode);
    const hangs = hangRecords(marker);
    if (result.timedOut) console.log(`# runner: ${file} still running after ${FILE_TIMEOUT_MS / 1000} s; stopped with its processes`);
    const passed = result.code === 0 && !result.timedOut;
    // Only a failure that left a deadlock record runs again (a fixture may leave one after its test passed).
    if (hangs.length === 0 || passed || attempt === 2) break;
    console.log(`# runner: ${file} was killed by the native-hang watchdog (node-datachannel's DTLS/TURN deadlock); running it once more`);
    for (const h of hangs) console.log(`# runner:   ${h}`);
    retried.push(file);
  }
  const failed = result.code !== 0 || result.counts === undefined || result.timedOut;
  if (result.counts) for (const k of COUNTS) total[k] += result.counts[k] ?? 0;
  if (failed && (result.counts === undefined || result.counts.fail === 0)) {
    // Killed, timed out or crashed outside any test: count the file itself as one failed test.
    total.tests += 1;
    total.fail += 1;
  }
  if (failed) failedFiles.push(file);
}
console.log(`# runner: ${files.length} files, ${failedFiles.length} failed, ${retried.length} run again after a node-datachannel deadlock`);
for (const f of failedFiles) console.log(`# runner: failed: ${f}`);
for (const f of retried) console.log(`# runner: run again: ${f}`);
for (const k of COUNTS) console.log(`# ${k} ${total[k]}`);
console.log(`# duration_ms ${Date.now() - started}`);
finish(failedFiles.length === 0 ? 0 : 1);
