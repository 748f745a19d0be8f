/**
 * The registry of one node (storage is SQLite): the node is the whole fleet, so its entry is kept
 * in memory, with the same TTL rule as in Redis. GET /v1/relays lists it alone.
 */
import { MAX_RELAYS, type RegistryStore, type RelayEntry, type RelayListing } from './types.js';

export class MemoryRegistryStore implements RegistryStore {
  readonly #entries = new Map<string, { entry: RelayEntry; expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async put(entry: RelayEntry, ttlMs: number): Promise<void> {
    if (!this.#entries.has(entry.nodeId) && this.#entries.size >= MAX_RELAYS) return;
    this.#entries.set(entry.nodeId, { entry, expiresAt: this.#now() + ttlMs });
  }

  async remove(nodeId: string): Promise<void> {
    this.#entries.delete(nodeId);
  }

  async list(max: number): Promise<RelayListing[]> {
    const now = this.#now();
    const out: RelayListing[] = [];
    for (const [id, e] of this.#entries) {
      if (e.expiresAt <= now) this.#entries.delete(id);
      else if (out.length < max) out.push({ entry: e.entry, remainingMs: e.expiresAt - now });
    }
    return out;
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}
