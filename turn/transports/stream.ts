import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { IpFamily, TransportName } from '../interfaces.js';
import type { Allocation } from '../allocation.js';
import type { CachedClock } from '../allocation-manager.js';
import type { ClientEndpoint, HandlerEnv } from '../handlers/context.js';
import { StreamFramer } from '../codec/framing.js';
import { handleStun } from '../dispatch.js';
import { isClientData, relayClientData } from '../data-path.js';
import { StreamLink } from './stream-link.js';

/** A connection that has not allocated within this time is closed (RFC 8656 §5 leaves it to the server). */
const IDLE_TIMEOUT_MS = 60_000;

/**
 * One TCP or TLS client connection: re-frames the byte stream into STUN messages and
 * ChannelData, and is itself the client side of at most one allocation's 5-tuple.
 */
class StreamConnection implements ClientEndpoint {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
  readonly family: IpFamily;
  private readonly socket: Socket;
  private readonly framer = new StreamFramer();
  private alloc: Allocation | undefined;

  constructor(
    transport: TransportName,
    socket: Socket,
    private readonly env: HandlerEnv,
    private readonly clock: CachedClock,
    private readonly now: () => number,
  ) {
    this.transport = transport;
    this.socket = socket;
    this.address = socket.remoteAddress ?? '';
    this.port = socket.remotePort ?? 0;
    this.family = socket.remoteFamily === 'IPv6' ? 6 : 4;
    socket.setNoDelay(true);
    socket.setTimeout(IDLE_TIMEOUT_MS);
    socket.on('timeout', () => {
      if (this.alloc === undefined) socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {
      // a reset or TLS failure ends the connection; 'close' cleans up
    });
    socket.on('close', () => {
      const alloc = this.alloc;
      if (alloc !== undefined) this.env.allocations.close(alloc, 'client-closed', this.now());
    });
  }

  private readonly onFrame = (buf: Buffer, offset: number, length: number): void => {
    if (isClientData(buf, offset)) {
      const alloc = this.alloc;
      if (alloc !== undefined) relayClientData(alloc, buf, offset, length, this.clock.ms);
      return;
    }
    handleStun(this.env, this, buf, offset, length, this.now());
  };

  private onData(chunk: Buffer): void {
    try {
      if (!this.framer.push(chunk, this.onFrame)) this.socket.destroy();
    } catch {
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
      this.socket.setTimeout(IDLE_TIMEOUT_MS);
    };
    return link;
  }

  setAllocation(alloc: Allocation): void {
    this.alloc = alloc;
    this.socket.setTimeout(0);
  }

  reply(message: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(message);
  }
}

export interface StreamListenerDeps {
  readonly env: HandlerEnv;
  readonly clock: CachedClock;
  readonly now: () => number;
}

/** A TCP or TLS listener that knows its connections, so stop() can end them. */
export class StreamListener {
  readonly server: Server;
  readonly transport: TransportName;
  private readonly sockets = new Set<Socket>();

  constructor(transport: 'tcp' | 'tls', deps: StreamListenerDeps, tlsOptions?: { cert: Buffer; key: Buffer }) {
    this.transport = transport;
    const accept = (socket: Socket): void => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      new StreamConnection(transport, socket, deps.env, deps.clock, deps.now);
    };
    if (transport === 'tls' && tlsOptions !== undefined) {
      this.server = createTlsServer({ cert: tlsOptions.cert, key: tlsOptions.key, handshakeTimeout: 10_000 }, accept);
      this.server.on('tlsClientError', () => {});
    } else {
      this.server = createTcpServer(accept);
    }
    this.server.on('error', () => {});
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
      for (const s of this.sockets) s.destroy();
    });
  }
}
