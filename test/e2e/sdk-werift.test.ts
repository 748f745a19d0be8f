// End to end: two werift peers connect through the SDK, with Ferry (a real `ferry start` process)
// as signaling server and TURN relay.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/werift-quirks.js';
import { RTCPeerConnection } from 'werift';
import WebSocket from 'ws';
import { connect, weriftAdapter, type ConnectOptions, type FerryClient } from '../../client/index.js';
import { exitIfStuck } from '../helpers/wait.js';
import { assertRelayedThroughFerry, callPair, exchange, startSignalingFerry, type SignalingFerry } from '../helpers/sdk-ferry.js';

const TEST_TIMEOUT = 60_000;
const N = 200;

describe('SDK with werift through Ferry', () => {
  let f: SignalingFerry;
  const clients: FerryClient[] = [];

  before(async () => { f = await startSignalingFerry(); });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await f?.stop();
    exitIfStuck();
  });

  const open = async (peerId: string, extra: Partial<ConnectOptions>): Promise<FerryClient> => {
    const c = await connect({
      url: f.url, peerId, RTCPeerConnection, WebSocket, adapter: weriftAdapter(), connectTimeoutMs: 10_000, ...extra,
    });
    clients.push(c);
    return c;
  };

  test('forceRelay: path relay on both ends, messages both ways, bye ends the other side', { timeout: TEST_TIMEOUT }, async () => {
    // One peer authenticates the WebSocket with the API key as a header, the other with a token.
    const a = await open('werift-a', { apiKey: f.apiKey, headerAuth: true, forceRelay: true });
    const b = await open('werift-b', { token: await f.mintToken(), forceRelay: true });
    const { caller, callee } = await callPair(a, b);
    try {
      await exchange(caller, callee, N);
      await assertRelayedThroughFerry(caller, f);
      await assertRelayedThroughFerry(callee, f);
      const ended = new Promise<string>((resolve) => { callee.onclose = resolve; });
      caller.close();
      assert.ok(['remote', 'channel closed'].includes(await ended));
    } finally {
      caller.close();
      callee.close();
    }
  });

  test('weriftAdapter({ transport: "tcp" }): relayed over TURN/TCP', { timeout: TEST_TIMEOUT }, async () => {
    const a = await open('werift-e', { apiKey: f.apiKey, forceRelay: true, adapter: weriftAdapter({ transport: 'tcp' }) });
    const b = await open('werift-f', { apiKey: f.apiKey, forceRelay: true, adapter: weriftAdapter({ transport: 'tcp' }) });
    assert.match(String(a.iceServers[1].urls), /^turn:127\.0\.0\.1:\d+\?transport=tcp$/);
    const { caller, callee } = await callPair(a, b);
    try {
      await exchange(caller, callee, 50);
      await assertRelayedThroughFerry(caller, f);
      await assertRelayedThroughFerry(callee, f);
    } finally {
      caller.close();
      callee.close();
    }
  });

  test('without forceRelay every candidate is offered: loopback peers connect directly', { timeout: TEST_TIMEOUT }, async () => {
    const a = await open('werift-c', { apiKey: f.apiKey });
    const b = await open('werift-d', { apiKey: f.apiKey });
    const { caller, callee } = await callPair(a, b);
    try {
      await exchange(caller, callee, 20);
      assert.equal(await caller.path(), 'direct');
      assert.equal(await callee.path(), 'direct');
    } finally {
      caller.close();
      callee.close();
    }
  });
});
