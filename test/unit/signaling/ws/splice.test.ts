// The delivered frame reuses the payload's source text: it must mean exactly what the validated
// frame means, and fall back to JSON.stringify whenever the text is not plain enough.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientFrame, ServerFrame, type RoutedFrame } from '../../../../protocol/signaling.js';
import { deliveredText } from '../../../../signaling/ws/frames.js';
import { NO_PAYLOAD, payloadSpan } from '../../../../signaling/ws/splice.js';

function routed(text: string): RoutedFrame {
  const r = ClientFrame.safeParse(JSON.parse(text));
  assert.ok(r.success, text);
  assert.notEqual(r.data.type, 'ping');
  return r.data as RoutedFrame;
}

function check(text: string): string {
  const frame = routed(text);
  const spliced = deliveredText(frame, 'peer-1', text);
  const plain = deliveredText(frame, 'peer-1');
  assert.deepEqual(JSON.parse(spliced), JSON.parse(plain), text);
  assert.deepEqual(Object.keys(JSON.parse(spliced)), Object.keys(JSON.parse(plain)));
  assert.ok(ServerFrame.safeParse(JSON.parse(spliced)).success);
  return spliced;
}

test('spliced frames equal the serialized ones', () => {
  const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=x:"quoted" \\ back\\\\slash \u00e9 \ud83d\ude00\r\n';
  const frames = [
    { type: 'offer', to: 'b', payload: { type: 'offer', sdp } },
    { payload: { sdp, type: 'offer' }, to: 'b', type: 'offer', id: 7 },
    { type: 'answer', id: 'x"y', to: 'b', payload: { type: 'pranswer', sdp: '' } },
    { type: 'candidate', to: 'b', payload: { candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMid: null, sdpMLineIndex: 0 } },
    { type: 'candidate', to: 'b', payload: null },
    { type: 'candidate', to: 'b', payload: { candidate: '', extra: { nested: ['}', ']', '{', '"', [1, { a: -1.5e3 }]] } } },
    { type: 'bye', to: 'b' },
    { type: 'bye', to: 'b', payload: 'see you' },
    { type: 'bye', to: 'b', payload: 12.5 },
    { type: 'bye', to: 'b', payload: [true, false, null, { '': '\\' }] },
  ];
  for (const f of frames) {
    check(JSON.stringify(f));
    check(JSON.stringify(f, null, 2)); // whitespace everywhere
    check(JSON.stringify(f).replace(/:/g, ' : ').replace(/,/g, ' ,\n\t'));
  }
  // The payload's source text is reused byte for byte (e.g. its escapes and spacing).
  const src = '{"type":"offer","to":"b","payload":{ "type" : "offer", "sdp":"v=0\\r\\n\\u0041" }}';
  assert.equal(check(src), '{"type":"offer","from":"peer-1","payload":{ "type" : "offer", "sdp":"v=0\\r\\n\\u0041" }}');
});

test('falls back to JSON.stringify on escaped keys and duplicate payloads', () => {
  const end: [number] = [0];
  const escapedKey = '{"type":"offer","to":"b","\\u0070ayload":{"type":"offer","sdp":"x"}}';
  assert.equal(payloadSpan(escapedKey, end), -1);
  check(escapedKey);
  const dup = '{"type":"offer","to":"b","payload":{"type":"offer","sdp":"FIRST"},"payload":{"type":"offer","sdp":"x"}}';
  assert.equal(payloadSpan(dup, end), -1);
  const out = JSON.parse(check(dup)) as { payload: { sdp: string } };
  assert.equal(out.payload.sdp, 'x', 'the validated (last) payload, and the other is gone');
  assert.ok(!deliveredText(routed(dup), 'p', dup).includes('FIRST'));
  assert.equal(payloadSpan('{"type":"bye","to":"b"}', end), NO_PAYLOAD);
  assert.equal(payloadSpan('[]', end), -1);
});

test('random frames: the spliced frame always parses to the serialized one', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = ['a', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\r\n', '\u00e9', '\ud83d\ude00', '\u0000', '/'];
  const str = () => Array.from({ length: rnd(12) }, () => alphabet[rnd(alphabet.length)]).join('');
  const value = (depth: number): unknown => {
    switch (rnd(depth > 2 ? 4 : 6)) {
      case 0: return str();
      case 1: return rnd(1000) - 500;
      case 2: return [null, true, false][rnd(3)];
      case 3: return rnd(100) / 7;
      case 4: return Array.from({ length: rnd(4) }, () => value(depth + 1));
      default: return Object.fromEntries(Array.from({ length: rnd(4) }, () => [str(), value(depth + 1)]));
    }
  };
  let checked = 0;
  for (let i = 0; i < 2000; i++) {
    const payload = { type: 'offer', sdp: str(), [str() || 'k']: value(0) };
    const frame: Record<string, unknown> = { type: 'offer', to: 'b', payload };
    if (rnd(2)) frame.id = rnd(2) ? str().slice(0, 10) : rnd(99);
    const keys = Object.keys(frame).sort(() => rnd(3) - 1);
    const text = JSON.stringify(Object.fromEntries(keys.map((k) => [k, frame[k]])), null, rnd(3));
    if (!ClientFrame.safeParse(JSON.parse(text)).success) continue;
    check(text);
    checked++;
  }
  assert.ok(checked > 1500, `only ${checked} frames checked`);
});
