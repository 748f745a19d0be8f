/**
 * Short-lived signaling tokens for browsers (which must not hold an API key):
 *   token   = "st_" + P + "." + base64url(HMAC-SHA256(K, P))
 *   P       = base64url(JSON { a: accountId, i: issued ms, e: expiry ms })
 *   K       = HMAC-SHA256(secret, "ferry signaling token v1")   (a key of its own, never the TURN one)
 * The MAC covers the encoded payload P exactly as sent. verify() checks the MAC in constant time,
 * then expiry, that the account is active in the AccountDirectory and that it was issued at or
 * after the account's credentialsNotBefore (revocation). Tokens made with a previous secret stop
 * verifying when the secret changes; they live minutes, so that is the intended rotation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AccountDirectory } from '../accounts/directory.js';
import { CredentialError } from './errors.js';
import { describeTtlRange, SIGNAL_TOKEN_TTL } from './ttl.js';

export const TOKEN_PREFIX = 'st_';
export const DEFAULT_TOKEN_TTL_SECONDS = SIGNAL_TOKEN_TTL.default;
export const MAX_TOKEN_TTL_SECONDS = SIGNAL_TOKEN_TTL.max;
const MAX_TOKEN_LENGTH = 2048;
const B64URL = /^[A-Za-z0-9_-]+$/;
const KEY_LABEL = 'ferry signaling token v1';

export interface SignalTokensOptions {
  /** The signing secret (the first of `auth_secrets`), read per call so a config reload applies. */
  readonly secret: () => string | undefined;
  readonly directory: AccountDirectory;
  readonly now: () => number;
}

interface Payload {
  readonly a: string;
  readonly i: number;
  readonly e: number;
}

export class SignalTokens {
  readonly #secret: () => string | undefined;
  readonly #directory: AccountDirectory;
  readonly #now: () => number;
  #cached: { secret: string; key: Buffer } | undefined;

  constructor(options: SignalTokensOptions) {
    this.#secret = options.secret;
    this.#directory = options.directory;
    this.#now = options.now;
  }

  /** Throws CredentialError 'no_secret' without a secret, 'invalid' for a TTL outside SIGNAL_TOKEN_TTL (1s..1d). */
  mint(accountId: string, ttlSeconds: number = DEFAULT_TOKEN_TTL_SECONDS): { token: string; expires_at: string } {
    const key = this.#key();
    if (key === undefined) throw new CredentialError('no_secret', 'signaling tokens are unavailable: no auth_secrets are configured');
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < SIGNAL_TOKEN_TTL.min || ttlSeconds > SIGNAL_TOKEN_TTL.max) {
      throw new CredentialError('invalid', `ttl must be ${describeTtlRange(SIGNAL_TOKEN_TTL)}; got ${ttlSeconds}`);
    }
    if (typeof accountId !== 'string' || accountId.length === 0) throw new CredentialError('invalid', 'accountId must be non-empty');
    const issued = Math.floor(this.#now());
    const expiry = issued + ttlSeconds * 1000;
    const payload: Payload = { a: accountId, i: issued, e: expiry };
    const p = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return { token: `${TOKEN_PREFIX}${p}.${mac(key, p)}`, expires_at: new Date(expiry).toISOString() };
  }

  /**
   * The account of a valid token and when the token expires (ms since the epoch: a signaling socket
   * opened with it closes then); null for anything else (never throws).
   */
  verify(token: unknown): { accountId: string; expiresAt: number } | null {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !token.startsWith(TOKEN_PREFIX)) return null;
    const dot = token.indexOf('.');
    if (dot < 0 || token.indexOf('.', dot + 1) >= 0) return null;
    const p = token.slice(TOKEN_PREFIX.length, dot);
    const m = token.slice(dot + 1);
    if (!B64URL.test(p) || !B64URL.test(m)) return null;
    const key = this.#key();
    if (key === undefined) return null;
    const expected = Buffer.from(mac(key, p), 'ascii');
    const given = Buffer.from(m, 'ascii');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const payload = decode(p);
    if (payload === null) return null;
    const now = this.#now();
    if (payload.e <= now) return null;
    const state = this.#directory.state(payload.a);
    if (state === undefined || state.status !== 'active' || payload.i < state.credentialsNotBefore) return null;
    return { accountId: payload.a, expiresAt: payload.e };
  }

  #key(): Buffer | undefined {
    const secret = this.#secret();
    if (secret === undefined || secret.length === 0) return undefined;
    if (this.#cached?.secret !== secret) {
      this.#cached = { secret, key: createHmac('sha256', secret).update(KEY_LABEL, 'utf8').digest() };
    }
    return this.#cached.key;
  }
}

function mac(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload, 'ascii').digest('base64url');
}

function decode(p: string): Payload | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    if (typeof v !== 'object' || v === null) return null;
    const { a, i, e } = v as Record<string, unknown>;
    if (typeof a !== 'string' || a.length === 0 || !Number.isSafeInteger(i) || !Number.isSafeInteger(e)) return null;
    return { a, i: i as number, e: e as number };
  } catch {
    return null;
  }
}
