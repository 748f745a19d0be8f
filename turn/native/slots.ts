import type { Allocation, AllocationMirror } from '../allocation.js';
import type { PortChannel, Permission } from '../permission.js';
import type { Channel } from '../channel.js';
import { COUNTER_FIELDS, SLOT_STRIDE, type NativeDataPlane } from './addon.js';
import { NativeUdpLink } from './udp-link.js';

/** Pushes one allocation's permission and channel changes down to its native slot. */
class SlotMirror implements AllocationMirror {
  constructor(
    private readonly plane: NativeDataPlane,
    private readonly slot: number,
  ) {}

  permission(perm: Permission): void {
    // -1: any port; a table index; -2 (a 'relay-only' verdict on a table the plane does not share): no port.
    const table = perm.relayPorts === null ? -1 : perm.relayPorts.nativeIndex >= 0 ? perm.relayPorts.nativeIndex : -2;
    this.plane.permission(this.slot, perm.family, perm.ipBytes, perm.expiresAt, table);
  }

  permissionRemoved(perm: Permission): void {
    this.plane.removePermission(this.slot, perm.family, perm.ipBytes);
  }

  channel(ch: Channel): void {
    const perm = ch.permission;
    this.plane.channel(this.slot, ch.number, perm.family, perm.ipBytes, ch.port, ch.expiresAt);
  }

  channelRemoved(ch: PortChannel): void {
    this.plane.removeChannel(this.slot, ch.number);
  }
}

/**
 * The allocations the native plane relays, seen from the engine: opens and closes their slots,
 * gives them their caps, and brings their counters back into the Allocation objects (by one
 * snapshot call for all of them, before anything reads the counters; and at close, the final ones).
 */
/** An account's shared buckets in the plane: their number and the slots that use them. */
interface AccountKey {
  readonly key: number;
  readonly slots: Set<number>;
}

export class NativeSlots {
  private readonly plane: NativeDataPlane;
  /** Capped accounts with live native allocations → their buckets' number (freed with the last). */
  private readonly accounts = new Map<string, AccountKey>();
  private readonly freeKeys: number[] = [];
  private nextKey = 0;
  private counters = new Float64Array(SLOT_STRIDE * 64);
  private readonly last = new Float64Array(SLOT_STRIDE);
  /** False once the plane stopped: every call does nothing (its slots were closed before). */
  private running = true;

  constructor(plane: NativeDataPlane) {
    this.plane = plane;
  }

  /** The plane stopped: nothing more goes down to it. */
  stopped(): void {
    this.running = false;
  }

  /** True when `alloc` is one of the native plane's (its client link is). */
  serves(alloc: Allocation): boolean {
    return alloc.link instanceof NativeUdpLink;
  }

  /** Starts relaying `alloc` natively, with its caps as BandwidthCaps gave them. Throws when the plane has no room. */
  open(alloc: Allocation): void {
    if (!this.running) throw new Error('the native data plane is stopped');
    const link = alloc.link as NativeUdpLink;
    const slot = this.plane.open(link.thread, link.group, link.address, link.port, alloc.relay4?.fd ?? -1, alloc.relay6?.fd ?? -1);
    if (slot < 0) throw new Error('the native data plane cannot serve another allocation (epoll refused its sockets)');
    alloc.nativeSlot = slot;
    alloc.mirror = new SlotMirror(this.plane, slot);
    for (const perm of alloc.permissions.values()) alloc.mirror.permission(perm);
    for (const ch of alloc.channels.values()) alloc.mirror.channel(ch);
    this.applyCaps(alloc);
  }

  /** The allocation's caps as its buckets say (after BandwidthCaps attached or changed them). */
  applyCaps(alloc: Allocation): void {
    if (!this.running || alloc.nativeSlot < 0) return;
    const shared = alloc.accountCaps;
    let key = -1;
    if (shared !== null) {
      key = this.hold(alloc.account, alloc.nativeSlot);
      this.plane.setAccountRate(key, shared.toPeer.rate);
    } else {
      this.release(alloc.account, alloc.nativeSlot);
    }
    this.plane.setCaps(alloc.nativeSlot, alloc.capToPeer === null ? 0 : alloc.capToPeer.rate, key);
  }

  /** An account's shared cap changed: its live native allocations follow at once. */
  setAccountRate(account: string, bps: number): void {
    const a = this.accounts.get(account);
    if (this.running && a !== undefined) this.plane.setAccountRate(a.key, bps);
  }

  private hold(account: string, slot: number): number {
    let a = this.accounts.get(account);
    if (a === undefined) {
      a = { key: this.freeKeys.pop() ?? this.nextKey++, slots: new Set() };
      this.accounts.set(account, a);
    }
    a.slots.add(slot);
    return a.key;
  }

  /**
   * A slot no longer uses its account's buckets: with the last one, the number is free again and
   * its buckets uncapped, so the account's next allocation starts with full buckets (as BandwidthCaps
   * makes new ones), and the table holds only accounts with live capped allocations.
   */
  private release(account: string, slot: number): void {
    const a = this.accounts.get(account);
    if (a === undefined || !a.slots.delete(slot) || a.slots.size > 0) return;
    this.accounts.delete(account);
    this.plane.setAccountRate(a.key, 0);
    this.freeKeys.push(a.key);
  }

  /** Stops relaying `alloc` and writes its final counters into it; no packet counts after this. */
  close(alloc: Allocation): void {
    if (alloc.nativeSlot < 0) return;
    const slot = alloc.nativeSlot;
    alloc.nativeSlot = -1;
    alloc.mirror = null;
    if (!this.running) return;
    this.plane.close(slot, this.last);
    copyCounters(alloc, this.last, 0);
    this.release(alloc.account, slot);
  }

  /** Brings every native allocation's counters up to date (one snapshot for all). */
  sync(allocations: Iterable<Allocation>): void {
    if (!this.running) return;
    let needed = this.plane.snapshot(this.counters);
    if (needed * SLOT_STRIDE > this.counters.length) {
      this.counters = new Float64Array(Math.max(needed * SLOT_STRIDE, this.counters.length * 2));
      needed = this.plane.snapshot(this.counters);
    }
    for (const alloc of allocations) {
      if (alloc.nativeSlot >= 0 && alloc.nativeSlot < needed) copyCounters(alloc, this.counters, alloc.nativeSlot * SLOT_STRIDE);
    }
  }
}

function copyCounters(alloc: Allocation, from: Float64Array, at: number): void {
  const a = alloc as unknown as Record<(typeof COUNTER_FIELDS)[number], number>;
  for (let i = 0; i < COUNTER_FIELDS.length; i++) a[COUNTER_FIELDS[i]] = from[at + i];
}
