/**
 * STUN/TURN error codes (ERROR-CODE attribute) and their recommended reason phrases:
 * RFC 8489 §14.8, RFC 8656 §19, RFC 6062 §6.3.
 */

export const ERROR_TRY_ALTERNATE = 300;
export const ERROR_BAD_REQUEST = 400;
export const ERROR_UNAUTHENTICATED = 401;
export const ERROR_FORBIDDEN = 403;
export const ERROR_UNKNOWN_ATTRIBUTE = 420;
export const ERROR_ALLOCATION_MISMATCH = 437;
export const ERROR_STALE_NONCE = 438;
export const ERROR_ADDRESS_FAMILY_NOT_SUPPORTED = 440;
export const ERROR_WRONG_CREDENTIALS = 441;
export const ERROR_UNSUPPORTED_TRANSPORT_PROTOCOL = 442;
export const ERROR_PEER_ADDRESS_FAMILY_MISMATCH = 443;
export const ERROR_CONNECTION_ALREADY_EXISTS = 446;
export const ERROR_CONNECTION_TIMEOUT_OR_FAILURE = 447;
export const ERROR_ALLOCATION_QUOTA_REACHED = 486;
export const ERROR_SERVER_ERROR = 500;
export const ERROR_INSUFFICIENT_CAPACITY = 508;

const PHRASES: ReadonlyMap<number, string> = new Map([
  [ERROR_TRY_ALTERNATE, 'Try Alternate'],
  [ERROR_BAD_REQUEST, 'Bad Request'],
  [ERROR_UNAUTHENTICATED, 'Unauthenticated'],
  [ERROR_FORBIDDEN, 'Forbidden'],
  [ERROR_UNKNOWN_ATTRIBUTE, 'Unknown Attribute'],
  [ERROR_ALLOCATION_MISMATCH, 'Allocation Mismatch'],
  [ERROR_STALE_NONCE, 'Stale Nonce'],
  [ERROR_ADDRESS_FAMILY_NOT_SUPPORTED, 'Address Family not Supported'],
  [ERROR_WRONG_CREDENTIALS, 'Wrong Credentials'],
  [ERROR_UNSUPPORTED_TRANSPORT_PROTOCOL, 'Unsupported Transport Protocol'],
  [ERROR_PEER_ADDRESS_FAMILY_MISMATCH, 'Peer Address Family Mismatch'],
  [ERROR_CONNECTION_ALREADY_EXISTS, 'Connection Already Exists'],
  [ERROR_CONNECTION_TIMEOUT_OR_FAILURE, 'Connection Timeout or Failure'],
  [ERROR_ALLOCATION_QUOTA_REACHED, 'Allocation Quota Reached'],
  [ERROR_SERVER_ERROR, 'Server Error'],
  [ERROR_INSUFFICIENT_CAPACITY, 'Insufficient Capacity'],
]);

/** The RFC's recommended reason phrase for `code`; "Error" for codes we do not know. */
export function reasonPhrase(code: number): string {
  return PHRASES.get(code) ?? 'Error';
}
