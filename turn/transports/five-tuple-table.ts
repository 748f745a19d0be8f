import type { Allocation } from '../allocation.js';
import type { FiveTuples } from './udp-link.js';

/**
 * The allocations of one UDP listening address by client IP and port: its 5-tuples. Both UDP
 * listeners keep one (the TypeScript one looks up every client datagram in it; the native one
 * only requests, its threads keep their own).
 */
export class FiveTupleTable implements FiveTuples {
  /** client IP → client port → allocation. */
  private readonly allocations = new Map<string, Map<number, Allocation>>();

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
