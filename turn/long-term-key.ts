/**
 * Long-term credential keys (RFC 8489 §9.2.2, §18.5.1):
 *   md5    = MD5(username ":" realm ":" password)     — key of MESSAGE-INTEGRITY (HMAC-SHA1)
 *   sha256 = SHA-256(username ":" realm ":" password) — key of MESSAGE-INTEGRITY-SHA256
 * over the UTF-8 bytes of the joined string.
 *
 * The strings are used exactly as given: OpaqueString/SASLprep (RFC 8265 / RFC 4013) is NOT
 * applied to the username, realm or password, as coturn does not either. Clients that normalise
 * (e.g. turn "The\u00ADM\u00AAtr\u2168" into "TheMatrIX") will only match if the configured
 * password is already in normalised form.
 */
import { createHash } from 'node:crypto';
import type { LongTermKey } from './interfaces.js';

export function deriveLongTermKey(username: string, realm: string, password: string): LongTermKey {
  const input = Buffer.from(`${username}:${realm}:${password}`, 'utf8');
  return Object.freeze({
    md5: createHash('md5').update(input).digest(),
    sha256: createHash('sha256').update(input).digest(),
  });
}
