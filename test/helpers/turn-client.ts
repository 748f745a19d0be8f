// A small TURN client over real sockets, built on Ferry's own codec, for protocol tests.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { StunWriter } from '../../turn/codec/writer.js';
import { decodeMessage, type StunMessage } from '../../turn/codec/message.js';
import { StreamFramer } from '../../turn/codec/framing.js';
import { readErrorCode, readString, readUint32 } from '../../turn/codec/attributes.js';
import { readXorAddress, parseIp } from '../../turn/codec/address.js';
import { deriveLongTermKey } from '../../turn/long-term-key.js';
import * as C from '../../turn/codec/constants.js';

export type Transport = 'udp' | 'tcp' | 'tls';

export interface ClientOptions {
  transport?: Transport;
  host?: string;
  port: number;
  username?: string;
  password?: string;
  /** UDP only: the local address to send from (default: `host`), e.g. 127.0.0.2 as a second source. */
  localAddress?: string;
}

export interface Response {
  readonly msg: StunMessage;
  readonly cls: number;
  readonly code: number; // 0 for success
  attr(type: number): number;
  xorAddress(type: number): { family: 4 | 6; address: string; port: number } | null;
  uint32(type: number): number | null;
  string(type: number): string | null;
}

export type Inbound =
  | { kind: 'channel'; channel: number; data: Buffer }
  | { kind: 'indication'; peer: { address: string; port: number }; data: Buffer };

function wrap(msg: StunMessage): Response {
  const ei = msg.index(C.ATTR_ERROR_CODE);
  const ec = ei >= 0 ? readErrorCode(msg, ei) : null;
  return {
    msg,
    cls: msg.cls,
    code: msg.cls === C.CLASS_ERROR ? (ec?.code ?? -1) : 0,
    attr: (t) => msg.index(t),
    xorAddress: (t) => (msg.index(t) >= 0 ? readXorAddress(msg, msg.index(t)) : null),
    uint32: (t) => (msg.index(t) >= 0 ? readUint32(msg, msg.index(t)) : null),
    string: (t) => (msg.index(t) >= 0 ? readString(msg, msg.index(t), 1000) : null),
  };
}

export class TestTurnClient {
  private udp?: UdpSocket;
  private stream?: Socket;
  private readonly pending = new Map<string, (r: Response) => void>();
  private readonly inbound: Inbound[] = [];
  private waiter: (() => void) | null = null;
  realm: string | null = null;
  nonce: string | null = null;
  /** Every raw datagram/frame received, for no-reflection checks. */
  received = 0;

  private constructor(readonly opts: Required<Omit<ClientOptions, 'username' | 'password' | 'localAddress'>> & ClientOptions) {}

  static async connect(o: ClientOptions): Promise<TestTurnClient> {
    const c = new TestTurnClient({ transport: 'udp', host: '127.0.0.1', ...o });
    await c.open();
    return c;
  }

  private async open(): Promise<void> {
    const { transport, host, port } = this.opts;
    if (transport === 'udp') {
      const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      this.udp = s;
      s.on('message', (m) => this.onFrame(m, 0, m.length));
      await new Promise<void>((r) => s.bind(0, this.opts.localAddress ?? host, () => r()));
      return;
    }
    const framer = new StreamFramer();
    const s: Socket =
      transport === 'tcp' ? tcpConnect({ host, port }) : tlsConnect({ host, port, rejectUnauthorized: false });
    this.stream = s;
    s.on('data', (chunk: Buffer) => framer.push(chunk, (b, off, len) => this.onFrame(Buffer.from(b.subarray(off, off + len)), 0, len)));
    s.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      s.once(transport === 'tls' ? 'secureConnect' : 'connect', () => resolve());
      s.once('error', reject);
    });
  }

  get localPort(): number {
    return this.udp ? this.udp.address().port : (this.stream?.localPort ?? 0);
  }

  /** Resolves once the TCP/TLS connection has closed (at once when it already has); never for UDP. */
  streamClosed(): Promise<void> {
    const s = this.stream;
    if (s === undefined) return new Promise<void>(() => {});
    if (s.closed) return Promise.resolve();
    return new Promise<void>((r) => s.once('close', () => r()));
  }

  /** The TCP/TLS socket, for tests that stop reading from it (undefined over UDP). */
  get streamSocket(): Socket | undefined {
    return this.stream;
  }

  sendRaw(buf: Buffer): void {
    if (this.udp) this.udp.send(buf, this.opts.port, this.opts.host);
    else this.stream?.write(buf);
  }

  private onFrame(buf: Buffer, off: number, len: number): void {
    this.received++;
    const b0 = buf[off];
    if (b0 >= 0x40 && b0 < 0x80) {
      const dl = buf.readUInt16BE(off + 2);
      this.push({ kind: 'channel', channel: buf.readUInt16BE(off), data: Buffer.from(buf.subarray(off + 4, off + 4 + dl)) });
      return;
    }
    const msg = decodeMessage(Buffer.from(buf.subarray(off, off + len)));
    if (msg === null) return;
    if (msg.cls === C.CLASS_INDICATION && msg.method === C.METHOD_DATA) {
      const peer = readXorAddress(msg, msg.index(C.ATTR_XOR_PEER_ADDRESS));
      const di = msg.index(C.ATTR_DATA);
      if (peer && di >= 0) this.push({ kind: 'indication', peer, data: Buffer.from(msg.attrValue(di)) });
      return;
    }
    const key = msg.transactionId().toString('hex');
    const cb = this.pending.get(key);
    if (cb) {
      this.pending.delete(key);
      cb(wrap(msg));
    }
  }

  private push(i: Inbound): void {
    this.inbound.push(i);
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next relayed packet from the server, or null after `timeoutMs`. */
  async nextData(timeoutMs = 2000): Promise<Inbound | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbound.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.inbound.shift()!;
  }

  /** Builds a request; `sign` adds USERNAME/REALM/NONCE and MESSAGE-INTEGRITY with the long-term key. */
  build(method: number, add: ((w: StunWriter) => void) | null, sign: boolean, tid = randomBytes(12), cls = C.CLASS_REQUEST): Buffer {
    const out = Buffer.alloc(2048);
    const w = new StunWriter(out);
    w.begin(C.messageType(method, cls), tid, 0);
    if (add) add(w);
    if (sign) {
      const { username, password } = this.opts;
      w.addString(C.ATTR_USERNAME, username!);
      w.addString(C.ATTR_REALM, this.realm ?? '');
      w.addString(C.ATTR_NONCE, this.nonce ?? '');
      w.addMessageIntegrity(deriveLongTermKey(username!, this.realm ?? '', password!).md5);
    }
    w.addFingerprint();
    return Buffer.from(out.subarray(0, w.finish()));
  }

  /** Sends one request and waits for its response (UDP: retransmits every 250 ms). */
  transact(buf: Buffer, timeoutMs = 2000): Promise<Response> {
    const key = buf.subarray(8, 20).toString('hex');
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const retry = this.udp ? setInterval(() => this.sendRaw(buf), 250) : undefined;
      timer = setTimeout(() => {
        clearInterval(retry);
        this.pending.delete(key);
        reject(new Error('no response'));
      }, timeoutMs);
      this.pending.set(key, (r) => {
        clearTimeout(timer);
        clearInterval(retry);
        resolve(r);
      });
      this.sendRaw(buf);
    });
  }

  /** An authenticated request: takes the 401 challenge (or a 438) and retries once with the new nonce. */
  async request(method: number, add: ((w: StunWriter) => void) | null = null): Promise<Response> {
    let r = await this.transact(this.build(method, add, this.nonce !== null));
    for (let i = 0; i < 2 && (r.code === 401 || r.code === 438) && r.string(C.ATTR_NONCE) !== null; i++) {
      const hadNonce = this.nonce !== null && r.code === 401;
      this.realm = r.string(C.ATTR_REALM);
      this.nonce = r.string(C.ATTR_NONCE);
      if (hadNonce && i > 0) break;
      r = await this.transact(this.build(method, add, true));
    }
    return r;
  }

  allocate(add?: (w: StunWriter) => void): Promise<Response> {
    return this.request(C.METHOD_ALLOCATE, (w) => {
      w.addRequestedTransport(C.TRANSPORT_UDP);
      add?.(w);
    });
  }

  createPermission(...peers: { address: string; port?: number }[]): Promise<Response> {
    return this.request(C.METHOD_CREATE_PERMISSION, (w) => {
      for (const p of peers) {
        const ip = parseIp(p.address)!;
        w.addXorAddress(C.ATTR_XOR_PEER_ADDRESS, ip.family, ip.bytes, p.port ?? 0);
      }
    });
  }

  channelBind(channel: number, peer: { address: string; port: number }): Promise<Response> {
    return this.request(C.METHOD_CHANNEL_BIND, (w) => {
      w.addChannelNumber(channel);
      const ip = parseIp(peer.address)!;
      w.addXorAddress(C.ATTR_XOR_PEER_ADDRESS, ip.family, ip.bytes, peer.port);
    });
  }

  refresh(lifetime?: number): Promise<Response> {
    return this.request(C.METHOD_REFRESH, lifetime === undefined ? null : (w) => w.addUint32(C.ATTR_LIFETIME, lifetime));
  }

  sendIndication(peer: { address: string; port: number }, data: Buffer): void {
    const ip = parseIp(peer.address)!;
    const buf = this.build(
      C.METHOD_SEND,
      (w) => {
        w.addXorAddress(C.ATTR_XOR_PEER_ADDRESS, ip.family, ip.bytes, peer.port);
        w.addBytes(C.ATTR_DATA, data, 0, data.length);
      },
      false,
      randomBytes(12),
      C.CLASS_INDICATION,
    );
    this.sendRaw(buf);
  }

  sendChannelData(channel: number, data: Buffer): void {
    const pad = this.udp ? 0 : (4 - (data.length & 3)) & 3;
    const buf = Buffer.alloc(4 + data.length + pad);
    buf.writeUInt16BE(channel, 0);
    buf.writeUInt16BE(data.length, 2);
    data.copy(buf, 4);
    this.sendRaw(buf);
  }

  close(): void {
    try {
      this.udp?.close();
    } catch {
      // already closed
    }
    this.udp = undefined;
    this.stream?.destroy();
  }
}
