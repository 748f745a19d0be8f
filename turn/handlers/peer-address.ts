import { ATTR_XOR_PEER_ADDRESS } from '../codec/constants.js';
import { parseIp, readXorAddress } from '../codec/address.js';
import type { IpFamily } from '../interfaces.js';
import type { Allocation } from '../allocation.js';
import type { RequestContext } from './context.js';

export interface PeerAddress {
  readonly family: IpFamily;
  readonly address: string;
  readonly ipBytes: Buffer;
  readonly port: number;
}

/**
 * Reads and vets every XOR-PEER-ADDRESS of a request: 400 when none or malformed, 443 when the
 * allocation has no relayed address of the peer's family, 403 when the peer policy refuses it.
 */
export function readPeers(ctx: RequestContext, alloc: Allocation): PeerAddress[] | 400 | 403 | 443 {
  const req = ctx.req;
  const peers: PeerAddress[] = [];
  for (let i = 0; i < req.attrTypes.length; i++) {
    if (req.attrTypes[i] !== ATTR_XOR_PEER_ADDRESS) continue;
    const a = readXorAddress(req, i);
    if (a === null) return 400;
    const ip = parseIp(a.address);
    if (ip === null) return 400;
    peers.push({ family: a.family, address: a.address, ipBytes: ip.bytes, port: a.port });
  }
  if (peers.length === 0) return 400;
  for (const p of peers) if (alloc.relayFor(p.family) === null) return 443;
  for (const p of peers) {
    if (!ctx.env.peerPolicy.allows(p.address, p.family)) {
      ctx.env.log?.debug({ allocation: alloc.id, account: alloc.account, peer: p.address }, 'peer refused by the peer policy');
      return 403;
    }
  }
  return peers;
}
