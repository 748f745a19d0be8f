/**
 * The TCP and TLS connections of every stream listener, counted at accept (before any TLS
 * handshake): caps per client and in total, and the absolute deadline by which a connection must
 * hold an allocation. Deadlines are numbers swept by one timer, not a timer per connection.
 */
import type { Socket } from 'node:net';
import { budgetKey } from '../rate-limit.js';
import type { ConnectionLimits } from '../options.js';

export type RefusalReason = 'per-ip' | 'total' | 'unallocated';

/**
 * Connections without an allocation (in their TLS handshake, authenticating, or between
 * allocations) one client may hold at once. An honest client allocates within a round trip or
 * two, so even a NAT with many users has few at a time; without this cap a handful of addresses
 * could hold every slot for an allocate_timeout each, without credentials, and lock out every
 * TURN/TCP and TURN/TLS user.
 */
export const UNALLOCATED_PER_CLIENT = 64;

/** One accepted connection, from accept to close. */
export interface ConnectionSlot {
  /** The raw TCP socket (under TLS, the socket the TLS layer wraps): destroying it ends both. */
  readonly socket: Socket;
  /** The client it is counted under (its per-client entry). */
  readonly client: ClientCount;
  /** Monotonic ms by which an allocation must exist; 0 while the connection holds one. */
  deadline: number;
  released: boolean;
}

/** One client's connections: all of them, and those without an allocation. */
interface ClientCount {
  readonly key: string;
  open: number;
  unallocated: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  perIp: 1000,
  total: 10_000,
  allocateTimeoutMs: 30_000,
};

/**
 * The key connections are counted under: the IPv4 address (also for an IPv4-mapped IPv6 one, as a
 * dual-stack TCP listener reports IPv4 clients), or the /64 of an IPv6 address: the rate limits'
 * budgetKey, which keys the same way.
 */
export function clientKey(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : budgetKey(address);
}

export class ConnectionTable {
  private limits: ConnectionLimits;
  private readonly perClient = new Map<string, ClientCount>();
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
    const key = clientKey(socket.remoteAddress ?? '');
    const known = this.perClient.get(key);
    if (known !== undefined && known.open >= this.limits.perIp) return 'per-ip';
    if (known !== undefined && known.unallocated >= UNALLOCATED_PER_CLIENT) return 'unallocated';
    // At most half the slots (never fewer than one client's share) wait for an allocation: the
    // rest stay for connections that have one, so many addresses cannot take every slot either.
    if (this.pending.size >= Math.max(UNALLOCATED_PER_CLIENT, this.limits.total >> 1)) return 'unallocated';
    const client = known ?? { key, open: 0, unallocated: 0 };
    if (known === undefined) this.perClient.set(key, client);
    client.open++;
    this.count++;
    const slot: ConnectionSlot = { socket, client, deadline: 0, released: false };
    this.waitForAllocation(slot);
    return slot;
  }

  /** The connection holds an allocation: no deadline while it lasts. */
  allocated(slot: ConnectionSlot): void {
    slot.deadline = 0;
    this.unpend(slot);
  }

  /** The connection has no allocation (accepted, or its allocation ended): the deadline starts. */
  waitForAllocation(slot: ConnectionSlot): void {
    if (slot.released) return;
    slot.deadline = this.now() + this.limits.allocateTimeoutMs;
    if (this.pending.has(slot)) return;
    this.pending.add(slot);
    slot.client.unallocated++;
  }

  /** The socket has closed: uncounts it; idempotent. */
  release(slot: ConnectionSlot): void {
    if (slot.released) return;
    slot.released = true;
    this.unpend(slot);
    this.count--;
    const client = slot.client;
    if (--client.open <= 0 && this.perClient.get(client.key) === client) this.perClient.delete(client.key);
  }

  /** Connections without an allocation now (every client's). */
  get unallocated(): number {
    return this.pending.size;
  }

  private unpend(slot: ConnectionSlot): void {
    if (this.pending.delete(slot)) slot.client.unallocated--;
  }

  /** Closes every connection past its deadline; returns how many. */
  sweep(): number {
    const now = this.now();
    let closed = 0;
    for (const slot of this.pending) {
      if (now < slot.deadline) continue;
      this.unpend(slot);
      slot.socket.destroy();
      closed++;
    }
    return closed;
  }
}
