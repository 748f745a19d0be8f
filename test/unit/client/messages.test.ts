// The SDK checks server frames by hand (it ships to browsers without zod); the server's frames are
// the zod schemas of protocol/signaling.ts. These samples go through both, so the two cannot drift
// apart again as they once did on `pranswer`: every frame the server may send is understood, and
// what the schema refuses in the fields the SDK reads, the SDK drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerFrame } from '../../../protocol/signaling.js';
import { parseServerMessage } from '../../../client/messages.js';

const valid: Record<string, unknown>[] = [
  { type: 'welcome', peer_id: 'alice' },
  { type: 'pong' },
  { type: 'offer', from: 'bob', payload: { type: 'offer', sdp: 'v=0\r\n' } },
  { type: 'answer', from: 'bob', payload: { type: 'answer', sdp: 'v=0\r\n' } },
  { type: 'answer', from: 'bob', payload: { type: 'pranswer', sdp: 'v=0\r\n' } },
  { type: 'candidate', from: 'bob', payload: { candidate: 'candidate:1 1 udp 1 198.18.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } },
  { type: 'candidate', from: 'bob', payload: { candidate: 'candidate:2 1 udp 1 198.18.0.2 5000 typ relay', sdpMid: null, sdpMLineIndex: null, usernameFragment: 'uf' } },
  { type: 'candidate', from: 'bob', payload: null },
  { type: 'bye', from: 'bob', payload: { reason: 'done' } },
  { type: 'error', code: 'peer_unavailable', message: 'bob is not connected', to: 'bob', id: 'm1' },
  { type: 'error', code: 'rate_limited', message: 'slow down' },
];

const invalid: Record<string, unknown>[] = [
  { type: 'welcome' },
  { type: 'offer', from: 'bob', payload: { type: 'answer', sdp: 'v=0' } },
  { type: 'offer', payload: { type: 'offer', sdp: 'v=0' } },
  { type: 'answer', from: 'bob', payload: { type: 'offer', sdp: 'v=0' } },
  { type: 'answer', from: 'bob', payload: { type: 'answer' } },
  { type: 'candidate', from: 'bob', payload: 'candidate:1' },
  { type: 'candidate', from: 'bob', payload: { sdpMid: '0' } },
  { type: 'candidate', from: 'bob', payload: { candidate: 'c', sdpMLineIndex: 'zero' } },
  { type: 'bye' },
  { type: 'error', message: 'no code' },
  { type: 'surprise' },
];

test('every frame the server may send is understood by the SDK, as what it is', () => {
  for (const frame of valid) {
    assert.ok(ServerFrame.safeParse(frame).success, `the schema accepts ${JSON.stringify(frame)}`);
    const parsed = parseServerMessage(JSON.stringify(frame));
    assert.ok(parsed !== null, `the SDK understands ${JSON.stringify(frame)}`);
    assert.equal(parsed.type, frame.type);
    if ('from' in frame) assert.equal((parsed as { from?: unknown }).from, frame.from);
    const payload = (parsed as { payload?: unknown }).payload;
    if (frame.type === 'offer' || frame.type === 'answer') assert.deepEqual(payload, frame.payload);
    // Absent members of a candidate read as null, as in RTCIceCandidateInit.
    if (frame.type === 'candidate') assert.deepEqual(payload, frame.payload === null ? null : { sdpMid: null, sdpMLineIndex: null, ...(frame.payload as object) });
  }
});

test('the samples cover every server frame type of the protocol', () => {
  const types = ServerFrame.options.map((o) => o.shape.type.value).sort();
  assert.deepEqual([...new Set(valid.map((f) => f.type as string))].sort(), types);
});

test('what the schema refuses in the fields the SDK reads, the SDK drops', () => {
  for (const frame of invalid) {
    assert.ok(!ServerFrame.safeParse(frame).success, `the schema refuses ${JSON.stringify(frame)}`);
    assert.equal(parseServerMessage(JSON.stringify(frame)), null, `the SDK drops ${JSON.stringify(frame)}`);
  }
  assert.equal(parseServerMessage('not json'), null);
});
