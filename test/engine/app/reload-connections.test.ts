// FerryHandle.reload applies quotas.connections_per_ip, total_connections and allocate_timeout to
// new TCP/TLS connections (the engine's update()), in process.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startInProcessFerry, type InProcessFerry } from '../../helpers/ferry-in-process.js';

let ferry: InProcessFerry | undefined;
let port = 0;
const sockets: Socket[] = [];

before(async () => {
  ferry = await startInProcessFerry();
  port = ferry.port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await ferry?.stop();
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
  const diff = ferry!.reload({ quotas: { connections_per_ip: 2, allocate_timeout: '1s' } });
  assert.deepEqual(diff.live, ['quotas']);
  assert.equal(await openFor(3000), false, 'a third connection from 127.0.0.1 is refused');
  ferry!.reload({ quotas: { connections_per_ip: 100, allocate_timeout: '1s' } });
  assert.equal(await openFor(5000), false, 'a new connection that does not allocate is closed by the 1 s deadline');
});
