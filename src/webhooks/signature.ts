/**
 * The webhook signing scheme. Every delivery carries
 * `Ferry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, where body is
 * the exact request body. Receivers check it with verifySignature and reject stale timestamps.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Ferry-Signature';

/** The hex HMAC-SHA256 of "<t>.<body>" under `secret`. */
export function signatureDigest(secret: string, t: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

/** The Ferry-Signature header value for `body` signed at `t` (unix seconds). */
export function signatureHeader(secret: string, body: string | Buffer, t: number): string {
  return `t=${t},v1=${signatureDigest(secret, t, body)}`;
}

/**
 * Whether `header` (a Ferry-Signature value) signs `body` with `secret` and its timestamp lies within
 * `toleranceSec` of `nowSec` (default: the current time). Several v1 entries are accepted (any may match).
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string | Buffer,
  toleranceSec = 300,
  nowSec = Math.floor(Date.now() / 1000),
): boolean {
  if (typeof header !== 'string') return false;
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,15}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (t === undefined || candidates.length === 0) return false;
  if (Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(signatureDigest(secret, t, body), 'hex');
  return candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
}
