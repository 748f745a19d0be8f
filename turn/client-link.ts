import type { TransportName } from './interfaces.js';
import type { Permission } from './permission.js';

/**
 * The client side of an allocation's 5-tuple: how bytes get back to the client.
 * Implementations live in transports/ (UDP datagrams, TCP/TLS streams).
 */
export interface ClientLink {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
  /**
   * Per-packet: peer payload to the client as ChannelData on `channel`. Returns true when it was
   * handed to the socket, false when it was dropped (too big to frame or for one datagram, past
   * a stream client's backlog, connection closed). Never throws.
   */
  sendChannelData(channel: number, payload: Buffer): boolean;
  /** Per-packet: peer payload to the client as a Data indication from `peer`:`peerPort`; as sendChannelData. */
  sendDataIndication(peer: Permission, peerPort: number, payload: Buffer): boolean;
  /** Forgets the allocation on this 5-tuple (called once when the allocation ends). */
  detach(): void;
  /** Ends the client side (stream transports close the connection; UDP does nothing). */
  close(): void;
}
