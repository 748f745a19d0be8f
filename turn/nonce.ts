import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stateless nonces (RFC 8489 §9.2): a version tag, the expiry and a MAC. The MAC binds the
 * nonce to the client's IP and to its expiry, so no table is kept and a nonce cannot be reused
 * from another address. The nonce does not start with the RFC 8489 "obMatJos2" cookie: Ferry
 * advertises no security features, so every client uses the classic MD5 key with
 * MESSAGE-INTEGRITY; a client that sends PASSWORD-ALGORITHM or MESSAGE-INTEGRITY-SHA256 anyway
 * is still verified correctly.
 */
const NONCE_COOKIE = 'f1';
const MAC_HEX = 24;

export type NonceCheck = 'ok' | 'stale' | 'invalid';

export class NonceManager {
  private secret: Buffer;
  private readonly ttlMs: number;

  constructor(ttlMs: number, secret: Buffer = randomBytes(32)) {
    this.ttlMs = ttlMs;
    this.secret = secret;
  }

  issue(clientIp: string, now: number): string {
    const expiry = Math.floor((now + this.ttlMs) / 1000).toString(16).padStart(10, '0');
    return NONCE_COOKIE + expiry + this.mac(expiry, clientIp);
  }

  check(nonce: string, clientIp: string, now: number): NonceCheck {
    const head = NONCE_COOKIE.length;
    if (nonce.length !== head + 10 + MAC_HEX || !nonce.startsWith(NONCE_COOKIE)) return 'invalid';
    const expiry = nonce.slice(head, head + 10);
    // Both MAC_HEX bytes long: the nonce's length was checked, latin1 gives one byte per character.
    const given = Buffer.from(nonce.slice(head + 10), 'latin1');
    const want = Buffer.from(this.mac(expiry, clientIp), 'latin1');
    if (!timingSafeEqual(given, want)) return 'invalid';
    const expiresAt = parseInt(expiry, 16) * 1000;
    return Number.isFinite(expiresAt) && expiresAt > now ? 'ok' : 'stale';
  }

  private mac(expiry: string, clientIp: string): string {
    return createHmac('sha256', this.secret).update(expiry).update('\0').update(clientIp).digest('hex').slice(0, MAC_HEX);
  }
}
