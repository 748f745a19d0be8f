import type { AllocationGate, AuthHandler, PeerPolicy, TurnEvents } from './interfaces.js';
import type { RateLimitOptions } from './rate-limit.js';
import type { NativeAddon } from './native/addon.js';

export type { RateLimitOptions } from './rate-limit.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** A PEM certificate (chain) and its private key. */
export interface TlsCredentials {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TlsListenAddress extends ListenAddress, TlsCredentials {}

export interface RelayOptions {
  /** Local IPv4 addresses relayed sockets bind to (round-robin). Empty: no IPv4 relaying. */
  readonly ips4: readonly string[];
  /** Local IPv6 addresses relayed sockets bind to. Empty: no IPv6 relaying (440 on request). */
  readonly ips6: readonly string[];
  /** Inclusive port range relayed addresses are bound from. */
  readonly portMin: number;
  readonly portMax: number;
  /** Address advertised in XOR-RELAYED-ADDRESS instead of the bound one (server behind NAT). */
  readonly externalIp4?: string;
  readonly externalIp6?: string;
}

export interface Quotas {
  readonly allocationsPerUser: number;
  readonly totalAllocations: number;
  readonly permissionsPerAllocation: number;
  readonly channelsPerAllocation: number;
}

/**
 * Limits on TCP and TLS client connections, counted at accept (before a TLS handshake). Over a
 * cap a connection is closed at once and counted (TurnEvents.connectionRefused).
 */
export interface ConnectionLimits {
  /** Connections one client may hold at once: one IPv4 address, or one IPv6 /64. */
  readonly perIp: number;
  /** Connections held at once across all clients and listeners. */
  readonly total: number;
  /**
   * An absolute deadline, from accept and again from the end of an allocation, by which the
   * connection must hold an allocation; else it is closed (traffic does not extend it).
   */
  readonly allocateTimeoutMs: number;
}

/** The subset of a pino logger the engine uses; never called on the per-packet path. */
export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface TurnServerOptions {
  readonly realm: string;
  /** STUN/TURN over UDP and TCP on the same addresses. */
  readonly listen: readonly ListenAddress[];
  readonly tls?: readonly TlsListenAddress[];
  readonly relay: RelayOptions;
  readonly auth: AuthHandler;
  readonly peerPolicy: PeerPolicy;
  readonly quotas: Quotas;
  readonly gate?: AllocationGate;
  readonly events?: TurnEvents;
  readonly log?: EngineLogger;
  /** Allocation lifetimes in seconds (RFC 8656: default 600, max 3600). */
  readonly defaultLifetime?: number;
  readonly maxLifetime?: number;
  /** How long a nonce stays fresh after it was issued, before 438 Stale Nonce (ms). Default 10 minutes. */
  readonly nonceTtlMs?: number;
  /** Secret that signs stateless nonces (the same on every node of a fleet); random per process when absent. */
  readonly nonceSecret?: Buffer;
  /** Budgets of unauthenticated work per source IP (turn/rate-limit.ts). Absent: no limits. */
  readonly rateLimits?: RateLimitOptions;
  /**
   * Bandwidth cap of each allocation, bytes of payload per second in each direction (coturn's
   * max-bps); 0 or absent: none. Excess is dropped and counted (turn/bandwidth.ts).
   */
  readonly maxBps?: number;
  /** The cap shared by one account's allocations on this relay, bytes per second each way; 0: none. */
  readonly accountMaxBps?: (account: string) => number;
  /** Caps and the allocate deadline of TCP/TLS connections; default 1000 per IP, 10000, 30 s. */
  readonly connections?: ConnectionLimits;
  /** A TLS handshake not done within this time fails and its connection is closed. Default 10 s. */
  readonly tlsHandshakeTimeoutMs?: number;
  /** Clock in ms; injectable for tests. Default Date.now. */
  readonly now?: () => number;
  /**
   * The native data plane (turn/native/): UDP listeners and the relayed sockets of UDP clients are
   * served by `threads` native threads of `addon`. Absent: the TypeScript data path.
   */
  readonly dataPlane?: { readonly addon: NativeAddon; readonly threads: number };
}
