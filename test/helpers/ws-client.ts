// Test harness for the signaling socket: a tiny fastify app with the signalingSocket plugin and a fake
// authenticate, and a `ws` client that queues the frames it receives.
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocket, type ClientOptions } from 'ws';
import { signalingSocket, type SignalingHub, type SignalLimits, type SignalSocketDeps } from '../../signaling/ws/index.js';
import { withTimeout } from './wait.js';

export const KEYS: Readonly<Record<string, string>> = { 'key-A': 'acc_A', 'key-B': 'acc_B', 'tok-A': 'acc_A' };

export interface TestServer {
  readonly app: FastifyInstance;
  readonly hub: SignalingHub;
  readonly base: string;
  close(): Promise<void>;
}

export async function startServer(
  opts: {
    limits?: Partial<SignalLimits>;
    now?: () => number;
    setup?: (app: FastifyInstance) => Promise<void>;
    /** Instead of KEYS (each key → its account, nothing else recorded). */
    authenticate?: SignalSocketDeps['authenticate'];
    /** A fleet's router (messages to peers on other nodes). */
    router?: SignalSocketDeps['router'];
  } = {},
): Promise<TestServer> {
  const app = Fastify({ logger: false });
  if (opts.setup) await opts.setup(app);
  await app.register(signalingSocket, {
    authenticate:
      opts.authenticate ??
      (async ({ bearer, token }) => {
        const accountId = KEYS[bearer ?? token ?? ''];
        return accountId === undefined ? null : { accountId };
      }),
    limits: opts.limits,
    now: opts.now,
    ...(opts.router ? { router: opts.router } : {}),
  });
  const hub = app.signaling;
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (typeof addr !== 'object' || addr === null) throw new Error('no address');
  return { app, hub, base: `ws://127.0.0.1:${addr.port}`, close: () => app.close() };
}

export interface Frame {
  type: string;
  [k: string]: unknown;
}

export class Client {
  readonly frames: Frame[] = [];
  readonly raw: (string | Buffer)[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      this.raw.push(isBinary ? data : data.toString());
      try {
        this.frames.push(JSON.parse(data.toString()) as Frame);
      } catch {
        this.frames.push({ type: '<not json>' });
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a connection and waits for `welcome`. */
  static async connect(
    server: TestServer,
    peerId: string,
    auth: { key?: string; token?: string } = { key: 'key-A' },
    options: ClientOptions = {},
  ): Promise<Client> {
    const ws = openSocket(server, peerId, auth, options);
    const client = new Client(ws);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      }),
      3000,
      `connect ${peerId}`,
    );
    const welcome = await client.next();
    if (welcome.type !== 'welcome' || welcome.peer_id !== peerId) throw new Error(`expected welcome, got ${JSON.stringify(welcome)}`);
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame received (in order), waiting up to `ms`. */
  async next(ms = 2000): Promise<Frame> {
    if (this.frames.length === 0) {
      await withTimeout(new Promise<void>((resolve) => this.waiters.push(resolve)), ms, 'next frame');
    }
    return this.frames.shift()!;
  }

  /** Round trip: every frame the server sent before this pong has arrived; returns them. */
  async drain(): Promise<Frame[]> {
    this.send({ type: 'ping', id: 'drain' });
    const out: Frame[] = [];
    for (;;) {
      const f = await this.next();
      if (f.type === 'pong') return out;
      out.push(f);
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await withTimeout(this.closed, 3000, 'close');
  }
}

export function openSocket(
  server: TestServer,
  peerId: string | undefined,
  auth: { key?: string; token?: string },
  options: ClientOptions = {},
): WebSocket {
  const q = new URLSearchParams();
  if (peerId !== undefined) q.set('peer_id', peerId);
  if (auth.token) q.set('token', auth.token);
  const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
  if (auth.key) headers.authorization = `Bearer ${auth.key}`;
  return new WebSocket(`${server.base}/v1/signal?${q}`, { ...options, headers });
}

/** An upgrade the server must refuse: its HTTP status and JSON body. */
export async function refusedUpgrade(
  server: TestServer,
  peerId: string | undefined,
  auth: { key?: string; token?: string },
): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  const ws = openSocket(server, peerId, auth);
  ws.on('error', () => {});
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.terminate();
        reject(new Error('the upgrade was accepted'));
      });
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch (err) {
            reject(new Error(`HTTP ${res.statusCode} with a body that is not JSON: ${text} (${String(err)})`));
          }
        });
      });
    }),
    3000,
    'refused upgrade',
  );
}
