import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHANNEL_MAX,
  CHANNEL_MIN,
  channelDataLength,
  isValidChannelNumber,
  writeChannelDataHeader,
} from '../../../../turn/codec/channel-data.js';

function frame(channel: number, dataLength: number, extra = 0): Buffer {
  const b = Buffer.alloc(4 + dataLength + extra, 0x5a);
  writeChannelDataHeader(b, 0, channel, dataLength);
  return b;
}

test('channel range is 0x4000-0x7FFF (RFC 5766 range, a superset of RFC 8656 §12)', () => {
  assert.equal(CHANNEL_MIN, 0x4000);
  assert.equal(CHANNEL_MAX, 0x7fff);
  assert.equal(isValidChannelNumber(0x3fff), false);
  assert.equal(isValidChannelNumber(0x4000), true);
  assert.equal(isValidChannelNumber(0x4fff), true);
  assert.equal(isValidChannelNumber(0x6d5e), true); // what turnutils_uclient picks
  assert.equal(isValidChannelNumber(0x7fff), true);
  assert.equal(isValidChannelNumber(0x8000), false);
});

test('writeChannelDataHeader', () => {
  const b = Buffer.alloc(8, 0xff);
  assert.equal(writeChannelDataHeader(b, 2, 0x4abc, 0x0102), 4);
  assert.equal(b.toString('hex'), 'ffff4abc0102ffff');
  assert.throws(() => writeChannelDataHeader(b, 6, 0x4000, 1), RangeError);
});

test('UDP (unpadded) lengths', () => {
  for (const len of [0, 1, 2, 3, 4, 5, 100, 1199]) {
    const f = frame(0x4000, len);
    assert.equal(channelDataLength(f, 0, f.length, false), 4 + len, `len ${len}`);
    // Padding (or any trailing bytes) after the data is tolerated over UDP.
    const p = frame(0x4000, len, 3);
    assert.equal(channelDataLength(p, 0, p.length, false), 4 + len);
    // A datagram shorter than the announced length is invalid.
    if (len > 0) assert.equal(channelDataLength(f, 0, f.length - 1, false), -1);
  }
  assert.equal(channelDataLength(Buffer.from([0x40, 0, 0]), 0, 3, false), -1, 'short header');
  assert.equal(channelDataLength(frame(0x3fff, 4), 0, 8, false), -1);
  assert.equal(channelDataLength(frame(0x8000, 4), 0, 8, false), -1);
  assert.equal(channelDataLength(frame(0x7fff, 4), 0, 8, false), 8);
  assert.equal(channelDataLength(frame(0xffff, 4), 0, 8, false), -1);
  const big = Buffer.concat([Buffer.alloc(5), frame(0x4fff, 7)]);
  assert.equal(channelDataLength(big, 5, 11, false), 11);
  assert.equal(channelDataLength(big, 5, 100, false), 11, 'available is clamped to the buffer');
});

test('TCP/TLS (padded) lengths, including frames not yet complete', () => {
  const expected: [number, number][] = [[0, 4], [1, 8], [2, 8], [3, 8], [4, 8], [5, 12], [65535, 65540]];
  for (const [len, total] of expected) {
    const f = frame(0x4001, Math.min(len, 8));
    f.writeUInt16BE(len, 2);
    assert.equal(channelDataLength(f, 0, f.length, true), total, `len ${len}`);
    assert.equal(channelDataLength(f, 0, 4, true), total, 'only the header is needed');
  }
  assert.equal(channelDataLength(Buffer.from([0x40, 0x00, 0x00]), 0, 3, true), 0, 'need more');
  assert.equal(channelDataLength(Buffer.from([0x40]), 0, 1, true), 0);
  assert.equal(channelDataLength(Buffer.alloc(0), 0, 0, true), 0);
  assert.equal(channelDataLength(Buffer.from([0x80]), 0, 1, true), -1, 'reserved channel seen early');
  assert.equal(channelDataLength(Buffer.from([0x01]), 0, 1, true), -1);
});
