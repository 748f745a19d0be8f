/**
 * The small interfaces through which the protocol engine talks to the rest of Ferry.
 * `turn/` imports nothing of ours; the composition root passes implementations in.
 */

/** A long-term credential key for one password, for both password algorithms (RFC 8489 §18.5.1). */
export interface LongTermKey {
  /** MD5(username ":" realm ":" password): the key of MESSAGE-INTEGRITY (HMAC-SHA1). */
  readonly md5: Buffer;
  /** SHA-256(username ":" realm ":" password): the key of MESSAGE-INTEGRITY-SHA256. */
  readonly sha256: Buffer;
}

export type AuthLookup =
  /** Known user: the account the allocation is billed to and the candidate keys (one per secret). */
  | { readonly ok: true; readonly account: string; readonly keys: readonly LongTermKey[] }
  /** Unknown user, expired or revoked credential: answered with 401. `reason` is for metrics only. */
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' | 'revoked' | 'malformed' };

/** Resolves a USERNAME to its account and keys. Called on the request path, never per data packet. */
export interface AuthHandler {
  lookup(username: string, realm: string, nowMs: number): AuthLookup;
}

export type IpFamily = 4 | 6;

/** Why a peer was refused (turn/peer-policy.ts; 'not-relay-port' from ChannelBind). */
export type PeerRefusal = 'denied' | 'special-purpose' | 'own-address' | 'unspecified' | 'not-relay-port';

/**
 * A peer policy's verdict: 'allow'; 'relay-only' (one of the server's relay addresses: the
 * permission reaches only the relayed ports of live allocations there); or why it is refused.
 */
export type PeerVerdict = 'allow' | 'relay-only' | Exclude<PeerRefusal, 'not-relay-port'>;

/** Decides which peer addresses an allocation may relay to (CreatePermission, ChannelBind). */
export interface PeerPolicy {
  /** `address` is canonical (as Node prints it), `family` its family. */
  check(address: string, family: IpFamily): PeerVerdict;
}

/**
 * Why an allocation gate refused an Allocate: 'usage-limit' (the account's or the global usage
 * limit), 'quota' (allocations_per_user counted across a fleet), 'rate-account' / 'rate-ip' (too
 * many new allocations per minute by the account / from the client IP): all answered 486
 * (Allocation Quota Reached, RFC 8656 §7.2: the client may retry later); 'unavailable' (the
 * shared state the gate needs cannot be reached, e.g. a fleet's storage is down): answered 500
 * (Server Error, RFC 8489 §14.8: a temporary error, try again) with the reason phrase
 * "Server Error: storage unavailable".
 */
export type AllocationRefusal = 'usage-limit' | 'quota' | 'rate-account' | 'rate-ip' | 'unavailable';

/** 'ok' admits the Allocate. */
export type AllocationAdmission = 'ok' | AllocationRefusal;

/** Admission of new allocations beyond the engine's own per-user and total quotas. */
export interface AllocationGate {
  /**
   * Decides synchronously (it is on the request path): `clientAddress` is the client's IP as Node
   * prints it, `held` what the account would hold on this relay with this request (allocations
   * and reservations, the request's own places included).
   */
  mayAllocate(account: string, clientAddress: string, held: number): AllocationAdmission;
  /**
   * True when signed requests from `clientAddress` are to get no answer, as when its own budget
   * of failed authentications is spent (e.g. a budget shared by a fleet). Checked before the
   * request is verified; counted as rateLimited('auth-failure').
   */
  authBlocked?(clientAddress: string): boolean;
}

export type TransportName = 'udp' | 'tcp' | 'tls';

export type CloseReason = 'expired' | 'refresh' | 'client-closed' | 'admin' | 'limit' | 'shutdown' | 'error';

/** A read-only view of an allocation for lifecycle events and admin listings. */
export interface AllocationInfo {
  readonly id: number;
  readonly account: string;
  readonly username: string;
  readonly transport: TransportName;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly relayAddresses: readonly { address: string; port: number; family: IpFamily }[];
  readonly startedAt: number;
  /** Application payload bytes and packets, client→peer ("out") and peer→client ("in"). */
  readonly bytesToPeer: number;
  readonly packetsToPeer: number;
  readonly bytesToClient: number;
  readonly packetsToClient: number;
  /** Payload dropped by a bandwidth cap (max_bps), each direction; not counted above. */
  readonly cappedBytesToPeer: number;
  readonly cappedPacketsToPeer: number;
  readonly cappedBytesToClient: number;
  readonly cappedPacketsToClient: number;
  /**
   * Payload dropped because it could not be sent (empty, too big to frame or for one datagram,
   * past a stream client's backlog, connection gone), each direction; not counted above.
   */
  readonly droppedBytesToPeer: number;
  readonly droppedPacketsToPeer: number;
  readonly droppedBytesToClient: number;
  readonly droppedPacketsToClient: number;
}

/** Lifecycle events; implementations must not throw and must not block. */
export interface TurnEvents {
  allocationCreated?(info: AllocationInfo): void;
  allocationClosed?(info: AllocationInfo, reason: CloseReason, endedAt: number): void;
  /**
   * A request refused for its credentials. `reason` ('unknown', 'expired', 'revoked', 'malformed',
   * 'bad-integrity') tells users apart from passwords: never expose it unauthenticated (metrics
   * fold it into one value). `clientAddress` is the request's source IP.
   */
  authFailure?(reason: string, clientAddress: string): void;
  /** A CreatePermission or ChannelBind refused for its peer address (answered 403). */
  peerRefused?(reason: PeerRefusal): void;
  /**
   * A TCP/TLS connection was closed at accept: its client (`per-ip`) or the relay (`total`) was at
   * its cap, or too many connections (the client's, or half the relay's) were still without an
   * allocation (`unallocated`).
   */
  connectionRefused?(reason: 'per-ip' | 'total' | 'unallocated'): void;
  /**
   * A request from a source IP over its budget got no answer: 'challenge' (401/438 answers) or
   * 'auth-failure' (failed authentications). Called per refused request, on the request path.
   */
  rateLimited?(kind: 'challenge' | 'auth-failure'): void;
}

/**
 * A session's counters (AllocationInfo), in one fixed order: metrics sum them, and the native data
 * plane copies its slots' counters in this order (native/src/plane.h's Counter enum).
 */
export const SESSION_COUNTERS = [
  'bytesToPeer',
  'packetsToPeer',
  'bytesToClient',
  'packetsToClient',
  'cappedBytesToPeer',
  'cappedPacketsToPeer',
  'cappedBytesToClient',
  'cappedPacketsToClient',
  'droppedBytesToPeer',
  'droppedPacketsToPeer',
  'droppedBytesToClient',
  'droppedPacketsToClient',
] as const satisfies readonly (keyof AllocationInfo)[];
