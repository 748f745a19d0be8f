import type { Socket } from 'node:dgram';
import type { ClientLink } from '../client-link.js';
import type { Permission } from '../permission.js';

/** Where a UDP listener keeps its allocations by client address and port. */
export interface FiveTuples {
  remove(address: string, port: number): void;
}
import { MAX_UDP_PAYLOAD_V4, MAX_UDP_PAYLOAD_V6, PAD, SEND_QUEUE_LIMIT, writeDataIndicationHeader } from '../data-path.js';

/*
 * Per-packet headers are written into shared scratch buffers and sent together with the
 * payload as one datagram (a gather write, no copy). Node sends synchronously when it can;
 * only when the kernel queue is full does it keep the buffers for later, and then the scratch
 * is handed over to that pending send and replaced (rare: allocation only under back-pressure).
 */
let channelHeader = Buffer.allocUnsafeSlow(4);
let indicationScratch = Buffer.allocUnsafeSlow(48);
let indicationV4 = indicationScratch.subarray(0, 36);
let indicationV6 = indicationScratch.subarray(0, 48);
const pair: Buffer[] = [channelHeader, channelHeader];
const triple: Buffer[] = [channelHeader, channelHeader, channelHeader];

function renewIndicationScratch(): void {
  indicationScratch = Buffer.allocUnsafeSlow(48);
  indicationV4 = indicationScratch.subarray(0, 36);
  indicationV6 = indicationScratch.subarray(0, 48);
}

/** The client side of a UDP 5-tuple: the listening socket and the client's address. */
export class UdpLink implements ClientLink {
  readonly transport = 'udp' as const;
  readonly socket: Socket;
  readonly address: string;
  readonly port: number;
  private readonly tuples: FiveTuples;
  /** The largest datagram the client's address family can take (IPv6 listeners are IPv6-only). */
  private readonly maxDatagram: number;
  /** The socket's send queue was over SEND_QUEUE_LIMIT after this link's last send. */
  private congested = false;

  constructor(tuples: FiveTuples, socket: Socket, address: string, port: number) {
    this.tuples = tuples;
    this.socket = socket;
    this.address = address;
    this.port = port;
    this.maxDatagram = address.includes(':') ? MAX_UDP_PAYLOAD_V6 : MAX_UDP_PAYLOAD_V4;
  }

  /*
   * A datagram too big for the client's family is dropped here: dgram would fail it later, with
   * EMSGSIZE, after it had been counted. Other send errors come back only through a per-send
   * callback (an allocation per packet), so they are not seen: see data-path.ts.
   */
  sendChannelData(channel: number, payload: Buffer): boolean {
    const h = channelHeader;
    const length = payload.length;
    if (4 + length > this.maxDatagram || (this.congested && this.stillCongested())) return false;
    h[0] = channel >>> 8;
    h[1] = channel & 0xff;
    h[2] = length >>> 8;
    h[3] = length & 0xff;
    pair[0] = h;
    pair[1] = payload;
    this.socket.send(pair, this.port, this.address);
    pair[1] = h;
    const queued = this.socket.getSendQueueCount();
    if (queued !== 0) {
      channelHeader = Buffer.allocUnsafeSlow(4);
      this.congested = queued > SEND_QUEUE_LIMIT;
    }
    return true;
  }

  sendDataIndication(peer: Permission, peerPort: number, payload: Buffer): boolean {
    if ((peer.family === 6 ? 48 : 36) + ((payload.length + 3) & ~3) > this.maxDatagram) return false;
    if (this.congested && this.stillCongested()) return false;
    const n = writeDataIndicationHeader(indicationScratch, peer, peerPort, payload.length);
    if (n === 0) return false;
    const header = n === 36 ? indicationV4 : indicationV6;
    const pad = (4 - (payload.length & 3)) & 3;
    if (pad === 0) {
      pair[0] = header;
      pair[1] = payload;
      this.socket.send(pair, this.port, this.address);
      pair[1] = header;
    } else {
      triple[0] = header;
      triple[1] = payload;
      triple[2] = PAD[pad];
      this.socket.send(triple, this.port, this.address);
      triple[1] = header;
    }
    const queued = this.socket.getSendQueueCount();
    if (queued !== 0) {
      renewIndicationScratch();
      this.congested = queued > SEND_QUEUE_LIMIT;
    }
    return true;
  }

  /**
   * The listening socket's queue was over SEND_QUEUE_LIMIT after this link's last send (the queue
   * is read after every send anyway, for the scratch buffers): read it again before sending more.
   * Every link of the socket reads the queue after its sends, so it holds at most
   * SEND_QUEUE_LIMIT plus one datagram per link.
   */
  private stillCongested(): boolean {
    this.congested = this.socket.getSendQueueCount() > SEND_QUEUE_LIMIT;
    return this.congested;
  }

  detach(): void {
    this.tuples.remove(this.address, this.port);
  }

  close(): void {
    // A UDP 5-tuple has nothing to close.
  }
}
