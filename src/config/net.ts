/** Syntax of the network values in the config: `host:port`, IP addresses, CIDR blocks, port ranges. */
import { isIP } from 'node:net';

export interface HostPort {
  /** An IP literal, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/** Thrown by the parsers below; the message is written for an operator. */
export class NetSyntaxError extends Error {
  override name = 'NetSyntaxError';
}

function parsePort(text: string, what: string, min: number): number {
  if (!/^\d{1,5}$/.test(text)) throw new NetSyntaxError(`${what} must be a number, got ${JSON.stringify(text)}`);
  const port = Number(text);
  if (port < min || port > 65535) throw new NetSyntaxError(`${what} must be between ${min} and 65535, got ${port}`);
  return port;
}

/**
 * `0.0.0.0:3478`, `127.0.0.1:3478`, `[::1]:3478`, `[::]:5349`. The host must be an IP literal.
 * `minPort` 0 also accepts port 0 ("any free port", for listeners whose port is logged).
 */
export function parseHostPort(text: string, minPort: 0 | 1 = 1): HostPort {
  const usage = 'expected "host:port" with an IP address as host (IPv6 in brackets, e.g. [::1]:3478)';
  let host: string;
  let port: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') throw new NetSyntaxError(`${usage}, got ${JSON.stringify(text)}`);
    host = text.slice(1, end);
    port = text.slice(end + 2);
    if (isIP(host) !== 6) throw new NetSyntaxError(`${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw new NetSyntaxError(`${usage}, got ${JSON.stringify(text)}`);
    host = text.slice(0, colon);
    port = text.slice(colon + 1);
    if (host.includes(':')) throw new NetSyntaxError(`put an IPv6 address in brackets, e.g. [${host}]:${port}`);
    if (isIP(host) !== 4) throw new NetSyntaxError(`${usage}, got ${JSON.stringify(text)}`);
  }
  return { host, port: parsePort(port, 'port', minPort), family: host.includes(':') ? 6 : 4 };
}

/** `49152-65535` → {min, max}; both within 1024..65535 and min <= max. */
export function parsePortRange(text: string): PortRange {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  if (!m) throw new NetSyntaxError(`expected a port range "low-high" such as 49152-65535, got ${JSON.stringify(text)}`);
  const min = parsePort(m[1], 'low port', 1024);
  const max = parsePort(m[2], 'high port', 1024);
  if (min > max) throw new NetSyntaxError(`low port ${min} is above high port ${max}`);
  return { min, max };
}

/** 4 or 6 for an IP literal (no zone id), 0 otherwise. */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (text.includes('%')) return 0;
  return isIP(text) as 0 | 4 | 6;
}

/** 0.0.0.0 and :: (any spelling): "all addresses", not a specific one. */
export function isUnspecifiedIp(ip: string): boolean {
  if (ipFamily(ip) === 4) return ip === '0.0.0.0';
  if (ipFamily(ip) === 6) return /^[0:]+$/.test(ip);
  return false;
}

/** An IP as written before `:port` or in a URL: IPv6 in brackets (`[::1]`), IPv4 as it is. */
export const hostText = (ip: string): string => (ip.includes(':') ? `[${ip}]` : ip);

/** `127.0.0.1:3478`, `[::1]:3478`: the inverse of parseHostPort. */
export const formatHostPort = (host: string, port: number): string => `${hostText(host)}:${port}`;

/**
 * Syntax check of a CIDR block: `10.0.0.0/8`, `2001:db8::/32`. A bare address is also accepted
 * and means that one address (/32 or /128). Returns a message, or null when valid.
 */
export function cidrProblem(text: string): string | null {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const family = ipFamily(addr);
  if (family === 0) return `${JSON.stringify(text)} is not a CIDR block such as 10.0.0.0/8 or fd00::/8`;
  if (slash < 0) return null;
  const bits = text.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^(0|[1-9]\d{0,2})$/.test(bits) || Number(bits) > max) {
    return `${JSON.stringify(text)}: the prefix length must be 0..${max}`;
  }
  return null;
}
