// The demo page's pure parts: the connection panel from getStats() (./stats.ts) and the hints a
// failure gets (./hints.ts), as both tabs show them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeFailure, hintFor, type HintContext } from '../../../../signaling/demo/hints.js';
import { formatBytes, panelRows, summarize } from '../../../../signaling/demo/stats.js';

const pair = { currentRoundTripTime: 0.0123, bytesSent: 1500, bytesReceived: 42 };
const host = { candidateType: 'host', protocol: 'udp', address: '192.0.2.1', port: 5000 };
const relay = { candidateType: 'relay', protocol: 'udp', address: '203.0.113.9', port: 49200, relayProtocol: 'tcp', url: 'turn:ferry.example:3478?transport=tcp' };

describe('demo connection panel', () => {
  test('nothing selected yet: no summary, the panel says so', () => {
    assert.equal(summarize(null), null);
    assert.deepEqual(panelRows(null, 'connecting'), [['Connection', 'connecting'], ['Candidate pair', 'none selected yet']]);
  });

  test('a direct pair: both ends, RTT in ms, bytes each way, no relayed address', () => {
    const s = summarize({ pair, local: host, remote: { candidateType: 'prflx', protocol: 'udp', address: 'abc.local', port: 6000 } })!;
    assert.equal(s.path, 'direct');
    assert.equal(s.relayedAddress, null);
    assert.equal(s.rttMs, 12.3);
    assert.deepEqual([s.bytesSent, s.bytesReceived], [1500, 42]);
    const rows = new Map(panelRows(s, 'connected'));
    assert.equal(rows.get('Local candidate'), 'host · udp · 192.0.2.1:5000');
    assert.equal(rows.get('Remote candidate'), 'prflx · udp · abc.local:6000');
    assert.equal(rows.get('Bytes sent'), '1.5 kB');
    assert.equal(rows.get('Bytes received'), '42 B');
    assert.match(rows.get('Relayed address')!, /not relayed/);
  });

  test('a relayed pair: the local relay candidate gives the relayed address and the protocol to the relay', () => {
    const s = summarize({ pair: {}, local: relay, remote: host })!;
    assert.equal(s.path, 'relay');
    assert.equal(s.relayedAddress, '203.0.113.9:49200');
    assert.equal(s.rttMs, null);
    assert.deepEqual([s.bytesSent, s.bytesReceived], [0, 0]);
    assert.equal(new Map(panelRows(s, 'connected')).get('Local candidate'), 'relay · udp · 203.0.113.9:49200, to the relay over tcp');
    // Only the other end relayed: its relayed address; IPv6 in brackets.
    const r = summarize({ pair, local: host, remote: { ...relay, address: '2001:db8::1', relayProtocol: undefined } })!;
    assert.equal(r.path, 'relay');
    assert.equal(r.relayedAddress, '[2001:db8::1]:49200');
  });

  test('bytes from the transport when there is one (a pair switch restarts the pair counts); hidden host addresses', () => {
    const s = summarize({ pair, local: { candidateType: 'host', protocol: 'udp', port: 5000 }, remote: host }, { type: 'transport', bytesSent: 9000, bytesReceived: 8000 })!;
    assert.deepEqual([s.bytesSent, s.bytesReceived], [9000, 8000]);
    assert.equal(s.local.address, 'port 5000 (address hidden by the browser)');
  });

  test('formatBytes', () => {
    assert.deepEqual([0, 999, 1000, 123_456, 2_500_000].map(formatBytes), ['0 B', '999 B', '1.0 kB', '123.5 kB', '2.50 MB']);
  });
});

describe('demo failure hints', () => {
  const ctx: HintContext = {
    origin: 'http://localhost:8080', peer: 'alice', relayOnly: true,
    turnUrls: ['stun:localhost:3478', 'turn:localhost:3478?transport=udp'], candidateErrors: [],
  };

  test('ICE failed, relay only: names the TURN URL to check and what the browser reported', () => {
    const h = hintFor({ code: 'ice_failed', message: 'x' }, { ...ctx, candidateErrors: ['turn:localhost:3478?transport=udp: 701 unreachable'] });
    assert.match(h.title, /ICE failed: no path through the relay/);
    assert.match(h.hint, /TURN server \(turn:localhost:3478\?transport=udp\) is reachable from this browser/);
    assert.doesNotMatch(h.hint, /stun:/);
    assert.match(h.hint, /701 unreachable/);
    assert.match(hintFor({ code: 'ice_failed', message: 'x' }, { ...ctx, relayOnly: false }).hint, /Neither a direct path nor the relay/);
  });

  test('the peer is not online, left, or the token is refused or expired: what to do', () => {
    assert.match(hintFor({ code: 'peer_unavailable', message: '' }, ctx).hint, /open the other demo URL \(me=alice\)/);
    assert.match(hintFor({ code: 'peer_left', message: '' }, ctx).title, /alice left the call/);
    assert.match(hintFor({ code: 'unauthorized', message: '', status: 401 }, ctx).hint, /restart Ferry.*POST \/v1\/signal-tokens/);
    assert.match(hintFor({ code: 'credential_expired', message: '' }, ctx).title, /expired/);
    assert.match(hintFor({ code: 'network', message: '' }, ctx).hint, /Ferry is running there/);
    assert.match(hintFor({ code: 'something_new', message: '' }, ctx).hint, /reload both tabs/);
  });

  test('close codes: 1000 is no failure; 4401 expired or revoked; 4000 replaced; 1008 account closed', () => {
    assert.equal(closeFailure(1000, 'client closed'), null);
    assert.equal(closeFailure(4401, 'credential expired')!.code, 'credential_expired');
    assert.equal(closeFailure(4401, 'credential revoked')!.code, 'unauthorized');
    assert.equal(closeFailure(4000, 'replaced')!.code, 'replaced');
    assert.equal(closeFailure(1008, 'account closed')!.code, 'account_closed');
    assert.equal(closeFailure(1006, '')!.code, 'signaling_closed');
    assert.equal(closeFailure(undefined, undefined)!.code, 'signaling_closed');
  });
});
