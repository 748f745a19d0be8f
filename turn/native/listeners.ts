import type { IpFamily } from '../interfaces.js';
import type { Allocation } from '../allocation.js';
import type { ClientEndpoint, HandlerEnv } from '../handlers/context.js';
import type { FiveTuples } from '../transports/udp-link.js';
import { handleStun } from '../dispatch.js';
import type { NativeDataPlane } from './addon.js';
import { NativeUdpLink } from './udp-link.js';

/** One listening address of the native plane: a socket per relay thread, and its 5-tuples' allocations. */
class Group implements FiveTuples {
  /** client IP → client port → allocation (the request path's lookups; the threads keep their own). */
  private readonly allocations = new Map<string, Map<number, Allocation>>();

  constructor(
    readonly family: IpFamily,
    readonly host: string,
  ) {}

  find(address: string, port: number): Allocation | undefined {
    return this.allocations.get(address)?.get(port);
  }

  add(address: string, port: number, alloc: Allocation): void {
    let byPort = this.allocations.get(address);
    if (byPort === undefined) {
      byPort = new Map();
      this.allocations.set(address, byPort);
    }
    byPort.set(port, alloc);
  }

  remove(address: string, port: number): void {
    const byPort = this.allocations.get(address);
    if (byPort === undefined) return;
    byPort.delete(port);
    if (byPort.size === 0) this.allocations.delete(address);
  }
}

/**
 * The UDP listeners of the native data plane: the threads relay client data themselves and hand
 * every other datagram up here, where the engine's request handlers answer it as on the
 * TypeScript path (turn/transports/udp.ts).
 */
export class NativeUdpListeners {
  private readonly groups: Group[] = [];
  private running = true;

  constructor(
    private readonly plane: NativeDataPlane,
    private readonly env: HandlerEnv,
    private readonly now: () => number,
  ) {}

  /** Opens host:port on every thread; a failure carries the address and port, as dgram's errors do. */
  listen(family: IpFamily, host: string, port: number): void {
    try {
      const group = this.plane.listen(family, host, port);
      this.groups[group] = new Group(family, host);
    } catch (err) {
      if (typeof err === 'object' && err !== null) Object.assign(err, { address: host, port });
      throw err;
    }
  }

  /** The addresses listened on, with the ports the kernel chose for port 0; none once stopped. */
  addresses(): { address: string; port: number }[] {
    if (!this.running) return [];
    return this.groups.map((g, i) => ({ address: g.host, port: this.plane.localPort(i) }));
  }

  /** The plane stopped: its listeners are closed. */
  stopped(): void {
    this.running = false;
  }

  /** A datagram the threads handed up (StunHandler): never throws. */
  onDatagram(thread: number, group: number, address: string, port: number, data: Buffer): void {
    try {
      const g = this.groups[group];
      if (g === undefined) return;
      handleStun(this.env, new NativeUdpClient(this.plane, g, thread, group, address, port), data, 0, data.length, this.now());
    } catch {
      // nothing a client sends may stop the listener
      this.env.allocations.faults++;
    }
  }
}

/** The client side of one request that came up from a native thread. */
class NativeUdpClient implements ClientEndpoint {
  readonly transport = 'udp' as const;
  readonly nativeRelay = true;
  readonly family: IpFamily;

  constructor(
    private readonly plane: NativeDataPlane,
    private readonly group: Group,
    private readonly thread: number,
    private readonly groupIndex: number,
    readonly address: string,
    readonly port: number,
  ) {
    this.family = group.family;
  }

  allocation(): Allocation | undefined {
    return this.group.find(this.address, this.port);
  }

  createLink(): NativeUdpLink {
    return new NativeUdpLink(this.plane, this.group, this.thread, this.groupIndex, this.address, this.port);
  }

  setAllocation(alloc: Allocation): void {
    this.group.add(this.address, this.port, alloc);
  }

  reply(message: Buffer): void {
    this.plane.send(this.thread, this.groupIndex, this.address, this.port, message);
  }
}
