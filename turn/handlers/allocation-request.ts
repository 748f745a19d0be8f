import { ERROR_ALLOCATION_MISMATCH, ERROR_WRONG_CREDENTIALS } from '../codec/error-codes.js';
import type { Allocation } from '../allocation.js';
import type { RequestContext } from './context.js';
import { authenticate } from './authenticate.js';
import { failure, type Credential } from './respond.js';

export type AllocationRequest =
  | { readonly ok: true; readonly cred: Credential; readonly alloc: Allocation }
  | { readonly ok: false; readonly response: Buffer | null };

/**
 * The common start of Refresh, CreatePermission and ChannelBind: authenticate, find the
 * allocation of this 5-tuple (437 when none) and require the credentials it was made with
 * (441 otherwise, RFC 8656 §5).
 */
export function requireAllocation(ctx: RequestContext): AllocationRequest {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth;
  const alloc = ctx.client.allocation();
  if (alloc === undefined || alloc.closed) return { ok: false, response: failure(ctx, ERROR_ALLOCATION_MISMATCH, auth.cred) };
  if (alloc.username !== auth.cred.username) return { ok: false, response: failure(ctx, ERROR_WRONG_CREDENTIALS, auth.cred) };
  return { ok: true, cred: auth.cred, alloc };
}
