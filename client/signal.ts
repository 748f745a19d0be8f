/** The signaling WebSocket: open, wait for `welcome`, send and receive frames, keepalive pings. */
import { FerryError } from './errors.js';
import { parseServerMessage, type ClientMessage, type ServerMessage } from './messages.js';
import type { WebSocketConstructor, WebSocketLike } from './types.js';

const OPEN = 1;

export interface SignalOpenOptions {
  readonly WebSocket: WebSocketConstructor;
  readonly url: string;
  /** Only for implementations that take `{ headers }` as the second argument (`ws` in Node). */
  readonly headers?: Record<string, string>;
  readonly timeoutMs: number;
  readonly pingIntervalMs: number;
}

export class SignalSocket {
  onmessage: ((msg: ServerMessage) => void) | null = null;
  onclose: ((info: { code?: number; reason?: string }) => void) | null = null;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  private constructor(
    private readonly ws: WebSocketLike,
    readonly peerId: string,
    pingIntervalMs: number,
  ) {
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      const msg = parseServerMessage(ev.data);
      if (msg) this.onmessage?.(msg);
    };
    ws.onclose = (ev) => this.finish({ code: ev?.code, reason: ev?.reason });
    ws.onerror = () => { /* followed by close */ };
    if (pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), pingIntervalMs);
      (this.pingTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Opens the socket and resolves once the server's `welcome` arrives. */
  static open(options: SignalOpenOptions): Promise<SignalSocket> {
    return new Promise((resolve, reject) => {
      const ws = (options.headers
        ? new options.WebSocket(options.url, { headers: options.headers })
        : new options.WebSocket(options.url)) as WebSocketLike;
      let settled = false;
      let lastError: string | undefined;
      const fail = (err: FerryError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        try { ws.close(); } catch { /* not open */ }
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new FerryError('timeout', `no welcome from the signaling server within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      ws.onmessage = (ev) => {
        if (settled || typeof ev.data !== 'string') return;
        const msg = parseServerMessage(ev.data);
        if (msg?.type === 'welcome') {
          settled = true;
          clearTimeout(timer);
          resolve(new SignalSocket(ws, msg.peer_id, options.pingIntervalMs));
        } else if (msg?.type === 'error') {
          lastError = `${msg.code}: ${msg.message}`;
          fail(new FerryError(msg.code, `signaling refused the connection: ${msg.message}`));
        }
      };
      ws.onerror = (ev) => {
        const message = (ev as { message?: unknown })?.message;
        if (typeof message === 'string') lastError = message;
      };
      ws.onclose = (ev) => {
        const why = lastError ?? (ev?.reason ? `${ev.code} ${ev.reason}` : `code ${ev?.code ?? 'unknown'}`);
        fail(new FerryError('signaling_closed', `signaling connection closed before welcome (${why})`));
      };
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === OPEN;
  }

  /** False when the socket is not open (the frame is dropped). */
  send(msg: ClientMessage): boolean {
    if (!this.isOpen) return false;
    try {
      this.ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.closed) return;
    try { this.ws.close(1000, 'client closed'); } catch { /* already closing */ }
    this.finish({ code: 1000, reason: 'client closed' });
  }

  private finish(info: { code?: number; reason?: string }): void {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    if (this.closed) return;
    this.closed = true;
    this.onclose?.(info);
  }
}
