/**
 * The TCP and TLS connections of every stream listener, counted at accept (before any TLS
 * handshake): caps per client and in total, and the absolute deadline by which a connection must
 * hold an allocation. Deadlines are numbers swept by one timer, not a timer per connection.
 */
import type { Socket } from 'node:net';
import { parseIp } from '../codec/address.js';
import type { ConnectionLimits } from '../options.js';

export type RefusalReason = 'per-ip' | 'total';

/** One accepted connection, from accept to close. */
export interface ConnectionSlot {
  /** The raw TCP socket (under TLS, the socket the TLS layer wraps): destroying it ends both. */
  readonly socket: Socket;
  /** The per-client key it is counted under. */
  readonly client: string;
  /** Monotonic ms by which an allocation must exist; 0 while the connection holds one. */
  deadline: number;
  released: boolean;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  perIp: 1000,
  total: 10_000,
  allocateTimeoutMs: 30_000,
};

/**
 * The key connections are counted under: the IPv4 address (also for an IPv4-mapped IPv6 one), or
 * the /64 prefix of an IPv6 address, as one host usually holds a whole /64.
 */
export function clientKey(address: string): string {
  const ip = parseIp(address);
  if (ip === null) return address;
  if (ip.family === 4) return address;
  const b = ip.bytes;
  const mapped = b.readUInt32BE(0) === 0 && b.readUInt32BE(4) === 0 && b.readUInt32BE(8) === 0xffff;
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return `${b.toString('hex', 0, 8)}/64`;
}

export class ConnectionTable {
  private limits: ConnectionLimits;
  private readonly perClient = new Map<string, number>();
  /** Connections without an allocation, each with its deadline. */
  private readonly pending = new Set<ConnectionSlot>();
  private count = 0;

  constructor(
    limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.limits = limits;
  }

  /** New limits, for connections accepted from now on (live ones keep their deadline). */
  update(limits: ConnectionLimits): void {
    this.limits = limits;
  }

  /** Connections open now (TCP and TLS, handshaking ones included). */
  get size(): number {
    return this.count;
  }

  /** Clients with at least one connection open (the per-client table's size). */
  get clients(): number {
    return this.perClient.size;
  }

  /**
   * Counts a just-accepted socket and starts its deadline; returns the reason when a cap is
   * reached (the caller closes the socket and nothing is counted).
   */
  admit(socket: Socket): ConnectionSlot | RefusalReason {
    if (this.count >= this.limits.total) return 'total';
    const client = clientKey(socket.remoteAddress ?? '');
    const n = this.perClient.get(client) ?? 0;
    if (n >= this.limits.perIp) return 'per-ip';
    this.perClient.set(client, n + 1);
    this.count++;
    const slot: ConnectionSlot = { socket, client, deadline: 0, released: false };
    this.waitForAllocation(slot);
    return slot;
  }

  /** The connection holds an allocation: no deadline while it lasts. */
  allocated(slot: ConnectionSlot): void {
    slot.deadline = 0;
    this.pending.delete(slot);
  }

  /** The connection has no allocation (accepted, or its allocation ended): the deadline starts. */
  waitForAllocation(slot: ConnectionSlot): void {
    if (slot.released) return;
    slot.deadline = this.now() + this.limits.allocateTimeoutMs;
    this.pending.add(slot);
  }

  /** The socket has closed: uncounts it; idempotent. */
  release(slot: ConnectionSlot): void {
    if (slot.released) return;
    slot.released = true;
    this.pending.delete(slot);
    this.count--;
    const n = (this.perClient.get(slot.client) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(slot.client);
    else this.perClient.set(slot.client, n);
  }

  /** Closes every connection past its deadline; returns how many. */
  sweep(): number {
    const now = this.now();
    let closed = 0;
    for (const slot of this.pending) {
      if (now < slot.deadline) continue;
      this.pending.delete(slot);
      slot.socket.destroy();
      closed++;
    }
    return closed;
  }
}
