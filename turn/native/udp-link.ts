import type { ClientLink } from '../client-link.js';
import type { Permission } from '../permission.js';
import type { FiveTuples } from '../transports/udp-link.js';
import { MAX_UDP_PAYLOAD_V4, MAX_UDP_PAYLOAD_V6, PAD, writeDataIndicationHeader } from '../data-path.js';
import type { NativeDataPlane } from './addon.js';

/**
 * The client side of a UDP 5-tuple the native data plane serves: which relay thread and listening
 * group it arrived on. The native threads relay its data themselves; these sends exist for the
 * ClientLink contract (the engine's request path never relays), each one a copy and one call.
 */
export class NativeUdpLink implements ClientLink {
  readonly transport = 'udp' as const;
  readonly thread: number;
  readonly group: number;
  readonly address: string;
  readonly port: number;
  private readonly plane: NativeDataPlane;
  private readonly tuples: FiveTuples;
  private readonly maxDatagram: number;

  constructor(plane: NativeDataPlane, tuples: FiveTuples, thread: number, group: number, address: string, port: number) {
    this.plane = plane;
    this.tuples = tuples;
    this.thread = thread;
    this.group = group;
    this.address = address;
    this.port = port;
    this.maxDatagram = address.includes(':') ? MAX_UDP_PAYLOAD_V6 : MAX_UDP_PAYLOAD_V4;
  }

  sendChannelData(channel: number, payload: Buffer): boolean {
    if (4 + payload.length > this.maxDatagram) return false;
    const out = Buffer.allocUnsafe(4 + payload.length);
    out.writeUInt16BE(channel, 0);
    out.writeUInt16BE(payload.length, 2);
    payload.copy(out, 4);
    return this.plane.send(this.thread, this.group, this.address, this.port, out);
  }

  sendDataIndication(peer: Permission, peerPort: number, payload: Buffer): boolean {
    const header = Buffer.allocUnsafe(48);
    const n = writeDataIndicationHeader(header, peer, peerPort, payload.length);
    const pad = PAD[(4 - (payload.length & 3)) & 3];
    if (n === 0 || n + payload.length + pad.length > this.maxDatagram) return false;
    return this.plane.send(this.thread, this.group, this.address, this.port, Buffer.concat([header.subarray(0, n), payload, pad]));
  }

  detach(): void {
    this.tuples.remove(this.address, this.port);
  }

  close(): void {
    // A UDP 5-tuple has nothing to close.
  }
}
