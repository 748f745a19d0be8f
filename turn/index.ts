/**
 * The public entry of the TURN engine: everything code outside turn/ may use. The engine is a
 * STUN/TURN server (TurnServer) configured with TurnServerOptions and told about the rest of
 * Ferry through the interfaces it defines: credentials (AuthHandler), the peer policy
 * (PeerPolicy, built by createPeerPolicy), the allocation gate and lifecycle events (TurnEvents).
 * The other files of turn/ are its inside: tests and benches may reach into them, the product may not
 * (.dependency-cruiser.cjs).
 */

export { TurnServer } from './server.js';
export type { ConnectionStats, ListeningAddress, TurnServerUpdate } from './server.js';

export type {
  ConnectionLimits,
  EngineLogger,
  ListenAddress,
  Quotas,
  RateLimitOptions,
  RelayOptions,
  TlsCredentials,
  TlsListenAddress,
  TurnServerOptions,
} from './options.js';

export type {
  AllocationAdmission,
  AllocationGate,
  AllocationInfo,
  AllocationRefusal,
  AuthHandler,
  AuthLookup,
  CloseReason,
  IpFamily,
  LongTermKey,
  PeerPolicy,
  PeerRefusal,
  PeerVerdict,
  TransportName,
  TurnEvents,
} from './interfaces.js';

/** A session's counters in one fixed order (AllocationInfo's byte and packet counts). */
export { SESSION_COUNTERS } from './interfaces.js';

export { createPeerPolicy } from './peer-policy.js';
export type { PeerPolicyOptions } from './peer-policy.js';

export { deriveLongTermKey } from './long-term-key.js';

/** Per-IP token buckets in a fixed-size table: also used for failed admin tokens (src/credentials). */
export { IpBuckets } from './rate-limit.js';
/** The key a per-IP budget is kept for (an IPv4 address, an IPv6 /64): fleet budgets key the same way. */
export { budgetKey } from './rate-limit.js';

/** The native data plane's addon: loaded once by the composition root (data_plane), then given in TurnServerOptions.dataPlane. */
export { loadNativeAddon } from './native/addon.js';
export type { AddonLoad, NativeAddon, NativeStats } from './native/addon.js';
