import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { IpFamily, TransportName } from '../interfaces.js';
import type { Allocation } from '../allocation.js';
import type { CachedClock } from '../allocation-manager.js';
import type { ClientEndpoint, HandlerEnv } from '../handlers/context.js';
import { StreamFramer } from '../codec/framing.js';
import { handleStun } from '../dispatch.js';
import { isClientData, relayClientData } from '../data-path.js';
import { StreamLink } from './stream-link.js';
import type { TlsCredentials } from '../options.js';
import type { ConnectionSlot, ConnectionTable } from './connection-table.js';
import { PAUSE_READING_AT, REPLY_BACKLOG_LIMIT, UNALLOCATED_REPLY_LIMIT } from './stream-backlog.js';

/** Node's default; a handshake that takes longer fails (tlsClientError) and is closed. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

const ignore = (): void => {};

/**
 * One TCP or TLS client connection: re-frames the byte stream into STUN messages and
 * ChannelData, and is itself the client side of at most one allocation's 5-tuple. The allocate
 * deadline and the caps live in the ConnectionTable (counted at accept, before TLS).
 */
class StreamConnection implements ClientEndpoint {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
  readonly family: IpFamily;
  private readonly socket: Socket;
  private readonly framer = new StreamFramer();
  private alloc: Allocation | undefined;
  private paused = false;

  constructor(
    transport: TransportName,
    socket: Socket,
    private readonly slot: ConnectionSlot,
    private readonly deps: StreamListenerDeps,
  ) {
    this.transport = transport;
    this.socket = socket;
    this.address = socket.remoteAddress ?? '';
    this.port = socket.remotePort ?? 0;
    this.family = socket.remoteFamily === 'IPv6' ? 6 : 4;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', ignore); // a reset or TLS failure ends the connection; 'close' cleans up
    socket.on('close', () => {
      const alloc = this.alloc;
      if (alloc !== undefined) this.deps.env.allocations.close(alloc, 'client-closed', this.deps.now());
    });
  }

  private readonly onFrame = (buf: Buffer, offset: number, length: number): void => {
    if (isClientData(buf, offset)) {
      const alloc = this.alloc;
      if (alloc !== undefined) relayClientData(alloc, buf, offset, length, this.deps.clock.ms);
      return;
    }
    handleStun(this.deps.env, this, buf, offset, length, this.deps.now());
  };

  private onData(chunk: Buffer): void {
    try {
      if (!this.framer.push(chunk, this.onFrame)) this.socket.destroy();
    } catch {
      this.deps.env.allocations.faults++;
      this.socket.destroy();
    }
  }

  allocation(): Allocation | undefined {
    return this.alloc;
  }

  createLink(): StreamLink {
    const link = new StreamLink(this.transport, this.socket, this.address, this.port);
    link.onDetach = () => {
      this.alloc = undefined;
      this.deps.connections.waitForAllocation(this.slot);
    };
    return link;
  }

  setAllocation(alloc: Allocation): void {
    this.alloc = alloc;
    this.deps.connections.allocated(this.slot);
  }

  /**
   * Queues a reply, bounded like relayed data. The reply that brings the queue to
   * PAUSE_READING_AT bytes stops reading from the connection until that reply has gone out (and
   * with it the megabyte queued before it). Pausing rather than closing: the queue may be full of
   * relayed data for an honest client that reads slowly, and closing would end its allocation;
   * a client that pipelines requests without reading gets TCP backpressure instead of server
   * memory. A connection that never reads still ends: without an allocation at its allocate
   * deadline; with one, when the allocation expires (a Refresh cannot be read while paused) and
   * the deadline applies again.
   */
  reply(message: Buffer): void {
    const s = this.socket;
    if (s.destroyed) return;
    if (this.alloc === undefined && s.writableLength + message.length > UNALLOCATED_REPLY_LIMIT) {
      s.destroy();
      return;
    }
    if (s.writableLength >= REPLY_BACKLOG_LIMIT) {
      // Dropped: the client is not reading. Reached only through writes other than replies.
      if (!this.paused) this.pause(false);
      return;
    }
    if (this.paused || s.writableLength + message.length < PAUSE_READING_AT) {
      s.write(message);
      return;
    }
    s.write(message, this.onFlushed);
    this.pause(true);
  }

  private pause(awaitingWrite: boolean): void {
    this.paused = true;
    this.socket.pause();
    if (!awaitingWrite) this.socket.once('drain', this.onFlushed);
  }

  /** The queue ahead of the pausing reply has gone out (or the socket ended): read again. */
  private readonly onFlushed = (): void => {
    this.paused = false;
    if (!this.socket.destroyed) this.socket.resume();
  };

  /** Bytes queued for the client, replies and relayed data. */
  queued(): number {
    return this.socket.writableLength;
  }
}

export interface StreamListenerDeps {
  readonly env: HandlerEnv;
  readonly clock: CachedClock;
  readonly now: () => number;
  /** Shared by every stream listener of the server: the caps are global. */
  readonly connections: ConnectionTable;
}

interface Accepted {
  readonly slot: ConnectionSlot;
  conn: StreamConnection | null;
}

/** Identifies a TCP connection of one listener across its raw socket and the TLS socket over it. */
const tupleKey = (s: Socket): string => `${s.remoteAddress} ${s.remotePort} ${s.localAddress}`;

/** A TCP or TLS listener that knows its connections, so stop() can end them. */
export class StreamListener {
  readonly server: Server;
  readonly transport: TransportName;
  private readonly accepted = new Set<Accepted>();
  /** TLS connections accepted and still in their handshake, by 4-tuple (bounded by the connection cap). */
  private readonly handshaking = new Map<string, Accepted>();

  constructor(
    transport: 'tcp' | 'tls',
    private readonly deps: StreamListenerDeps,
    tls?: TlsCredentials & { readonly handshakeTimeoutMs?: number },
  ) {
    this.transport = transport;
    if (transport === 'tls' && tls !== undefined) {
      const server = createTlsServer(
        { cert: tls.cert, key: tls.key, handshakeTimeout: tls.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS },
        (s) => this.secured(s),
      );
      // The raw socket, before the handshake: counted and given its deadline from here.
      server.on('connection', (raw: Socket) => this.accept(raw, false));
      // Node reports a failed or timed-out handshake here but leaves the socket open.
      server.on('tlsClientError', (_err: Error, s: TLSSocket) => s.destroy());
      this.server = server;
    } else {
      this.server = createTcpServer((raw) => this.accept(raw, true));
    }
    this.server.on('error', ignore);
  }

  private accept(raw: Socket, plain: boolean): void {
    const slot = this.deps.connections.admit(raw);
    if (typeof slot === 'string') {
      raw.destroy();
      try {
        this.deps.env.allocations.events?.connectionRefused?.(slot);
      } catch {
        // a listener's failure must not escape the accept callback
      }
      return;
    }
    const a: Accepted = { slot, conn: null };
    const key = plain ? '' : tupleKey(raw);
    this.accepted.add(a);
    raw.on('error', ignore);
    raw.once('close', () => {
      this.accepted.delete(a);
      if (!plain && this.handshaking.get(key) === a) this.handshaking.delete(key);
      this.deps.connections.release(slot);
    });
    if (plain) a.conn = new StreamConnection('tcp', raw, slot, this.deps);
    else this.handshaking.set(key, a);
  }

  private secured(socket: TLSSocket): void {
    const key = tupleKey(socket);
    const a = this.handshaking.get(key);
    if (a === undefined) {
      socket.destroy(); // its raw socket is already gone
      return;
    }
    this.handshaking.delete(key);
    a.conn = new StreamConnection('tls', socket, a.slot, this.deps);
  }

  /** New TLS handshakes use these; live connections keep theirs. Throws (changing nothing) when they are unusable. */
  setCredentials(tls: TlsCredentials): void {
    if (this.transport !== 'tls') return;
    (this.server as TlsServer).setSecureContext({ cert: tls.cert, key: tls.key });
  }

  /** Connections of this listener and the bytes queued for them. */
  stats(): { connections: number; queuedBytes: number } {
    let queuedBytes = 0;
    for (const a of this.accepted) queuedBytes += a.conn?.queued() ?? 0;
    return { connections: this.accepted.size, queuedBytes };
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting, ends every connection, and resolves once the server is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const a of this.accepted) a.slot.socket.destroy();
    });
  }
}
