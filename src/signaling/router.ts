/**
 * Where a message goes when its target is not connected to this node. Alone (one node, SQLite),
 * the hub queues it itself (./pending.ts): no router. In a fleet, a SignalRouter finds the node
 * the peer is connected to and hands the message over, or queues it where every node can drain
 * it (src/store/redis/signal-router.ts). The hub stays the table of this node's connections; the router is told
 * of every change to it, and reaches those connections back through LocalPeers.
 */
/** The error codes a router sends (protocol/signaling.ts ERROR_CODES). */
export type RouterErrorCode = 'peer_unavailable' | 'unavailable';

/** What a router reads of a routed frame (protocol/signaling.ts RoutedFrame). */
export interface RoutedMessage {
  readonly type: string;
  readonly to: string;
  readonly id?: string | number | undefined;
}

/** The hub's limits a router keeps (signaling/ws/limits.ts SignalLimits). */
export interface RouterLimits {
  readonly maxFrameBytes: number;
  readonly maxQueuedPerPeer: number;
  readonly maxQueuedPerAccount: number;
  readonly queueTtlMs: number;
  readonly maxBufferedBytes: number;
}

/** A connection of this node as a router sees it (the hub's RoutedPeer). */
export interface RoutedPeer {
  /** Unique among this hub's connections, never reused. */
  readonly connId: number;
  readonly accountId: string;
  readonly peerId: string;
  /** False once detached or replaced. */
  readonly open: boolean;
  readonly link: { send(text: string): void; readonly bufferedAmount: number };
  sendError(code: RouterErrorCode, message: string, id?: string | number, to?: string): void;
}

/** What a router needs of this node's connections (the hub provides it). */
export interface LocalPeers {
  /** The open session of a peer connected to this node, if any. */
  find(accountId: string, peerId: string): RoutedPeer | undefined;
  /** A newer connection of the same peer id registered on another node: closes this one (4000 "replaced"). */
  replace(session: RoutedPeer): void;
}

export interface RouterStats {
  /** Messages this node queued for absent peers and has not seen delivered or expired yet. */
  readonly queued: number;
  /** Messages handed to the router and waiting for its store's answer. */
  readonly inFlight: number;
  /** Whether messages to peers on other nodes can be sent now. */
  readonly connected: boolean;
}

export interface SignalRouter {
  /** Called once, by the hub that uses this router, before anything else: its connections and its limits (queue bounds, TTL). */
  bind(local: LocalPeers, limits: RouterLimits): void;
  /** A peer registered on this node (after the local replacement rule ran): messages queued for it follow. */
  attached(session: RoutedPeer): void;
  /** A peer of this node left (closed, replaced, expired, revoked). */
  detached(session: RoutedPeer): void;
  /**
   * A message for a peer not connected to this node: delivered where the peer is, or queued for it.
   * Failures reach the sender as error frames (`peer_unavailable`, or `unavailable` when the fleet
   * cannot be reached); local delivery never waits for this.
   */
  forward(from: RoutedPeer, frame: RoutedMessage, text: string): void;
  /** The account's sockets on this node were closed (revoked, disabled, deleted): drop what this node queued for it. */
  accountClosed(accountId: string): void;
  stats(): RouterStats;
  /** Unregisters this node's peers and stops; nothing is routed after. */
  close(): Promise<void>;
}
