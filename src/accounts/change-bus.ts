/**
 * How account changes reach the other nodes of a fleet. Each node keeps its accounts in memory
 * (the AccountDirectory read by the TURN auth path, limits, bandwidth caps), so a change written
 * to the shared store on one node is announced here, and every other node reloads that account
 * from the store and applies it as a local change would (closing allocations, applying a cap).
 * A message names what changed, never the new values: the store is the truth, so a lost,
 * repeated or late message never leaves a node with a wrong value for longer than the next one,
 * and a reconnect is followed by a full resync (as is every minute: the net for a lost message).
 */

export interface AccountChange {
  readonly accountId: string;
  /** The change ended the account's access (disabled, deleted, credentials revoked): close its allocations and sockets. */
  readonly closed?: boolean;
  /** One of the account's API keys was revoked: close the sockets opened with it. */
  readonly apiKeyId?: string;
}

export interface AccountChangeListener {
  /** A change made on another node. */
  change(change: AccountChange): void;
  /** Changes may have been missed (first connect, reconnect): reload every account. */
  resync(): void;
}

export interface AccountChangeBus {
  /** Announces a change made here, after it is written to the store. Never throws. */
  publish(change: AccountChange): void;
  /** Listens to the other nodes' changes; returns the unsubscribe. */
  subscribe(listener: AccountChangeListener): () => void;
}
