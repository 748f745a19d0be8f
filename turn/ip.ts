/**
 * A small, allocation-free IP address parser for the peer policy.
 *
 * Addresses are parsed into caller-owned words: IPv4 as one uint32 (`out[0]`), IPv6 as four
 * big-endian uint32 (`out[0]` holds the first 32 bits). Only textual forms are accepted that
 * Node itself prints or that an operator would write in a config file: dotted-quad IPv4 without
 * leading zeros (no octal ambiguity), and RFC 4291 IPv6 text with at most one `::` and an optional
 * trailing dotted quad. No DNS, no shorthand IPv4 forms such as `127.1`.
 */

const COLON = 58;
const DOT = 46;
const PERCENT = 37;

/** Parses `s[start, end)` as a dotted-quad IPv4 address; returns it as a uint32 or -1. */
export function parseIpv4(s: string, start = 0, end = s.length): number {
  let parts = 0;
  let value = 0;
  let digits = 0;
  let acc = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || parts === 3) return -1;
      acc = acc * 256 + value;
      parts++;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57) return -1;
    if (digits === 1 && value === 0) return -1; // leading zero
    value = value * 10 + (c - 48);
    digits++;
    if (value > 255) return -1;
  }
  if (digits === 0 || parts !== 3) return -1;
  return acc * 256 + value;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

// Scratch for the eight 16-bit groups (single-threaded: never shared across a yield).
const groups = new Uint16Array(8);

/** Parses `s[0, end)` as IPv6 text into four uint32 words; false if it is not one. */
function parseIpv6(s: string, end: number, out: Uint32Array): boolean {
  if (end < 2) return false;
  let n = 0; // groups parsed
  let gap = -1; // group index where `::` stands
  let i = 0;
  if (s.charCodeAt(0) === COLON) {
    if (s.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    if (n === 8) return false;
    let j = i;
    let value = 0;
    while (j < end) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
      if (j - i > 4) return false;
    }
    if (j < end && s.charCodeAt(j) === DOT) {
      // A trailing dotted quad fills the last two groups.
      if (n > 6) return false;
      const v4 = parseIpv4(s, i, end);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      break;
    }
    if (j === i) return false; // empty group
    groups[n++] = value;
    if (j === end) break;
    if (s.charCodeAt(j) !== COLON) return false;
    j++;
    if (j < end && s.charCodeAt(j) === COLON) {
      if (gap >= 0) return false; // a second `::`
      gap = n;
      j++;
    } else if (j === end) {
      return false; // a trailing single colon
    }
    i = j;
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  const zeros = 8 - n;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    let g: number;
    if (gap < 0 || k < gap) g = groups[k];
    else if (k < gap + zeros) g = 0;
    else g = groups[k - zeros];
    if ((k & 1) === 0) hi = g;
    else out[k >> 1] = ((hi << 16) | g) >>> 0;
  }
  return true;
}

/** A non-empty zone id of letters, digits, '-', '.', '_' and ':' from `start` to the end. */
function isZone(s: string, start: number): boolean {
  if (start >= s.length) return false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95;
    if (!ok) return false;
  }
  return true;
}

/**
 * Parses an IPv4 or IPv6 address into `out` (length ≥ 4). Returns its family, or 0 when `s` is
 * not an address. A zone suffix (`fe80::1%eth0`, as Node prints scoped addresses) is accepted and
 * ignored only when `allowZone` is set.
 */
export function parseIpInto(s: string, out: Uint32Array, allowZone = false): 0 | 4 | 6 {
  const len = s.length;
  if (len === 0 || len > 64) return 0;
  let isV6 = false;
  let end = len;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === COLON) isV6 = true;
    else if (c === PERCENT) {
      end = i;
      break;
    }
  }
  if (!isV6) {
    if (end !== len) return 0;
    const v4 = parseIpv4(s, 0, len);
    if (v4 < 0) return 0;
    out[0] = v4;
    return 4;
  }
  if (end !== len && (!allowZone || !isZone(s, end + 1))) return 0;
  return parseIpv6(s, end, out) ? 6 : 0;
}
