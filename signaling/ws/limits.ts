/** Limits of the signaling socket, with defaults. All sizes in bytes, all durations in ms. */
export interface SignalLimits {
  /** WebSocket maxPayload: a bigger frame closes the connection with 1009. */
  readonly maxFrameBytes: number;
  /** A text frame over this (but within maxFrameBytes) gets a `too_large` error frame. */
  readonly maxMessageBytes: number;
  /** Token bucket per connection: refill rate (frames/s) and burst. */
  readonly ratePerSecond: number;
  readonly rateBurst: number;
  /** A connection that keeps hitting the rate limit (at least once a second) this long is closed with 1008. */
  readonly abuseCloseMs: number;
  /** Messages queued for one absent peer, and for all absent peers of one account. */
  readonly maxQueuedPerPeer: number;
  readonly maxQueuedPerAccount: number;
  /** How long a queued message waits for its peer before the sender gets `peer_unavailable`. */
  readonly queueTtlMs: number;
  /** Connected peers per account; beyond it the upgrade is refused with 429. */
  readonly maxPeersPerAccount: number;
  /** WebSocket ping interval; a socket that did not answer the previous ping is terminated. */
  readonly heartbeatMs: number;
  /** A target whose unsent output exceeds this is not sent more (the sender gets `peer_unavailable`). */
  readonly maxBufferedBytes: number;
}

export const DEFAULT_SIGNAL_LIMITS: SignalLimits = {
  maxFrameBytes: 64 * 1024,
  maxMessageBytes: 32 * 1024,
  ratePerSecond: 50,
  rateBurst: 100,
  abuseCloseMs: 5000,
  maxQueuedPerPeer: 32,
  maxQueuedPerAccount: 1024,
  queueTtlMs: 10_000,
  maxPeersPerAccount: 1000,
  heartbeatMs: 30_000,
  maxBufferedBytes: 1024 * 1024,
};

export function resolveLimits(partial: Partial<SignalLimits> = {}): SignalLimits {
  const limits: SignalLimits = { ...DEFAULT_SIGNAL_LIMITS };
  for (const [key, value] of Object.entries(partial) as [keyof SignalLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`signaling limit ${key} must be a positive number, got ${String(value)}`);
    }
    (limits as Record<keyof SignalLimits, number>)[key] = value;
  }
  if (limits.maxMessageBytes > limits.maxFrameBytes) {
    // A message limit above the frame limit could never apply: the frame limit closes first.
    (limits as { maxMessageBytes: number }).maxMessageBytes = limits.maxFrameBytes;
  }
  return limits;
}
