/**
 * Which peer addresses an allocation may relay to: safe by default. `check()` gives a verdict.
 *
 * Order of evaluation (first match decides):
 *   1. "this network" 0.0.0.0/8 or the unspecified ::     → 'unspecified', whatever allows it: Linux
 *      delivers 0.0.0.0 to the local host, so a relay that sends there relays into itself.
 *   2. `deny` covers the address                          → 'denied' (deny wins over allow).
 *   3. one of the server's relay addresses (bound relay IPs and external IPs), in its own family
 *      → 'relay-only': the permission is installed, but traffic reaches only the relayed transport
 *      addresses of live allocations (the engine checks the port), never another local service.
 *      This is what lets two relay-only peers pair through one Ferry. An `allow` entry other than
 *      a catch-all (0.0.0.0/0, ::/0) covering it makes it a plain 'allow' (single-host tests).
 *   4. one of the server's own addresses (or ranges)      → 'own-address', unless an `allow` entry
 *      other than a catch-all covers it. A relay must not relay into itself; tests and single-host
 *      setups open it on purpose (e.g. `allow: ["127.0.0.0/8"]` with the server on 127.0.0.1), but
 *      switching the special-purpose list off wholesale does not.
 *   5. a default-denied (special-purpose) range           → 'special-purpose', unless `allow` covers it.
 *   6. anything else                                      → 'allow'.
 *
 * IPv6 forms that carry an IPv4 address — IPv4-mapped (::ffff:0:0/96), IPv4-translated (SIIT,
 * ::ffff:0:0:0/96), IPv4-compatible (::/96 other than :: and ::1), NAT64 well-known prefix
 * (64:ff9b::/96) and 6to4 (2002::/16) — are judged by the IPv4 rules on the embedded address
 * (IPv4 `allow`/`deny`/own addresses), after the IPv6 `deny` list, except that they are never
 * 'relay-only': an IPv6 relayed socket cannot reach the IPv4 relay address through them, so a
 * relay address in such a form is refused as 'own-address'. IPv6 `allow` entries never open them:
 * write the IPv4 range instead. The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215) places the
 * IPv4 address according to an operator-chosen prefix length, so it cannot be extracted reliably:
 * it is denied outright.
 *
 * Matching is O(ranges) over precomputed uint32 words; an address is parsed once per call into a
 * scratch array (no allocation on the CreatePermission/ChannelBind path).
 */
import type { IpFamily, PeerPolicy, PeerVerdict } from './interfaces.js';
import { parseIpInto } from './ip.js';

export interface Cidr {
  readonly family: IpFamily;
  /** The network address with host bits cleared: one uint32 (IPv4) or four (IPv6, big-endian). */
  readonly words: readonly number[];
  readonly prefix: number;
}

export interface PeerPolicyOptions {
  /** CIDRs or bare addresses opened despite the default-deny list. */
  readonly allow: readonly string[];
  /** CIDRs or bare addresses refused in addition to the default-deny list. */
  readonly deny: readonly string[];
  /**
   * The server's own addresses: listening, relay and external IPs, and ranges such as 127.0.0.0/8
   * when listening on a wildcard address.
   */
  readonly serverAddresses: readonly string[];
  /**
   * The server's relay addresses (bound relay IPs and external IPs, bare addresses): peers there
   * get 'relay-only'. Default: none (every own address is refused).
   */
  readonly relayAddresses?: readonly string[];
}

/**
 * Default-deny ranges, checked against the IANA IPv4/IPv6 special-purpose address registries
 * (entries not globally reachable) plus multicast, reserved and deprecated blocks.
 */
export const DEFAULT_DENY_IPV4: readonly string[] = [
  '0.0.0.0/8', // "this network"; 0.0.0.0 reaches the local host on Linux
  '10.0.0.0/8', // private use (RFC 1918)
  '100.64.0.0/10', // shared address space, CGNAT (RFC 6598)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link local, incl. cloud metadata 169.254.169.254
  '172.16.0.0/12', // private use
  '192.0.0.0/24', // IETF protocol assignments (DS-Lite, NAT64 discovery, ...)
  '192.0.2.0/24', // documentation TEST-NET-1
  '192.88.99.0/24', // 6to4 relay anycast (deprecated, RFC 7526)
  '192.168.0.0/16', // private use
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation TEST-NET-2
  '203.0.113.0/24', // documentation TEST-NET-3
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, incl. limited broadcast 255.255.255.255
];

export const DEFAULT_DENY_IPV6: readonly string[] = [
  '::/128', // unspecified
  '::1/128', // loopback
  '64:ff9b:1::/48', // local-use NAT64 (RFC 8215): embedding position unknown, see above
  '100::/64', // discard-only (RFC 6666)
  '100:0:0:1::/64', // dummy prefix (RFC 9780)
  '2001::/32', // Teredo: tunnels to an obfuscated IPv4 address
  '2001:2::/48', // benchmarking (RFC 5180)
  '2001:10::/28', // ORCHID, deprecated (RFC 4843)
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation (RFC 9637)
  '5f00::/16', // SRv6 SIDs (RFC 9602)
  'fc00::/7', // unique local, incl. AWS metadata fd00:ec2::254
  'fe80::/10', // link local
  'fec0::/10', // site local, deprecated (RFC 3879)
  'ff00::/8', // multicast
];

function maskWord(prefix: number, k: number): number {
  const bits = prefix - 32 * k;
  if (bits >= 32) return 0xffffffff;
  if (bits <= 0) return 0;
  return (0xffffffff << (32 - bits)) >>> 0;
}

const cidrScratch = new Uint32Array(4);

/** Parses `a.b.c.d/n`, `x::y/n` or a bare address (/32, /128). Host bits are cleared. */
export function parseCidr(s: string): Cidr | null {
  const text = s.trim();
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const family = parseIpInto(addr, cidrScratch);
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  const n = family === 4 ? 1 : 4;
  const words: number[] = [];
  for (let k = 0; k < n; k++) words.push((cidrScratch[k] & maskWord(prefix, k)) >>> 0);
  return { family, words, prefix };
}

/** A flat set of ranges of one family: IPv4 as [net, mask] pairs, IPv6 as [net×4, mask×4]. */
class RangeSet {
  private readonly v4: Uint32Array;
  private readonly v6: Uint32Array;

  constructor(cidrs: readonly Cidr[]) {
    const four = cidrs.filter((c) => c.family === 4);
    const six = cidrs.filter((c) => c.family === 6);
    this.v4 = new Uint32Array(four.length * 2);
    four.forEach((c, i) => {
      this.v4[2 * i] = c.words[0];
      this.v4[2 * i + 1] = maskWord(c.prefix, 0);
    });
    this.v6 = new Uint32Array(six.length * 8);
    six.forEach((c, i) => {
      for (let k = 0; k < 4; k++) {
        this.v6[8 * i + k] = c.words[k];
        this.v6[8 * i + 4 + k] = maskWord(c.prefix, k);
      }
    });
  }

  has4(a: number): boolean {
    const r = this.v4;
    for (let i = 0; i < r.length; i += 2) {
      if (((a & r[i + 1]) >>> 0) === r[i]) return true;
    }
    return false;
  }

  has6(w: Uint32Array): boolean {
    const r = this.v6;
    for (let i = 0; i < r.length; i += 8) {
      if (
        ((w[0] & r[i + 4]) >>> 0) === r[i] &&
        ((w[1] & r[i + 5]) >>> 0) === r[i + 1] &&
        ((w[2] & r[i + 6]) >>> 0) === r[i + 2] &&
        ((w[3] & r[i + 7]) >>> 0) === r[i + 3]
      ) {
        return true;
      }
    }
    return false;
  }
}

/** The IPv4 address an IPv6 address carries (mapped, translated, compatible, NAT64 WKP, 6to4), or -1. */
export function embeddedIpv4(w: ArrayLike<number>): number {
  if (w[0] === 0 && w[1] === 0) {
    if (w[2] === 0xffff) return w[3]; // ::ffff:a.b.c.d
    if (w[2] === 0xffff0000) return w[3]; // ::ffff:0:a.b.c.d (SIIT, RFC 7915)
    if (w[2] === 0 && w[3] > 1) return w[3]; // ::a.b.c.d (not :: and ::1)
    return -1;
  }
  if (w[0] === 0x0064ff9b && w[1] === 0 && w[2] === 0) return w[3]; // 64:ff9b::a.b.c.d
  if (w[0] >>> 16 === 0x2002) return (((w[0] & 0xffff) << 16) | (w[1] >>> 16)) >>> 0; // 2002:aabb:ccdd::
  return -1;
}

function parseList(name: string, entries: readonly string[]): Cidr[] {
  return entries.map((entry) => {
    const c = typeof entry === 'string' ? parseCidr(entry) : null;
    if (c === null) throw new Error(`peer policy: invalid ${name} entry ${JSON.stringify(entry)} (expected an IPv4/IPv6 address or CIDR)`);
    return c;
  });
}

/** A server address or range inside ::ffff:0:0/96 (IPv4-mapped) is the IPv4 address or range itself. */
function unmapServerAddress(c: Cidr): Cidr {
  if (c.family === 6 && c.prefix >= 96 && c.words[0] === 0 && c.words[1] === 0 && c.words[2] === 0xffff) {
    return { family: 4, words: [c.words[3]], prefix: c.prefix - 96 };
  }
  return c;
}

function singleAddresses(name: string, entries: readonly string[]): Cidr[] {
  return parseList(name, entries).map((c, i) => {
    if (c.prefix !== (c.family === 4 ? 32 : 128)) {
      throw new Error(`peer policy: ${name} entry ${JSON.stringify(entries[i])} must be a single address, not a range`);
    }
    return unmapServerAddress(c);
  });
}

/** 0.0.0.0/8: "this network"; 0.0.0.0 reaches the local host on Linux. */
const isThisNetwork = (a: number): boolean => a >>> 24 === 0;

export function createPeerPolicy(options: PeerPolicyOptions): PeerPolicy {
  const allowCidrs = parseList('allow', options.allow);
  const allow = new RangeSet(allowCidrs);
  const allowSpecific = new RangeSet(allowCidrs.filter((c) => c.prefix > 0));
  const deny = new RangeSet(parseList('deny', options.deny));
  const server = new RangeSet(parseList('serverAddresses', options.serverAddresses).map(unmapServerAddress));
  const relay = new RangeSet(singleAddresses('relayAddresses', options.relayAddresses ?? []));
  const defaults = new RangeSet(parseList('default', [...DEFAULT_DENY_IPV4, ...DEFAULT_DENY_IPV6]));
  const scratch = new Uint32Array(4);

  /** `native`: the address was given as IPv4 (not embedded in an IPv6 form). */
  const check4 = (a: number, native: boolean): PeerVerdict => {
    if (isThisNetwork(a)) return 'unspecified';
    if (deny.has4(a)) return 'denied';
    const specific = allowSpecific.has4(a);
    if (relay.has4(a) && !specific) return native ? 'relay-only' : 'own-address';
    if (server.has4(a) && !specific) return 'own-address';
    if (defaults.has4(a) && !allow.has4(a)) return 'special-purpose';
    return 'allow';
  };

  return {
    check(address: string, family: IpFamily): PeerVerdict {
      // The string decides the family; a disagreeing `family` is a caller bug: refuse.
      const parsed = parseIpInto(address, scratch, true);
      if (parsed === 0 || parsed !== family) return 'denied';
      if (parsed === 4) return check4(scratch[0], true);
      if ((scratch[0] | scratch[1] | scratch[2] | scratch[3]) === 0) return 'unspecified';
      if (deny.has6(scratch)) return 'denied';
      const v4 = embeddedIpv4(scratch);
      if (v4 >= 0) return check4(v4, false);
      const specific = allowSpecific.has6(scratch);
      if (relay.has6(scratch) && !specific) return 'relay-only';
      if (server.has6(scratch) && !specific) return 'own-address';
      if (defaults.has6(scratch) && !allow.has6(scratch)) return 'special-purpose';
      return 'allow';
    },
  };
}
