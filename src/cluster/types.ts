/**
 * The relay registry's shape: what one node of a fleet publishes about itself (its entry), and the
 * store the entries live in (Redis for a fleet: src/store/redis/registry.ts; memory for one node).
 * An entry lives for the cluster's TTL unless its node refreshes it: a node that stops
 * heartbeating (crash, partition) drops out of the pool by itself.
 */

export type RelayState = 'active' | 'draining';
export type RelayTransport = 'udp' | 'tcp' | 'tls';

export interface RelayPorts {
  readonly udp?: number;
  readonly tcp?: number;
  readonly tls?: number;
}

export interface RelayLoad {
  /** Live TURN allocations on the node. */
  readonly allocations: number;
  /** Relayed payload bytes per second (both ways), averaged over the last heartbeat. */
  readonly bps: number;
}

export interface RelayEntry {
  readonly nodeId: string;
  /** Host name or IP put in the TURN URLs that point at this node. */
  readonly publicHost: string;
  readonly transports: readonly RelayTransport[];
  readonly ports: RelayPorts;
  readonly region?: string;
  readonly load: RelayLoad;
  readonly state: RelayState;
  /** ms since the epoch (the node's clock). */
  readonly startedAt: number;
  readonly version: string;
  /** The node's minting secret's check (./secret-check.ts); absent without auth_secrets. */
  readonly secretCheck?: string;
  /** New for each start of the node's process: two processes with one node id are told apart (./node-id-check.ts). */
  readonly bootId?: string;
  /** When the heartbeat that wrote the entry ran (ms, the node's clock): moves while its node is alive. */
  readonly beatAt?: number;
}

/** An entry as read back, with how long it still lives (ms) when it was read. */
export interface RelayListing {
  readonly entry: RelayEntry;
  readonly remainingMs: number;
}

/** Where the entries live. Every method may reject (StorageUnavailableError for Redis). */
export interface RegistryStore {
  /** Writes (or refreshes) `entry`, to live `ttlMs` from now. */
  put(entry: RelayEntry, ttlMs: number): Promise<void>;
  /** Removes the node's entry (graceful exit); no-op when absent. */
  remove(nodeId: string): Promise<void>;
  /** The live entries, at most `max`, dropping (and pruning) expired and malformed ones. */
  list(max: number): Promise<RelayListing[]>;
  /** Closes what the store holds; idempotent. */
  close(): Promise<void>;
}

/** Most nodes read from the registry: more entries than this are ignored. */
export const MAX_RELAYS = 1000;
/** Largest accepted serialized entry (bytes): bigger ones are treated as malformed. */
export const MAX_ENTRY_BYTES = 4096;
