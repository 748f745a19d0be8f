/**
 * Catching up API key revocations a node missed (a lost pub/sub message): during a resync, the
 * accounts that have sockets open here with API keys (what the access-revoked listeners report)
 * have their keys listed from the store, and each key in use that the store says is revoked is
 * returned, for its sockets to be closed. Bounded: at most MAX_KEY_ACCOUNTS accounts per resync,
 * taken in turn (a cursor moves on), so every account is checked within a few resyncs.
 */
import type { AccountStore } from './types.js';

export const MAX_KEY_ACCOUNTS = 200;

/** account id → the ids of the API keys that opened its live connections here. */
export type ApiKeysInUse = () => ReadonlyMap<string, ReadonlySet<string>>;

export class KeyCatchUp {
  #cursor = 0;

  /** The [account, key] pairs in use here whose key the store has revoked. Throws when the store does. */
  async revokedInUse(store: AccountStore, sources: readonly ApiKeysInUse[], active: (accountId: string) => boolean): Promise<[string, string][]> {
    const inUse = new Map<string, Set<string>>();
    for (const source of sources) {
      let held: ReadonlyMap<string, ReadonlySet<string>>;
      try {
        held = source();
      } catch {
        continue; // a listener's failure is its own
      }
      for (const [accountId, keys] of held) {
        // An account that lost access had all its sockets closed already.
        if (!active(accountId)) continue;
        const set = inUse.get(accountId) ?? new Set<string>();
        for (const k of keys) set.add(k);
        inUse.set(accountId, set);
      }
    }
    const ids = [...inUse.keys()];
    if (ids.length === 0) return [];
    const start = this.#cursor % ids.length;
    const turn = ids.length <= MAX_KEY_ACCOUNTS ? ids : [...ids.slice(start), ...ids.slice(0, start)].slice(0, MAX_KEY_ACCOUNTS);
    this.#cursor = start + turn.length;
    const out: [string, string][] = [];
    for (const accountId of turn) {
      const revoked = new Set((await store.listApiKeys(accountId)).filter((k) => k.revokedAt !== null).map((k) => k.id));
      for (const keyId of inUse.get(accountId) ?? []) if (revoked.has(keyId)) out.push([accountId, keyId]);
    }
    return out;
  }
}
