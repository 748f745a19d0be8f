// The fallback, in a real process: a copy of the built package without the native addon (no
// build/ beside its dist/, as after an install whose compile failed). data_plane "auto" relays on
// the TypeScript path with one warning saying why; "native" refuses to start, naming the key.
// (The CI machine has the addon, so only such a copy shows what a user without a compiler gets.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOOPBACK_PEERS, TEST_PASSWORD, TEST_USER, startFerryProcess, type FerryProcess } from '../../helpers/ferry-process.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url)); // dist/test/system/app → root
// Inside the repository (under .cache/, ignored by git), so that on Node 24 the test runtime's
// addon redirect (scripts/addon-redirect.js) serves this copy's imports of better-sqlite3 too.
const COPY = join(REPO, '.cache', `fallback-${process.pid}`);
const open: { close(): void }[] = [];
let ferry: FerryProcess | undefined;

after(async () => {
  for (const o of open) o.close();
  await ferry?.stop();
  rmSync(COPY, { recursive: true, force: true });
});

function packageWithoutAddon(): string {
  rmSync(COPY, { recursive: true, force: true });
  mkdirSync(join(COPY, 'dist'), { recursive: true });
  for (const d of ['app', 'src', 'turn', 'signaling', 'protocol', 'client', 'sdk']) cpSync(join(REPO, 'dist', d), join(COPY, 'dist', d), { recursive: true });
  cpSync(join(REPO, 'bin'), join(COPY, 'bin'), { recursive: true });
  cpSync(join(REPO, 'package.json'), join(COPY, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(COPY, 'node_modules'));
  assert.equal(existsSync(join(COPY, 'build')), false);
  return COPY;
}

test('data_plane "auto" without the addon: the TypeScript path relays, after one warning saying why and how to build it', async () => {
  const root = packageWithoutAddon();
  ferry = await startFerryProcess({ data_plane: 'auto', peers: LOOPBACK_PEERS }, { root });
  const peer = await UdpPeer.open('127.0.0.1');
  open.push(peer);
  const c = await TestTurnClient.connect({ port: ferry.udpPort, username: TEST_USER, password: TEST_PASSWORD });
  open.push(c);
  assert.equal((await c.allocate()).code, 0);
  assert.equal((await c.createPermission(peer.address)).code, 0);
  c.sendIndication(peer.address, Buffer.from('through the fallback'));
  assert.ok(await peer.waitFor(1, 3000), ferry.logs().slice(-2000));
  assert.equal(peer.received[0].data.toString(), 'through the fallback');
  const logs = ferry.logs();
  const warnings = logs.split('\n').filter((l) => l.includes('data_plane \\"auto\\": the native data plane is not available'));
  assert.equal(warnings.length, 1, logs.slice(-3000));
  assert.match(warnings[0], /not built/);
  assert.match(warnings[0], /npm rebuild ferry-relay/);
  assert.match(logs, /data plane: js/);
  await ferry.stop();
  ferry = undefined;
});

test('data_plane "native" without the addon: the start is refused, naming data_plane', async () => {
  await assert.rejects(startFerryProcess({ data_plane: 'native' }, { root: COPY }), (err: Error) => {
    assert.match(err.message, /data_plane: "native" needs the native addon, which cannot be loaded/);
    return true;
  });
});
