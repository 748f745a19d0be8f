// The native data plane's C++ under AddressSanitizer and UndefinedBehaviorSanitizer (issue 12):
// native/test/*.cc (the harness, fuzz.cc its main) with native/src/*.cc but addon.cc (no
// Node-API) is compiled into a temp dir and run. It fuzzes the parsers on buffers of their exact
// length and the real Plane, two relay threads over loopback UDP, with random and mutated
// datagrams from clients and peers while its tables change; flows nothing else touches must arrive
// exactly as counted; then every slot closes and the plane is destroyed, so LeakSanitizer sees
// any leak.
// A second build plants an over-read in a copy of packet.cc: the same harness must catch it, so a
// sanitizer build that silently stopped checking (or a harness that stopped reaching the parser)
// fails here too.
//
// FERRY_NATIVE_FUZZ_SEED=<n> repeats a run (each run prints its seed); CXX picks the compiler.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, runOk, type RunResult } from '../../helpers/run-command.js';
import { tempDir } from '../../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url)); // dist/test/system/native → root
const NATIVE = join(ROOT, 'native');
const CXX = process.env.CXX || 'g++';
const FLAGS = ['-std=c++17', '-g', '-O1', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer', '-pthread'];
/** The harness (every .cc of native/test) and the plane's sources but the Node-API binding. */
const UNITS = [
  ...readdirSync(join(NATIVE, 'test')).filter((f) => f.endsWith('.cc')).map((f) => `test/${f}`),
  ...readdirSync(join(NATIVE, 'src')).filter((f) => f.endsWith('.cc') && f !== 'addon.cc').map((f) => `src/${f}`),
];
/** Sanitizers on, leaks checked at exit, the first report fatal (ASAN_OPTIONS from outside do not apply). */
const RUN_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  LSAN_OPTIONS: '',
};
/** The bounds check whose removal the second build plants: a zero-length XOR-PEER-ADDRESS ending the datagram. */
const GUARD_LINE = '  if (peerLength < 4) return false;';
const SANITIZER_REPORT = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|LeakSanitizer/;

const seed = process.env.FERRY_NATIVE_FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 48));
let dir = '';

/** Compiles one unit (at most two at a time: the machine's two cores are shared). */
function compile(source: string, object: string): Promise<RunResult> {
  return runOk(CXX, [...FLAGS, '-c', source, '-o', object], { cwd: dir, timeoutMs: 240_000 });
}

before(async () => {
  dir = tempDir('ferry-native-asan');
  const objects = UNITS.map((u) => join(dir, u.replace(/[/.]/g, '_') + '.o'));
  for (let i = 0; i < UNITS.length; i += 2) {
    await Promise.all(UNITS.slice(i, i + 2).map((u, k) => compile(join(NATIVE, u), objects[i + k])));
  }
  await runOk(CXX, [...FLAGS, ...objects, '-o', join(dir, 'fuzz')], { cwd: dir, timeoutMs: 120_000 });

  // The planted copy: packet.cc without one bounds check, compiled next to its header.
  const source = readFileSync(join(NATIVE, 'src', 'packet.cc'), 'utf8');
  assert.ok(source.includes(GUARD_LINE), `native/src/packet.cc no longer has "${GUARD_LINE.trim()}": update GUARD_LINE in this test to another bounds check`);
  writeFileSync(join(dir, 'packet.cc'), source.replace(GUARD_LINE, '  // planted: the peer address length is not checked'));
  copyFileSync(join(NATIVE, 'src', 'packet.h'), join(dir, 'packet.h'));
  await compile(join(dir, 'packet.cc'), join(dir, 'packet-planted.o'));
  const planted = objects.map((o, i) => (UNITS[i] === 'src/packet.cc' ? join(dir, 'packet-planted.o') : o));
  await runOk(CXX, [...FLAGS, ...planted, '-o', join(dir, 'fuzz-planted')], { cwd: dir, timeoutMs: 120_000 });
}, { timeout: 600_000 });

interface Summary {
  seed: number;
  pure_calls: number;
  ipv6: boolean;
  datagrams_sent: number;
  client_datagrams: number;
  peer_datagrams: number;
  relayed_to_peer: number;
  relayed_to_client: number;
  peer_received: number;
  client_received: number;
  up: number;
  malformed: number;
  no_allocation: number;
  relay_only_dropped: number;
  capped: number;
  dropped: number;
  control_calls: number;
  reopened: number;
  failures: number;
  ms: number;
}

test('the sanitizer build of the data plane fuzzes clean: no out-of-bounds access, no undefined behaviour, no leak', { timeout: 180_000 }, async () => {
  const r = await runCommand(join(dir, 'fuzz'), [seed], { cwd: dir, env: RUN_ENV, timeoutMs: 150_000 });
  const output = `seed ${seed}, exit ${r.code}, ${r.ms} ms\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr.slice(-12_000)}`;
  assert.doesNotMatch(r.stderr + r.stdout, SANITIZER_REPORT, output);
  assert.equal(r.code, 0, output);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const s = JSON.parse(line) as Summary;
  assert.equal(s.failures, 0, output);
  assert.equal(String(s.seed), seed, output);
  // It did the work it says: the parsers ran on every length, the plane relayed both ways and took
  // every drop path, and the tables changed under it, slots closed and reopened included.
  assert.ok(s.pure_calls >= 500_000, output);
  assert.ok(s.ipv6, `no IPv6 listener on ::1\n${output}`);
  assert.ok(s.client_datagrams >= 100_000 && s.peer_datagrams >= 40_000, output);
  assert.ok(s.relayed_to_peer >= 2_000 && s.relayed_to_client >= 4_000, output);
  // Everything relayed went to the harness's own sockets (loopback can drop, but hardly here).
  assert.ok(s.peer_received >= 0.95 * s.relayed_to_peer && s.client_received >= 0.95 * s.relayed_to_client, output);
  for (const k of ['up', 'malformed', 'no_allocation', 'relay_only_dropped', 'capped', 'dropped', 'reopened'] as const) assert.ok(s[k] > 0, `${k} is 0\n${output}`);
  assert.ok(s.control_calls >= 3_000, output);
});

test('the same harness catches an over-read planted in the Send indication parser', { timeout: 180_000 }, async () => {
  const r = await runCommand(join(dir, 'fuzz-planted'), [seed], { cwd: dir, env: RUN_ENV, timeoutMs: 150_000 });
  const output = `seed ${seed}, exit ${r.code}\n--- stderr ---\n${r.stderr.slice(-6_000)}`;
  assert.notEqual(r.code, 0, output);
  assert.match(r.stderr, /ERROR: AddressSanitizer: heap-buffer-overflow/, output);
  assert.match(r.stderr, /parseSendIndication/, output);
});
