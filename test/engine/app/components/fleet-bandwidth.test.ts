// An account's bandwidth cap (max_bps) split between the nodes of a fleet relaying it: two Ferry
// instances in this process on one real redis-server. Alone, node A's allocation may burst the
// whole cap (one second's worth); once node B relays the account too, node A's share is halved at
// once (its bucket shrinks), and it grows back when node B's allocation ends.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiJson } from '../../../helpers/admin-http.js';
import { startInProcessFerry, type InProcessFerry } from '../../../helpers/ferry-in-process.js';
import { restCredentials } from '../../../helpers/ferry-process.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { UdpPeer } from '../../../helpers/udp-peer.js';
import { sleep } from '../../../helpers/wait.js';

const ADMIN = 'fleet-bandwidth-admin-token-01';
const SECRET = 'fleet-bandwidth-rest-secret-01';
const CAP = 20_000; // bytes per second, each direction
const CHUNK = 1000;

describe('max_bps split between the nodes relaying an account', () => {
  let redis: TestRedis;
  let a: InProcessFerry;
  let b: InProcessFerry;
  let peer: UdpPeer;
  const clients: TestTurnClient[] = [];
  const node = (nodeId: string) => ({
    storage: redis.url,
    cluster: { node_id: nodeId, heartbeat: '200ms', ttl: '1s' },
    auth_secrets: [SECRET],
    peers: { allow: ['127.0.0.0/8'] },
    signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
  });

  before(async () => {
    redis = await startRedis();
    peer = await UdpPeer.open('127.0.0.1');
  });
  after(async () => {
    for (const c of clients) c.close();
    await b?.stop();
    await a?.stop();
    peer?.close();
    await redis?.stop();
  });

  /** A burst of 30 KB from `c` (50% over the cap's one-second bucket): how many packets the peer got. */
  const burst = async (c: TestTurnClient) => {
    await sleep(1100); // the bucket refills to one second's worth
    const before = peer.received.length;
    for (let i = 0; i < 30; i++) c.sendChannelData(0x4000, Buffer.alloc(CHUNK, 1));
    await sleep(300);
    return peer.received.length - before;
  };

  it('halves node A\'s share while node B relays the account too', async () => {
    a = await startInProcessFerry(node('bw-a'));
    const base = `http://127.0.0.1:${a.handle.signalingAddress().port}`;
    const created = await apiJson(base, 'POST', '/v1/accounts', ADMIN, { name: 'capped' });
    assert.equal(created.status, 201);
    const id = created.json.id as string;
    assert.equal((await apiJson(base, 'PATCH', `/v1/accounts/${id}`, ADMIN, { max_bps: CAP })).status, 200);
    b = await startInProcessFerry(node('bw-b')); // loads the account (and its cap) from Redis

    const connect = async (ferry: InProcessFerry) => {
      const c = await TestTurnClient.connect({ port: ferry.port, ...restCredentials(SECRET, id) });
      clients.push(c);
      assert.equal((await c.allocate()).code, 0);
      assert.equal((await c.channelBind(0x4000, peer.address)).code, 0);
      return c;
    };
    const onA = await connect(a);
    const alone = await burst(onA);
    assert.ok(alone >= 19 && alone <= 22, `alone: about the whole cap's second (20 packets) passes; got ${alone}`);

    const onB = await connect(b);
    await sleep(100); // node A hears of it by pub/sub within milliseconds
    const shared = await burst(onA);
    assert.ok(shared >= 9 && shared <= 12, `two nodes: about half (10 packets) passes on node A; got ${shared}`);

    assert.equal((await onB.refresh(0)).code, 0, 'node B\'s allocation ends');
    await sleep(100);
    const again = await burst(onA);
    assert.ok(again >= 19 && again <= 22, `alone again: the whole cap; got ${again}`);
  });
});
