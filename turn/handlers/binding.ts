import { ATTR_XOR_MAPPED_ADDRESS } from '../codec/constants.js';
import { parseIp } from '../codec/address.js';
import type { RequestContext } from './context.js';
import { success } from './respond.js';

/** Binding (RFC 8489 §3): the client's reflexive transport address, unauthenticated. */
export function handleBinding(ctx: RequestContext): Buffer | null {
  const ip = parseIp(ctx.client.address);
  if (ip === null) return null;
  return success(ctx, (w) => w.addXorAddress(ATTR_XOR_MAPPED_ADDRESS, ip.family, ip.bytes, ctx.client.port), null);
}
