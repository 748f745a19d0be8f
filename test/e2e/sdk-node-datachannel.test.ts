// End to end: two node-datachannel (polyfill) peers connect through the SDK, with Ferry (a real
// `ferry start` process) as signaling server and TURN relay (UDP: libjuice has no TURN/TCP).
import { after, before, describe, test } from 'node:test';
import { cleanup } from 'node-datachannel';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import WebSocket from 'ws';
import { connect, nodeDataChannelAdapter, type FerryClient } from '../../client/index.js';
import { exitIfStuck } from '../helpers/wait.js';
import { watchNativeHangs } from '../helpers/native-hang-watchdog.js';
import { assertRelayedThroughFerry, callPair, exchange, startSignalingFerry, type SignalingFerry } from '../helpers/sdk-ferry.js';

watchNativeHangs('e2e/sdk-node-datachannel');

const TEST_TIMEOUT = 60_000;
const N = 200;

describe('SDK with node-datachannel through Ferry', () => {
  let f: SignalingFerry;
  const clients: FerryClient[] = [];
  /** node-datachannel's cleanup() may abort the process after a peer that never connected. */
  let unclean = true;

  before(async () => { f = await startSignalingFerry(); });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await f?.stop();
    if (!unclean) cleanup();
    exitIfStuck();
  });

  test('forceRelay over TURN/UDP: path relay on both ends, messages both ways', { timeout: TEST_TIMEOUT }, async () => {
    // Distinct loopback addresses: on one address libjuice finds a direct path despite 'relay'.
    const base = { url: f.url, RTCPeerConnection, WebSocket, apiKey: f.apiKey, forceRelay: true };
    const a = await connect({ ...base, peerId: 'ndc-a', adapter: nodeDataChannelAdapter({ bindAddress: '127.0.0.2' }) });
    clients.push(a);
    const b = await connect({ ...base, peerId: 'ndc-b', adapter: nodeDataChannelAdapter({ bindAddress: '127.0.0.3' }) });
    clients.push(b);
    const { caller, callee } = await callPair(a, b);
    try {
      await exchange(caller, callee, N);
      await assertRelayedThroughFerry(caller, f);
      await assertRelayedThroughFerry(callee, f);
      unclean = false;
    } finally {
      caller.close();
      callee.close();
    }
  });
});
