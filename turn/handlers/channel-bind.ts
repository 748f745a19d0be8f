import { ATTR_CHANNEL_NUMBER } from '../codec/constants.js';
import { readChannelNumber } from '../codec/attributes.js';
import { isValidChannelNumber } from '../codec/channel-data.js';
import { ERROR_BAD_REQUEST, ERROR_INSUFFICIENT_CAPACITY } from '../codec/error-codes.js';
import type { RequestContext } from './context.js';
import { requireAllocation } from './allocation-request.js';
import { readPeers, refusePeer } from './peer-address.js';
import { PORT_LIVE } from '../permission.js';
import { failure, success } from './respond.js';

/** ChannelBind (RFC 8656 §11): bind or refresh a channel, refreshing the peer's permission too. */
export function handleChannelBind(ctx: RequestContext): Buffer | null {
  const r = requireAllocation(ctx);
  if (!r.ok) return r.response;
  const { cred, alloc } = r;
  const { req, now } = ctx;
  const ci = req.index(ATTR_CHANNEL_NUMBER);
  const number = ci >= 0 ? readChannelNumber(req, ci) : null;
  if (number === null || !isValidChannelNumber(number)) return failure(ctx, ERROR_BAD_REQUEST, cred);
  const read = readPeers(ctx, alloc);
  if (!read.ok) return failure(ctx, read.code, cred);
  const peers = read.peers;
  if (peers.length !== 1 || peers[0].port === 0) return failure(ctx, ERROR_BAD_REQUEST, cred);
  const peer = peers[0];
  // A relay address ('relay-only'): only a live allocation's relayed port; 403 like any refused peer.
  if (peer.relayPorts !== null && peer.relayPorts.table[peer.port] !== PORT_LIVE) {
    return failure(ctx, refusePeer(ctx, alloc, peer.address, peer.port, 'not-relay-port'), cred);
  }
  if (!alloc.mayBindChannel(number, peer.address, peer.port, now)) return failure(ctx, ERROR_BAD_REQUEST, cred);
  const quotas = ctx.env.quotas;
  const current = alloc.channels.get(number);
  if ((current === undefined || current.expiresAt <= now) && alloc.liveChannelCount(now) >= quotas.channelsPerAllocation) {
    return failure(ctx, ERROR_INSUFFICIENT_CAPACITY, cred);
  }
  const perm = alloc.permissions.get(peer.address);
  if ((perm === undefined || perm.expiresAt <= now) && alloc.livePermissionCount(now) >= quotas.permissionsPerAllocation) {
    return failure(ctx, ERROR_INSUFFICIENT_CAPACITY, cred);
  }
  alloc.bindChannel(number, peer.address, peer.family, peer.ipBytes, peer.port, now, peer.relayPorts);
  return success(ctx, null, cred);
}
