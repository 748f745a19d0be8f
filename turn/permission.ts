import type { IpFamily } from './interfaces.js';

/** RFC 8656 §9: a permission lasts 300 s unless refreshed. */
export const PERMISSION_LIFETIME_MS = 300_000;

/** A port-table value: a live allocation's relayed socket is bound on this port. */
export const PORT_LIVE = 1;
/** A port-table value: held for an EVEN-PORT reservation (a placeholder socket, no allocation). */
export const PORT_RESERVED = 2;

/**
 * The ports of one relay address, shared with the relay binder: a 'relay-only' permission reaches
 * only ports whose entry is PORT_LIVE. Client data to other ports is dropped and counted here.
 */
export interface RelayPorts {
  /** By port (65536 entries): 0 free, PORT_LIVE or PORT_RESERVED. Written by the binder only. */
  readonly table: Uint8Array;
  /** The native data plane's number for this table (it reads the same bytes), -1 without it. */
  readonly nativeIndex: number;
  /** Client packets (ChannelData, Send indications) dropped for a port that is not PORT_LIVE. */
  dropped: number;
}

/**
 * A channel bound to one of a permission's peer ports, as the permission indexes it (turn/channel.ts's
 * Channel): declared here so that a permission does not depend on the channel, which depends on it.
 */
export interface PortChannel {
  readonly number: number;
  readonly permission: Permission;
  readonly port: number;
  expiresAt: number;
}

/** A permission for one peer IP address on one allocation. */
export class Permission {
  /** Canonical text of the peer IP, exactly as Node reports it in rinfo.address. */
  readonly address: string;
  readonly family: IpFamily;
  /** The raw 4 or 16 address bytes (for Data indications' XOR-PEER-ADDRESS). */
  readonly ipBytes: Buffer;
  expiresAt: number;
  /**
   * Null when the peer policy allowed the address; for a server relay address ('relay-only'),
   * its port table: the data path sends only to live relayed ports. Set on every install/refresh.
   */
  relayPorts: RelayPorts | null = null;
  /** Channels bound to this peer IP, by peer port. */
  readonly channelsByPort = new Map<number, PortChannel>();

  constructor(address: string, family: IpFamily, ipBytes: Buffer, expiresAt: number) {
    this.address = address;
    this.family = family;
    this.ipBytes = ipBytes;
    this.expiresAt = expiresAt;
  }
}
