/**
 * Admission of a signaling connection, before the WebSocket handshake completes: the page's
 * Origin, credentials (`Authorization: Bearer <api key>` or `?token=`), the peer id, the account's
 * peer limit. A refusal is an ordinary HTTP response with a JSON body, so a client sees why (a
 * WebSocket that opens and closes at once tells it nothing).
 */
import { parseBearer } from '../auth.js';
import { errorBody, type ErrorBody } from '../errors.js';
import { PEER_ID_PATTERN } from '../../protocol/signaling.js';

export interface SignalCredentials {
  readonly bearer?: string;
  readonly token?: string;
}

export interface UpgradeRefusal {
  readonly status: 400 | 401 | 403 | 429 | 503;
  readonly body: ErrorBody;
}

export function refusal(status: UpgradeRefusal['status'], code: string, message: string): UpgradeRefusal {
  return { status, body: errorBody(code, message) };
}

export interface UpgradeRequest {
  readonly peerId: string;
  readonly credentials: SignalCredentials;
}

/** Reads the peer id and the credentials of an upgrade request, or says what is wrong (400/401). */
export function readUpgradeRequest(
  query: unknown,
  authorization: string | string[] | undefined,
): UpgradeRequest | UpgradeRefusal {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  let bearer: string | undefined;
  if (typeof authorization === 'string') {
    bearer = parseBearer(authorization);
    if (bearer === undefined) return refusal(401, 'unauthorized', 'the Authorization header must be "Bearer <api key>"');
  } else if (authorization !== undefined) {
    return refusal(401, 'unauthorized', 'one Authorization header expected');
  }
  let token: string | undefined;
  if (q.token !== undefined) {
    if (typeof q.token !== 'string' || q.token.length === 0) {
      return refusal(401, 'unauthorized', 'token must be given once, not empty');
    }
    token = q.token;
  }
  if (bearer === undefined && token === undefined) {
    return refusal(
      401,
      'unauthorized',
      'credentials required: an "Authorization: Bearer <api key>" header or a ?token=<signaling token> query parameter',
    );
  }
  const peerId = q.peer_id;
  if (typeof peerId !== 'string' || !PEER_ID_PATTERN.test(peerId)) {
    return refusal(400, 'bad_request', 'peer_id is required once: 1..64 characters of [A-Za-z0-9_.-]');
  }
  return { peerId, credentials: { bearer, token } };
}

/**
 * A browser page's Origin that is not allowed (403), or null. Browsers always send Origin on a
 * WebSocket upgrade and pages cannot forge it; a request without one is not from a page (a server,
 * a native app) and passes. Several Origin headers arrive joined and match nothing: refused.
 */
export function checkOrigin(origin: string | string[] | undefined, allowed: (origin: string) => boolean): UpgradeRefusal | null {
  if (origin === undefined) return null;
  const value = Array.isArray(origin) ? origin.join(', ') : origin;
  if (allowed(value)) return null;
  return refusal(403, 'origin_not_allowed', 'pages from this origin may not open the signaling WebSocket (signaling.cors_origins)');
}

export function isRefusal(x: UpgradeRequest | UpgradeRefusal): x is UpgradeRefusal {
  return 'status' in x;
}
