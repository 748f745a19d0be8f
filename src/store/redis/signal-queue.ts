/**
 * The messages this node queued in Redis for absent peers, remembered here until their expiry:
 * the queue itself is in Redis (any node drains it when the peer registers there), but only the
 * node the sender is connected to can tell the sender that a message expired, and it is the one
 * that counts the account's queued messages against maxQueuedPerAccount. Every message waits
 * the same TTL, so arrival order is expiry order: one FIFO, swept from its head.
 */
import { ExpiryFifo } from '../../expiry-fifo.js';
import type { RoutedPeer } from '../../signaling/router.js';

export interface QueuedRecord {
  readonly accountId: string;
  readonly target: string;
  /** "<expiresAt> <qid> ": finds the entry in the target's Redis list. */
  readonly prefix: string;
  readonly sender: RoutedPeer;
  readonly id: string | number | undefined;
  readonly expiresAt: number;
  /** Dropped (its account closed) before its expiry: the sweep skips it. */
  dropped: boolean;
}

export class FleetQueue {
  private readonly fifo = new ExpiryFifo<QueuedRecord>();
  private readonly perAccount = new Map<string, number>();
  count = 0;

  accountCount(accountId: string): number {
    return this.perAccount.get(accountId) ?? 0;
  }

  push(r: QueuedRecord): void {
    this.fifo.push(r);
    this.count += 1;
    this.perAccount.set(r.accountId, this.accountCount(r.accountId) + 1);
  }

  /** Removes and returns up to `max` records whose expiry is <= now (dropped ones are not returned), oldest first. */
  expired(now: number, max: number): QueuedRecord[] {
    const out: QueuedRecord[] = [];
    while (out.length < max) {
      const r = this.fifo.shiftExpired(now);
      if (r === undefined) break;
      this.forget(r);
      if (!r.dropped) out.push(r);
    }
    return out;
  }

  /** Marks the account's records dropped and returns them (their entries are removed from Redis by the caller). */
  dropAccount(accountId: string): QueuedRecord[] {
    if (this.accountCount(accountId) === 0) return [];
    const out: QueuedRecord[] = [];
    for (const r of this.fifo.waiting()) {
      if (r.accountId !== accountId || r.dropped) continue;
      r.dropped = true;
      out.push(r);
    }
    // Dropped records still wait in the FIFO (skipped at expiry) but no longer count.
    this.count -= out.length;
    this.perAccount.delete(accountId);
    return out;
  }

  clear(): void {
    this.fifo.clear();
    this.count = 0;
    this.perAccount.clear();
  }

  private forget(r: QueuedRecord): void {
    if (r.dropped) return;
    this.count -= 1;
    const n = this.accountCount(r.accountId) - 1;
    if (n > 0) this.perAccount.set(r.accountId, n);
    else this.perAccount.delete(r.accountId);
  }
}
