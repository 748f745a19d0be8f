import type { Socket } from 'node:net';
import type { TransportName } from '../interfaces.js';
import type { ClientLink } from '../client-link.js';
import type { Permission } from '../permission.js';
import { RELAYED_BACKLOG_LIMIT } from './stream-backlog.js';
import { MAX_INDICATION_PAYLOAD_V4, MAX_INDICATION_PAYLOAD_V6, writeDataIndicationHeader } from '../data-path.js';


/** The client side of a TCP or TLS connection. Every frame is padded to 4 bytes (RFC 8656 §12.5). */
export class StreamLink implements ClientLink {
  readonly transport: TransportName;
  readonly socket: Socket;
  readonly address: string;
  readonly port: number;
  /** Set by the connection: forgets the allocation when it ends. */
  onDetach: (() => void) | null = null;

  constructor(transport: TransportName, socket: Socket, address: string, port: number) {
    this.transport = transport;
    this.socket = socket;
    this.address = address;
    this.port = port;
  }

  /**
   * Dropped (false), as a UDP path would drop it, past the backlog or on a connection that no
   * longer takes writes (ended, destroyed: a write there would only fail later).
   */
  sendChannelData(channel: number, payload: Buffer): boolean {
    const s = this.socket;
    const length = payload.length;
    if (!s.writable || s.writableLength > RELAYED_BACKLOG_LIMIT || length > 0xffff) return false;
    const frame = Buffer.allocUnsafe(4 + ((length + 3) & ~3));
    frame[0] = channel >>> 8;
    frame[1] = channel & 0xff;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
    payload.copy(frame, 4);
    frame.fill(0, 4 + length);
    s.write(frame);
    return true;
  }

  /** As sendChannelData; also dropped when the payload is too big for one Data indication. */
  sendDataIndication(peer: Permission, peerPort: number, payload: Buffer): boolean {
    const s = this.socket;
    const length = payload.length;
    if (!s.writable || s.writableLength > RELAYED_BACKLOG_LIMIT) return false;
    if (length > (peer.family === 6 ? MAX_INDICATION_PAYLOAD_V6 : MAX_INDICATION_PAYLOAD_V4)) return false;
    const headerLength = peer.family === 6 ? 48 : 36;
    const frame = Buffer.allocUnsafe(headerLength + ((length + 3) & ~3));
    writeDataIndicationHeader(frame, peer, peerPort, length);
    payload.copy(frame, headerLength);
    frame.fill(0, headerLength + length);
    s.write(frame);
    return true;
  }

  detach(): void {
    const f = this.onDetach;
    this.onDetach = null;
    if (f !== null) f();
  }

  close(): void {
    if (!this.socket.destroyed) this.socket.end();
  }
}
