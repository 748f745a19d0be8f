import type { Socket as UdpSocket } from 'node:dgram';
import type { AllocationInfo, IpFamily, TransportName } from './interfaces.js';
import type { ClientLink } from './client-link.js';
import { Permission, PERMISSION_LIFETIME_MS, type PortChannel, type RelayPorts } from './permission.js';
import { Channel, CHANNEL_COOLDOWN_MS, CHANNEL_LIFETIME_MS } from './channel.js';
import { ipv4ToUint32 } from './codec/address.js';
import type { AccountBuckets, CappedAllocation, TokenBucket } from './bandwidth.js';

export interface RelayEndpoint {
  /**
   * The relayed socket when the TypeScript data path serves it; null when the native data plane
   * does (turn/native/), which then owns `fd`. The data path (data-path.ts) only ever sees
   * allocations of TypeScript client links, whose relayed sockets are dgram sockets.
   */
  readonly socket: UdpSocket | null;
  /** The native relayed socket's fd; -1 for a dgram socket. */
  readonly fd: number;
  readonly family: IpFamily;
  /** The locally bound address and port. */
  readonly boundAddress: string;
  readonly port: number;
  /** The address advertised in XOR-RELAYED-ADDRESS (external_ip or the bound one). */
  readonly advertisedAddress: string;
}

/**
 * Told of every change to an allocation's permissions and channels, so that a data path that keeps
 * tables of its own (the native one, turn/native/) gets them as they change. Never per packet.
 */
export interface AllocationMirror {
  permission(perm: Permission): void;
  permissionRemoved(perm: Permission): void;
  channel(ch: Channel): void;
  channelRemoved(ch: PortChannel): void;
}

/** The credential an allocation was created with; later requests must use the same username. */
export interface AllocationAuth {
  readonly username: string;
  readonly account: string;
  readonly realm: string;
}

/**
 * One TURN allocation (RFC 8656 §2.2): the 5-tuple's client side, its relayed transport
 * addresses, permissions, channels, lifetime and byte counters. Counters are plain numbers
 * updated on the data path.
 */
export class Allocation implements AllocationInfo, CappedAllocation {
  readonly id: number;
  readonly account: string;
  readonly username: string;
  readonly realm: string;
  readonly link: ClientLink;
  readonly startedAt: number;
  relay4: RelayEndpoint | null = null;
  relay6: RelayEndpoint | null = null;
  expiresAt: number;
  closed = false;

  /** Permissions by canonical peer IP text (lookups with Node's rinfo.address). */
  readonly permissions = new Map<string, Permission>();
  /** The same IPv4 permissions keyed by the address as a uint32 (Send indications, no strings). */
  readonly permissionsV4 = new Map<number, Permission>();
  /** Channels by number (0x4000–0x7FFF), including expired ones in their cool-down. */
  readonly channels = new Map<number, Channel>();

  bytesToPeer = 0;
  packetsToPeer = 0;
  bytesToClient = 0;
  packetsToClient = 0;

  /** Bandwidth caps (turn/bandwidth.ts): own buckets per direction and the account's shared ones. */
  capToPeer: TokenBucket | null = null;
  capToClient: TokenBucket | null = null;
  accountCaps: AccountBuckets | null = null;
  /** Payload dropped by a bandwidth cap, each direction. */
  cappedBytesToPeer = 0;
  cappedPacketsToPeer = 0;
  cappedBytesToClient = 0;
  cappedPacketsToClient = 0;
  /**
   * Payload that reached a live permission or channel but could not be sent, each direction:
   * empty, too big to frame or for one datagram, past a stream client's backlog, connection gone.
   */
  droppedBytesToPeer = 0;
  droppedPacketsToPeer = 0;
  droppedBytesToClient = 0;
  droppedPacketsToClient = 0;
  /** The relayed socket's send queue was over SEND_QUEUE_LIMIT when last read (turn/data-path.ts). */
  congestedToPeer = false;

  /** The native data plane's copy of the tables (null on the TypeScript data path). */
  mirror: AllocationMirror | null = null;
  /** The native data plane's slot serving this allocation, -1 on the TypeScript data path. */
  nativeSlot = -1;

  /** The RESERVATION-TOKEN this allocation's EVEN-PORT R=1 made: cancelled when it ends. */
  reservationToken: Buffer | null = null;

  /** Transaction id and response of the Allocate that made this allocation (retransmissions). */
  allocateTransactionId: Buffer | null = null;
  allocateResponse: Buffer | null = null;

  constructor(id: number, auth: AllocationAuth, link: ClientLink, now: number, lifetimeMs: number) {
    this.id = id;
    this.account = auth.account;
    this.username = auth.username;
    this.realm = auth.realm;
    this.link = link;
    this.startedAt = now;
    this.expiresAt = now + lifetimeMs;
  }

  get transport(): TransportName {
    return this.link.transport;
  }
  get clientAddress(): string {
    return this.link.address;
  }
  get clientPort(): number {
    return this.link.port;
  }
  get relayAddresses(): { address: string; port: number; family: IpFamily }[] {
    const out: { address: string; port: number; family: IpFamily }[] = [];
    for (const r of [this.relay4, this.relay6]) {
      if (r !== null) out.push({ address: r.advertisedAddress, port: r.port, family: r.family });
    }
    return out;
  }

  relayFor(family: IpFamily): RelayEndpoint | null {
    return family === 4 ? this.relay4 : this.relay6;
  }

  /** Number of live (unexpired) permissions. */
  livePermissionCount(now: number): number {
    let n = 0;
    for (const p of this.permissions.values()) if (p.expiresAt > now) n++;
    return n;
  }

  liveChannelCount(now: number): number {
    let n = 0;
    for (const c of this.channels.values()) if (c.expiresAt > now) n++;
    return n;
  }

  /**
   * Installs or refreshes the permission for a peer IP (RFC 8656 §9); `relayPorts` is the peer
   * policy's verdict for it ('relay-only': the relay address's port table), set on every install.
   */
  installPermission(address: string, family: IpFamily, ipBytes: Buffer, now: number, relayPorts: RelayPorts | null = null): Permission {
    let p = this.permissions.get(address);
    if (p === undefined) {
      p = new Permission(address, family, ipBytes, now + PERMISSION_LIFETIME_MS);
      this.permissions.set(address, p);
      if (family === 4) this.permissionsV4.set(ipv4ToUint32(address), p);
    } else {
      p.expiresAt = now + PERMISSION_LIFETIME_MS;
    }
    p.relayPorts = relayPorts;
    this.mirror?.permission(p);
    return p;
  }

  /**
   * Checks RFC 8656 §11.2's rebinding rules: the number must be unbound or bound to this peer,
   * and the peer must be unbound or bound to this number (expired bindings count during their
   * cool-down). Returns true when the bind may proceed.
   */
  mayBindChannel(number: number, address: string, port: number, now: number): boolean {
    const byNumber = this.channels.get(number);
    if (byNumber !== undefined && byNumber.expiresAt + CHANNEL_COOLDOWN_MS > now) {
      if (byNumber.address !== address || byNumber.port !== port) return false;
    }
    const perm = this.permissions.get(address);
    const byPeer = perm?.channelsByPort.get(port);
    if (byPeer !== undefined && byPeer.number !== number && byPeer.expiresAt + CHANNEL_COOLDOWN_MS > now) return false;
    return true;
  }

  /** Binds (or refreshes) a channel; also installs/refreshes the peer's permission. */
  bindChannel(number: number, address: string, family: IpFamily, ipBytes: Buffer, port: number, now: number, relayPorts: RelayPorts | null = null): Channel {
    const perm = this.installPermission(address, family, ipBytes, now, relayPorts);
    let ch = this.channels.get(number);
    if (ch !== undefined && ch.permission === perm && ch.port === port) {
      ch.expiresAt = now + CHANNEL_LIFETIME_MS;
      this.mirror?.channel(ch);
      return ch;
    }
    if (ch !== undefined) this.removeChannel(ch); // past its cool-down: free to reuse
    const stale = perm.channelsByPort.get(port);
    if (stale !== undefined) this.removeChannel(stale);
    ch = new Channel(number, perm, port, now + CHANNEL_LIFETIME_MS);
    this.channels.set(number, ch);
    perm.channelsByPort.set(port, ch);
    this.mirror?.channel(ch);
    return ch;
  }

  private removeChannel(ch: PortChannel): void {
    const bound = this.channels.get(ch.number) === ch;
    if (bound) this.channels.delete(ch.number);
    if (ch.permission.channelsByPort.get(ch.port) === ch) ch.permission.channelsByPort.delete(ch.port);
    if (bound) this.mirror?.channelRemoved(ch);
  }

  /** Drops permissions and channels whose lifetime (and channel cool-down) has passed. */
  sweep(now: number): void {
    for (const ch of this.channels.values()) {
      if (ch.expiresAt + CHANNEL_COOLDOWN_MS <= now) this.removeChannel(ch);
    }
    for (const p of this.permissions.values()) {
      if (p.expiresAt <= now && p.channelsByPort.size === 0) {
        this.permissions.delete(p.address);
        if (p.family === 4) this.permissionsV4.delete(ipv4ToUint32(p.address));
        this.mirror?.permissionRemoved(p);
      }
    }
  }

  info(): AllocationInfo {
    return {
      id: this.id,
      account: this.account,
      username: this.username,
      transport: this.transport,
      clientAddress: this.clientAddress,
      clientPort: this.clientPort,
      relayAddresses: this.relayAddresses,
      startedAt: this.startedAt,
      bytesToPeer: this.bytesToPeer,
      packetsToPeer: this.packetsToPeer,
      bytesToClient: this.bytesToClient,
      packetsToClient: this.packetsToClient,
      cappedBytesToPeer: this.cappedBytesToPeer,
      cappedPacketsToPeer: this.cappedPacketsToPeer,
      cappedBytesToClient: this.cappedBytesToClient,
      cappedPacketsToClient: this.cappedPacketsToClient,
      droppedBytesToPeer: this.droppedBytesToPeer,
      droppedPacketsToPeer: this.droppedPacketsToPeer,
      droppedBytesToClient: this.droppedBytesToClient,
      droppedPacketsToClient: this.droppedPacketsToClient,
    };
  }
}
