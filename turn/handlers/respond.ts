import { CLASS_ERROR, CLASS_SUCCESS, messageType, ATTR_NONCE, ATTR_REALM } from '../codec/constants.js';
import { ERROR_STALE_NONCE, ERROR_UNAUTHENTICATED } from '../codec/error-codes.js';
import { StunWriter } from '../codec/writer.js';
import type { RequestContext } from './context.js';
import { fromOwnAllocation } from './own-allocation.js';

/** The credential a request was authenticated with; responses are signed with the same key. */
export interface Credential {
  readonly username: string;
  readonly account: string;
  readonly realm: string;
  /** The long-term key of the request's password algorithm. */
  readonly key: Buffer;
  /** The request used MESSAGE-INTEGRITY-SHA256, so the response does too. */
  readonly sha256: boolean;
}

const scratch = Buffer.allocUnsafe(4096);

/**
 * Builds a response to `ctx.req` of class `cls`: `build` adds the attributes, then
 * MESSAGE-INTEGRITY(-SHA256) when the request was authenticated and FINGERPRINT when the
 * request carried one. Returns a fresh buffer (responses may be queued by a stream).
 */
export function respond(ctx: RequestContext, cls: number, build: ((w: StunWriter) => void) | null, cred: Credential | null): Buffer {
  const req = ctx.req;
  const w = new StunWriter(scratch);
  w.begin(messageType(req.method, cls), req.buf, req.tidOffset);
  if (build !== null) build(w);
  if (cred !== null) {
    if (cred.sha256) w.addMessageIntegritySha256(cred.key);
    else w.addMessageIntegrity(cred.key);
  }
  if (req.fingerprintIndex >= 0) w.addFingerprint();
  const n = w.finish();
  return Buffer.from(scratch.subarray(0, n));
}

export function success(ctx: RequestContext, build: ((w: StunWriter) => void) | null, cred: Credential | null): Buffer {
  return respond(ctx, CLASS_SUCCESS, build, cred);
}

/** An error response; signed when the request was authenticated (RFC 8489 §9.2.4). */
export function failure(ctx: RequestContext, code: number, cred: Credential | null = null, build?: (w: StunWriter) => void, reason?: string): Buffer {
  return respond(
    ctx,
    CLASS_ERROR,
    (w) => {
      w.addErrorCode(code, reason);
      if (build !== undefined) build(w);
    },
    cred,
  );
}

/**
 * 401 or 438 with REALM and a fresh NONCE bound to the client's IP and port; never signed.
 * null (no answer at all) once the client's IP has used its budget of challenges
 * (rate_limits.challenges_per_ip), so the relay cannot be made to reflect them at line rate.
 * Exempt (still counted): the answer to a request from a 5-tuple holding an allocation, naming
 * that allocation's user (fromOwnAllocation), so a live client always learns of a stale nonce.
 */
export function challenge(ctx: RequestContext, code: typeof ERROR_UNAUTHENTICATED | typeof ERROR_STALE_NONCE): Buffer | null {
  const { env, client, now } = ctx;
  const budget = env.rateLimits.challenges;
  if (budget.enabled) {
    const slot = budget.slotOf(client.address);
    if (!budget.available(slot, now) && !fromOwnAllocation(ctx)) {
      env.allocations.events?.rateLimited?.('challenge');
      return null;
    }
    budget.take(slot);
  }
  // Written here rather than through failure(): no closure per challenge, the answer floods get.
  const req = ctx.req;
  const w = new StunWriter(scratch);
  w.begin(messageType(req.method, CLASS_ERROR), req.buf, req.tidOffset);
  w.addErrorCode(code);
  w.addString(ATTR_REALM, env.realm);
  w.addString(ATTR_NONCE, env.nonces.issue(client.address, client.port, now));
  if (req.fingerprintIndex >= 0) w.addFingerprint();
  return Buffer.from(scratch.subarray(0, w.finish()));
}
