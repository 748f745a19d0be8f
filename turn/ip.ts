/**
 * IP text → 32-bit words, for the peer policy's range matching. The parsing itself is the
 * codec's (`writeIpBytes`, the one IP parser of turn/); this only adds the word layout and the
 * optional zone suffix.
 */
import { writeIpBytes } from './codec/address.js';

const PERCENT = 0x25;
const bytes = Buffer.alloc(16);

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
 * Parses an IPv4 or IPv6 address into `out` (length ≥ 4: one word for IPv4, four for IPv6,
 * network order). Returns its family, or 0 when `s` is not an address. A zone suffix
 * (`fe80::1%eth0`, as Node prints scoped addresses) is accepted and ignored only when
 * `allowZone` is set.
 */
export function parseIpInto(s: string, out: Uint32Array, allowZone = false): 0 | 4 | 6 {
  if (s.length === 0 || s.length > 64) return 0;
  let text = s;
  const pct = s.indexOf(String.fromCharCode(PERCENT));
  if (pct >= 0) {
    if (!allowZone || !s.includes(':') || !isZone(s, pct + 1)) return 0;
    text = s.slice(0, pct);
  }
  if (writeIpBytes(bytes, 0, text, 4)) {
    out[0] = bytes.readUInt32BE(0);
    return 4;
  }
  if (writeIpBytes(bytes, 0, text, 6)) {
    for (let i = 0; i < 4; i++) out[i] = bytes.readUInt32BE(4 * i);
    return 6;
  }
  return 0;
}
