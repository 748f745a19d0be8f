// FerryHandle.stop closes signaling first, within a grace period: a client that trickles a
// request body cannot hold up the relay's stop and the final usage write (before, such a request
// kept the stop waiting for as long as the client kept the connection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { CLOSE_GRACE_MS } from '../../../app/components/signaling.js';
import { startInProcessFerry } from '../../helpers/ferry-in-process.js';
import { canBindTcp } from '../../helpers/ports.js';

const ADMIN = 'adm-0123456789abcdef0123456789';

test('a request that trickles its body does not hold up the stop; its connection is cut', async () => {
  const ferry = await startInProcessFerry({ signaling: { address: '127.0.0.1:0', admin_token: ADMIN } });
  const { port } = ferry.handle.signalingAddress();
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  try {
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Headers complete, 1 of 100 body bytes sent: a request in flight for up to the request timeout (30 s).
    socket.write(`POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
    await new Promise((r) => setTimeout(r, 100));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ferry.stop().then(() => 'stopped'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still stopping'), CLOSE_GRACE_MS + 8_000))),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, 'stopped');
    await ended; // the server cut the connection
    assert.ok(await canBindTcp(port), 'signaling closed');
    assert.ok(await canBindTcp(ferry.port), 'relay closed');
  } finally {
    socket.destroy();
    await ferry.stop().catch(() => undefined);
  }
});
