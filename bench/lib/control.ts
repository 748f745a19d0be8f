// A control channel between the signaling bench and its load-generator children: JSON lines over a
// loopback TCP connection (the shared spawnChild gives children no stdin and no IPC channel).
import { createServer, connect, type Server, type Socket } from 'node:net';

type Json = Record<string, unknown>;

function lines(socket: Socket, onLine: (line: string) => void): void {
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line) onLine(line);
    }
  });
}

/** The bench side: listens on 127.0.0.1, one connection per child, one request at a time. */
export class ControlServer {
  private readonly server: Server;
  private readonly waiting: ((c: ControlConnection) => void)[] = [];
  private readonly accepted: ControlConnection[] = [];

  private constructor(server: Server) {
    this.server = server;
    server.on('connection', (socket) => {
      const c = new ControlConnection(socket);
      const w = this.waiting.shift();
      if (w) w(c);
      else this.accepted.push(c);
    });
  }

  static async listen(): Promise<ControlServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new ControlServer(server);
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** The next child to connect, within `ms`. */
  accept(ms: number): Promise<ControlConnection> {
    const ready = this.accepted.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no load generator connected within ${ms} ms`)), ms);
      this.waiting.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  close(): void {
    this.server.close();
  }
}

export class ControlConnection {
  private pending: { resolve: (v: Json) => void; reject: (e: Error) => void } | undefined;
  private closed = false;

  constructor(private readonly socket: Socket) {
    lines(socket, (line) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      try {
        const reply = JSON.parse(line) as Json;
        if (typeof reply.error === 'string') p.reject(new Error(reply.error));
        else p.resolve(reply);
      } catch (err) {
        p.reject(err as Error);
      }
    });
    const gone = (): void => {
      this.closed = true;
      this.pending?.reject(new Error('load generator connection closed'));
      this.pending = undefined;
    };
    socket.on('close', gone);
    socket.on('error', gone);
  }

  /** Sends a command and waits (at most `ms`) for its reply. */
  request(cmd: Json, ms: number): Promise<Json> {
    if (this.closed) return Promise.reject(new Error('load generator connection closed'));
    if (this.pending) return Promise.reject(new Error('one request at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`load generator: no reply to ${String(cmd.cmd)} within ${ms} ms`));
      }, ms);
      this.pending = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.socket.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  end(): void {
    this.socket.end();
  }
}

/** The child side: connects back and answers each command with `handle`'s result (or its error). */
export function serveControl(port: number, handle: (cmd: Json) => Promise<Json>): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('close', () => resolve());
    let chain = Promise.resolve();
    lines(socket, (line) => {
      chain = chain.then(async () => {
        let reply: Json;
        try {
          reply = await handle(JSON.parse(line) as Json);
        } catch (err) {
          reply = { error: err instanceof Error ? err.message : String(err) };
        }
        socket.write(`${JSON.stringify(reply)}\n`);
      });
    });
  });
}
