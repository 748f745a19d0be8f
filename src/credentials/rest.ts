/**
 * TURN REST API credentials (draft-uberti-behave-turn-rest; coturn's `use-auth-secret`):
 *   username = "<unix-expiry-seconds>:<account>"                    (coturn's tools, app servers)
 *            | "<unix-expiry-seconds>:<account>:<issued-at-ms>"     (minted by Ferry)
 *   password = base64(HMAC-SHA1(secret, username))
 * The first configured secret mints; every configured secret verifies (rotation).
 * Secrets never appear in errors or logs.
 *
 * Revocation (accounts known to Ferry's AccountDirectory; checked synchronously per TURN request,
 * after the expiry check, before any key is derived):
 *   - an account the directory does not know (never created in Ferry: an external account the
 *     secret holder minted for) is not subject to revocation → accepted;
 *   - a 'disabled' or 'deleted' account → { ok: false, reason: 'revoked' };
 *   - issued = issuedAt when the username carries one, else expiry × 1000 − maxTtl × 1000 (the
 *     earliest moment a credential of at most maxTtl seconds with that expiry can have been minted);
 *     issued < account.credentialsNotBefore → 'revoked'.
 * So after a revocation at time R, Ferry-minted credentials are accepted when minted at or after R,
 * and a plain `<expiry>:<account>` credential only when it expires at least maxTtl after R (so it
 * was provably minted after R). Consequences: a plain credential with TTL T < maxTtl is refused
 * when minted less than maxTtl − T after R (Ferry-minted ones are not affected); and a plain
 * credential minted before R with a TTL longer than maxTtl would slip through, so mint with
 * TTL ≤ maxTtl (default 86400 s, the one day the REST draft recommends). Accounts start with
 * credentialsNotBefore = 0 (nothing revoked). Static users are never subject to revocation.
 *
 * Parsing: the expiry is the all-digit part before the FIRST colon. With at least two colons and an
 * all-digit last segment (≤ 15 digits), that segment is the issued-at time in ms and the account is
 * what lies between; otherwise the account is everything after the first colon (it may contain
 * colons). A plain account ending in ":<digits>" is therefore ambiguous and cannot be minted plain.
 */
import { createHmac } from 'node:crypto';
import { deriveLongTermKey, type AuthLookup, type LongTermKey } from '../../turn/index.js';
import type { AccountState } from '../accounts/types.js';

export const MAX_ACCOUNT_LENGTH = 256;
const MAX_EXPIRY_DIGITS = 15; // beyond year 30,000,000: anything longer is not a timestamp
const MAX_ISSUED_AT_DIGITS = 15;
export const DEFAULT_MAX_TTL_SECONDS = 86_400;

export interface RestCredential {
  readonly username: string;
  readonly password: string;
  /** Expiry in ms since the epoch (the username's expiry second × 1000). */
  readonly expiresAt: number;
  /** Issued-at in ms, present when minted with `{ issuedAt: true }`. */
  readonly issuedAt?: number;
}

export interface RestUsername {
  /** Unix seconds after which the credential is refused. */
  readonly expiry: number;
  readonly account: string;
  /** ms since the epoch, only for Ferry-minted `<expiry>:<account>:<issuedAt>` usernames. */
  readonly issuedAt?: number;
}

export interface MintOptions {
  /** Append `:<nowMs>` so revocation can compare the exact issue time (Ferry-minted credentials). */
  readonly issuedAt?: boolean;
}

/** What revocation needs to know about accounts; AccountDirectory implements it. */
export interface AccountStates {
  state(id: string): AccountState | undefined;
}

export interface RevocationPolicy {
  readonly accounts: AccountStates;
  readonly maxTtlSeconds: number;
}

function allDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Parses a REST username (see the header). The one place the shape is defined. */
export function parseRestUsername(username: string): RestUsername | null {
  const colon = username.indexOf(':');
  if (colon <= 0 || colon > MAX_EXPIRY_DIGITS || !allDigits(username, 0, colon)) return null;
  const expiry = Number(username.slice(0, colon));
  const last = username.lastIndexOf(':');
  const tail = username.length - last - 1;
  if (last > colon && tail > 0 && tail <= MAX_ISSUED_AT_DIGITS && allDigits(username, last + 1, username.length)) {
    const account = username.slice(colon + 1, last);
    if (account.length === 0 || account.length > MAX_ACCOUNT_LENGTH) return null;
    return { expiry, account, issuedAt: Number(username.slice(last + 1)) };
  }
  const account = username.slice(colon + 1);
  if (account.length === 0 || account.length > MAX_ACCOUNT_LENGTH) return null;
  return { expiry, account };
}

/** base64(HMAC-SHA1(secret, username)): the password coturn expects. */
export function restPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

export function mintRestCredential(
  secret: string,
  account: string,
  ttlSeconds: number,
  nowMs: number,
  options: MintOptions = {},
): RestCredential {
  if (typeof secret !== 'string' || secret.length === 0) throw new Error('REST credential: the secret must be a non-empty string');
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new Error('REST credential: ttlSeconds must be a positive integer');
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new Error('REST credential: nowMs must be a non-negative number');
  if (typeof account !== 'string' || account.length === 0 || account.length > MAX_ACCOUNT_LENGTH) {
    throw new Error(`REST credential: the account must be 1..${MAX_ACCOUNT_LENGTH} characters`);
  }
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const issuedAt = options.issuedAt === true ? Math.floor(nowMs) : undefined;
  const username = issuedAt === undefined ? `${expiry}:${account}` : `${expiry}:${account}:${issuedAt}`;
  const parsed = parseRestUsername(username);
  if (parsed === null || parsed.account !== account || parsed.issuedAt !== issuedAt) {
    throw new Error('REST credential: an account ending in ":<digits>" is ambiguous in a plain username; mint it with { issuedAt: true }');
  }
  const password = restPassword(secret, username);
  const expiresAt = expiry * 1000;
  return issuedAt === undefined ? { username, password, expiresAt } : { username, password, expiresAt, issuedAt };
}

/** true when the revocation rule of the header refuses this (unexpired) credential. */
export function isRestRevoked(parsed: RestUsername, policy: RevocationPolicy): boolean {
  const state = policy.accounts.state(parsed.account);
  if (state === undefined) return false;
  if (state.status !== 'active') return true;
  const issued = parsed.issuedAt ?? (parsed.expiry - policy.maxTtlSeconds) * 1000;
  return issued < state.credentialsNotBefore;
}

/**
 * Resolves a REST username: 'malformed' if it is not of the REST shape, 'expired' when
 * expiry × 1000 <= nowMs, 'revoked' by the rule of the header when a policy is given, else the
 * account and one key per secret (in the secrets' order).
 */
export function lookupRestUsername(
  username: string,
  realm: string,
  secrets: readonly string[],
  nowMs: number,
  revocation?: RevocationPolicy,
): AuthLookup {
  const parsed = parseRestUsername(username);
  if (parsed === null) return { ok: false, reason: 'malformed' };
  if (parsed.expiry * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  if (revocation !== undefined && isRestRevoked(parsed, revocation)) return { ok: false, reason: 'revoked' };
  const keys: LongTermKey[] = [];
  for (const secret of secrets) keys.push(deriveLongTermKey(username, realm, restPassword(secret, username)));
  return { ok: true, account: parsed.account, keys };
}
