import { ERROR_INSUFFICIENT_CAPACITY } from '../codec/error-codes.js';
import type { RequestContext } from './context.js';
import { requireAllocation } from './allocation-request.js';
import { readPeers } from './peer-address.js';
import { failure, success } from './respond.js';

/** CreatePermission (RFC 8656 §10): all listed peers are installed, or none. */
export function handleCreatePermission(ctx: RequestContext): Buffer | null {
  const r = requireAllocation(ctx);
  if (!r.ok) return r.response;
  const { cred, alloc } = r;
  const read = readPeers(ctx, alloc);
  if (!read.ok) return failure(ctx, read.code, cred);
  const peers = read.peers;
  const fresh = new Set<string>();
  for (const p of peers) {
    const existing = alloc.permissions.get(p.address);
    if (existing === undefined || existing.expiresAt <= ctx.now) fresh.add(p.address);
  }
  if (alloc.livePermissionCount(ctx.now) + fresh.size > ctx.env.quotas.permissionsPerAllocation) return failure(ctx, ERROR_INSUFFICIENT_CAPACITY, cred);
  for (const p of peers) alloc.installPermission(p.address, p.family, p.ipBytes, ctx.now, p.relayPorts);
  return success(ctx, null, cred);
}
