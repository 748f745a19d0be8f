// The hub with a router (a fleet): what it hands the router and when, with a recording fake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, type PeerLink } from '../../../../signaling/ws/hub.js';
import { resolveLimits } from '../../../../signaling/ws/limits.js';
import type { LocalPeers, RoutedMessage, RoutedPeer, RouterLimits, SignalRouter } from '../../../../src/signaling/router.js';

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
}

class RecordingRouter implements SignalRouter {
  local: LocalPeers | undefined;
  limits: RouterLimits | undefined;
  events: string[] = [];
  forwarded: { from: string; to: string; text: string }[] = [];
  bind(local: LocalPeers, limits: RouterLimits): void {
    this.local = local;
    this.limits = limits;
  }
  attached(s: RoutedPeer): void {
    this.events.push(`attached ${s.peerId}#${s.connId}`);
  }
  detached(s: RoutedPeer): void {
    this.events.push(`detached ${s.peerId}#${s.connId}`);
  }
  forward(from: RoutedPeer, frame: RoutedMessage, text: string): void {
    this.forwarded.push({ from: from.peerId, to: frame.to, text });
  }
  accountClosed(accountId: string): void {
    this.events.push(`accountClosed ${accountId}`);
  }
  stats() {
    return { queued: 5, inFlight: 0, connected: true };
  }
  async close(): Promise<void> {}
}

const offer = (to: string) => ({ type: 'offer' as const, to, payload: { type: 'offer' as const, sdp: 'v=0' } });

test('a message to a peer not connected here goes to the router (not the local queue), with the frame as delivered', () => {
  const router = new RecordingRouter();
  const hub = new Hub(resolveLimits({ queueTtlMs: 123 }), () => 0, router);
  assert.equal(router.limits?.queueTtlMs, 123);
  const a = hub.attach('acc', 'a', new FakeLink())!;
  const bl = new FakeLink();
  hub.attach('acc', 'b', bl);
  hub.route(a, offer('b'));
  hub.route(a, offer('elsewhere'), '{"type":"offer","to":"elsewhere","payload":{"type":"offer","sdp":"v=0"}}');
  hub.route(a, { type: 'bye', to: 'elsewhere' });
  assert.deepEqual(bl.sent.at(-1), { type: 'offer', from: 'a', payload: { type: 'offer', sdp: 'v=0' } }, 'a local peer is reached directly');
  assert.deepEqual(router.forwarded, [
    { from: 'a', to: 'elsewhere', text: '{"type":"offer","from":"a","payload":{"type":"offer","sdp":"v=0"}}' },
    { from: 'a', to: 'elsewhere', text: '{"type":"bye","from":"a"}' },
  ]);
  assert.deepEqual(hub.stats(), { accounts: 1, peers: 2, queued: 5 }, 'the router\'s queued messages are counted');
});

test('the router hears of every attach, replacement, detach and account closing; replace() closes 4000', () => {
  const router = new RecordingRouter();
  const hub = new Hub(resolveLimits(), () => 0, router);
  const l1 = new FakeLink();
  const s1 = hub.attach('acc', 'p', l1)!;
  const s2 = hub.attach('acc', 'p', new FakeLink())!; // local replacement
  assert.deepEqual(l1.closed, [4000, 'replaced']);
  hub.detach(s1); // late close event of the replaced one: nothing
  const q = hub.attach('acc', 'q', new FakeLink())!;
  assert.equal(router.local?.find('acc', 'p'), s2);
  // Replaced from another node.
  router.local!.replace(s2);
  assert.equal(s2.open, false);
  assert.equal(router.local?.find('acc', 'p'), undefined);
  hub.detach(s2); // its close event: nothing more
  router.local!.replace(s1); // not the registered one: nothing
  hub.closeAccount('acc', 1008, 'account closed');
  hub.closeAccount('gone', 1008, 'account closed');
  assert.deepEqual(router.events, [
    `attached p#${s1.connId}`,
    `detached p#${s1.connId}`,
    `attached p#${s2.connId}`,
    `attached q#${q.connId}`,
    `detached q#${q.connId}`,
    'accountClosed acc',
    'accountClosed gone',
  ]);
});
