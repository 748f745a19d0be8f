// A start that fails part way undoes what had started and rethrows: with the signaling address
// taken, the relay (which listens before signaling) is closed again and the store is closed, so
// the same config starts once the address is free; with the TURN address taken, signaling never
// listens.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { parseConfig } from '../../../src/config/load.js';
import { startFerry } from '../../../app/ferry.js';
import { canBindTcp, freePort, reservePortRange } from '../../helpers/ports.js';
import { captureLog } from '../../helpers/log-capture.js';

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('startFerry: a failed start', () => {
  const configOf = async () => {
    const turnPort = await freePort();
    const signalingPort = await freePort();
    const range = await reservePortRange();
    const config = parseConfig({
      address: `127.0.0.1:${turnPort}`,
      relay_ip: '127.0.0.1',
      relay_ports: `${range.lo}-${range.hi}`,
      signaling: { address: `127.0.0.1:${signalingPort}` },
      storage: 'sqlite::memory:',
    }, '/nonexistent/config.json');
    return { turnPort, signalingPort, range, config };
  };

  it('closes what had started (the relay) and the store, and rethrows; the same config then starts', async () => {
    const { turnPort, signalingPort, range, config } = await configOf();
    const log = captureLog('info');
    const squatter = await listen(signalingPort);
    try {
      await assert.rejects(startFerry(config, log.logger), { message: `cannot listen on 127.0.0.1:${signalingPort} (signaling.address): address already in use` });
      assert.ok(log.lines.some((l) => l.msg === `listening on tcp 127.0.0.1:${turnPort}`), 'the relay had started before signaling');
      assert.ok(await canBindTcp(turnPort), 'the relay closed again');
    } finally {
      await close(squatter);
    }
    const ferry = await startFerry(config, log.logger);
    try {
      assert.ok(ferry.listening().some((l) => l.transport === 'tcp' && l.port === turnPort));
      assert.equal(ferry.signalingAddress().port, signalingPort);
    } finally {
      await ferry.stop();
      range.release();
    }
  });

  it('with the TURN address taken, signaling never listens', async () => {
    const { turnPort, signalingPort, range, config } = await configOf();
    const log = captureLog('info');
    const squatter = await listen(turnPort);
    try {
      await assert.rejects(startFerry(config, log.logger), /EADDRINUSE|in use/i);
      assert.ok(!log.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('signaling on')), 'signaling did not start');
      assert.ok(await canBindTcp(signalingPort), 'signaling port free');
    } finally {
      await close(squatter);
      range.release();
    }
  });
});
