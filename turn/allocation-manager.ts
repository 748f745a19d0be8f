import type { CloseReason, TurnEvents } from './interfaces.js';
import type { Allocation } from './allocation.js';
import type { RelayBinder } from './relay-binder.js';
import type { EngineLogger } from './options.js';
import { relayFromPeer } from './data-path.js';
import { BandwidthCaps } from './bandwidth.js';
import type { NativeSlots } from './native/slots.js';

/** A clock read on the data path: a number field refreshed by one timer, not a call per packet. */
export interface CachedClock {
  ms: number;
}

/**
 * Owns every live allocation: counts per account and in total, wires relayed sockets to the
 * data path, expires allocations, permissions and channels from one sweep, and reports
 * lifecycle events.
 */
export class AllocationManager {
  private readonly live = new Map<number, Allocation>();
  private readonly perAccount = new Map<string, number>();
  private nextId = 1;
  private readonly binder: RelayBinder;
  private readonly clock: CachedClock;
  /** The engine's event hooks (TurnServer.update replaces them): allocation lifecycle and auth failures. */
  readonly events: TurnEvents | undefined;
  private readonly log: EngineLogger | undefined;
  /**
   * Exceptions caught in a socket callback of the data path or the transports (none is expected:
   * each is a bug, kept from stopping the relay and counted so it does not pass unseen).
   */
  faults = 0;
  /** Bandwidth caps (max_bps) given to allocations as they start. */
  readonly caps: BandwidthCaps;

  /** The native data plane's allocations, when it runs: it relays those whose link is native. */
  readonly native: NativeSlots | undefined;

  constructor(binder: RelayBinder, clock: CachedClock, events?: TurnEvents, log?: EngineLogger, caps?: BandwidthCaps, native?: NativeSlots) {
    this.binder = binder;
    this.clock = clock;
    this.events = events;
    this.log = log;
    this.caps = caps ?? new BandwidthCaps(clock);
    this.native = native;
  }

  newId(): number {
    return this.nextId++;
  }

  get size(): number {
    return this.live.size;
  }

  countFor(account: string): number {
    return this.perAccount.get(account) ?? 0;
  }

  values(): IterableIterator<Allocation> {
    return this.live.values();
  }

  /** Starts relaying for a fully built allocation (its relayed endpoints already bound). */
  add(alloc: Allocation): void {
    this.caps.attach(alloc);
    if (this.native !== undefined && this.native.serves(alloc)) {
      try {
        this.native.open(alloc);
      } catch (err) {
        // Not relayed, so not started: its ports and 5-tuple are free again, and the request fails.
        this.caps.detach(alloc);
        this.release(alloc);
        alloc.closed = true;
        throw err;
      }
    }
    this.live.set(alloc.id, alloc);
    this.perAccount.set(alloc.account, this.countFor(alloc.account) + 1);
    const clock = this.clock;
    for (const relay of [alloc.relay4, alloc.relay6]) {
      if (relay === null || relay.socket === null) continue;
      relay.socket.on('message', (msg, rinfo) => {
        try {
          relayFromPeer(alloc, msg, rinfo, clock.ms);
        } catch {
          // Nothing a peer sends may stop the relay: relayFromPeer drops and counts what it cannot send.
          this.faults++;
        }
      });
    }
    this.log?.debug(
      { allocation: alloc.id, account: alloc.account, transport: alloc.transport, client: `${alloc.clientAddress}:${alloc.clientPort}`, relayed: alloc.relayAddresses },
      'allocation created',
    );
    try {
      this.events?.allocationCreated?.(alloc.info());
    } catch {
      // events must not break the engine
    }
  }

  /** Ends an allocation: frees its ports, forgets its 5-tuple, reports the session. */
  close(alloc: Allocation, reason: CloseReason, now: number): void {
    if (alloc.closed) return;
    alloc.closed = true;
    this.live.delete(alloc.id);
    // The native slot first: its last counters land in `alloc` before the sockets close and the session is reported.
    this.native?.close(alloc);
    const n = this.countFor(alloc.account) - 1;
    if (n > 0) this.perAccount.set(alloc.account, n);
    else this.perAccount.delete(alloc.account);
    this.release(alloc);
    this.caps.detach(alloc);
    if (reason !== 'refresh' && reason !== 'client-closed' && reason !== 'expired') alloc.link.close();
    this.log?.debug(
      {
        allocation: alloc.id,
        account: alloc.account,
        reason,
        seconds: Math.round((now - alloc.startedAt) / 1000),
        bytes_to_peer: alloc.bytesToPeer,
        bytes_to_client: alloc.bytesToClient,
      },
      'allocation closed',
    );
    try {
      this.events?.allocationClosed?.(alloc.info(), reason, now);
    } catch {
      // events must not break the engine
    }
  }

  /** Frees an allocation's relayed ports, its reservation and its 5-tuple. */
  private release(alloc: Allocation): void {
    if (alloc.relay4 !== null) this.binder.release(alloc.relay4);
    if (alloc.relay6 !== null) this.binder.release(alloc.relay6);
    // An unused reservation for the next port has no purpose once its allocation is gone.
    if (alloc.reservationToken !== null) this.binder.cancelReservation(alloc.reservationToken);
    alloc.link.detach();
  }

  /**
   * Closes every allocation matching `predicate`; returns how many. Iterates the live map itself:
   * close() deletes only the entry being visited, which a Map iteration allows, and adds none.
   */
  closeWhere(predicate: (alloc: Allocation) => boolean, reason: CloseReason, now: number): number {
    let n = 0;
    for (const alloc of this.live.values()) {
      if (predicate(alloc)) {
        this.close(alloc, reason, now);
        n++;
      }
    }
    return n;
  }

  /** One timer drives every expiry: allocations, permissions, channels, port reservations. */
  sweep(now: number): void {
    for (const alloc of this.live.values()) {
      if (alloc.expiresAt <= now) this.close(alloc, 'expired', now);
      else alloc.sweep(now);
    }
    this.binder.sweep(now);
  }
}
