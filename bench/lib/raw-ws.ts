// A minimal RFC 6455 client for the signaling load generator: the `ws` client spends more CPU per
// frame than the servers under test, so a one-core load generator built on it saturates first. This
// one writes pre-built frames (zero masking key, several frames per write) and hands received text
// frames over as (buffer, start, end) without copying or decoding. It answers pings and closes;
// it does not do extensions or fragmented messages (neither server sends them here).
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export type TextHandler = (buf: Buffer, start: number, end: number) => void;

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/** A masked (zero key) client frame header for a payload of `len` bytes. */
export function frameHeader(opcode: number, len: number): Buffer {
  if (len < 126) return Buffer.from([0x80 | opcode, 0x80 | len, 0, 0, 0, 0]);
  if (len < 65536) return Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff, 0, 0, 0, 0]);
  const h = Buffer.alloc(14);
  h[0] = 0x80 | opcode;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(len), 2);
  return h;
}

/** A complete client text frame for `text`. */
export function textFrame(text: string): Buffer {
  const body = Buffer.from(text);
  return Buffer.concat([frameHeader(OP_TEXT, body.length), body]);
}

export class RawWs {
  onText: TextHandler = () => {};
  onClose: () => void = () => {};
  private pending: Buffer | null = null;
  private closeSent = false;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.onClose();
    });
  }

  /**
   * Opens a WebSocket to 127.0.0.1:port/path and resolves with it and the text of the first frame
   * the server sends (or rejects with the HTTP status line when the upgrade is refused).
   */
  static open(port: number, path: string, headers: Record<string, string>, timeoutMs: number): Promise<{ ws: RawWs; first: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let head = Buffer.alloc(0);
      let ws: RawWs | undefined;
      const timer = setTimeout(() => fail(new Error(`no welcome within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
        );
      });
      const onHead = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 16_384) fail(new Error('HTTP response head too long'));
          return;
        }
        const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        if (!/^HTTP\/1\.1 101 /.test(status)) {
          fail(new Error(`${status}: ${head.subarray(end + 4).toString('utf8').slice(0, 200)}`));
          return;
        }
        socket.removeListener('data', onHead);
        socket.removeListener('error', fail);
        ws = new RawWs(socket);
        ws.onText = (buf, s, e) => {
          clearTimeout(timer);
          ws!.onText = () => {};
          ws!.onClose = () => {};
          resolve({ ws: ws!, first: buf.toString('utf8', s, e) });
        };
        ws.onClose = () => fail(new Error('closed before the first frame'));
        const rest = head.subarray(end + 4);
        if (rest.length > 0) ws.onData(rest);
      };
      socket.on('data', onHead);
    });
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  write(frames: Buffer): void {
    if (!this.closed) this.socket.write(frames);
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let off = 0;
    const n = buf.length;
    while (n - off >= 2) {
      const b0 = buf[off];
      const b1 = buf[off + 1];
      let len = b1 & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (n - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (n - off < 10) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        hdr = 10;
      }
      if (b1 & 0x80) hdr += 4; // servers do not mask; skip a key if one is there anyway
      if (n - off < hdr + len) break;
      const start = off + hdr;
      const end = start + len;
      const op = b0 & 0x0f;
      if (op === OP_TEXT || op === OP_CONT) this.onText(buf, start, end);
      else if (op === OP_PING) this.write(Buffer.concat([frameHeader(0xa, len), buf.subarray(start, end)]));
      else if (op === OP_CLOSE) {
        if (!this.closeSent) this.sendClose();
        this.socket.end();
      }
      off = end;
    }
    if (off < n) this.pending = buf.subarray(off);
  }

  private sendClose(): void {
    this.closeSent = true;
    this.write(Buffer.concat([frameHeader(OP_CLOSE, 2), Buffer.from([0x03, 0xe8])])); // 1000
  }

  /** Closing handshake; destroys the socket if the server does not finish it within `ms`. */
  close(ms = 3000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), ms);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (!this.closeSent) this.sendClose();
    });
  }

  terminate(): void {
    this.socket.destroy();
  }
}
