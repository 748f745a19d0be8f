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
    this.plane.permission(this.slot, perm.family, perm.ipBytes, perm.expiresAt, perm.relayPorts === null ? -1 : perm.relayPorts.nativeIndex);
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
export class NativeSlots {
  private readonly plane: NativeDataPlane;
  /** Account ids → the native plane's number for their shared buckets. */
  private readonly accountKeys = new Map<string, number>();
  private counters = new Float64Array(SLOT_STRIDE * 64);
  private readonly last = new Float64Array(SLOT_STRIDE);

  constructor(plane: NativeDataPlane) {
    this.plane = plane;
  }

  /** True when `alloc` is one of the native plane's (its client link is). */
  serves(alloc: Allocation): boolean {
    return alloc.link instanceof NativeUdpLink;
  }

  /** Starts relaying `alloc` natively, with its caps as BandwidthCaps gave them. */
  open(alloc: Allocation): void {
    const link = alloc.link as NativeUdpLink;
    const slot = this.plane.open(link.thread, link.group, link.address, link.port, alloc.relay4?.fd ?? -1, alloc.relay6?.fd ?? -1);
    alloc.nativeSlot = slot;
    alloc.mirror = new SlotMirror(this.plane, slot);
    for (const perm of alloc.permissions.values()) alloc.mirror.permission(perm);
    for (const ch of alloc.channels.values()) alloc.mirror.channel(ch);
    this.applyCaps(alloc);
  }

  /** The allocation's caps as its buckets say (after BandwidthCaps attached or changed them). */
  applyCaps(alloc: Allocation): void {
    if (alloc.nativeSlot < 0) return;
    const shared = alloc.accountCaps;
    const key = this.accountKey(alloc.account);
    if (shared !== null) this.plane.setAccountRate(key, shared.toPeer.rate);
    this.plane.setCaps(alloc.nativeSlot, alloc.capToPeer === null ? 0 : alloc.capToPeer.rate, shared === null ? -1 : key);
  }

  /** An account's shared cap changed: its live native allocations follow at once. */
  setAccountRate(account: string, bps: number): void {
    const key = this.accountKeys.get(account);
    if (key !== undefined) this.plane.setAccountRate(key, bps);
  }

  private accountKey(account: string): number {
    let key = this.accountKeys.get(account);
    if (key === undefined) {
      key = this.accountKeys.size;
      this.accountKeys.set(account, key);
    }
    return key;
  }

  /** Stops relaying `alloc` and writes its final counters into it; no packet counts after this. */
  close(alloc: Allocation): void {
    if (alloc.nativeSlot < 0) return;
    this.plane.close(alloc.nativeSlot, this.last);
    copyCounters(alloc, this.last, 0);
    alloc.nativeSlot = -1;
    alloc.mirror = null;
  }

  /** Brings every native allocation's counters up to date (one snapshot for all). */
  sync(allocations: Iterable<Allocation>): void {
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
