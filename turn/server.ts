import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { CloseReason, IpFamily, TransportName } from './interfaces.js';
import type { ConnectionLimits, TlsCredentials, TurnServerOptions, Quotas } from './options.js';
import type { AllocationGate, AuthHandler, PeerPolicy, TurnEvents, AllocationInfo } from './interfaces.js';
import { AllocationManager, type CachedClock } from './allocation-manager.js';
import { BandwidthCaps } from './bandwidth.js';
import { UdpRelayBinder, type RelayBinder } from './relay-binder.js';
import { NonceManager } from './nonce.js';
import { RequestRateLimits, type RateLimitOptions } from './rate-limit.js';
import type { HandlerEnv } from './handlers/context.js';
import { UdpListener } from './transports/udp.js';
import { StreamListener, type StreamListenerDeps } from './transports/stream.js';
import { ConnectionTable, DEFAULT_CONNECTION_LIMITS } from './transports/connection-table.js';
import type { NativeDataPlane, NativeStats } from './native/addon.js';
import { NativeUdpListeners } from './native/listeners.js';
import { NativeSlots } from './native/slots.js';

const CLOCK_TICK_MS = 100;
const SWEEP_MS = 1000;
/** How often TCP/TLS connections past their allocate deadline are closed (the deadline's granularity). */
const CONNECTION_SWEEP_MS = 250;

export interface ListeningAddress {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
}

/** What can change while the server runs (config reload). */
export interface TurnServerUpdate {
  realm?: string;
  auth?: AuthHandler;
  peerPolicy?: PeerPolicy;
  quotas?: Quotas;
  /** Per-allocation bandwidth cap (bytes/s each way, 0: none); applies to live allocations too. */
  maxBps?: number;
  /**
   * Nonce lifetime (ms) and secret, together: given `nonceTtlMs`, an absent `nonceSecret` means a
   * random one (kept when it already was). A new secret makes every issued nonce 438 (clients
   * retry once); the lifetime applies to issued nonces too. See NonceManager.update.
   */
  nonceTtlMs?: number;
  nonceSecret?: Buffer;
  /** New budgets per source IP; a table whose budget changed starts afresh. */
  rateLimits?: RateLimitOptions;
  /** TCP/TLS connection caps and allocate deadline, for connections accepted from now on. */
  connections?: ConnectionLimits;
}

/** TCP and TLS connections open now, across every stream listener. */
export interface ConnectionStats {
  readonly connections: number;
  /** Clients (IPv4 addresses, IPv6 /64s) with a connection open: the per-client table's size. */
  readonly clients: number;
  /** Bytes queued for the clients, replies and relayed data. */
  readonly queuedBytes: number;
}

function familyOf(host: string): IpFamily {
  return isIP(host) === 6 ? 6 : 4;
}

/**
 * A STUN (RFC 8489) and TURN (RFC 8656) server over UDP, TCP and TLS. It never logs per packet
 * and never throws from a socket handler; `stop()` closes every allocation (reporting each
 * session) and every listener.
 */
export class TurnServer {
  private readonly opts: TurnServerOptions;
  private readonly now: () => number;
  private readonly clock: CachedClock;
  private readonly binder: RelayBinder;
  readonly allocations: AllocationManager;
  private readonly env: HandlerEnv;
  private readonly udp: UdpListener[] = [];
  private readonly streams: StreamListener[] = [];
  private readonly connections: ConnectionTable;
  private timers: NodeJS.Timeout[] = [];
  private started = false;
  /** The native data plane (TurnServerOptions.dataPlane), its UDP listeners and its allocations. */
  private readonly plane: NativeDataPlane | undefined;
  private readonly nativeUdp: NativeUdpListeners | undefined;
  private readonly nativeSlots: NativeSlots | undefined;
  private planeRunning = false;
  /** The native threads' 'relay-only' drops when they stopped (the count stays readable). */
  private relayOnlyDropsAtStop = 0;
  /** The engine's clock is Date.now (not injected): the native threads may run it on between ticks. */
  private readonly realClock: boolean;

  constructor(opts: TurnServerOptions, binder?: RelayBinder) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.realClock = opts.now === undefined;
    this.clock = { ms: this.now() };
    if (opts.dataPlane !== undefined) {
      // The native plane's relayed sockets and 'relay-only' port tables come from its own binder.
      if (binder !== undefined) throw new Error('TurnServer: a relay binder cannot be given with the native data plane');
      this.plane = new opts.dataPlane.addon.DataPlane(opts.dataPlane.threads, (thread, group, address, port, data) =>
        this.nativeUdp?.onDatagram(thread, group, address, port, data),
      );
      this.nativeSlots = new NativeSlots(this.plane);
    }
    const plane = this.plane;
    this.binder =
      binder ??
      new UdpRelayBinder(
        opts.relay,
        plane === undefined
          ? undefined
          : {
              // Once stopped, the plane binds nothing (-EBADF) and shares no table (the binder keeps one of its own).
              bind: (family, ip, port) => (this.planeRunning ? plane.bindRelay(family, ip, port) : -9),
              close: (fd) => plane.closeRelay(fd),
              portTable: () => (this.planeRunning ? plane.portTable() : null),
            },
      );
    this.connections = new ConnectionTable(opts.connections ?? DEFAULT_CONNECTION_LIMITS);
    const caps = new BandwidthCaps(this.clock, {
      allocationMaxBps: opts.maxBps ?? 0,
      ...(opts.accountMaxBps !== undefined ? { accountMaxBps: opts.accountMaxBps } : {}),
    });
    this.allocations = new AllocationManager(this.binder, this.clock, opts.events, opts.log, caps, this.nativeSlots);
    this.env = {
      realm: opts.realm,
      auth: opts.auth,
      peerPolicy: opts.peerPolicy,
      quotas: opts.quotas,
      gate: opts.gate,
      log: opts.log,
      nonces: new NonceManager(opts.nonceTtlMs ?? 600_000, opts.nonceSecret),
      rateLimits: new RequestRateLimits(opts.rateLimits),
      allocations: this.allocations,
      binder: this.binder,
      defaultLifetimeMs: (opts.defaultLifetime ?? 600) * 1000,
      maxLifetimeMs: (opts.maxLifetime ?? 3600) * 1000,
      families: { v4: opts.relay.ips4.length > 0, v6: opts.relay.ips6.length > 0 },
    };
    if (this.plane !== undefined) this.nativeUdp = new NativeUdpListeners(this.plane, this.env, this.now);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('TurnServer already started');
    this.started = true;
    const deps: StreamListenerDeps = { env: this.env, clock: this.clock, now: this.now, connections: this.connections };
    try {
      for (const l of this.opts.listen) {
        if (this.nativeUdp !== undefined) {
          this.nativeUdp.listen(familyOf(l.host), l.host, l.port);
        } else {
          const udp = new UdpListener(familyOf(l.host), this.env, this.clock, this.now);
          this.udp.push(udp);
          await udp.listen(l.host, l.port);
        }
        const tcp = new StreamListener('tcp', deps);
        this.streams.push(tcp);
        await tcp.listen(l.host, l.port);
      }
      for (const l of this.opts.tls ?? []) {
        const tls = new StreamListener('tls', deps, {
          cert: l.cert,
          key: l.key,
          ...(this.opts.tlsHandshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: this.opts.tlsHandshakeTimeoutMs } : {}),
        });
        this.streams.push(tls);
        await tls.listen(l.host, l.port);
      }
      if (this.plane !== undefined) {
        this.clock.ms = this.now();
        this.plane.setClock(this.clock.ms, this.realClock);
        this.plane.start();
        this.planeRunning = true;
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    const plane = this.plane;
    const tick = setInterval(() => {
      this.clock.ms = this.now();
      // The native threads read the engine's clock as the last one set plus the monotonic time since.
      plane?.setClock(this.clock.ms, this.realClock);
    }, CLOCK_TICK_MS);
    const sweep = setInterval(() => {
      const now = this.now();
      plane?.setClock(now, this.realClock);
      this.allocations.sweep(now);
    }, SWEEP_MS);
    const deadlines = setInterval(() => this.connections.sweep(), CONNECTION_SWEEP_MS);
    tick.unref();
    sweep.unref();
    deadlines.unref();
    this.timers = [tick, sweep, deadlines];
  }

  /** Closes every allocation (reason `shutdown`) and every listener. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.allocations.closeWhere(() => true, 'shutdown', this.now());
    this.binder.close();
    if (this.plane !== undefined && this.planeRunning) {
      // Every slot is closed (its last counters read) above; this joins the threads and closes the listeners.
      this.relayOnlyDropsAtStop = this.plane.stats().relayOnlyDropped;
      this.planeRunning = false;
      this.nativeSlots?.stopped();
      this.nativeUdp?.stopped();
      this.plane.stop();
    }
    await Promise.all(this.udp.map((u) => u.close()));
    this.udp.length = 0;
    await Promise.all(this.streams.map((l) => l.close()));
    this.streams.length = 0;
  }

  listening(): ListeningAddress[] {
    const out: ListeningAddress[] = [];
    for (const a of this.nativeUdp?.addresses() ?? []) out.push({ transport: 'udp', address: a.address, port: a.port });
    for (const u of this.udp) {
      const a = u.socket.address();
      out.push({ transport: 'udp', address: a.address, port: a.port });
    }
    for (const l of this.streams) {
      const a = l.server.address();
      if (a !== null && typeof a === 'object') out.push({ transport: l.transport, address: a.address, port: a.port });
    }
    return out;
  }

  /** Exceptions caught in socket callbacks so far (each one a bug; see AllocationManager.faults). */
  faults(): number {
    return this.allocations.faults;
  }

  /** Client packets dropped by 'relay-only' permissions (to a relay address's non-relayed port). */
  relayOnlyDrops(): number {
    return this.binder.relayOnlyDrops() + (this.planeRunning && this.plane !== undefined ? this.plane.stats().relayOnlyDropped : this.relayOnlyDropsAtStop);
  }

  /** What the native threads counted outside any allocation; null on the TypeScript data path or once stopped. */
  nativeStats(): NativeStats | null {
    return this.planeRunning && this.plane !== undefined ? this.plane.stats() : null;
  }

  /** Brings the native allocations' counters into their Allocation objects (one snapshot call). */
  private syncNative(): void {
    if (this.planeRunning && this.nativeSlots !== undefined) this.nativeSlots.sync(this.allocations.values());
  }

  /** TCP and TLS connections open now (counted at accept, TLS handshakes included). */
  connectionStats(): ConnectionStats {
    let queuedBytes = 0;
    for (const l of this.streams) queuedBytes += l.stats().queuedBytes;
    return { connections: this.connections.size, clients: this.connections.clients, queuedBytes };
  }

  /** Which data path relays UDP clients: 'native' when started with TurnServerOptions.dataPlane. */
  dataPlaneKind(): 'native' | 'js' {
    return this.opts.dataPlane === undefined ? 'js' : 'native';
  }

  allocationCount(): number {
    return this.allocations.size;
  }

  /** Live allocations, for admin listings: snapshots that stay as they are. */
  sessions(): AllocationInfo[] {
    this.syncNative();
    return [...this.allocations.values()].map((a) => a.info());
  }

  /**
   * Live allocations as live views, without a copy each: for readers that go through all of them
   * at once and keep nothing (metering reads the counters every second). A view's counters go on
   * changing, and it must not be kept past the iteration.
   */
  live(): IterableIterator<AllocationInfo> {
    this.syncNative();
    return this.allocations.values();
  }

  /** Closes the allocations matching `predicate` (admin close, account revocation, limits). */
  closeAllocations(predicate: (info: AllocationInfo) => boolean, reason: CloseReason = 'admin'): number {
    return this.allocations.closeWhere((a) => predicate(a), reason, this.now());
  }

  /** Applies changed settings to new requests; live allocations are kept. */
  update(u: TurnServerUpdate): void {
    if (u.realm !== undefined) this.env.realm = u.realm;
    if (u.auth !== undefined) this.env.auth = u.auth;
    if (u.peerPolicy !== undefined) this.env.peerPolicy = u.peerPolicy;
    if (u.quotas !== undefined) this.env.quotas = u.quotas;
    if (u.maxBps !== undefined) {
      this.allocations.caps.setAllocationMaxBps(u.maxBps, this.allocations.values());
      for (const a of this.allocations.values()) this.nativeSlots?.applyCaps(a);
    }
    if (u.nonceTtlMs !== undefined) this.env.nonces.update(u.nonceTtlMs, u.nonceSecret);
    if (u.rateLimits !== undefined) this.env.rateLimits.set(u.rateLimits);
    if (u.connections !== undefined) this.connections.update(u.connections);
  }

  /**
   * A new certificate and key for the TLS listeners (reload): new handshakes get it, live TLS
   * connections and their allocations keep going. Throws, changing nothing, when the pair is unusable.
   */
  setTlsCredentials(tls: TlsCredentials): void {
    createSecureContext({ cert: tls.cert, key: tls.key });
    for (const l of this.streams) l.setCredentials(tls);
  }

  /**
   * Sets the bandwidth cap shared by an account's allocations (bytes/s each way, 0: none) for its
   * live allocations at once; new ones read `accountMaxBps` from the options.
   */
  setAccountMaxBps(account: string, bps: number): void {
    this.allocations.caps.setAccountMaxBps(account, bps, this.allocations.values());
    if (this.nativeSlots === undefined) return;
    this.nativeSlots.setAccountRate(account, bps);
    for (const a of this.allocations.values()) if (a.account === account) this.nativeSlots.applyCaps(a);
  }
}
