// The watchdog that scripts/run-tests.js relies on to run a file again after node-datachannel's
// deadlock: it must kill a process whose main thread sleeps in futex(2) with the library loaded,
// and leave alone a busy main thread and a process without the library.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../../helpers/fixtures/hang.js', import.meta.url));

interface Outcome { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; records: string[] }

async function run(mode: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hang-'));
  const marker = join(dir, 'marker.jsonl');
  try {
    const child = spawn(process.execPath, [FIXTURE, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FERRY_TEST_HANG_MARKER: marker },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    let records: string[] = [];
    try { records = readFileSync(marker, 'utf8').split('\n').filter((l) => l !== ''); } catch { /* none written */ }
    return { code, signal, stdout, stderr, records };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a main thread asleep in futex(2) with node-datachannel loaded: killed, with a record', async () => {
  const o = await run('futex');
  assert.equal(o.signal, 'SIGKILL', JSON.stringify(o));
  assert.match(o.stdout, /holding/);
  assert.doesNotMatch(o.stdout, /survived/);
  assert.equal(o.records.length, 1, JSON.stringify(o));
  const rec = JSON.parse(o.records[0]) as { kind: string; trigger: string; label: string; main: { state: string }; native_threads_in_futex: string[] };
  assert.equal(rec.kind, 'node-datachannel-deadlock');
  assert.equal(rec.trigger, 'main-blocked');
  assert.equal(rec.label, 'hang-fixture');
  assert.equal(rec.main.state, 'S');
  assert.ok(rec.native_threads_in_futex.length > 0);
  assert.match(o.stderr, /native-hang-watchdog: the main thread has waited on a lock/);
});

test('a main thread busy on the CPU is left alone', async () => {
  const o = await run('busy');
  assert.equal(o.code, 0, JSON.stringify(o));
  assert.match(o.stdout, /survived/);
  assert.deepEqual(o.records, []);
});

test('a process without node-datachannel is left alone', async () => {
  const o = await run('futex-without-datachannel');
  assert.equal(o.code, 0, JSON.stringify(o));
  assert.match(o.stdout, /survived/);
  assert.deepEqual(o.records, []);
});
