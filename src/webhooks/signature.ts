/**
 * The webhook signing scheme. Every delivery carries
 * `Ferry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, where body is
 * the exact request body. Receivers check it with verifySignature (or assertSignature, which says
 * why a delivery is refused) and reject stale timestamps.
 *
 * This module is also the package's `ferry-relay/webhooks` entry: it imports nothing but
 * node:crypto, so a receiver loads neither the server nor the database driver.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Ferry-Signature';

/** How far (seconds) a delivery's timestamp may be from the receiver's clock by default. */
export const DEFAULT_TOLERANCE_SEC = 300;

/** The hex HMAC-SHA256 of "<t>.<body>" under `secret`. */
export function signatureDigest(secret: string, t: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

/** The Ferry-Signature header value for `body` signed at `t` (unix seconds). */
export function signatureHeader(secret: string, body: string | Uint8Array, t: number): string {
  return `t=${t},v1=${signatureDigest(secret, t, body)}`;
}

/** Why a delivery's signature was refused. */
export type SignatureProblem = 'missing_header' | 'malformed_header' | 'timestamp_out_of_range' | 'signature_mismatch';

/** A delivery that does not carry a valid signature; `code` says which check failed. */
export class WebhookSignatureError extends Error {
  override name = 'WebhookSignatureError';
  constructor(readonly code: SignatureProblem, message: string) {
    super(message);
  }
}

/**
 * Checks that `header` (the Ferry-Signature value) signs `body` with `secret` and that its timestamp
 * lies within `toleranceSec` of `nowSec` (default: the current time), either way. Several v1
 * entries are accepted (any may match: a receiver rotating its secret). Returns the signed
 * timestamp. Throws WebhookSignatureError for a delivery to refuse, TypeError for a call that
 * cannot be right (an empty secret, a parsed body instead of the raw bytes).
 */
export function assertSignature(
  secret: string,
  header: string | readonly string[] | null | undefined,
  body: string | Uint8Array,
  toleranceSec = DEFAULT_TOLERANCE_SEC,
  nowSec = Math.floor(Date.now() / 1000),
): number {
  if (typeof secret !== 'string' || secret === '') throw new TypeError('webhook signature: the webhook secret must be a non-empty string');
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new TypeError('webhook signature: body must be the raw request body (a string or Buffer), not a parsed object: the signature covers the exact bytes');
  }
  if (!Number.isFinite(toleranceSec) || toleranceSec < 0) throw new TypeError('webhook signature: toleranceSec must be a number of seconds >= 0');
  // Node gives a repeated header as an array: one signature header is expected.
  const value = Array.isArray(header) ? (header.length === 1 ? header[0] : undefined) : header;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new WebhookSignatureError('missing_header', `no ${SIGNATURE_HEADER} header (or more than one)`);
  }
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,15}$/.test(v)) t = Number(v);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(v)) candidates.push(v);
  }
  if (t === undefined) throw new WebhookSignatureError('malformed_header', `${SIGNATURE_HEADER} has no t=<unix seconds>`);
  if (candidates.length === 0) throw new WebhookSignatureError('malformed_header', `${SIGNATURE_HEADER} has no v1=<64 hex digits>`);
  const skew = nowSec - t;
  if (Math.abs(skew) > toleranceSec) {
    throw new WebhookSignatureError(
      'timestamp_out_of_range',
      `${SIGNATURE_HEADER} timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'} (tolerance ${toleranceSec} s): a replay, or a clock off`,
    );
  }
  const expected = Buffer.from(signatureDigest(secret, t, body), 'hex');
  // Every candidate is compared in constant time; `some` stops at a match, which tells nothing secret.
  if (!candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected))) {
    throw new WebhookSignatureError('signature_mismatch', `${SIGNATURE_HEADER} does not match the body: another secret, or a body changed (e.g. parsed and re-serialized)`);
  }
  return t;
}

/**
 * Whether `header` signs `body` with `secret` within `toleranceSec` of `nowSec` (assertSignature
 * without the reason). Misuse (an empty secret, a parsed body) still throws TypeError.
 */
export function verifySignature(
  secret: string,
  header: string | readonly string[] | null | undefined,
  body: string | Uint8Array,
  toleranceSec = DEFAULT_TOLERANCE_SEC,
  nowSec = Math.floor(Date.now() / 1000),
): boolean {
  try {
    assertSignature(secret, header, body, toleranceSec, nowSec);
    return true;
  } catch (err) {
    if (err instanceof WebhookSignatureError) return false;
    throw err;
  }
}
