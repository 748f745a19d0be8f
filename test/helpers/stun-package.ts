// The npm `stun` package (2.x) as a third-party STUN client for interop tests. It ships no types and
// is CommonJS, so it is loaded with createRequire behind the small typed surface the tests use.
// It only speaks UDP itself (stun.request); over TCP the test frames its encoded messages on a socket
// (RFC 8489 §6.2.2: a STUN message over TCP is its 20-byte header plus the length in that header).
// Its ERROR-CODE decoding is wrong in 2.1 (401 reads as 404): read error codes from raw bytes, never
// from this wrapper.
import { createRequire } from 'node:module';
import type { Socket as UdpSocket } from 'node:dgram';
import type { Socket as TcpSocket } from 'node:net';

export interface StunAddress {
  readonly address: string;
  readonly port: number;
  readonly family: string;
}

interface StunAttribute {
  readonly type: number;
  readonly value: unknown;
}

/** A decoded message (the package's StunResponse). */
export interface StunMessage {
  readonly type: number;
  readonly transactionId: Buffer;
  getXorAddress(): StunAddress | undefined;
  getAttribute(type: number): StunAttribute | undefined;
}

/** A message being built (the package's StunRequest). */
export interface StunRequestMessage {
  readonly type: number;
  readonly transactionId: Buffer;
  addFingerprint(): boolean;
  addSoftware(software: string): unknown;
  toBuffer(): Buffer;
}

interface RequestOptions {
  readonly socket?: UdpSocket;
  readonly message?: StunRequestMessage;
  /** Initial retransmission timeout, ms. */
  readonly timeout?: number;
  readonly retries?: number;
}

interface StunModule {
  createMessage(type: number, transactionId?: Buffer): StunRequestMessage;
  request(url: string, options: RequestOptions): Promise<StunMessage>;
  decode(message: Buffer): StunMessage;
  validateFingerprint(message: StunMessage): boolean;
  readonly constants: { readonly STUN_BINDING_REQUEST: number; readonly STUN_BINDING_RESPONSE: number; readonly STUN_ATTR_FINGERPRINT: number };
}

const require = createRequire(import.meta.url);
export const stun = require('stun') as StunModule;

/** A Binding request built by the package (optionally with its FINGERPRINT and SOFTWARE). */
export function bindingRequest(opts: { fingerprint?: boolean } = {}): StunRequestMessage {
  const msg = stun.createMessage(stun.constants.STUN_BINDING_REQUEST);
  if (opts.fingerprint) {
    msg.addSoftware('ferry-interop (npm stun 2)');
    msg.addFingerprint();
  }
  return msg;
}

/**
 * Sends `message` with stun.request from `socket` (bound by the caller, so its address is known)
 * to host:port over UDP and resolves with the decoded response; rejects after the package's
 * retransmissions (`timeout` ms, doubled per retry) found no answer.
 */
export function bindingOverUdp(socket: UdpSocket, host: string, port: number, message: StunRequestMessage, timeout = 200, retries = 3): Promise<StunMessage> {
  return stun.request(`stun://${host}:${port}`, { socket, message, timeout, retries });
}

/** Writes the encoded `message` on a connected TCP socket and decodes the one message that comes back. */
export function bindingOverTcp(socket: TcpSocket, message: StunRequestMessage, ms: number): Promise<StunMessage> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const finish = (err: Error | null, msg?: StunMessage) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(msg!);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 20) return;
      const total = 20 + buf.readUInt16BE(2);
      if (buf.length < total) return;
      try {
        finish(null, stun.decode(buf.subarray(0, total)));
      } catch (err) {
        finish(err as Error);
      }
    };
    const onClose = () => finish(new Error(`the connection closed after ${buf.length} bytes, before a whole STUN message`));
    const timer = setTimeout(() => finish(new Error(`no STUN response over TCP within ${ms} ms`)), ms);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(message.toBuffer());
  });
}
