import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { IpFamily } from './interfaces.js';
import type { RelayEndpoint } from './allocation.js';
import type { RelayOptions } from './options.js';
import { syncLookup } from './sync-lookup.js';
import { canonicalIp } from './codec/address.js';
import { ERROR_ADDRESS_FAMILY_NOT_SUPPORTED, ERROR_INSUFFICIENT_CAPACITY } from './codec/error-codes.js';
import { PORT_LIVE, PORT_RESERVED, type RelayPorts } from './permission.js';
import type { Result } from './result.js';

/** RFC 8656 §7.2: a RESERVATION-TOKEN holds the next port for about 30 seconds. */
const RESERVATION_LIFETIME_MS = 30_000;
const MAX_TRIES = 128;

/** Why a bind failed: no relay IP of the family (440), or no port or reservation to be had (508). */
export type BindRefusal = typeof ERROR_ADDRESS_FAMILY_NOT_SUPPORTED | typeof ERROR_INSUFFICIENT_CAPACITY;

export type BindResult = Result<{ readonly endpoint: RelayEndpoint; readonly reservationToken?: Buffer }, BindRefusal>;

export interface BindRequest {
  readonly family: IpFamily;
  /** The account a reservation made by this request is held for (and counted against). */
  readonly account: string;
  readonly evenPort?: boolean;
  readonly reserveNext?: boolean;
  readonly reservationToken?: Buffer;
  /** Bind the relayed socket for the native data plane (a UDP client it serves); a dgram socket otherwise. */
  readonly native?: boolean;
}

/** The native data plane's socket calls (turn/native/addon.ts), for relayed sockets it serves. */
export interface NativeRelaySockets {
  /** A bound non-blocking UDP socket: its fd, or -errno. */
  bind(family: IpFamily, ip: string, port: number): number;
  close(fd: number): void;
  /** A port table the native threads read too; null once they stopped. */
  portTable(): { readonly index: number; readonly table: Uint8Array } | null;
}

/** Binds relayed transport addresses; injected so request handling can be tested without sockets. */
export interface RelayBinder {
  bind(request: BindRequest, now: number): BindResult;
  release(endpoint: RelayEndpoint): void;
  /**
   * EVEN-PORT reservations (R=1) held for `account`: each holds a port like an allocation, so it
   * counts against the account's allocation quota until it is used, cancelled or expires.
   */
  reservationsOf(account: string): number;
  /** Reservations held in total (they count against the total allocation quota). */
  readonly reservationCount: number;
  /** Frees a reservation now (the allocation that made it ended); an unknown token is ignored. */
  cancelReservation(token: Buffer): void;
  sweep(now: number): void;
  close(): void;
  /**
   * The port table of a relay address (a bound relay IP, or external_ip: the table of the first
   * relay IP of its family), for 'relay-only' permissions; null when `address` is neither.
   */
  relayPorts(address: string, family: IpFamily): RelayPorts | null;
  /** Client packets dropped so far by 'relay-only' permissions, over every relay address. */
  relayOnlyDrops(): number;
}

interface Reservation {
  readonly account: string;
  readonly family: IpFamily;
  readonly ip: string;
  readonly port: number;
  readonly placeholder: Socket;
  readonly expiresAt: number;
}

/** Binds one UDP socket now or reports why not; relies on the synchronous lookup. */
function bindNow(family: IpFamily, address: string, port: number): Socket | null {
  const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', lookup: syncLookup, ipv6Only: family === 6 });
  let bound = false;
  let failed = false;
  const onError = (): void => {
    failed = true;
  };
  socket.once('error', onError);
  socket.once('listening', () => {
    bound = true;
  });
  socket.bind({ address, port, exclusive: true });
  socket.removeListener('error', onError);
  if (bound && !failed) {
    socket.on('error', () => {
      // ICMP-triggered send errors on a relayed socket are the peer's business, not fatal.
    });
    return socket;
  }
  socket.on('error', () => {});
  try {
    socket.close();
  } catch {
    // already closed
  }
  return null;
}

/** The UDP implementation: ports drawn at random from the configured range, per relay IP. */
export class UdpRelayBinder implements RelayBinder {
  private readonly opts: RelayOptions;
  private readonly used = new Map<string, Uint8Array>();
  private readonly reservations = new Map<string, Reservation>();
  /** Reservations per account; an entry exists only while the account holds one. */
  private readonly reservedBy = new Map<string, number>();
  /** Relay addresses (canonical text) → the bound relay IP whose port table they reach. */
  private readonly relayIpOf = new Map<string, string>();
  private readonly relayPortsByIp = new Map<string, RelayPorts>();
  /** The native tables' numbers by relay IP (with the native plane). */
  private readonly tableIndex = new Map<string, number>();
  private next4 = 0;
  private next6 = 0;
  private readonly native: NativeRelaySockets | undefined;

  constructor(opts: RelayOptions, native?: NativeRelaySockets) {
    this.opts = opts;
    this.native = native;
    for (const [ips, external] of [[opts.ips4, opts.externalIp4], [opts.ips6, opts.externalIp6]] as const) {
      for (const ip of ips) this.relayIpOf.set(canonicalIp(ip) ?? ip, ip);
      const ext = external === undefined ? null : canonicalIp(external);
      if (ext !== null && ips.length > 0 && !this.relayIpOf.has(ext)) this.relayIpOf.set(ext, ips[0]);
    }
  }

  relayPorts(address: string, family: IpFamily): RelayPorts | null {
    const ip = this.relayIpOf.get(address);
    if (ip === undefined || (family === 4) !== (ip.indexOf(':') < 0)) return null;
    let r = this.relayPortsByIp.get(ip);
    if (r === undefined) {
      const table = this.usedPorts(ip);
      r = { table, nativeIndex: this.tableIndex.get(ip) ?? -1, dropped: 0 };
      this.relayPortsByIp.set(ip, r);
    }
    return r;
  }

  relayOnlyDrops(): number {
    let n = 0;
    for (const r of this.relayPortsByIp.values()) n += r.dropped;
    return n;
  }

  private usedPorts(ip: string): Uint8Array {
    let bits = this.used.get(ip);
    if (bits === undefined) {
      const shared = this.native?.portTable() ?? null;
      if (shared !== null) {
        bits = shared.table;
        this.tableIndex.set(ip, shared.index);
      } else {
        bits = new Uint8Array(65536);
      }
      this.used.set(ip, bits);
    }
    return bits;
  }

  private pickIp(family: IpFamily): string | undefined {
    const ips = family === 4 ? this.opts.ips4 : this.opts.ips6;
    if (ips.length === 0) return undefined;
    if (family === 4) return ips[this.next4++ % ips.length];
    return ips[this.next6++ % ips.length];
  }

  private endpoint(family: IpFamily, ip: string, port: number, socket: Socket | null, fd: number): RelayEndpoint {
    const external = family === 4 ? this.opts.externalIp4 : this.opts.externalIp6;
    return { socket, fd, family, boundAddress: ip, port, advertisedAddress: external ?? ip };
  }

  /** Binds a relayed socket now, native or dgram; null when the port cannot be had. */
  private open(native: boolean | undefined, family: IpFamily, ip: string, port: number): RelayEndpoint | null {
    if (native === true && this.native !== undefined) {
      const fd = this.native.bind(family, ip, port);
      return fd < 0 ? null : this.endpoint(family, ip, port, null, fd);
    }
    const socket = bindNow(family, ip, port);
    return socket === null ? null : this.endpoint(family, ip, port, socket, -1);
  }

  private closeEndpoint(endpoint: RelayEndpoint): void {
    if (endpoint.socket === null) {
      this.native?.close(endpoint.fd);
      return;
    }
    try {
      endpoint.socket.close();
    } catch {
      // already closed
    }
  }

  bind(req: BindRequest, now: number): BindResult {
    if (req.reservationToken !== undefined) return this.bindReserved(req.reservationToken, req.account, req.native, now);
    const ip = this.pickIp(req.family);
    if (ip === undefined) return { ok: false, code: ERROR_ADDRESS_FAMILY_NOT_SUPPORTED };
    const bits = this.usedPorts(ip);
    const { portMin, portMax } = this.opts;
    const span = portMax - portMin + 1;
    const even = req.evenPort === true || req.reserveNext === true;
    let port = portMin + Math.floor(Math.random() * span);
    for (let tries = 0, scanned = 0; tries < MAX_TRIES && scanned < span; scanned++, port = port >= portMax ? portMin : port + 1) {
      if (bits[port] !== 0 || (even && (port & 1) !== 0)) continue;
      if (req.reserveNext === true && (port + 1 > portMax || bits[port + 1] !== 0)) continue;
      tries++;
      const ep = this.open(req.native, req.family, ip, port);
      if (ep === null) continue;
      if (req.reserveNext === true) {
        const placeholder = bindNow(req.family, ip, port + 1);
        if (placeholder === null) {
          this.closeEndpoint(ep);
          continue;
        }
        bits[port] = PORT_LIVE;
        bits[port + 1] = PORT_RESERVED;
        const token = randomBytes(8);
        this.reservations.set(token.toString('hex'), {
          account: req.account,
          family: req.family,
          ip,
          port: port + 1,
          placeholder,
          expiresAt: now + RESERVATION_LIFETIME_MS,
        });
        this.reservedBy.set(req.account, this.reservationsOf(req.account) + 1);
        return { ok: true, endpoint: ep, reservationToken: token };
      }
      bits[port] = PORT_LIVE;
      return { ok: true, endpoint: ep };
    }
    return { ok: false, code: ERROR_INSUFFICIENT_CAPACITY };
  }

  /** A token is good once, before it expires, and only for the account it was made for. */
  private bindReserved(token: Buffer, account: string, native: boolean | undefined, now: number): BindResult {
    const key = token.toString('hex');
    const r = this.reservations.get(key);
    if (r === undefined || r.expiresAt <= now || r.account !== account) return { ok: false, code: ERROR_INSUFFICIENT_CAPACITY };
    this.forget(key, r);
    r.placeholder.close();
    const ep = this.open(native, r.family, r.ip, r.port);
    if (ep === null) {
      this.usedPorts(r.ip)[r.port] = 0;
      return { ok: false, code: ERROR_INSUFFICIENT_CAPACITY };
    }
    this.usedPorts(r.ip)[r.port] = PORT_LIVE;
    return { ok: true, endpoint: ep };
  }

  release(endpoint: RelayEndpoint): void {
    this.usedPorts(endpoint.boundAddress)[endpoint.port] = 0;
    this.closeEndpoint(endpoint);
  }

  reservationsOf(account: string): number {
    return this.reservedBy.get(account) ?? 0;
  }

  get reservationCount(): number {
    return this.reservations.size;
  }

  cancelReservation(token: Buffer): void {
    const key = token.toString('hex');
    const r = this.reservations.get(key);
    if (r !== undefined) this.drop(key, r);
  }

  sweep(now: number): void {
    for (const [key, r] of this.reservations) {
      if (r.expiresAt <= now) this.drop(key, r);
    }
  }

  close(): void {
    for (const r of this.reservations.values()) r.placeholder.close();
    this.reservations.clear();
    this.reservedBy.clear();
  }

  /** Ends a reservation unused: its port is free again. */
  private drop(key: string, r: Reservation): void {
    this.forget(key, r);
    this.usedPorts(r.ip)[r.port] = 0;
    r.placeholder.close();
  }

  private forget(key: string, r: Reservation): void {
    this.reservations.delete(key);
    const n = this.reservationsOf(r.account) - 1;
    if (n > 0) this.reservedBy.set(r.account, n);
    else this.reservedBy.delete(r.account);
  }
}
