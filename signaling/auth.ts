/**
 * Bearer authentication of the HTTP API: the admin token (constant-time compare) and the account
 * credentials (an API key, or a short-lived signaling token `st_...` for browsers).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { TOKEN_PREFIX } from '../src/credentials/signal-token.js';
import type { SignalingDeps } from './deps.js';
import { ApiError } from './errors.js';

/** Who made an account API request, and with what kind of credential. */
export interface Principal {
  readonly accountId: string;
  readonly via: 'api_key' | 'signal_token';
  /** The API key's id (via 'api_key'). */
  readonly keyId?: string;
  /** When the signaling token expires, ms since the epoch (via 'signal_token'). */
  readonly expiresAt?: number;
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="ferry"' } as const;

export const unauthorized = (message: string) => new ApiError(401, 'unauthorized', message, CHALLENGE);

/** The token of an `Authorization: Bearer <token>` header value; undefined for another scheme or shape. */
export function parseBearer(header: string): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** The token of an `Authorization: Bearer <token>` header; undefined when absent or another scheme. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string' ? parseBearer(header) : undefined;
}

/** The request's bearer token; 401 with `missing` as the message when there is none. */
export function requireBearer(request: FastifyRequest, missing: string): string {
  const token = bearerToken(request);
  if (token === undefined) throw unauthorized(missing);
  return token;
}

/**
 * 401 unless the request's bearer token is `expected`: `what` names the token in the messages,
 * `setting` says where it is configured.
 */
export function requireSecret(request: FastifyRequest, expected: string, what: string, setting: string): void {
  const token = requireBearer(request, `missing ${what} credentials: send Authorization: Bearer <${setting}>`);
  if (!sameSecret(token, expected)) throw unauthorized(`invalid ${what} token`);
}

/** Compares secrets in time independent of where they differ (and of their lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Throws 503 when the admin API is disabled, 401 unless the request carries the admin token. */
export function requireAdmin(request: FastifyRequest, adminToken: string | undefined): void {
  if (adminToken === undefined) {
    throw new ApiError(503, 'admin_disabled', 'the admin API is disabled: set signaling.admin_token in the config');
  }
  requireSecret(request, adminToken, 'admin', 'admin_token');
}

/**
 * The account behind a credential: a signaling token (`st_...`, checked by SignalTokens against
 * the account directory: refused once its account is disabled, deleted or revoked) or an API key
 * (AccountService refuses a revoked key and a disabled or deleted account). Null when refused.
 */
export async function authenticateCredential(
  deps: Pick<SignalingDeps, 'accounts' | 'tokens'>,
  credential: string,
  allow: { apiKey: boolean } = { apiKey: true },
): Promise<Principal | null> {
  if (credential.startsWith(TOKEN_PREFIX)) {
    const verified = deps.tokens.verify(credential);
    if (verified === null) return null;
    return { accountId: verified.accountId, via: 'signal_token', expiresAt: verified.expiresAt };
  }
  if (!allow.apiKey) return null;
  const verified = await deps.accounts.verifyApiKey(credential);
  if (verified === null) return null;
  return { accountId: verified.account.id, via: 'api_key', keyId: verified.keyId };
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** onRequest hook of the account API: 401 unless an API key or a signaling token is presented. */
export function accountAuthHook(deps: Pick<SignalingDeps, 'accounts' | 'tokens'>) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = requireBearer(request, 'missing credentials: send Authorization: Bearer <api_key or signaling token>');
    const principal = await authenticateCredential(deps, token);
    if (principal === null) throw unauthorized('invalid, revoked or expired credentials, or the account is disabled');
    principals.set(request, principal);
  };
}

/** The principal the account auth hook attached to this request. */
export function principalOf(request: FastifyRequest): Principal {
  const p = principals.get(request);
  if (p === undefined) throw new Error('principalOf: the route is not behind accountAuthHook');
  return p;
}
