import { ATTR_LIFETIME, ATTR_REQUESTED_ADDRESS_FAMILY } from '../codec/constants.js';
import { readAddressFamily } from '../codec/attributes.js';
import { ERROR_BAD_REQUEST, ERROR_PEER_ADDRESS_FAMILY_MISMATCH } from '../codec/error-codes.js';
import type { RequestContext } from './context.js';
import { requireAllocation } from './allocation-request.js';
import { desiredLifetimeMs } from './lifetime.js';
import { failure, success } from './respond.js';

/** Refresh (RFC 8656 §7.3): a new lifetime, or deletion with LIFETIME 0. */
export function handleRefresh(ctx: RequestContext): Buffer | null {
  const r = requireAllocation(ctx);
  if (!r.ok) return r.response;
  const { cred, alloc } = r;
  const rafIdx = ctx.req.index(ATTR_REQUESTED_ADDRESS_FAMILY);
  if (rafIdx >= 0) {
    const f = readAddressFamily(ctx.req, rafIdx);
    if (f === null || f === 0) return failure(ctx, ERROR_BAD_REQUEST, cred);
    if (alloc.relayFor(f) === null) return failure(ctx, ERROR_PEER_ADDRESS_FAMILY_MISMATCH, cred);
  }
  const lifetime = desiredLifetimeMs(ctx);
  if (lifetime === null) return failure(ctx, ERROR_BAD_REQUEST, cred);
  if (lifetime === 0) {
    ctx.env.allocations.close(alloc, 'refresh', ctx.now);
  } else {
    alloc.expiresAt = ctx.now + lifetime;
  }
  return success(ctx, (w) => w.addUint32(ATTR_LIFETIME, Math.floor(lifetime / 1000)), cred);
}
