import type { IpFamily } from './interfaces.js';
import type { Channel } from './channel.js';

/** RFC 8656 §9: a permission lasts 300 s unless refreshed. */
export const PERMISSION_LIFETIME_MS = 300_000;

/** A permission for one peer IP address on one allocation. */
export class Permission {
  /** Canonical text of the peer IP, exactly as Node reports it in rinfo.address. */
  readonly address: string;
  readonly family: IpFamily;
  /** The raw 4 or 16 address bytes (for Data indications' XOR-PEER-ADDRESS). */
  readonly ipBytes: Buffer;
  expiresAt: number;
  /** Channels bound to this peer IP, by peer port. */
  readonly channelsByPort = new Map<number, Channel>();

  constructor(address: string, family: IpFamily, ipBytes: Buffer, expiresAt: number) {
    this.address = address;
    this.family = family;
    this.ipBytes = ipBytes;
    this.expiresAt = expiresAt;
  }
}
