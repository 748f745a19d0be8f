// The client SDK's pure parts: frame parsing, ICE URL parsing, adapters, path from stats, HTTP.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  baseUrls, nodeDataChannelAdapter, parseIceUrl, pathFromStats, standardAdapter, weriftAdapter, FerryError,
} from '../../../client/index.js';
import { Call } from '../../../client/call.js';
import { candidateToJson, parseServerMessage } from '../../../client/messages.js';
import type { PeerConnectionLike } from '../../../client/types.js';
import { fetchIceServers, parseExpiry } from '../../../client/http.js';
import { fakeFetch } from '../../helpers/client-fakes.js';

const FERRY_SERVERS = [{
  urls: ['stun:h:3478', 'turn:h:3478?transport=udp', 'turn:h:3478?transport=tcp', 'turns:h:5349?transport=tcp'],
  username: '1700000000:acc_x',
  credential: 'a/b+c=',
}];

describe('signaling frames', () => {
  const cases: Array<[string, unknown, unknown]> = [
    ['welcome', { type: 'welcome', peer_id: 'p' }, { type: 'welcome', peer_id: 'p' }],
    ['offer', { type: 'offer', from: 'x', payload: { type: 'offer', sdp: 'v=0' } }, { type: 'offer', from: 'x', payload: { type: 'offer', sdp: 'v=0' } }],
    ['answer type must match', { type: 'answer', from: 'x', payload: { type: 'offer', sdp: 'v=0' } }, null],
    // protocol/signaling.ts AnswerFrame: the server routes a provisional answer too.
    ['answer may be a pranswer', { type: 'answer', from: 'x', payload: { type: 'pranswer', sdp: 'v=0' } },
      { type: 'answer', from: 'x', payload: { type: 'pranswer', sdp: 'v=0' } }],
    ['offer may not be a pranswer', { type: 'offer', from: 'x', payload: { type: 'pranswer', sdp: 'v=0' } }, null],
    ['offer without sdp', { type: 'offer', from: 'x', payload: { type: 'offer' } }, null],
    ['candidate', { type: 'candidate', from: 'x', payload: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } },
      { type: 'candidate', from: 'x', payload: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } }],
    ['end of candidates', { type: 'candidate', from: 'x', payload: null }, { type: 'candidate', from: 'x', payload: null }],
    ['candidate with a bad sdpMLineIndex', { type: 'candidate', from: 'x', payload: { candidate: 'c', sdpMLineIndex: '0' } }, null],
    ['bye', { type: 'bye', from: 'x' }, { type: 'bye', from: 'x' }],
    ['error', { type: 'error', code: 'peer_unavailable', message: 'm', to: 'y' }, { type: 'error', code: 'peer_unavailable', message: 'm', to: 'y' }],
    ['error without message', { type: 'error', code: 'bad' }, { type: 'error', code: 'bad', message: 'bad' }],
    ['unknown type', { type: 'party' }, null],
    ['not an object', [1, 2], null],
    ['from missing', { type: 'bye' }, null],
  ];
  for (const [name, frame, expected] of cases) {
    test(name, () => assert.deepEqual(parseServerMessage(JSON.stringify(frame)), expected));
  }
  test('not JSON', () => assert.equal(parseServerMessage('{nope'), null));
  test('a caller applies a pranswer and still awaits the final answer', async () => {
    const applied: string[] = [];
    const pc = {
      setRemoteDescription: async (d: { type: string }) => { applied.push(d.type); },
      addIceCandidate: async () => {},
    } as unknown as PeerConnectionLike;
    const call = new Call({ send: () => true, ended: () => {} }, 'b', 'caller', pc);
    await call.handleAnswer({ type: 'pranswer', sdp: 'v=0' });
    assert.equal(call.awaitingAnswer, true);
    await call.handleAnswer({ type: 'answer', sdp: 'v=0' });
    assert.equal(call.awaitingAnswer, false);
    await call.handleAnswer({ type: 'answer', sdp: 'v=0' });
    assert.deepEqual(applied, ['pranswer', 'answer']);
  });
  test('candidateToJson strips a=, fills nulls', () => {
    assert.deepEqual(candidateToJson({ candidate: 'a=candidate:1 1 UDP 1 1.2.3.4 5 typ relay', sdpMid: '0' }),
      { candidate: 'candidate:1 1 UDP 1 1.2.3.4 5 typ relay', sdpMid: '0', sdpMLineIndex: null });
  });
});

describe('ICE URLs', () => {
  const cases: Array<[string, unknown]> = [
    ['stun:h:3478', { scheme: 'stun', host: 'h', port: 3478 }],
    ['stun:h', { scheme: 'stun', host: 'h', port: 3478 }],
    ['turn:h:1?transport=udp', { scheme: 'turn', host: 'h', port: 1, transport: 'udp' }],
    ['turn:h:1', { scheme: 'turn', host: 'h', port: 1, transport: 'udp' }],
    ['turn:h:1?transport=tcp', { scheme: 'turn', host: 'h', port: 1, transport: 'tcp' }],
    ['turns:h?transport=tcp', { scheme: 'turns', host: 'h', port: 5349, transport: 'tls' }],
    ['turn:[::1]:3478?transport=udp', { scheme: 'turn', host: '::1', port: 3478, transport: 'udp' }],
    ['turns:h:1?transport=udp', null],
    ['turn:h:1?transport=sctp', null],
    ['turn:h:99999', null],
    ['http://h', null],
    ['turn:', null],
  ];
  for (const [url, expected] of cases) {
    test(url, () => {
      const p = parseIceUrl(url);
      if (expected === null) assert.equal(p, null);
      else assert.deepEqual({ ...p, url: undefined }, { ...(expected as object), url: undefined });
    });
  }
});

describe('adapters', () => {
  test('standard: unchanged (copied)', () => {
    const out = standardAdapter.iceServers(FERRY_SERVERS);
    assert.deepEqual(out, FERRY_SERVERS);
    assert.notEqual(out[0].urls, FERRY_SERVERS[0].urls);
  });
  test('werift (default udp): stun, turn udp, then the rest, one URL per entry, credentials kept', () => {
    const out = weriftAdapter().iceServers(FERRY_SERVERS);
    assert.deepEqual(out.map((s) => s.urls), [
      ['stun:h:3478'], ['turn:h:3478?transport=udp'], ['turn:h:3478?transport=tcp'], ['turns:h:5349?transport=tcp'],
    ]);
    assert.ok(out.every((s) => s.username === '1700000000:acc_x' && s.credential === 'a/b+c='));
  });
  test('werift (tls): the turns: URL is the first TURN URL', () => {
    const out = weriftAdapter({ transport: 'tls' }).iceServers(FERRY_SERVERS);
    assert.deepEqual(out[1].urls, ['turns:h:5349?transport=tcp']);
  });
  test('node-datachannel: drops TCP and TLS, percent-encodes the credentials', () => {
    const a = nodeDataChannelAdapter({ bindAddress: '127.0.0.3' });
    assert.deepEqual(a.iceServers(FERRY_SERVERS), [
      { urls: ['stun:h:3478'] },
      { urls: ['turn:h:3478'], username: '1700000000%3Aacc_x', credential: 'a%2Fb%2Bc%3D' },
    ]);
    assert.deepEqual(a.extraConfig, { bindAddress: '127.0.0.3' });
  });
  test('node-datachannel: IPv6 hosts stay bracketed', () => {
    const out = nodeDataChannelAdapter().iceServers([{ urls: 'turn:[::1]:3478', username: 'u', credential: 'p' }]);
    assert.deepEqual(out[0].urls, ['turn:[::1]:3478']);
  });
});

describe('path from stats', () => {
  const browser = (local: string, remote: string) => new Map(Object.entries({
    T: { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
    P1: { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', nominated: true, state: 'succeeded' },
    P2: { id: 'P2', type: 'candidate-pair', localCandidateId: 'L2', remoteCandidateId: 'R2' },
    L1: { id: 'L1', type: 'local-candidate', candidateType: 'host' },
    R1: { id: 'R1', type: 'remote-candidate', candidateType: 'host' },
    L2: { id: 'L2', type: 'local-candidate', candidateType: local },
    R2: { id: 'R2', type: 'remote-candidate', candidateType: remote },
  }));
  test('transport.selectedCandidatePairId wins over other nominated pairs', () => {
    assert.equal(pathFromStats(browser('relay', 'host')), 'relay');
    assert.equal(pathFromStats(browser('host', 'relay')), 'relay', 'a relay candidate at the remote end counts');
    assert.equal(pathFromStats(browser('srflx', 'prflx')), 'direct');
  });
  test('Firefox: pair.selected', () => {
    assert.equal(pathFromStats([
      { id: 'P', type: 'candidate-pair', selected: true, localCandidateId: 'L', remoteCandidateId: 'R' },
      { id: 'L', type: 'local-candidate', candidateType: 'relay' },
      { id: 'R', type: 'remote-candidate', candidateType: 'relay' },
    ]), 'relay');
  });
  test('werift: the nominated succeeded pair', () => {
    assert.equal(pathFromStats([
      { id: 'P0', type: 'candidate-pair', nominated: true, state: 'failed', localCandidateId: 'L0', remoteCandidateId: 'R' },
      { id: 'P', type: 'candidate-pair', nominated: true, state: 'succeeded', localCandidateId: 'L', remoteCandidateId: 'R' },
      { id: 'L0', type: 'local-candidate', candidateType: 'host' },
      { id: 'L', type: 'local-candidate', candidateType: 'relay' },
      { id: 'R', type: 'remote-candidate', candidateType: 'relay' },
    ]), 'relay');
  });
  test('nothing selected yet: null', () => {
    assert.equal(pathFromStats(new Map()), null);
    assert.equal(pathFromStats([{ id: 'P', type: 'candidate-pair', nominated: false, state: 'in-progress' }]), null);
    assert.equal(pathFromStats(undefined), null);
  });
});

describe('HTTP', () => {
  test('expires_at in seconds, ms, ISO or missing', () => {
    assert.equal(parseExpiry(1_700_000_000), 1_700_000_000_000);
    assert.equal(parseExpiry(1_700_000_000_000), 1_700_000_000_000);
    assert.equal(parseExpiry('2023-11-14T22:13:20.000Z'), 1_700_000_000_000);
    assert.equal(parseExpiry('1700000000'), 1_700_000_000_000);
    assert.equal(parseExpiry(undefined), Infinity);
  });
  test('fetchIceServers sends ttl and the bearer; validates the list', async () => {
    const http = fakeFetch();
    const r = await fetchIceServers(http.fetch, 'http://x', 'fk_1', 120);
    assert.equal(r.iceServers.length, 1);
    assert.equal(http.calls[0].body, '{"ttl":120}');
    assert.equal(http.calls[0].headers.authorization, 'Bearer fk_1');
    const bad = fakeFetch({ iceServers: [{ urls: 5 }] });
    await assert.rejects(fetchIceServers(bad.fetch, 'http://x', 'k'), (e: unknown) => e instanceof FerryError && e.code === 'bad_response');
  });
  test('base URLs', () => {
    assert.deepEqual(baseUrls('http://h:1/'), { http: 'http://h:1', ws: 'ws://h:1' });
    assert.deepEqual(baseUrls('wss://h/base'), { http: 'https://h/base', ws: 'wss://h/base' });
    assert.throws(() => baseUrls('h:1'), /must start/);
  });
});

describe('browser safety', () => {
  test('the compiled SDK imports only its own modules and uses no Node globals', () => {
    const dir = join(process.cwd(), 'dist', 'client');
    const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
    assert.ok(files.includes('index.js'));
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
      for (const m of text.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = m[1] ?? m[2];
        assert.match(spec, /^\.\/[a-z0-9-]+\.js$/, `${f} imports ${spec}`);
      }
      assert.doesNotMatch(text, /\brequire\(|\bprocess\.|\bBuffer\b|\b__dirname\b/, `${f} uses a Node-only global`);
    }
  });
});
