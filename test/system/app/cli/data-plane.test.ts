// data_plane and relay_threads as an operator meets them, with real `ferry` processes on free
// loopback ports: `ferry config check` accepts the keys and refuses bad values naming them; a Ferry
// started on the TypeScript path says so in its log, in `ferry status` and in /metrics, warns that
// relay_threads is not used, and refuses a reload that changes either key (restart-only). Where
// the native addon cannot be loaded here, "native" refuses to start naming data_plane and "auto"
// falls back with one warning; where it loads (the engine's native plane merged and built), the
// same tests expect the native plane instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { apiRequest } from '../../../helpers/admin-http.js';
import { ferryCli, startCliFerry, type CliFerry } from '../../../helpers/ferry-cli.js';
import { freePort } from '../../../helpers/ports.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { loadNativeAddon } from '../../../../turn/index.js';

/** Whether the addon loads here: the `ferry` processes resolve it from the same build directory. */
const addon = loadNativeAddon();

/** The parsed JSON log lines of a Ferry's output. */
const logLines = (out: string): Array<Record<string, unknown>> =>
  out.split('\n').flatMap((l) => {
    try {
      const v = JSON.parse(l) as unknown;
      return typeof v === 'object' && v !== null ? [v as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
const WARN = 40;

async function metricsLine(base: string): Promise<string[]> {
  const res = await apiRequest(base, 'GET', '/metrics');
  assert.equal(res.status, 200);
  return (await res.text()).split('\n').filter((l) => l.startsWith('ferry_data_plane_info'));
}

interface Status { data_plane?: { plane: string; threads: number } }

describe('ferry config check: data_plane and relay_threads', () => {
  test('accepts each plane and a thread count; refuses bad values, one line per key', async () => {
    const dir = tempDir('ferry-data-plane');
    for (const [name, body] of [
      ['js.json', { data_plane: 'js' }],
      ['native.json', { data_plane: 'native', relay_threads: 2 }],
      ['auto.json', { data_plane: 'auto', relay_threads: 256 }],
    ] as const) {
      writeFileSync(join(dir, name), JSON.stringify(body));
      const ok = await ferryCli(['config', 'check', name], dir);
      assert.equal(ok.code, 0, `${name}: ${ok.stderr}`);
      assert.match(ok.stdout, new RegExp(`${name.replace('.', '\\.')}: valid`));
    }
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ data_plane: 'fast', relay_threads: 0 }));
    const bad = await ferryCli(['config', 'check', 'bad.json'], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\n {2}data_plane: expected one of "auto", "native", "js"\n/);
    assert.match(bad.stderr, /\n {2}relay_threads: expected a whole number of threads, 1 to 256\n/);
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ data_plane: 'natve', relay_threads: 300 }));
    const typo = await ferryCli(['config', 'check', 'typo.json'], dir);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /data_plane: expected one of "auto", "native", "js" \(did you mean "native"\?\)/);
    assert.match(typo.stderr, /relay_threads: must be at most 256/);
  });
});

describe('data_plane "js" with relay_threads set', () => {
  const dir = tempDir('ferry-data-plane');
  let f: CliFerry | undefined;

  before(async () => {
    f = await startCliFerry(dir, { data_plane: 'js', relay_threads: 3 });
  });

  after(async () => {
    await f?.stop();
  });

  test('the log names the plane and warns once that relay_threads is not used', () => {
    const lines = logLines(f!.output());
    const plane = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('data plane:'));
    assert.deepEqual(plane.map((l) => [l.msg, l.data_plane]), [['data plane: js (TypeScript, on the JS thread)', 'js']]);
    const warnings = lines.filter((l) => l.level === WARN && typeof l.msg === 'string' && l.msg.includes('relay_threads'));
    assert.deepEqual(warnings.map((l) => l.msg), ['data_plane is "js": relay_threads (3) is not used: the TypeScript path relays on the JS thread']);
  });

  test('ferry status shows it (text and --json); /metrics has ferry_data_plane_info', async () => {
    const text = await ferryCli(['status'], dir);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /\n {2}data plane: js, TypeScript on the JS thread \(data_plane\)\n/);
    const json = JSON.parse((await ferryCli(['status', '--json'], dir)).stdout) as Status;
    assert.deepEqual(json.data_plane, { plane: 'js', threads: 1 });
    assert.deepEqual(await metricsLine(f!.base), ['ferry_data_plane_info{plane="js",threads="1"} 1']);
  });

  test('a reload that changes data_plane or relay_threads is refused: both need a restart', async () => {
    const original = readFileSync(f!.configFile, 'utf8');
    const edited = { ...(JSON.parse(original) as Record<string, unknown>), data_plane: 'auto', relay_threads: 2 };
    writeFileSync(f!.configFile, JSON.stringify(edited));
    try {
      const r = await ferryCli(['reload'], dir);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /data_plane: changed in the file; needs a restart/);
      assert.match(r.stderr, /relay_threads: changed in the file; needs a restart/);
    } finally {
      writeFileSync(f!.configFile, original);
    }
    const json = JSON.parse((await ferryCli(['status', '--json'], dir)).stdout) as Status;
    assert.deepEqual(json.data_plane, { plane: 'js', threads: 1 }, 'the running plane stays');
  });
});

describe('data_plane "auto" (the default)', () => {
  const dir = tempDir('ferry-data-plane');
  let f: CliFerry | undefined;

  before(async () => {
    f = await startCliFerry(dir, {});
  });

  after(async () => {
    await f?.stop();
  });

  test(addon.ok ? 'the addon loads here: the native plane, on as many threads as cores' : 'the addon is missing here: the TypeScript path and ONE warning saying why and how to get it', async () => {
    const lines = logLines(f!.output());
    const fallback = lines.filter((l) => l.level === WARN && typeof l.msg === 'string' && l.msg.startsWith('data_plane "auto"'));
    const json = JSON.parse((await ferryCli(['status', '--json'], dir)).stdout) as Status;
    if (addon.ok) {
      const threads = Math.min(256, availableParallelism());
      assert.deepEqual(fallback, []);
      assert.deepEqual(json.data_plane, { plane: 'native', threads });
      assert.deepEqual(await metricsLine(f!.base), [`ferry_data_plane_info{plane="native",threads="${threads}"} 1`]);
    } else {
      assert.equal(fallback.length, 1, f!.output());
      const msg = String(fallback[0].msg);
      assert.ok(msg.includes(`(${addon.reason})`), msg);
      assert.match(msg, /npm rebuild ferry-relay \(needs a C\+\+ compiler/);
      assert.deepEqual(json.data_plane, { plane: 'js', threads: 1 });
      assert.deepEqual(await metricsLine(f!.base), ['ferry_data_plane_info{plane="js",threads="1"} 1']);
    }
  });
});

describe('data_plane "native"', () => {
  test(addon.ok ? 'the addon loads here: it starts on the native plane with relay_threads' : 'the addon is missing here: the start is refused, naming data_plane and the reason, and nothing is left running', async () => {
    const dir = tempDir('ferry-data-plane');
    if (addon.ok) {
      const f = await startCliFerry(dir, { data_plane: 'native', relay_threads: 2 });
      try {
        const json = JSON.parse((await ferryCli(['status', '--json'], dir)).stdout) as Status;
        assert.deepEqual(json.data_plane, { plane: 'native', threads: 2 });
        assert.match((await ferryCli(['status'], dir)).stdout, /\n {2}data plane: native, 2 relay threads \(data_plane\)\n/);
        assert.deepEqual(await metricsLine(f.base), ['ferry_data_plane_info{plane="native",threads="2"} 1']);
      } finally {
        await f.stop();
      }
      return;
    }
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({
      address: `127.0.0.1:${await freePort()}`,
      relay_ip: '127.0.0.1',
      data_plane: 'native',
      storage: `sqlite:${join(dir, 'data', 'ferry.db')}`,
      signaling: { address: `127.0.0.1:${await freePort()}` },
    }));
    const r = await ferryCli(['start', '--fg', '--config', config], dir);
    assert.equal(r.code, 1, r.stdout);
    assert.ok(r.stderr.startsWith('data_plane: "native" needs the native addon, which cannot be loaded: '), r.stderr);
    assert.ok(r.stderr.includes(addon.reason), r.stderr);
    assert.match(r.stderr, /npm rebuild ferry-relay/);
    assert.equal(existsSync(join(dir, 'data', 'ferry.pid')), false, 'no pid file left');
    // The background start reports the same line and leaves nothing running.
    const bg = await ferryCli(['start', '--config', config], dir);
    assert.equal(bg.code, 1, bg.stdout);
    assert.match(bg.stderr, /data_plane: "native" needs the native addon/);
    assert.equal((await ferryCli(['status', '--config', config], dir)).code, 3);
  });
});

describe('ferry start in the background', () => {
  test('prints the data plane beside the listeners (a fallback\'s warning goes to the log file)', async () => {
    const dir = tempDir('ferry-data-plane');
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({
      address: `127.0.0.1:${await freePort()}`,
      relay_ip: '127.0.0.1',
      data_plane: 'js',
      storage: `sqlite:${join(dir, 'data', 'ferry.db')}`,
      signaling: { address: `127.0.0.1:${await freePort()}` },
    }));
    try {
      const r = await ferryCli(['start', '--config', config], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\n {2}listening: http [^\n]+\n {2}data plane: js, TypeScript on the JS thread \(data_plane\)\n {2}log: /);
    } finally {
      await ferryCli(['stop', '--config', config], dir);
    }
    assert.equal((await ferryCli(['status', '--config', config], dir)).code, 3, 'stopped');
  });
});
