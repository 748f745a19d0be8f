// The relayed socket's 'message' listener (turn/allocation-manager.ts) cannot let an exception out
// (issue 9, finding 1): a throw there would be an uncaught exception that ends the process. A
// client link that throws once stands in for any bug on the per-packet path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Allocation, type RelayEndpoint } from '../../../turn/allocation.js';
import { AllocationManager } from '../../../turn/allocation-manager.js';
import type { ClientLink } from '../../../turn/client-link.js';
import type { RelayBinder } from '../../../turn/relay-binder.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { until } from '../../helpers/wait.js';

test('an exception on the per-packet path does not escape the relayed socket listener; the next datagram is relayed', async () => {
  const relaySocket = createSocket('udp4');
  await new Promise<void>((r) => relaySocket.bind(0, '127.0.0.1', () => r()));
  const relay: RelayEndpoint = { socket: relaySocket, fd: -1, family: 4, boundAddress: '127.0.0.1', port: relaySocket.address().port, advertisedAddress: '127.0.0.1' };
  const binder: RelayBinder = {
    bind: () => {
      throw new Error('not used');
    },
    release: (e) => e.socket?.close(),
    reservationsOf: () => 0,
    reservationCount: 0,
    cancelReservation: () => {},
    sweep: () => {},
    close: () => {},
    relayPorts: () => null,
    relayOnlyDrops: () => 0,
  };
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.prependListener('uncaughtException', onUncaught);

  const got: string[] = [];
  let calls = 0;
  const deliver = (payload: Buffer): boolean => {
    if (++calls === 1) throw new RangeError('a bug on the data path');
    got.push(payload.toString());
    return true;
  };
  const link: ClientLink = {
    transport: 'udp',
    address: '127.0.0.1',
    port: 40000,
    sendChannelData: (_n, payload) => deliver(payload),
    sendDataIndication: (_p, _port, payload) => deliver(payload),
    detach: () => {},
    close: () => {},
  };
  const clock = { ms: Date.now() };
  const manager = new AllocationManager(binder, clock);
  const alloc = new Allocation(manager.newId(), { username: 'u', account: 'u', realm: 'r' }, link, clock.ms, 600_000);
  alloc.relay4 = relay;
  alloc.installPermission('127.0.0.1', 4, Buffer.from([127, 0, 0, 1]), clock.ms);
  manager.add(alloc);
  const peer = await UdpPeer.open('127.0.0.1');
  try {
    peer.send(Buffer.from('first'), { address: '127.0.0.1', port: relay.port });
    await until(() => calls === 1, 3000, 'the first datagram reached the link');
    peer.send(Buffer.from('second'), { address: '127.0.0.1', port: relay.port });
    await until(() => got.length === 1, 3000, 'the second datagram relayed');
    assert.deepEqual(got, ['second']);
    assert.deepEqual(uncaught, [], 'nothing escaped the listener');
    assert.deepEqual([alloc.packetsToClient, alloc.bytesToClient], [1, 6]);
    assert.equal(manager.faults, 1, 'the caught exception is counted');
  } finally {
    process.removeListener('uncaughtException', onUncaught);
    manager.close(alloc, 'shutdown', clock.ms);
    peer.close();
  }
});
