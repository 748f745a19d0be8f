/** The one error type the SDK throws; `code` is stable, `message` is for people. */
export class FerryError extends Error {
  override name = 'FerryError';
  constructor(
    /** e.g. 'unauthorized', 'peer_unavailable', 'timeout', 'closed', 'signaling_closed', 'http_error'. */
    readonly code: string,
    message: string,
    /** HTTP status when the error came from an HTTP response. */
    readonly status?: number,
  ) {
    super(message);
  }
}
