/**
 * What the other live nodes of a fleet hold: their live allocations per account, as each node
 * publishes them (src/store/redis/fleet-counts.ts: a hash per node with the node's TTL, rewritten
 * every heartbeat, and a message on every change). Read synchronously by the allocation gate
 * (allocations_per_user across nodes) and the bandwidth share (an account's max_bps split across
 * the nodes relaying it). Bounded: at most MAX_NODES nodes and MAX_ACCOUNTS_PER_NODE accounts
 * per node; what is past them is not counted.
 */

export const MAX_NODES = 1024;
export const MAX_ACCOUNTS_PER_NODE = 65_536;

interface Sum {
  /** Allocations across the other nodes. */
  count: number;
  /** Other nodes with at least one. */
  nodes: number;
}

export class RemoteCounts {
  readonly #byNode = new Map<string, Map<string, number>>();
  readonly #sums = new Map<string, Sum>();
  readonly #listeners: Array<(account: string) => void> = [];

  /** Calls `listener` with each account whose number of other nodes changed; returns the unsubscribe. */
  onNodesChanged(listener: (account: string) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  #changed(account: string): void {
    for (const l of this.#listeners) {
      try {
        l(account);
      } catch {
        // Listeners must not throw; one that does must not stop the update.
      }
    }
  }

  /** Allocations of `account` on the other nodes. */
  count(account: string): number {
    return this.#sums.get(account)?.count ?? 0;
  }

  /** Other nodes holding allocations of `account`. */
  nodes(account: string): number {
    return this.#sums.get(account)?.nodes ?? 0;
  }

  /** Accounts with allocations on other nodes (for tests and bounds). */
  get accounts(): number {
    return this.#sums.size;
  }

  /** Node `node` now holds `count` allocations of `account` (a message). Returns whether its node count changed. */
  set(node: string, account: string, count: number): boolean {
    let counts = this.#byNode.get(node);
    if (counts === undefined) {
      if (count <= 0 || this.#byNode.size >= MAX_NODES) return false;
      counts = new Map();
      this.#byNode.set(node, counts);
    }
    const before = counts.get(account) ?? 0;
    if (count > 0 && before === 0 && counts.size >= MAX_ACCOUNTS_PER_NODE) return false;
    if (count > 0) counts.set(account, count);
    else counts.delete(account);
    if (counts.size === 0) this.#byNode.delete(node);
    const changed = this.#add(account, count - before, (count > 0 ? 1 : 0) - (before > 0 ? 1 : 0));
    if (changed) this.#changed(account);
    return changed;
  }

  /**
   * Replaces everything with a full read of the live nodes (a heartbeat's resync): nodes absent
   * from `nodes` are gone (their TTL ran out). Returns the accounts whose node count changed.
   */
  replace(nodes: ReadonlyMap<string, ReadonlyMap<string, number>>): Set<string> {
    const before = new Map<string, number>();
    for (const [account, s] of this.#sums) before.set(account, s.nodes);
    this.#byNode.clear();
    this.#sums.clear();
    for (const [node, counts] of nodes) {
      if (this.#byNode.size >= MAX_NODES) break;
      const kept = new Map<string, number>();
      for (const [account, count] of counts) {
        if (kept.size >= MAX_ACCOUNTS_PER_NODE) break;
        if (!(Number.isSafeInteger(count) && count > 0)) continue;
        kept.set(account, count);
        this.#add(account, count, 1);
      }
      if (kept.size > 0) this.#byNode.set(node, kept);
    }
    const changed = new Set<string>();
    for (const [account, n] of before) if (this.nodes(account) !== n) changed.add(account);
    for (const account of this.#sums.keys()) if (!before.has(account)) changed.add(account);
    for (const account of changed) this.#changed(account);
    return changed;
  }

  #add(account: string, count: number, nodes: number): boolean {
    let s = this.#sums.get(account);
    if (s === undefined) {
      if (count <= 0 && nodes <= 0) return false;
      s = { count: 0, nodes: 0 };
      this.#sums.set(account, s);
    }
    s.count += count;
    s.nodes += nodes;
    if (s.count <= 0 && s.nodes <= 0) this.#sums.delete(account);
    return nodes !== 0;
  }
}
