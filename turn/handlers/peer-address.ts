import { ATTR_XOR_PEER_ADDRESS } from '../codec/constants.js';
import { parseIp, readXorAddress } from '../codec/address.js';
import { ERROR_BAD_REQUEST, ERROR_FORBIDDEN, ERROR_PEER_ADDRESS_FAMILY_MISMATCH } from '../codec/error-codes.js';
import type { IpFamily, PeerRefusal } from '../interfaces.js';
import type { Allocation } from '../allocation.js';
import type { RelayPorts } from '../permission.js';
import type { Result } from '../result.js';
import type { RequestContext } from './context.js';

export interface PeerAddress {
  readonly family: IpFamily;
  readonly address: string;
  readonly ipBytes: Buffer;
  readonly port: number;
  /** Null when the policy allowed the peer; a relay address's port table when 'relay-only'. */
  readonly relayPorts: RelayPorts | null;
}

/** The request's vetted peers, or the error code to refuse it with. */
export type PeersResult = Result<
  { readonly peers: PeerAddress[] },
  typeof ERROR_BAD_REQUEST | typeof ERROR_FORBIDDEN | typeof ERROR_PEER_ADDRESS_FAMILY_MISMATCH
>;

/** Counts (TurnEvents.peerRefused) and logs at debug level a peer refused with 403. */
export function refusePeer(ctx: RequestContext, alloc: Allocation, peer: string, port: number, reason: PeerRefusal): typeof ERROR_FORBIDDEN {
  ctx.env.log?.debug({ allocation: alloc.id, account: alloc.account, peer, port, reason }, 'peer refused by the peer policy');
  try {
    ctx.env.allocations.events?.peerRefused?.(reason);
  } catch {
    // events must not break the engine
  }
  return ERROR_FORBIDDEN;
}

/**
 * Reads and vets every XOR-PEER-ADDRESS of a request: 400 when none or malformed, 443 when the
 * allocation has no relayed address of the peer's family, 403 when the peer policy refuses it
 * (counted and logged). A 'relay-only' peer carries its relay address's port table.
 */
export function readPeers(ctx: RequestContext, alloc: Allocation): PeersResult {
  const req = ctx.req;
  const found: { family: IpFamily; address: string; ipBytes: Buffer; port: number }[] = [];
  for (let i = 0; i < req.attrTypes.length; i++) {
    if (req.attrTypes[i] !== ATTR_XOR_PEER_ADDRESS) continue;
    const a = readXorAddress(req, i);
    if (a === null) return { ok: false, code: ERROR_BAD_REQUEST };
    const ip = parseIp(a.address);
    if (ip === null) return { ok: false, code: ERROR_BAD_REQUEST };
    found.push({ family: a.family, address: a.address, ipBytes: ip.bytes, port: a.port });
  }
  if (found.length === 0) return { ok: false, code: ERROR_BAD_REQUEST };
  for (const p of found) if (alloc.relayFor(p.family) === null) return { ok: false, code: ERROR_PEER_ADDRESS_FAMILY_MISMATCH };
  const peers: PeerAddress[] = [];
  for (const p of found) {
    const verdict = ctx.env.peerPolicy.check(p.address, p.family);
    if (verdict === 'allow') {
      peers.push({ ...p, relayPorts: null });
      continue;
    }
    if (verdict !== 'relay-only') return { ok: false, code: refusePeer(ctx, alloc, p.address, p.port, verdict) };
    // The policy names a relay address the binder does not relay from: refuse as the server's own.
    const relayPorts = ctx.env.binder.relayPorts(p.address, p.family);
    if (relayPorts === null) return { ok: false, code: refusePeer(ctx, alloc, p.address, p.port, 'own-address') };
    peers.push({ ...p, relayPorts });
  }
  return { ok: true, peers };
}
