/** 20,000 random and bit-mutated inputs: the decoder, every reader and the framers never throw. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, isStunHeader, stunMessageLength } from '../../../../turn/codec/message.js';
import * as A from '../../../../turn/codec/attributes.js';
import { readMappedAddress, readXorAddress } from '../../../../turn/codec/address.js';
import { checkFingerprint, checkMessageIntegrity, checkMessageIntegritySha256 } from '../../../../turn/codec/integrity.js';
import { channelDataLength } from '../../../../turn/codec/channel-data.js';
import { StreamFramer } from '../../../../turn/codec/framing.js';
import { StunWriter } from '../../../../turn/codec/writer.js';
import * as C from '../../../../turn/codec/constants.js';
import { hex, prng, randInt, randomBytes } from '../../../helpers/bytes.js';

const SEEDS = [
  hex(`00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae 80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
       00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36 00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
       00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2 80 28 00 04 e5 7a 3b cf`),
  (() => {
    const w = new StunWriter(Buffer.alloc(1500));
    w.begin(C.messageType(C.METHOD_ALLOCATE, C.CLASS_SUCCESS), Buffer.alloc(12, 3))
      .addXorAddress(C.ATTR_XOR_RELAYED_ADDRESS, 6, Buffer.alloc(16, 1), 5000)
      .addXorAddress(C.ATTR_XOR_MAPPED_ADDRESS, 4, Buffer.alloc(4, 2), 6000)
      .addUint32(C.ATTR_LIFETIME, 600)
      .addErrorCode(437)
      .addUnknownAttributes([1, 2, 3])
      .addPasswordAlgorithms([1, 2])
      .addPasswordAlgorithm(2)
      .addAddressFamily(C.ATTR_REQUESTED_ADDRESS_FAMILY, 4)
      .addEvenPort(true)
      .addChannelNumber(0x4000)
      .addRequestedTransport(17)
      .addAddressErrorCode(4, 440)
      .addString(C.ATTR_NONCE, 'nonce')
      .addMessageIntegrity('k')
      .addMessageIntegritySha256('k')
      .addFingerprint();
    return Buffer.from(w.target.subarray(0, w.finish()));
  })(),
];

function exercise(buf: Buffer): void {
  isStunHeader(buf, 0);
  stunMessageLength(buf, 0, buf.length);
  channelDataLength(buf, 0, buf.length, false);
  channelDataLength(buf, 0, buf.length, true);
  const msg = decodeMessage(buf);
  if (msg === null) return;
  msg.unknownComprehensionRequired();
  msg.transactionId();
  checkFingerprint(msg);
  checkMessageIntegrity(msg, 'k');
  checkMessageIntegritySha256(msg, 'k');
  for (let i = -1; i <= msg.attrTypes.length; i++) {
    msg.attrValue(i);
    A.readUint32(msg, i);
    A.readChannelNumber(msg, i);
    A.readRequestedTransport(msg, i);
    A.readAddressFamily(msg, i);
    A.readEvenPort(msg, i);
    A.readString(msg, i, 763);
    A.readErrorCode(msg, i);
    A.readAddressErrorCode(msg, i);
    A.readUnknownAttributes(msg, i);
    A.readPasswordAlgorithm(msg, i);
    A.readPasswordAlgorithms(msg, i);
    readMappedAddress(msg, i);
    readXorAddress(msg, i);
  }
}

test('20,000 random and mutated messages never throw', () => {
  const rand = prng(0xf022);
  let decoded = 0;
  for (let n = 0; n < 20000; n++) {
    let buf: Buffer;
    const kind = n % 4;
    if (kind === 0) {
      // Random bytes behind a valid-looking header.
      buf = randomBytes(rand, 20 + 4 * randInt(rand, 40));
      buf[0] &= 0x3f;
      buf.writeUInt32BE(C.MAGIC_COOKIE, 4);
      buf.writeUInt16BE(buf.length - 20, 2);
    } else if (kind === 1) {
      buf = randomBytes(rand, randInt(rand, 200));
    } else {
      // Bit flips, byte overwrites and truncations of good messages.
      buf = Buffer.from(SEEDS[randInt(rand, SEEDS.length)]);
      const flips = 1 + randInt(rand, 6);
      for (let i = 0; i < flips; i++) {
        const at = randInt(rand, buf.length);
        if (rand() < 0.5) buf[at] ^= 1 << randInt(rand, 8);
        else buf[at] = randInt(rand, 256);
      }
      if (rand() < 0.2) buf = buf.subarray(0, randInt(rand, buf.length + 1));
    }
    try {
      exercise(buf);
    } catch (err) {
      assert.fail(`threw on ${buf.toString('hex')}: ${String(err)}`);
    }
    if (decodeMessage(buf)) decoded++;
  }
  assert.ok(decoded > 1000, `decoded ${decoded}`);
});

/** A well-formed ChannelData frame as sent over a stream: channel, length, data, padding to 4. */
function channelDataFrame(rand: () => number): Buffer {
  const data = randomBytes(rand, randInt(rand, 120));
  const frame = Buffer.alloc(4 + ((data.length + 3) & ~3));
  frame.writeUInt16BE(0x4000 + randInt(rand, 0x1000), 0);
  frame.writeUInt16BE(data.length, 2);
  data.copy(frame, 4);
  return frame;
}

test('the framer never throws on random streams; what it emits is the stream, frame by whole frame', () => {
  const rand = prng(11);
  let frames = 0;
  let failedStreams = 0;
  let wellFormedStreams = 0;
  for (let n = 0; n < 2000; n++) {
    const f = new StreamFramer(2000);
    const emitted: Buffer[] = [];
    const onFrame = (buf: Buffer, offset: number, length: number): void => {
      frames++;
      emitted.push(Buffer.from(buf.subarray(offset, offset + length)));
      assert.ok(offset >= 0 && length > 0 && offset + length <= buf.length, `frame outside its buffer: ${offset}+${length} of ${buf.length}`);
      assert.ok(length <= 2000, `frame of ${length} bytes over maxFrame`);
      const expected = (buf[offset] & 0xc0) === 0 ? stunMessageLength(buf, offset, length) : channelDataLength(buf, offset, length, true);
      assert.equal(expected, length, `emitted ${length} bytes of a ${expected}-byte frame: ${buf.subarray(offset, offset + length).toString('hex')}`);
    };
    // Well-formed frames with random bytes mixed in, cut at random points.
    const parts: Buffer[] = [];
    const count = 1 + randInt(rand, 6);
    let wellFormed = true;
    for (let i = 0; i < count; i++) {
      const r = rand();
      if (r < 0.4) parts.push(channelDataFrame(rand));
      else if (r < 0.7) parts.push(SEEDS[randInt(rand, SEEDS.length)]);
      else {
        wellFormed = false;
        const c = randomBytes(rand, randInt(rand, 64));
        if (rand() < 0.5 && c.length > 0) c[0] = 0x40 | (c[0] & 0x0f);
        parts.push(c);
      }
    }
    const stream = Buffer.concat(parts);
    let at = 0;
    let ok = true;
    while (ok && at < stream.length) {
      const end = Math.min(stream.length, at + 1 + randInt(rand, 90));
      ok = f.push(stream.subarray(at, end), onFrame);
      at = end;
    }
    if (!ok) failedStreams++;
    // The frames come out in order, each byte once: a prefix of the stream.
    const out = Buffer.concat(emitted);
    assert.ok(out.equals(stream.subarray(0, out.length)), `emitted bytes differ from the stream's first ${out.length}`);
    if (wellFormed) {
      wellFormedStreams++;
      assert.ok(ok, 'a stream of well-formed frames failed');
      assert.equal(out.length, stream.length, 'a well-formed frame was not emitted');
    }
  }
  // The seed fixes these counts; both kinds of outcome occur many times.
  assert.ok(frames > 2000, `framed ${frames}`);
  assert.ok(failedStreams > 200, `failed ${failedStreams} streams`);
  assert.ok(wellFormedStreams > 200, `${wellFormedStreams} well-formed streams`);
});
