/**
 * Messages waiting for a peer that is not connected. Every message waits the same TTL, so the
 * order of arrival is the order of expiry: one FIFO over all accounts, swept from its head, finds
 * the expired ones without scanning (no timer per message).
 */
/**
 * The connection that queued a message: told if it expires undelivered, only while it is still
 * open. A later connection of the same peer id never sent it and is not told.
 */
export interface PendingSender {
  readonly open: boolean;
  sendError(code: 'peer_unavailable', message: string, id?: string | number, to?: string): void;
}

export interface Pending {
  /** Where it waits: the account's table and the target peer id. */
  readonly table: PendingTable;
  readonly target: string;
  /** The frame as the target will receive it ('' once done, so the FIFO holds no payload). */
  text: string;
  readonly from: string;
  readonly sender: PendingSender;
  readonly id: string | number | undefined;
  readonly expiresAt: number;
  /** Delivered or expired (then the FIFO skips it). */
  done: boolean;
}

/** One account's queues, by target peer id. */
export class PendingTable {
  constructor(readonly accountId: string) {}

  readonly byTarget = new Map<string, Pending[]>();
  count = 0;

  /** Messages queued for `target`. */
  size(target: string): number {
    return this.byTarget.get(target)?.length ?? 0;
  }

  /** Removes and returns the queue of `target` (in arrival order), marking each message done. */
  take(target: string): Pending[] {
    const queue = this.byTarget.get(target);
    if (!queue) return [];
    this.byTarget.delete(target);
    this.count -= queue.length;
    for (const p of queue) p.done = true;
    return queue; // the caller reads each text, then drops the queue
  }

  /** Removes one message (expired) from its queue. */
  remove(p: Pending): void {
    const queue = this.byTarget.get(p.target);
    if (!queue) return;
    const i = queue.indexOf(p);
    if (i < 0) return;
    queue.splice(i, 1);
    this.count -= 1;
    p.done = true;
    p.text = '';
    if (queue.length === 0) this.byTarget.delete(p.target);
  }

  add(p: Pending): void {
    const queue = this.byTarget.get(p.target);
    if (queue) queue.push(p);
    else this.byTarget.set(p.target, [p]);
    this.count += 1;
  }
}
