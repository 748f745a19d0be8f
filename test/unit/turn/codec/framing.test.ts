import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer } from '../../../../turn/codec/framing.js';
import { writeChannelDataHeader } from '../../../../turn/codec/channel-data.js';
import { StunWriter } from '../../../../turn/codec/writer.js';
import { ATTR_DATA, ATTR_SOFTWARE, CLASS_INDICATION, METHOD_SEND, messageType } from '../../../../turn/codec/constants.js';
import { prng, randInt, randomBytes } from '../../../helpers/bytes.js';

function stunFrame(rand: () => number): Buffer {
  const w = new StunWriter(Buffer.alloc(4000));
  const tid = randomBytes(rand, 12);
  w.begin(messageType(METHOD_SEND, CLASS_INDICATION), tid);
  const n = randInt(rand, 4);
  for (let i = 0; i < n; i++) {
    const d = randomBytes(rand, randInt(rand, 600));
    w.addBytes(i % 2 ? ATTR_SOFTWARE : ATTR_DATA, d, 0, d.length);
  }
  return Buffer.from(w.target.subarray(0, w.finish()));
}

function channelFrame(rand: () => number): Buffer {
  const len = rand() < 0.2 ? randInt(rand, 4) : randInt(rand, 1500);
  const b = Buffer.alloc(4 + ((len + 3) & ~3)); // zero padding to 4
  writeChannelDataHeader(b, 0, 0x4000 + randInt(rand, 0x1000), len);
  randomBytes(rand, len).copy(b, 4);
  return b;
}

function collect(framer: StreamFramer, chunks: Buffer[]): { frames: Buffer[]; zeroCopy: number; ok: boolean } {
  const frames: Buffer[] = [];
  let zeroCopy = 0;
  let ok = true;
  for (const c of chunks) {
    ok = framer.push(c, (buf, off, len) => {
      if (buf === c) zeroCopy++;
      frames.push(Buffer.from(buf.subarray(off, off + len)));
    });
    if (!ok) break;
  }
  return { frames, zeroCopy, ok };
}

test('random chunk splits of a mixed stream yield exactly the original frames', () => {
  const rand = prng(7);
  for (let round = 0; round < 40; round++) {
    const frames: Buffer[] = [];
    const count = 1 + randInt(rand, 30);
    for (let i = 0; i < count; i++) frames.push(rand() < 0.5 ? stunFrame(rand) : channelFrame(rand));
    const stream = Buffer.concat(frames);
    const chunks: Buffer[] = [];
    for (let p = 0; p < stream.length; ) {
      const r = rand();
      const size = r < 0.3 ? 1 + randInt(rand, 3) : r < 0.8 ? 1 + randInt(rand, 200) : 1 + randInt(rand, 5000);
      chunks.push(Buffer.from(stream.subarray(p, p + size)));
      p += size;
    }
    const framer = new StreamFramer();
    const got = collect(framer, chunks);
    assert.equal(got.ok, true);
    assert.equal(got.frames.length, frames.length, `round ${round}`);
    for (let i = 0; i < frames.length; i++) assert.deepEqual(got.frames[i], frames[i], `round ${round} frame ${i}`);
    assert.equal(framer.buffered, 0);
  }
});

test('whole frames inside one chunk are passed zero-copy', () => {
  const rand = prng(9);
  const frames = [stunFrame(rand), channelFrame(rand), stunFrame(rand), channelFrame(rand)];
  const got = collect(new StreamFramer(), [Buffer.concat(frames)]);
  assert.equal(got.frames.length, 4);
  assert.equal(got.zeroCopy, 4);
  // Split in the middle of frame 2: frames 0-1 zero-copy, frame 2 from the internal buffer, 3 zero-copy.
  const all = Buffer.concat(frames);
  const cut = frames[0].length + frames[1].length + 5;
  const got2 = collect(new StreamFramer(), [all.subarray(0, cut), all.subarray(cut)]);
  assert.equal(got2.frames.length, 4);
  assert.equal(got2.zeroCopy, 3);
});

test('a frame rebuilt from split chunks keeps its bytes after later frames (sends may hold them)', () => {
  const rand = prng(21);
  const frames = [channelFrame(rand), channelFrame(rand), stunFrame(rand), channelFrame(rand)];
  const framer = new StreamFramer();
  const views: Buffer[] = [];
  // Each frame arrives in two pieces; keep the handed-out views without copying, as socket.send does.
  for (const f of frames) {
    const cut = Math.max(1, f.length >> 1);
    for (const piece of [f.subarray(0, cut), f.subarray(cut)]) {
      assert.ok(framer.push(Buffer.from(piece), (buf, off, len) => views.push(buf.subarray(off, off + len))));
    }
  }
  assert.equal(views.length, frames.length);
  for (let i = 0; i < frames.length; i++) assert.ok(views[i].equals(frames[i]), `frame ${i} unchanged`);
});

test('garbage, reserved channels, bad cookies and oversize frames fail the stream', () => {
  const noop = () => {};
  assert.equal(new StreamFramer().push(Buffer.from([0x80, 0, 0, 0]), noop), false);
  assert.equal(new StreamFramer().push(Buffer.from([0xc0]), noop), false);
  assert.equal(new StreamFramer().push(Buffer.from([0xff, 0xff, 0x00, 0x00]), noop), false);
  assert.equal(new StreamFramer().push(Buffer.from('000100002112a443', 'hex'), noop), false);
  const small = new StreamFramer(100);
  const cd = Buffer.alloc(4);
  writeChannelDataHeader(cd, 0, 0x4000, 200);
  assert.equal(small.push(cd, noop), false);
  assert.equal(small.push(Buffer.alloc(0), noop), false, 'stays failed');
  small.reset();
  assert.equal(small.push(Buffer.from([0x40, 0x00]), noop), true);
  assert.equal(small.buffered, 2);
  // A failure detected in a later chunk.
  const f = new StreamFramer();
  assert.equal(f.push(Buffer.from([0x00, 0x01, 0x00]), noop), true);
  assert.equal(f.push(Buffer.from([0x00, 0x21, 0x12, 0xff]), noop), false);
});

test('a valid frame followed by garbage emits the frame, then fails', () => {
  const rand = prng(3);
  const good = channelFrame(rand);
  const frames: Buffer[] = [];
  const ok = new StreamFramer().push(Buffer.concat([good, Buffer.from([0xff, 0xff, 0xff, 0xff])]), (b, o, l) =>
    frames.push(Buffer.from(b.subarray(o, o + l))),
  );
  assert.equal(ok, false);
  assert.deepEqual(frames, [good]);
});
