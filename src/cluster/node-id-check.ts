/**
 * One process per node id. Two processes with the same cluster.node_id (a copied config or
 * data/node-id) would overwrite each other's registry entry, allocation counts and signaling
 * alive key without a word, so a node checks at start, before its first heartbeat: an entry
 * under its id written by another process (another boot id) is either a live node's or the
 * leftover of this node's previous run (killed without leaving the registry). A live node
 * refreshes its entry every heartbeat, so the check reads the entry again one heartbeat (and a
 * margin) later: moved (a newer heartbeat, or yet another boot id) means live, and the start is
 * refused; unchanged or gone means a leftover, which this node's heartbeats then replace. The
 * wait happens only when such an entry exists, and is bounded by the TTL.
 */
import type { Logger } from '../logger.js';
import { MAX_RELAYS, type RegistryStore, type RelayEntry } from './types.js';

export class DuplicateNodeIdError extends Error {
  constructor(readonly nodeId: string) {
    super(`cluster.node_id ${nodeId} is already used by a live node; give each node its own id`);
    this.name = 'DuplicateNodeIdError';
  }
}

export interface NodeIdCheckOptions {
  readonly store: RegistryStore;
  readonly nodeId: string;
  readonly bootId: string;
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  readonly log: Logger;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How long after the first read the entry is read again: one heartbeat and a margin, at most the TTL. */
export const recheckAfterMs = (heartbeatMs: number, ttlMs: number): number => Math.min(ttlMs, Math.round(heartbeatMs * 1.5) + 250);

/** Resolves when no other live process holds `nodeId`; rejects with DuplicateNodeIdError when one does. Store errors propagate. */
export async function checkNodeIdFree(o: NodeIdCheckOptions): Promise<void> {
  const other = async (): Promise<RelayEntry | undefined> =>
    (await o.store.list(MAX_RELAYS)).map((l) => l.entry).find((e) => e.nodeId === o.nodeId && e.bootId !== o.bootId);
  const first = await other();
  if (first === undefined) return;
  const wait = recheckAfterMs(o.heartbeatMs, o.ttlMs);
  o.log.info({ node_id: o.nodeId, wait_ms: wait }, 'registry: an entry under this node id exists (a previous run, or another node); checking whether it is live');
  await (o.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms))))(wait);
  const second = await other();
  // (An entry of an older version, without beat_at, cannot be told live: it is taken over.)
  const live = second !== undefined && (second.bootId !== first.bootId || second.beatAt !== first.beatAt);
  if (!live) return;
  const err = new DuplicateNodeIdError(o.nodeId);
  o.log.error({ node_id: o.nodeId }, err.message);
  throw err;
}
