/**
 * ICE server lists for WebRTC clients (RTCConfiguration.iceServers) with Ferry-minted TURN REST
 * credentials `<expiry>:<accountId>:<issuedAtMs>` (see ./rest.ts), so that revoking an account's
 * credentials refuses exactly those minted before the revocation.
 *
 * One node hands out its own URLs. In a fleet the caller chooses the relays (src/cluster/select.ts)
 * and passes them in: one entry per relay, each with the same credential, which every node of the
 * fleet accepts because they share auth_secrets (the credential is an HMAC over the secret).
 */
import { isIPv6 } from 'node:net';
import { CredentialError } from './errors.js';
import { mintRestCredential } from './rest.js';
import { describeTtlRange, ICE_TTL } from './ttl.js';

export const DEFAULT_ICE_TTL_SECONDS = ICE_TTL.default;
export const MIN_ICE_TTL_SECONDS = ICE_TTL.min;

export interface IceServerIssuerOptions {
  /** The minting secret (the first of `auth_secrets`), read per call so a config reload applies. */
  readonly secret: () => string | undefined;
  /** STUN/TURN port over UDP and TCP. */
  readonly turnPort: number;
  /** TURN over TLS port; omitted when TLS is off. */
  readonly tlsPort?: number;
  /** Host name or IP clients should use; default: the host of the request. */
  readonly publicHost?: string;
  /** Upper bound of the TTL (seconds); must match the auth handler's. Default 86400. */
  readonly maxTtlSeconds?: number;
  readonly now: () => number;
}

export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

/** A relay of the fleet to hand out: its public host and the ports it listens on per transport. */
export interface RelayTarget {
  readonly host: string;
  readonly udpPort?: number;
  readonly tcpPort?: number;
  readonly tlsPort?: number;
}

export interface IceServers {
  /** One entry (this node), or one per chosen relay of the fleet. */
  readonly iceServers: IceServer[];
  /** ISO 8601 expiry of the credential. */
  readonly expires_at: string;
}

const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?$/;

/**
 * The host part of a Host header or configured host, without any port; IPv6 in brackets, host names
 * lowercased. null for anything that is not a plain host name or IP (it ends up in URLs).
 */
export function normalizeHost(raw: string): string | null {
  const s = raw.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    const rest = s.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    const ip = s.slice(1, end);
    return isIPv6(ip) ? `[${ip.toLowerCase()}]` : null;
  }
  const colons = s.split(':').length - 1;
  if (colons >= 2) return isIPv6(s) ? `[${s.toLowerCase()}]` : null;
  let host = s;
  if (colons === 1) {
    const at = s.indexOf(':');
    if (!/^\d{1,5}$/.test(s.slice(at + 1))) return null;
    host = s.slice(0, at);
  }
  return HOST_NAME.test(host) ? host.toLowerCase() : null;
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`ice servers: ${name} must be a port (1..65535)`);
}

export class IceServerIssuer {
  readonly #secret: () => string | undefined;
  readonly #turnPort: number;
  readonly #tlsPort: number | undefined;
  readonly #publicHost: string | undefined;
  readonly #maxTtl: number;
  readonly #now: () => number;

  constructor(options: IceServerIssuerOptions) {
    checkPort('turnPort', options.turnPort);
    if (options.tlsPort !== undefined) checkPort('tlsPort', options.tlsPort);
    const maxTtl = options.maxTtlSeconds ?? ICE_TTL.max;
    if (!Number.isSafeInteger(maxTtl) || maxTtl < MIN_ICE_TTL_SECONDS) {
      throw new Error(`ice servers: maxTtlSeconds must be an integer ≥ ${MIN_ICE_TTL_SECONDS}`);
    }
    let publicHost: string | undefined;
    if (options.publicHost !== undefined) {
      const h = normalizeHost(options.publicHost);
      if (h === null) throw new Error(`ice servers: publicHost ${JSON.stringify(options.publicHost)} is not a host name or IP`);
      publicHost = h;
    }
    this.#secret = options.secret;
    this.#turnPort = options.turnPort;
    this.#tlsPort = options.tlsPort;
    this.#publicHost = publicHost;
    this.#maxTtl = maxTtl;
    this.#now = options.now;
  }

  /**
   * The TTL to mint with: default 3600 (or maxTtl when lower). A TTL that is not a whole number of
   * seconds within 60..maxTtl is refused (CredentialError 'invalid'), never raised or lowered:
   * the routes and the CLI check the range first (./ttl.ts), this is the last line.
   */
  ttl(ttlSeconds: number | undefined): number {
    if (ttlSeconds === undefined) return Math.min(DEFAULT_ICE_TTL_SECONDS, this.#maxTtl);
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < MIN_ICE_TTL_SECONDS || ttlSeconds > this.#maxTtl) {
      throw new CredentialError('invalid', `ttl must be ${describeTtlRange({ min: MIN_ICE_TTL_SECONDS, max: this.#maxTtl, default: DEFAULT_ICE_TTL_SECONDS })}; got ${ttlSeconds}`);
    }
    return ttlSeconds;
  }

  /**
   * Credentials for `accountId` and the URLs to reach Ferry at publicHost ?? requestHost, or,
   * given `relays` (a fleet's chosen relays, not empty), the URLs of each of them. Throws
   * CredentialError 'no_secret' without a secret, 'invalid' for an unusable host or a TTL out of
   * range.
   */
  issue(accountId: string, ttlSeconds: number | undefined, requestHost: string, relays?: readonly RelayTarget[]): IceServers {
    const secret = this.#secret();
    if (secret === undefined || secret.length === 0) {
      throw new CredentialError('no_secret', 'TURN credentials are unavailable: no auth_secrets are configured');
    }
    let targets: readonly RelayTarget[];
    if (relays !== undefined && relays.length > 0) targets = relays;
    else {
      const host = this.#publicHost ?? normalizeHost(requestHost);
      if (host === null) throw new CredentialError('invalid', 'the request host is not a host name or IP');
      const p = this.#turnPort;
      targets = [{ host, udpPort: p, tcpPort: p, ...(this.#tlsPort !== undefined ? { tlsPort: this.#tlsPort } : {}) }];
    }
    const cred = mintRestCredential(secret, accountId, this.ttl(ttlSeconds), this.#now(), { issuedAt: true });
    const iceServers: IceServer[] = [];
    for (const t of targets) {
      const urls = urlsOf(t);
      if (urls.length > 0) iceServers.push({ urls, username: cred.username, credential: cred.password });
    }
    return { iceServers, expires_at: new Date(cred.expiresAt).toISOString() };
  }
}

/** stun: and turn: over UDP, turn: over TCP, turns: over TLS, as far as the relay listens on them. */
function urlsOf(t: RelayTarget): string[] {
  const host = normalizeHost(t.host);
  if (host === null) return [];
  const urls: string[] = [];
  if (t.udpPort !== undefined) urls.push(`stun:${host}:${t.udpPort}`, `turn:${host}:${t.udpPort}?transport=udp`);
  if (t.tcpPort !== undefined) urls.push(`turn:${host}:${t.tcpPort}?transport=tcp`);
  if (t.tlsPort !== undefined) urls.push(`turns:${host}:${t.tlsPort}?transport=tcp`);
  return urls;
}
