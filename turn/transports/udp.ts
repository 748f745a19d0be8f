import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { IpFamily } from '../interfaces.js';
import type { Allocation } from '../allocation.js';
import type { CachedClock } from '../allocation-manager.js';
import type { ClientEndpoint, HandlerEnv } from '../handlers/context.js';
import { handleStun } from '../dispatch.js';
import { isClientData, relayClientData } from '../data-path.js';
import { syncLookup } from '../sync-lookup.js';
import { UdpLink } from './udp-link.js';
import { FiveTupleTable } from './five-tuple-table.js';

const SOCKET_BUFFER_BYTES = 4 << 20;

/** A STUN/TURN listener on one UDP address. Allocations are found by the client's address and port. */
export class UdpListener extends FiveTupleTable {
  readonly socket: Socket;
  readonly family: IpFamily;
  private readonly env: HandlerEnv;
  private readonly clock: CachedClock;
  private readonly now: () => number;

  constructor(family: IpFamily, env: HandlerEnv, clock: CachedClock, now: () => number) {
    super();
    this.family = family;
    this.env = env;
    this.clock = clock;
    this.now = now;
    this.socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', lookup: syncLookup, ipv6Only: family === 6 });
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.socket.on('error', () => {
      // send errors (ICMP unreachable and the like) must not stop the listener
    });
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.socket.once('error', onError);
      this.socket.bind({ address: host, port, exclusive: true }, () => {
        this.socket.removeListener('error', onError);
        try {
          this.socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
          this.socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
        } catch {
          // the kernel may cap buffer sizes; the defaults still work
        }
        resolve();
      });
    });
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    try {
      if (msg.length < 4) return;
      if (isClientData(msg, 0)) {
        const alloc = this.find(rinfo.address, rinfo.port);
        if (alloc !== undefined) relayClientData(alloc, msg, 0, msg.length, this.clock.ms);
        return;
      }
      handleStun(this.env, new UdpClient(this, rinfo.address, rinfo.port), msg, 0, msg.length, this.now());
    } catch {
      // nothing a client sends may stop the listener
      this.env.allocations.faults++;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** The client side of one UDP request: used for the response and to attach an allocation. */
class UdpClient implements ClientEndpoint {
  readonly transport = 'udp' as const;
  readonly family: IpFamily;

  constructor(
    private readonly listener: UdpListener,
    readonly address: string,
    readonly port: number,
  ) {
    this.family = listener.family;
  }

  allocation(): Allocation | undefined {
    return this.listener.find(this.address, this.port);
  }

  createLink(): UdpLink {
    return new UdpLink(this.listener, this.listener.socket, this.address, this.port);
  }

  setAllocation(alloc: Allocation): void {
    this.listener.add(this.address, this.port, alloc);
  }

  reply(message: Buffer): void {
    this.listener.socket.send(message, this.port, this.address);
  }
}
