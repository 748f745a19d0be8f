/** The error every store throws when the store behind it cannot be reached (domain-wide, so the HTTP API can map it without knowing the stores). */

/**
 * The shared store (Redis, in a fleet) is not reachable, or did not answer in time. The caller's
 * request cannot be served now and may be retried: the HTTP API answers 503 `storage_unavailable`,
 * the relay refuses new allocations; nothing was half-written (multi-key writes are atomic).
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
