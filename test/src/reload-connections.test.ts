// FerryHandle.reload applies quotas.connections_per_ip, total_connections and allocate_timeout to
// new TCP/TLS connections (the engine's update()), in process.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { startFerry, type FerryHandle } from '../../src/main.js';
import { freePort, reservePortRange, type PortRange } from '../helpers/ports.js';

let handle: FerryHandle | undefined;
let range: PortRange | undefined;
let port = 0;
let base: Record<string, unknown> = {};
const sockets: Socket[] = [];

before(async () => {
  port = await freePort();
  range = await reservePortRange();
  base = {
    address: `127.0.0.1:${port}`,
    relay_ip: '127.0.0.1',
    relay_ports: `${range.lo}-${range.hi}`,
    signaling: { address: '127.0.0.1:0' },
    storage: 'sqlite::memory:',
  };
  handle = await startFerry(parseConfig(base, '/nonexistent/config.json'), createLogger('info', { write: () => {} }));
});
after(async () => {
  for (const s of sockets) s.destroy();
  await handle?.stop();
  range?.release();
});

/** Opens a TCP connection; resolves whether it is still open after `ms`. */
function openFor(ms: number): Promise<boolean> {
  const s = connect({ host: '127.0.0.1', port });
  sockets.push(s);
  s.on('error', () => {});
  return new Promise((r) => {
    const t = setTimeout(() => r(true), ms);
    s.once('close', () => {
      clearTimeout(t);
      r(false);
    });
  });
}

it('lowered connection quotas apply to new connections after a reload', async () => {
  assert.equal(await openFor(300), true);
  assert.equal(await openFor(300), true, 'the default allows many per address');
  const diff = handle!.reload(parseConfig({ ...base, quotas: { connections_per_ip: 2, allocate_timeout: '1s' } }, '/nonexistent/config.json'));
  assert.deepEqual(diff.live, ['quotas']);
  assert.equal(await openFor(3000), false, 'a third connection from 127.0.0.1 is refused');
  handle!.reload(parseConfig({ ...base, quotas: { connections_per_ip: 100, allocate_timeout: '1s' } }, '/nonexistent/config.json'));
  assert.equal(await openFor(5000), false, 'a new connection that does not allocate is closed by the 1 s deadline');
});
