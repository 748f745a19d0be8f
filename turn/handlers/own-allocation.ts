import { ATTR_USERNAME, MAX_USERNAME_BYTES } from '../codec/constants.js';
import { readString } from '../codec/attributes.js';
import type { RequestContext } from './context.js';

/**
 * true when the request comes from a 5-tuple that holds a live allocation and its USERNAME is
 * that allocation's user. Such a request can only prove the password of the user already
 * authenticated on this 5-tuple, so it gives a password guesser nothing: the per-IP budgets
 * (rate_limits.*) do not silence it, and users sharing the IP (a NAT, or addresses hashed to the
 * same slot) cannot cost a live allocation its Refresh, CreatePermission and ChannelBind.
 */
export function fromOwnAllocation(ctx: RequestContext): boolean {
  const alloc = ctx.client.allocation();
  if (alloc === undefined || alloc.closed) return false;
  const ui = ctx.req.index(ATTR_USERNAME);
  return ui >= 0 && readString(ctx.req, ui, MAX_USERNAME_BYTES) === alloc.username;
}
