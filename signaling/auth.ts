/**
 * Bearer authentication of the HTTP API: the admin token (constant-time compare) and the account
 * credentials (an API key, or a short-lived signaling token `st_...` for browsers).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { isApiKeyShape } from '../src/accounts/keys.js';
import { TOKEN_PREFIX } from '../src/credentials/signal-token.js';
import { ADMIN_FAILURES_PER_MINUTE, FailedTokenLimit } from '../src/credentials/failed-token-limit.js';
import type { SignalingDeps } from './deps.js';
import { ApiError } from './errors.js';

/** The admin: a request that presented the admin token. */
export interface AdminPrincipal {
  readonly via: 'admin_token';
}

/** An account: who made an account API request, and with what kind of credential. */
export interface AccountPrincipal {
  readonly accountId: string;
  readonly via: 'api_key' | 'signal_token';
  /** The API key's id (via 'api_key'). */
  readonly keyId?: string;
  /** When the signaling token expires, ms since the epoch (via 'signal_token'). */
  readonly expiresAt?: number;
}

/** Who made a request, once its route's authentication has run. */
export type Principal = AdminPrincipal | AccountPrincipal;

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Set by the admin check (requireAdmin) and the account check (accountAuthHook, the usage
     * routes); null before them and on routes without authentication. The signaling plugin
     * declares it (`decorateRequest('principal', null)`).
     */
    principal: Principal | null;
  }
}

const ADMIN: AdminPrincipal = { via: 'admin_token' };

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

/**
 * What the admin token check reads: the token (per request: a reload may change it), the clock,
 * and the failed tokens per client IP of this app (one table per plugin instance: adminGuard).
 */
export type AdminDeps = Pick<SignalingDeps, 'adminToken' | 'now'> & { readonly failures: FailedTokenLimit };

/** The admin check of one signaling plugin instance over its deps. */
export function adminGuard(deps: Pick<SignalingDeps, 'adminToken' | 'now'>): AdminDeps {
  const failures = new FailedTokenLimit();
  return {
    get adminToken() {
      return deps.adminToken;
    },
    ...(deps.now ? { now: deps.now } : {}),
    failures,
  };
}

/**
 * 429 (with Retry-After) while the request's client IP is over its budget of failed admin tokens
 * (ADMIN_FAILURES_PER_MINUTE): no token is checked then, a right one neither, so guessing cannot
 * go on in the meantime and the answer says nothing about the token.
 */
export function refuseIfAdminBlocked(request: FastifyRequest, deps: AdminDeps): void {
  const waitMs = deps.failures.blockedFor(request.ip, (deps.now ?? Date.now)());
  if (waitMs > 0) {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    throw new ApiError(
      429,
      'too_many_requests',
      `too many invalid admin tokens from this address (at most ${ADMIN_FAILURES_PER_MINUTE} a minute): retry in ${seconds} s`,
      { 'retry-after': String(seconds) },
    );
  }
}

/**
 * Whether `token` may be the admin token, so that a wrong one counts as a guess at it. An API key
 * (its shape, fk_...) may not: the config refuses an admin token of that shape. So a tenant polling
 * with a revoked key neither spends nor meets the admin budget of its IP (behind a reverse proxy,
 * everyone's), and API keys are 256-bit: guessing them needs no budget.
 */
export function mayBeAdminToken(token: string): boolean {
  return !isApiKeyShape(token);
}

/** Counts a wrong admin token from the request's client IP. */
export function adminTokenFailed(request: FastifyRequest, deps: AdminDeps): void {
  deps.failures.failed(request.ip, (deps.now ?? Date.now)());
}

/**
 * Throws 503 when the admin API is disabled, 401 for a missing token or an API key (not counted),
 * 429 while the client IP is over its budget of failed admin tokens, 401 unless the request carries
 * the admin token (a wrong one is counted).
 */
export function requireAdmin(request: FastifyRequest, deps: AdminDeps): void {
  const adminToken = deps.adminToken;
  if (adminToken === undefined) {
    throw new ApiError(503, 'admin_disabled', 'the admin API is disabled: set signaling.admin_token in the config');
  }
  const token = requireBearer(request, 'missing admin credentials: send Authorization: Bearer <admin_token>');
  if (!mayBeAdminToken(token)) throw unauthorized('invalid admin token (this is an API key)');
  refuseIfAdminBlocked(request, deps);
  if (!sameSecret(token, adminToken)) {
    adminTokenFailed(request, deps);
    throw unauthorized('invalid admin token');
  }
  request.principal = ADMIN;
}

/** Records that the request presented the admin token (checked by the caller). */
export function actAsAdmin(request: FastifyRequest): void {
  request.principal = ADMIN;
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
): Promise<AccountPrincipal | null> {
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

/** onRequest hook of the account API: 401 unless an API key or a signaling token is presented. */
export function accountAuthHook(deps: Pick<SignalingDeps, 'accounts' | 'tokens'>) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = requireBearer(request, 'missing credentials: send Authorization: Bearer <api_key or signaling token>');
    const principal = await authenticateCredential(deps, token);
    if (principal === null) throw unauthorized('invalid, revoked or expired credentials, or the account is disabled');
    request.principal = principal;
  };
}

/** The account the account auth hook found for this request. */
export function accountOf(request: FastifyRequest): AccountPrincipal {
  const p = request.principal;
  if (p === null || p.via === 'admin_token') throw new Error('accountOf: the route is not behind accountAuthHook');
  return p;
}
