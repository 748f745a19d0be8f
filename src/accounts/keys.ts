/**
 * Identifiers and API keys. Ids are `acc_`/`key_` + lowercase Crockford base32 from crypto random
 * bytes (32 divides 256, so `byte & 31` is uniform); API keys are `fk_` + base64url of 32 random
 * bytes and are stored only as their SHA-256 hex hash.
 */
import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
export const API_KEY_PREFIX = 'fk_';
/** How many leading characters of a key are kept to recognise it (`fk_` + 4). */
export const API_KEY_DISPLAY_LENGTH = 7;
const API_KEY_SHAPE = /^fk_[A-Za-z0-9_-]{43}$/;

/** `length` random Crockford base32 characters (lowercase). */
export function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += CROCKFORD[bytes[i] & 31];
  return out;
}

/** `acc_` + 16 base32 characters (80 bits). */
export function newAccountId(): string {
  return `acc_${randomBase32(16)}`;
}

/** `key_` + 12 base32 characters (60 bits). */
export function newApiKeyId(): string {
  return `key_${randomBase32(12)}`;
}

/** `fk_` + 43 base64url characters (256 bits). Shown to the caller once, never stored. */
export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** true when `key` has the shape of a Ferry API key (cheap pre-check before any lookup). */
export function isApiKeyShape(key: unknown): key is string {
  return typeof key === 'string' && API_KEY_SHAPE.test(key);
}

/** SHA-256 hex of the key: what the store keeps and looks keys up by. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The recognisable prefix kept with a key (`fk_AbCd`). */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, API_KEY_DISPLAY_LENGTH);
}
