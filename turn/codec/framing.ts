/**
 * StreamFramer: splits a TCP/TLS byte stream into STUN messages and ChannelData frames
 * (RFC 8489 §6.2.2, RFC 8656 §12.5). The first two bits of a frame decide: 00 = STUN
 * (20 + header length), 01 = ChannelData (4 + data length padded to 4). Anything else, a
 * ChannelData channel outside 0x4000-0x7FFF, a bad STUN cookie or an oversize frame is a
 * protocol error: push returns false and the caller closes the connection.
 *
 * Frames lying whole inside a chunk are handed out zero-copy as (chunk, offset, length). Only a
 * frame split across chunks is copied, into a buffer of its own that the framer never writes
 * again: the data path hands these bytes to socket.send(), which may still hold them after
 * onFrame returns (a send queued behind a full socket buffer).
 */
import { channelDataLength } from './channel-data.js';
import { HEADER_LENGTH } from './constants.js';
import { stunMessageLength } from './message.js';

export type FrameHandler = (buf: Buffer, offset: number, length: number) => void;

/** Frame length at buf[offset] with `available` bytes: > 0 known, 0 read more, -1 invalid. */
function frameLength(buf: Buffer, offset: number, available: number): number {
  const kind = buf[offset] & 0xc0;
  if (kind === 0) return stunMessageLength(buf, offset, available);
  if (kind === 0x40) return channelDataLength(buf, offset, available, true);
  return -1;
}

export class StreamFramer {
  private pending: Buffer | null = null;
  private pendingLength = 0;
  /** Total length of the pending frame once its header is complete, else 0. */
  private pendingFrame = 0;
  private failed = false;

  constructor(readonly maxFrame: number = 65535 + 20) {
    if (!(maxFrame >= HEADER_LENGTH)) throw new RangeError('maxFrame must be at least 20');
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.pendingLength;
  }

  /**
   * Feeds a chunk; calls onFrame for every complete frame, in order. Returns false on a protocol
   * error (then and on every later call: the framer stays failed).
   */
  push(chunk: Buffer, onFrame: FrameHandler): boolean {
    if (this.failed) return false;
    const n = chunk.length;
    let pos = 0;

    // 1. Complete a frame left over from earlier chunks.
    while (this.pendingLength > 0 && pos < n) {
      const pending = this.pending as Buffer;
      if (this.pendingFrame === 0) {
        const headerSize = (pending[0] & 0xc0) === 0 ? HEADER_LENGTH : 4;
        const take = Math.min(headerSize - this.pendingLength, n - pos);
        chunk.copy(pending, this.pendingLength, pos, pos + take);
        this.pendingLength += take;
        pos += take;
        const total = frameLength(pending, 0, this.pendingLength);
        if (total < 0 || total > this.maxFrame) return this.fail();
        if (total === 0) continue; // header still incomplete, chunk exhausted
        this.reserve(total);
        this.pendingFrame = total;
      }
      const buf = this.pending as Buffer;
      const take = Math.min(this.pendingFrame - this.pendingLength, n - pos);
      chunk.copy(buf, this.pendingLength, pos, pos + take);
      this.pendingLength += take;
      pos += take;
      if (this.pendingLength === this.pendingFrame) {
        const total = this.pendingFrame;
        this.pendingLength = 0;
        this.pendingFrame = 0;
        // Handed out for good: the next split frame gets a new buffer.
        this.pending = null;
        onFrame(buf, 0, total);
      }
    }

    // 2. Whole frames straight out of the chunk.
    let total = 0;
    while (pos < n) {
      total = frameLength(chunk, pos, n - pos);
      if (total < 0 || total > this.maxFrame) return this.fail();
      if (total === 0 || total > n - pos) break;
      onFrame(chunk, pos, total);
      pos += total;
    }

    // 3. Keep the partial tail.
    if (pos < n) {
      const rest = n - pos;
      this.reserve(Math.max(rest, total, HEADER_LENGTH));
      chunk.copy(this.pending as Buffer, 0, pos, n);
      this.pendingLength = rest;
      this.pendingFrame = total;
    }
    return true;
  }

  /** Drops any partial frame and clears the failed state. */
  reset(): void {
    this.pendingLength = 0;
    this.pendingFrame = 0;
    this.failed = false;
  }

  private fail(): false {
    this.failed = true;
    this.pendingLength = 0;
    this.pendingFrame = 0;
    return false;
  }

  /**
   * Makes the pending buffer hold at least `size` bytes (never more than maxFrame is asked for),
   * keeping its current contents. A new buffer has room for 256 bytes at least, so a small frame
   * whose header was split too still takes one allocation.
   */
  private reserve(size: number): void {
    const old = this.pending;
    if (old !== null && old.length >= size) return;
    const next = Buffer.allocUnsafe(Math.min(this.maxFrame, Math.max(size, 256)));
    if (old !== null && this.pendingLength > 0) old.copy(next, 0, 0, this.pendingLength);
    this.pending = next;
  }
}
