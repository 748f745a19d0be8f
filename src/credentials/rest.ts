/**
 * TURN REST API credentials (draft-uberti-behave-turn-rest; coturn's `use-auth-secret`):
 *   username = "<unix-expiry-seconds>:<account>"
 *   password = base64(HMAC-SHA1(secret, username))
 * The first configured secret mints; every configured secret verifies (rotation).
 * Secrets never appear in errors or logs.
 */
import { createHmac } from 'node:crypto';
import type { AuthLookup, LongTermKey } from '../../turn/interfaces.js';
import { deriveLongTermKey } from '../../turn/long-term-key.js';

export const MAX_ACCOUNT_LENGTH = 256;
const MAX_EXPIRY_DIGITS = 15; // beyond year 30,000,000: anything longer is not a timestamp

export interface RestCredential {
  readonly username: string;
  readonly password: string;
  /** Expiry in ms since the epoch (the username's expiry second × 1000). */
  readonly expiresAt: number;
}

export interface RestUsername {
  /** Unix seconds after which the credential is refused. */
  readonly expiry: number;
  readonly account: string;
}

/**
 * Parses a REST username: all-digit expiry, then the account = everything after the FIRST colon
 * (non-empty, ≤ 256 chars; it may itself contain colons). The one place the shape is defined.
 */
export function parseRestUsername(username: string): RestUsername | null {
  const colon = username.indexOf(':');
  if (colon <= 0 || colon > MAX_EXPIRY_DIGITS) return null;
  for (let i = 0; i < colon; i++) {
    const c = username.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  const account = username.slice(colon + 1);
  if (account.length === 0 || account.length > MAX_ACCOUNT_LENGTH) return null;
  return { expiry: Number(username.slice(0, colon)), account };
}

/** base64(HMAC-SHA1(secret, username)): the password coturn expects. */
export function restPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

export function mintRestCredential(secret: string, account: string, ttlSeconds: number, nowMs: number): RestCredential {
  if (typeof secret !== 'string' || secret.length === 0) throw new Error('REST credential: the secret must be a non-empty string');
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new Error('REST credential: ttlSeconds must be a positive integer');
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new Error('REST credential: nowMs must be a non-negative number');
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${account}`;
  const parsed = parseRestUsername(username);
  if (parsed === null || parsed.account !== account) {
    throw new Error(`REST credential: the account must be 1..${MAX_ACCOUNT_LENGTH} characters`);
  }
  return { username, password: restPassword(secret, username), expiresAt: expiry * 1000 };
}

/**
 * Resolves a REST username: 'malformed' if it is not of the REST shape, 'expired' when
 * expiry × 1000 <= nowMs, else the account and one key per secret (in the secrets' order).
 */
export function lookupRestUsername(username: string, realm: string, secrets: readonly string[], nowMs: number): AuthLookup {
  const parsed = parseRestUsername(username);
  if (parsed === null) return { ok: false, reason: 'malformed' };
  if (parsed.expiry * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  const keys: LongTermKey[] = [];
  for (const secret of secrets) keys.push(deriveLongTermKey(username, realm, restPassword(secret, username)));
  return { ok: true, account: parsed.account, keys };
}
