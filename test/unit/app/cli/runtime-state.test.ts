// The runtime state file (app/cli/runtime-state.ts): where it lives, an atomic write that reads
// back, anything else (damaged, another version, wrong shapes) read as no state, and removal only
// by the process it belongs to. Also the keyed listen errors (app/components/listen-error.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyedListenError, ListenError } from '../../../../app/components/listen-error.js';
import { dataPlaneLine, ownedByProcess, readState, removeState, stateFileOf, STATE_VERSION, writeState, type RuntimeState } from '../../../../app/cli/runtime-state.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const state = (pid: number): RuntimeState => ({
  version: STATE_VERSION,
  pid,
  started_at: '2030-01-01T00:00:00.000Z',
  config: '/etc/ferry/config.json',
  config_loaded_at: '2030-01-01T00:00:00.000Z',
  config_sha256: 'ab'.repeat(32),
  listeners: [
    { transport: 'udp', address: '127.0.0.1', port: 3478, key: 'address' },
    { transport: 'http', address: '::1', port: 40123, key: 'signaling.address' },
  ],
  reloads_started: 2,
  reload: { seq: 2, started_at: '2030-01-01T00:00:01.000Z', finished_at: '2030-01-01T00:00:01.005Z', outcome: 'refused', changed: [], problems: ['address: changed'], config_sha256: null },
});

describe('runtime state file', () => {
  it('lives next to the pid file', () => {
    assert.equal(stateFileOf('/var/lib/ferry/data/ferry.pid'), '/var/lib/ferry/data/ferry.state.json');
    assert.equal(stateFileOf('/run/ferry'), '/run/ferry.state.json');
  });

  it('is written atomically (no temp file left) and reads back', () => {
    const dir = tempDir('ferry-state');
    const file = join(dir, 'data', 'ferry.state.json');
    writeState(file, state(1234));
    assert.deepEqual(readState(file), state(1234));
    assert.deepEqual(readdirSync(join(dir, 'data')), ['ferry.state.json']);
  });

  it('reads anything else as no state', () => {
    const dir = tempDir('ferry-state');
    const file = join(dir, 'ferry.state.json');
    assert.equal(readState(file), undefined, 'no file');
    for (const bad of [
      '{"pid": 12',
      JSON.stringify({ ...state(1), version: 2 }),
      JSON.stringify({ ...state(1), pid: -1 }),
      JSON.stringify({ ...state(1), listeners: [{ transport: 'sctp', address: '1.2.3.4', port: 1, key: 'address' }] }),
      JSON.stringify({ ...state(1), listeners: [{ transport: 'udp', address: '1.2.3.4', port: 70000, key: 'address' }] }),
      JSON.stringify({ ...state(1), reload: { ...state(1).reload, seq: 0 } }),
      JSON.stringify({ ...state(1), reload: { ...state(1).reload, outcome: 'maybe' } }),
      JSON.stringify({ ...state(1), started_at: 'yesterday' }),
      JSON.stringify({ ...state(1), data_plane: { plane: 'fast', threads: 2 } }),
      JSON.stringify({ ...state(1), data_plane: { plane: 'native', threads: 0 } }),
      JSON.stringify({ ...state(1), data_plane: 'native' }),
      '[]',
    ]) {
      writeFileSync(file, bad);
      assert.equal(readState(file), undefined, bad);
    }
  });

  it('carries the data plane; a state without it (an older Ferry) still reads', () => {
    const dir = tempDir('ferry-state');
    const file = join(dir, 'ferry.state.json');
    const native: RuntimeState = { ...state(1234), data_plane: { plane: 'native', threads: 8 } };
    writeState(file, native);
    assert.deepEqual(readState(file), native);
    writeState(file, state(1234));
    assert.equal(readState(file)?.data_plane, undefined);
    assert.equal(dataPlaneLine({ plane: 'native', threads: 8 }), '  data plane: native, 8 relay threads (data_plane)');
    assert.equal(dataPlaneLine({ plane: 'native', threads: 1 }), '  data plane: native, 1 relay thread (data_plane)');
    assert.equal(dataPlaneLine({ plane: 'js', threads: 1 }), '  data plane: js, TypeScript on the JS thread (data_plane)');
  });

  it('is readable by its owner only (a refused reload quotes the config line at fault)', () => {
    const dir = tempDir('ferry-state');
    const file = join(dir, 'ferry.state.json');
    writeState(file, state(1234));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('never writes through a link planted at its temp file\'s predictable name', () => {
    const dir = tempDir('ferry-state');
    const file = join(dir, 'ferry.state.json');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, `${file}.1234.tmp`);
    writeState(file, state(1234));
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the link target is untouched');
    assert.ok(!lstatSync(file).isSymbolicLink(), 'the state file is a file of its own');
    assert.deepEqual(readState(file), state(1234));
    assert.deepEqual(readdirSync(dir).sort(), ['ferry.state.json', 'victim']);
  });

  it('is believed only when it belongs to the user the process runs as (as root: gives the file away)', () => {
    const dir = tempDir('ferry-state');
    const file = join(dir, 'ferry.state.json');
    writeFileSync(file, '{}');
    assert.equal(ownedByProcess(file, process.pid), true);
    chownSync(file, 65534, 65534); // nobody: a file planted by another user
    assert.equal(ownedByProcess(file, process.pid), false);
    assert.equal(ownedByProcess(join(dir, 'missing.json'), process.pid), false);
  });

  it('is removed only by the process it belongs to', () => {
    const dir = tempDir('ferry-state');
    const file = join(dir, 'ferry.state.json');
    writeState(file, state(1234));
    removeState(file, 999);
    assert.ok(existsSync(file), 'another pid leaves it');
    removeState(file, 1234);
    assert.equal(existsSync(file), false);
  });
});

describe('listen errors name the config key', () => {
  const listeners = [
    { key: 'address', host: '127.0.0.1', port: 3478, syscalls: ['bind', 'listen'] },
    { key: 'tls_address', host: '127.0.0.1', port: 5349, syscalls: ['listen'] },
  ] as const;
  const sysErr = (syscall: string, port: number, code = 'EADDRINUSE') => Object.assign(new Error(`${syscall} ${code}`), { code, syscall, address: '127.0.0.1', port });

  it('by the syscall and port the system error carries', () => {
    const udp = keyedListenError(sysErr('bind', 3478), listeners);
    assert.ok(udp instanceof ListenError);
    assert.equal(udp.message, 'cannot listen on 127.0.0.1:3478 (address): address already in use');
    assert.equal((keyedListenError(sysErr('listen', 5349), listeners) as Error).message, 'cannot listen on 127.0.0.1:5349 (tls_address): address already in use');
    assert.match((keyedListenError(sysErr('listen', 3478, 'EACCES'), listeners) as Error).message, /^cannot listen on 127\.0\.0\.1:3478 \(address\): permission denied/);
  });

  it('leaves other errors as they are', () => {
    const other = new Error('boom');
    assert.equal(keyedListenError(other, listeners), other);
    const elsewhere = sysErr('listen', 9999);
    assert.equal(keyedListenError(elsewhere, listeners), elsewhere);
  });
});
