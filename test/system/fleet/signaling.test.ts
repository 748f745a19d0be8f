// Proof for cross-node signaling: two Ferry processes (`ferry start --fg`) on one real redis-server,
// each with its own cluster.node_id. An account and signaling tokens are made through node A's
// admin API; two WebSocket peers, one on each node, complete an offer/answer/candidate exchange;
// then two werift peers (the SDK) signal through the two nodes and connect through the fleet's
// relays with iceTransportPolicy "relay".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/werift-quirks.js';
import { RTCPeerConnection } from 'werift';
import WebSocket from 'ws';
import { connect, weriftAdapter, type FerryClient } from '../../../client/index.js';
import { apiJson } from '../../helpers/admin-http.js';
import { LOOPBACK_PEERS, startFerryProcess, type FerryProcess } from '../../helpers/ferry-process.js';
import { freePort } from '../../helpers/ports.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { assertRelayedThroughFerry, callPair, exchange, type SignalingFerry } from '../../helpers/sdk-ferry.js';
import { exitIfStuck, sleep, withTimeout } from '../../helpers/wait.js';

const ADMIN = 'fleet-signaling-admin-token-0123456789';
const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const CANDIDATE = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 };

interface Node {
  readonly ferry: FerryProcess;
  readonly url: string;
  readonly relayPorts: readonly [number, number];
}

async function startNode(redis: TestRedis, nodeId: string): Promise<Node> {
  const port = await freePort();
  const ferry = await startFerryProcess({
    peers: LOOPBACK_PEERS,
    log_level: 'info',
    signaling: { address: `127.0.0.1:${port}`, admin_token: ADMIN },
    storage: redis.url,
    cluster: { node_id: nodeId },
  });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 10_000;
  for (;;) {
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > end || !ferry.running()) {
      await ferry.stop();
      throw new Error(`${nodeId}: /healthz not answering\n${ferry.logs().slice(-3000)}`);
    }
    await sleep(100);
  }
  const [lo, hi] = ferry.config.relay_ports.split('-').map(Number);
  return { ferry, url, relayPorts: [lo!, hi!] };
}

/** A WebSocket peer on `node` with a signaling token; resolves after `welcome`, queues what follows. */
async function wsPeer(node: Node, peerId: string, token: string): Promise<{ ws: WebSocket; next(): Promise<Record<string, unknown>> }> {
  const ws = new WebSocket(`${node.url.replace('http', 'ws')}/v1/signal?peer_id=${peerId}&token=${encodeURIComponent(token)}`);
  const frames: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d: Buffer) => {
    frames.push(JSON.parse(d.toString()) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  ws.on('error', () => {});
  const next = async (): Promise<Record<string, unknown>> => {
    if (frames.length === 0) await withTimeout(new Promise<void>((r) => waiters.push(r)), 5000, `a frame at ${peerId}`);
    return frames.shift()!;
  };
  await withTimeout(new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_q, res) => reject(new Error(`${peerId}: HTTP ${res.statusCode}`)));
  }), 5000, `open ${peerId}`);
  assert.deepEqual(await next(), { type: 'welcome', peer_id: peerId });
  return { ws, next };
}

describe('fleet: signaling across two Ferry nodes on one Redis', () => {
  let redis: TestRedis;
  let a: Node | undefined;
  let b: Node | undefined;
  let apiKey = '';
  const clients: FerryClient[] = [];
  const sockets: WebSocket[] = [];
  const mintToken = async (node: Node): Promise<string> => {
    const r = await apiJson(node.url, 'POST', '/v1/signal-tokens', apiKey, {});
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return String(r.json.token);
  };

  before(async () => {
    redis = await startRedis();
    a = await startNode(redis, 'node-a');
    const account = await apiJson(a.url, 'POST', '/v1/accounts', ADMIN, { name: 'fleet-signaling' });
    assert.equal(account.status, 201, JSON.stringify(account.json));
    apiKey = String(account.json.api_key);
    b = await startNode(redis, 'node-b');
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const s of sockets) s.terminate();
    await a?.ferry.stop();
    await b?.ferry.stop();
    await redis?.stop();
    exitIfStuck();
  });

  test('two WebSocket peers on different nodes complete an offer/answer/candidate exchange', async () => {
    const alice = await wsPeer(a!, 'alice', await mintToken(a!));
    const bob = await wsPeer(b!, 'bob', await mintToken(a!));
    sockets.push(alice.ws, bob.ws);
    alice.ws.send(JSON.stringify({ type: 'offer', to: 'bob', payload: OFFER, id: 1 }));
    assert.deepEqual(await bob.next(), { type: 'offer', from: 'alice', payload: OFFER });
    bob.ws.send(JSON.stringify({ type: 'answer', to: 'alice', payload: ANSWER }));
    assert.deepEqual(await alice.next(), { type: 'answer', from: 'bob', payload: ANSWER });
    alice.ws.send(JSON.stringify({ type: 'candidate', to: 'bob', payload: CANDIDATE }));
    bob.ws.send(JSON.stringify({ type: 'candidate', to: 'alice', payload: { ...CANDIDATE, sdpMid: '1' } }));
    alice.ws.send(JSON.stringify({ type: 'candidate', to: 'bob', payload: null }));
    assert.deepEqual(await bob.next(), { type: 'candidate', from: 'alice', payload: CANDIDATE });
    assert.deepEqual(await bob.next(), { type: 'candidate', from: 'alice', payload: null });
    assert.deepEqual(await alice.next(), { type: 'candidate', from: 'bob', payload: { ...CANDIDATE, sdpMid: '1' } });
    // Queued on A for a peer not connected yet, delivered when it connects to B.
    alice.ws.send(JSON.stringify({ type: 'offer', to: 'carol', payload: OFFER }));
    await sleep(200);
    const carol = await wsPeer(b!, 'carol', await mintToken(b!));
    sockets.push(carol.ws);
    assert.deepEqual(await carol.next(), { type: 'offer', from: 'alice', payload: OFFER });
    // The same peer id on A replaces the connection on B (4000 "replaced").
    const closed = new Promise<number>((r) => bob.ws.once('close', (code) => r(code)));
    const bob2 = await wsPeer(a!, 'bob', await mintToken(a!));
    sockets.push(bob2.ws);
    assert.equal(await withTimeout(closed, 5000, 'bob on B replaced'), 4000);
  });

  test('werift peers signal through two nodes and connect through the fleet\'s relays (relay only)', { timeout: 90_000 }, async () => {
    const open = async (node: Node, peerId: string): Promise<FerryClient> => {
      const c = await connect({
        url: node.url, peerId, RTCPeerConnection, WebSocket, adapter: weriftAdapter(), connectTimeoutMs: 10_000,
        token: await mintToken(node), forceRelay: true,
      });
      clients.push(c);
      return c;
    };
    // Each node's view of the registry (refreshed every cluster.heartbeat) holds both relays first.
    for (const n of [a!, b!]) {
      const end = Date.now() + 10_000;
      for (;;) {
        const r = await apiJson<{ iceServers?: { urls: string[] }[] }>(n.url, 'POST', '/v1/ice-servers', apiKey);
        if (r.json.iceServers?.length === 2) break;
        if (Date.now() > end) throw new Error(`${n.url}: the fleet's two relays not handed out within 10 s: ${JSON.stringify(r.json)}`);
        await sleep(100);
      }
    }
    const onA = await open(a!, 'werift-a');
    const onB = await open(b!, 'werift-b');
    // Any node hands out the fleet's relays: with two live, both (chosen by load, lightest first).
    for (const c of [onA, onB]) {
      const urls = c.iceServers.flatMap((s) => [s.urls].flat()).join(' ');
      for (const n of [a!, b!]) assert.match(urls, new RegExp(`turn:127\\.0\\.0\\.1:${n.ferry.udpPort}\\b`), urls);
    }
    // Relayed through one of the fleet's relays, whichever ICE chose.
    const throughFleet = async (call: Parameters<typeof assertRelayedThroughFerry>[0]) => {
      try {
        await assertRelayedThroughFerry(call, { relayPorts: a!.relayPorts } as SignalingFerry);
      } catch {
        await assertRelayedThroughFerry(call, { relayPorts: b!.relayPorts } as SignalingFerry);
      }
    };
    const { caller, callee } = await callPair(onA, onB);
    try {
      await exchange(caller, callee, 50);
      await throughFleet(caller);
      await throughFleet(callee);
    } finally {
      caller.close();
      callee.close();
    }
  });
});
