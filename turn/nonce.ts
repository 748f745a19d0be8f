import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stateless nonces (RFC 8489 §9.2, as coturn 4.17): a version tag, the time of issue and a MAC
 * over that time and the client's IP and port, keyed by a server secret. No table is kept; a
 * nonce is refused (438) from another address or port, once it is older than the lifetime, and
 * after the secret changed. Nodes given the same secret accept each other's nonces.
 *
 * The nonce does not start with the RFC 8489 "obMatJos2" cookie: Ferry advertises no security
 * features, so every client uses the classic MD5 key with MESSAGE-INTEGRITY; a client that sends
 * PASSWORD-ALGORITHM or MESSAGE-INTEGRITY-SHA256 anyway is still verified correctly.
 */
const NONCE_COOKIE = 'f2';
const TIME_HEX = 10;
const MAC_HEX = 24;
const NONCE_LENGTH = NONCE_COOKIE.length + TIME_HEX + MAC_HEX;

export type NonceCheck = 'ok' | 'stale' | 'invalid';

export class NonceManager {
  private secret: Buffer;
  /** The secret was given (config), not drawn at random. */
  private configured: boolean;
  private lifetimeMs: number;

  /** `secret` absent: a random one, for this process only. */
  constructor(lifetimeMs: number, secret?: Buffer) {
    this.lifetimeMs = lifetimeMs;
    this.configured = secret !== undefined;
    this.secret = secret ?? randomBytes(32);
  }

  /**
   * Config reload. The lifetime applies to the nonces already issued (it is checked against their
   * time of issue). A changed secret invalidates every nonce issued so far: clients get 438 with
   * a fresh nonce and retry once. Without a secret, a random one is kept as it is (or drawn when
   * one was configured before).
   */
  update(lifetimeMs: number, secret?: Buffer): void {
    this.lifetimeMs = lifetimeMs;
    if (secret !== undefined) this.secret = secret;
    else if (this.configured) this.secret = randomBytes(32);
    this.configured = secret !== undefined;
  }

  issue(clientIp: string, clientPort: number, now: number): string {
    const issued = Math.floor(now / 1000).toString(16).padStart(TIME_HEX, '0');
    return NONCE_COOKIE + issued + this.mac(issued, clientIp, clientPort);
  }

  /**
   * 'invalid': not one of ours (or for another address, port or secret); 'stale': ours but older
   * than the lifetime, or dated further ahead than the lifetime (a node whose clock is off).
   */
  check(nonce: string, clientIp: string, clientPort: number, now: number): NonceCheck {
    if (nonce.length !== NONCE_LENGTH || !nonce.startsWith(NONCE_COOKIE)) return 'invalid';
    const head = NONCE_COOKIE.length;
    const issued = nonce.slice(head, head + TIME_HEX);
    // Both MAC_HEX bytes long: the nonce's length was checked, latin1 gives one byte per character.
    const given = Buffer.from(nonce.slice(head + TIME_HEX), 'latin1');
    const want = Buffer.from(this.mac(issued, clientIp, clientPort), 'latin1');
    if (!timingSafeEqual(given, want)) return 'invalid';
    const age = now - parseInt(issued, 16) * 1000;
    return Number.isFinite(age) && age < this.lifetimeMs && age > -this.lifetimeMs ? 'ok' : 'stale';
  }

  private mac(issued: string, clientIp: string, clientPort: number): string {
    return createHmac('sha256', this.secret)
      .update(issued)
      .update('\0')
      .update(clientIp)
      .update('\0')
      .update(String(clientPort))
      .digest('hex')
      .slice(0, MAC_HEX);
  }
}
