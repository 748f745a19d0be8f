// The hub without sockets: fake links, a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, type PeerLink } from '../../../../signaling/ws/hub.js';
import { resolveLimits, type SignalLimits } from '../../../../signaling/ws/limits.js';
import { TokenBucket } from '../../../../signaling/ws/rate-limiter.js';

class FakeLink implements PeerLink {
  sent: unknown[] = [];
  closed: [number, string] | null = null;
  bufferedAmount = 0;
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(code: number, reason: string): void {
    this.closed = [code, reason];
  }
  take(): unknown[] {
    return this.sent.splice(0);
  }
}

function setup(limits: Partial<SignalLimits> = {}) {
  const clock = { t: 1000 };
  const hub = new Hub(resolveLimits(limits), () => clock.t);
  return { hub, clock };
}

const offer = (to: string, id?: string | number) => ({ type: 'offer' as const, to, payload: { type: 'offer' as const, sdp: 'v=0' }, id });

test('replacement: the old session is closed 4000 and its late detach changes nothing', () => {
  const { hub } = setup();
  const l1 = new FakeLink();
  const l2 = new FakeLink();
  const s1 = hub.attach('acc', 'p', l1)!;
  const s2 = hub.attach('acc', 'p', l2)!;
  assert.deepEqual(l1.closed, [4000, 'replaced']);
  hub.detach(s1); // the old socket's close event, late
  assert.deepEqual(hub.stats(), { accounts: 1, peers: 1, queued: 0 });
  const other = hub.attach('acc', 'q', new FakeLink())!;
  hub.route(other, offer('p'));
  assert.deepEqual(l2.take(), [{ type: 'welcome', peer_id: 'p' }, { type: 'offer', from: 'q', payload: { type: 'offer', sdp: 'v=0' } }]);
  hub.route(s1, offer('q')); // a replaced session routes nothing
  hub.detach(s2);
  hub.detach(other);
  assert.deepEqual(hub.stats(), { accounts: 0, peers: 0, queued: 0 });
});

test('queue: per-account bound, expiry at connect time, in-order delivery', () => {
  const { hub, clock } = setup({ maxQueuedPerPeer: 3, maxQueuedPerAccount: 4, queueTtlMs: 100 });
  const sl = new FakeLink();
  const s = hub.attach('acc', 's', sl)!;
  sl.take();
  hub.route(s, offer('a', 1));
  clock.t += 50;
  hub.route(s, offer('a', 2));
  hub.route(s, offer('a', 3));
  hub.route(s, offer('a', 4)); // per-peer bound
  hub.route(s, offer('b', 5)); // 4th in the account
  hub.route(s, offer('c', 6)); // per-account bound
  assert.deepEqual(
    sl.take().map((f) => (f as { id: number }).id),
    [4, 6],
  );
  assert.equal(hub.stats().queued, 4);
  clock.t += 50; // message 1 expired, not yet swept: it is not delivered, its sender is told
  const al = new FakeLink();
  hub.attach('acc', 'a', al);
  assert.deepEqual(
    al.take().map((f) => (f as { type: string }).type),
    ['welcome', 'offer', 'offer'],
  );
  assert.deepEqual(sl.take(), [{ type: 'error', code: 'peer_unavailable', message: 'peer a did not connect within 100 ms', id: 1, to: 'a' }]);
  assert.equal(hub.stats().queued, 1);
  clock.t += 100;
  hub.sweep();
  assert.deepEqual((sl.take()[0] as { id: number }).id, 5);
  assert.equal(hub.stats().queued, 0);
});

test('an expired message is reported to the connection that queued it, never to a later one of the same peer id', () => {
  const { hub, clock } = setup({ queueTtlMs: 100 });
  const first = new FakeLink();
  const s1 = hub.attach('acc', 's', first)!;
  hub.route(s1, offer('a', 1));
  clock.t += 50;
  hub.route(s1, offer('a', 2));
  clock.t += 60; // message 1 expires while s1 is open: s1 is told
  hub.sweep();
  assert.deepEqual(first.take().filter((f) => (f as { type: string }).type === 'error').map((f) => (f as { id: number }).id), [1]);
  // The page reloads: a new connection of peer 's' replaces s1 before message 2 expires.
  const second = new FakeLink();
  hub.attach('acc', 's', second);
  second.take();
  clock.t += 100;
  hub.sweep();
  assert.deepEqual(second.take(), [], 'the new connection never sent message 2');
  assert.equal(hub.stats().queued, 0);
});

test('queued messages of an account whose peers all left expire silently and free the account', () => {
  const { hub, clock } = setup({ queueTtlMs: 100 });
  const s = hub.attach('acc', 's', new FakeLink())!;
  hub.route(s, offer('x'));
  hub.detach(s);
  assert.deepEqual(hub.stats(), { accounts: 0, peers: 0, queued: 1 });
  clock.t += 100;
  hub.sweep();
  assert.deepEqual(hub.stats(), { accounts: 0, peers: 0, queued: 0 });
});

test('a target that does not read is not sent more; error frames to a non-reader are dropped', () => {
  const { hub } = setup({ maxBufferedBytes: 1000 });
  const sl = new FakeLink();
  const tl = new FakeLink();
  const s = hub.attach('acc', 's', sl)!;
  hub.attach('acc', 't', tl);
  sl.take();
  tl.take();
  tl.bufferedAmount = 1001;
  hub.route(s, offer('t', 'k'));
  assert.deepEqual(tl.take(), []);
  assert.equal((sl.take()[0] as { code: string }).code, 'peer_unavailable');
  sl.bufferedAmount = 5000;
  hub.route(s, offer('t', 'k'));
  assert.deepEqual(sl.take(), []);
});

test('maxPeersPerAccount: attach refuses a new peer, accepts a replacement', () => {
  const { hub } = setup({ maxPeersPerAccount: 1 });
  hub.attach('acc', 'a', new FakeLink());
  assert.equal(hub.canAttach('acc', 'b'), false);
  assert.equal(hub.attach('acc', 'b', new FakeLink()), null);
  assert.notEqual(hub.attach('acc', 'a', new FakeLink()), null);
  assert.notEqual(hub.attach('other', 'b', new FakeLink()), null);
});

test('closeAccount closes the account\'s peers, drops its queue, leaves other accounts alone', () => {
  const { hub } = setup();
  const a1 = new FakeLink();
  const b1 = new FakeLink();
  const s = hub.attach('A', 'a1', a1)!;
  hub.attach('A', 'a2', new FakeLink());
  hub.attach('B', 'b1', b1);
  hub.route(s, offer('absent'));
  assert.deepEqual(hub.stats(), { accounts: 2, peers: 3, queued: 1 });
  assert.equal(hub.closeAccount('A', 1008, 'account closed'), 2);
  assert.deepEqual(a1.closed, [1008, 'account closed']);
  assert.equal(b1.closed, null);
  assert.deepEqual(hub.stats(), { accounts: 1, peers: 1, queued: 0 });
  hub.detach(s); // its late close changes nothing
  assert.deepEqual(hub.stats(), { accounts: 1, peers: 1, queued: 0 });
  hub.sweep();
  assert.equal(hub.closeAccount('nobody', 1008, 'x'), 0);
});

test('closeApiKey closes only the peers opened with that key; the account\'s others and its queue stay', () => {
  const { hub } = setup();
  const k1a = new FakeLink();
  const k1b = new FakeLink();
  const k2 = new FakeLink();
  const tok = new FakeLink();
  const other = new FakeLink();
  hub.attach('A', 'k1a', k1a, { apiKeyId: 'key_1' });
  hub.attach('A', 'k1b', k1b, { apiKeyId: 'key_1' });
  const s2 = hub.attach('A', 'k2', k2, { apiKeyId: 'key_2' })!;
  hub.attach('A', 'tok', tok, { expiresAt: 5000 });
  hub.attach('B', 'k1a', other, { apiKeyId: 'key_1' }); // another account: ids are per account anyway
  hub.route(s2, offer('absent'));
  // What a fleet's resync checks for missed key revocations: the keys in use, by account.
  assert.deepEqual(hub.apiKeysInUse(), new Map([['A', new Set(['key_1', 'key_2'])], ['B', new Set(['key_1'])]]));
  assert.equal(hub.closeApiKey('A', 'key_1', 4401, 'credential revoked'), 2);
  assert.deepEqual(k1a.closed, [4401, 'credential revoked']);
  assert.deepEqual(k1b.closed, [4401, 'credential revoked']);
  for (const l of [k2, tok, other]) assert.equal(l.closed, null);
  assert.deepEqual(hub.stats(), { accounts: 2, peers: 3, queued: 1 });
  // The closed peers' ids are free; routing among the rest works.
  k2.take();
  hub.route(s2, offer('tok'));
  assert.equal((tok.take().at(-1) as { from: string }).from, 'k2');
  assert.equal(hub.closeApiKey('A', 'key_1', 4401, 'x'), 0);
  assert.equal(hub.closeApiKey('nobody', 'key_1', 4401, 'x'), 0);
  assert.equal(hub.closeApiKey('A', 'key_2', 4401, 'credential revoked'), 1);
  assert.deepEqual(hub.stats(), { accounts: 2, peers: 2, queued: 1 });
  assert.deepEqual(hub.apiKeysInUse(), new Map([['B', new Set(['key_1'])]]), 'the token peer holds no key');
});

test('token bucket: burst, refill, abuse after a streak of refusals', () => {
  const b = TokenBucket.perSecond(10, 2, 3000, 0);
  assert.equal(b.take(0), 'ok');
  assert.equal(b.take(0), 'ok');
  assert.equal(b.take(0), 'refused');
  assert.equal(b.take(100), 'ok'); // 100 ms at 10/s = 1 token
  assert.equal(b.take(100), 'refused');
  assert.equal(b.take(1100 + 1), 'ok'); // the streak broke (> 1 s without refusal) — refilled anyway
  const c = TokenBucket.perSecond(0.0001, 1, 3000, 0);
  c.take(0);
  assert.equal(c.take(0), 'refused');
  assert.equal(c.take(1000), 'refused');
  assert.equal(c.take(2000), 'refused');
  assert.equal(c.take(3000), 'abusive');
  const d = TokenBucket.perSecond(0.0001, 1, 3000, 0);
  d.take(0);
  d.take(0);
  assert.equal(d.take(2500), 'refused', 'a pause over 1 s restarts the streak');
  assert.equal(d.take(5000), 'refused');
});

test('limits: defaults, overrides, and bad values', () => {
  const l = resolveLimits({ ratePerSecond: 10 });
  assert.equal(l.ratePerSecond, 10);
  assert.equal(l.maxFrameBytes, 65536);
  assert.equal(resolveLimits({ maxFrameBytes: 1000 }).maxMessageBytes, 1000);
  assert.throws(() => resolveLimits({ queueTtlMs: 0 }), /queueTtlMs/);
  assert.throws(() => resolveLimits({ heartbeatMs: Number.NaN }), /heartbeatMs/);
});
