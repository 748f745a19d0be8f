/**
 * FerryClient: ICE servers from Ferry's HTTP API, signaling over Ferry's WebSocket, and calls
 * between peers. Browser-safe: no Node imports; every platform object can be injected.
 */
import { standardAdapter, type PeerAdapter } from './adapters.js';
import { Call } from './call.js';
import { FerryError } from './errors.js';
import { fetchIceServers, mintSignalToken } from './http.js';
import type { ServerMessage } from './messages.js';
import { SignalSocket } from './signal.js';
import type {
  FetchLike, IceCandidateInit, IceServer, PeerConnectionConfig, PeerConnectionConstructor, PeerConnectionLike,
  WebSocketConstructor,
} from './types.js';

export interface ConnectOptions {
  /** Ferry's HTTP base URL, e.g. `https://ferry.example.com` (a ws:// or wss:// URL works too). */
  readonly url: string;
  /** This peer's id: what other peers pass to `call()`. */
  readonly peerId: string;
  /** A signaling token (`st_…`, from `POST /v1/signal-tokens`): the way to authenticate in browsers. */
  readonly token?: string;
  /**
   * An account API key. Keep it out of browsers. Used for `/v1/ice-servers`, and for the WebSocket
   * either as a header (`headerAuth`, needs `ws`) or through a signaling token minted with it.
   */
  readonly apiKey?: string;
  /** Send the API key as an Authorization header on the WebSocket (Node `ws` only). Default false. */
  readonly headerAuth?: boolean;
  /** Default: globalThis.RTCPeerConnection. */
  readonly RTCPeerConnection?: PeerConnectionConstructor;
  /** Default: globalThis.WebSocket. */
  readonly WebSocket?: WebSocketConstructor;
  /** Default: globalThis.fetch. */
  readonly fetch?: FetchLike;
  /** Shim for the injected RTCPeerConnection (weriftAdapter(), nodeDataChannelAdapter()). Default: standard. */
  readonly adapter?: PeerAdapter;
  /** Only relay candidates (iceTransportPolicy 'relay'). Default false: every candidate, direct first. */
  readonly forceRelay?: boolean;
  /**
   * Lifetime requested for the TURN credentials: whole seconds (3600 or "3600") or a duration
   * string ("90m", "1h30m"), from 1 minute to 1 day. The server does not cap it: a value out of
   * that range or malformed is refused (HTTP 400), and connect() rejects with a FerryError
   * (code 'http_error', status 400). Default: the server's, 1 hour.
   */
  readonly ttl?: number | string;
  /** Extra RTCConfiguration fields. */
  readonly rtcConfig?: Readonly<Record<string, unknown>>;
  /** How long call() waits for the data channel to open. Default 30 s. */
  readonly callTimeoutMs?: number;
  /** How long connect() waits for the signaling welcome. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Keepalive ping period on the WebSocket; 0 disables. Default 25 s. */
  readonly pingIntervalMs?: number;
}

export interface CallOptions {
  /** Overrides ConnectOptions.callTimeoutMs. */
  readonly timeoutMs?: number;
}

type CallHandler = (call: Call) => void;

interface PendingOutgoing {
  resolve(call: Call): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const MAX_EARLY_CANDIDATES = 64;
/** Refresh TURN credentials this long before they expire. */
const REFRESH_MARGIN_MS = 60_000;

/** Base HTTP and WebSocket URLs from what the application passed. */
export function baseUrls(url: string): { http: string; ws: string } {
  const trimmed = url.replace(/\/+$/, '');
  const m = /^(https?|wss?):\/\//i.exec(trimmed);
  if (!m) throw new FerryError('bad_url', `url must start with http://, https://, ws:// or wss://: ${url}`);
  const rest = trimmed.slice(m[0].length);
  const secure = m[1].toLowerCase() === 'https' || m[1].toLowerCase() === 'wss';
  return { http: `${secure ? 'https' : 'http'}://${rest}`, ws: `${secure ? 'wss' : 'ws'}://${rest}` };
}

export class FerryClient {
  /** The signaling connection ended (the client can no longer place or receive calls). */
  onclose: ((info: { code?: number; reason?: string }) => void) | null = null;
  /** Errors that belong to no pending call (e.g. a frame the server refused). */
  onerror: ((err: FerryError) => void) | null = null;
  private readonly calls = new Map<string, Call>();
  private readonly outgoing = new Map<string, PendingOutgoing>();
  private readonly early = new Map<string, IceCandidateInit[]>();
  private readonly handlers = new Set<CallHandler>();
  private readonly waitingForHandler: Call[] = [];
  private ice: { servers: IceServer[]; expiresAt: number };
  private closed = false;

  /** @internal Use connect(). */
  constructor(
    private readonly signal: SignalSocket,
    private readonly opts: ConnectOptions & { RTCPeerConnection: PeerConnectionConstructor; fetch: FetchLike; adapter: PeerAdapter },
    private readonly http: string,
    private readonly bearer: string,
    ice: { servers: IceServer[]; expiresAt: number },
  ) {
    this.ice = ice;
    signal.onmessage = (msg) => this.dispatch(msg);
    signal.onclose = (info) => this.signalClosed(info);
  }

  /** This peer's id as the server confirmed it. */
  get peerId(): string {
    return this.signal.peerId;
  }

  /** The ICE servers currently in use, after the adapter's rewriting. */
  get iceServers(): IceServer[] {
    return this.opts.adapter.iceServers(this.ice.servers);
  }

  /** Calls `peerId`; resolves with the call once its data channel is open. */
  call(peerId: string, options: CallOptions = {}): Promise<Call> {
    if (this.closed) return Promise.reject(new FerryError('closed', 'the client is closed'));
    if (peerId === this.peerId) return Promise.reject(new FerryError('bad_peer', 'a peer cannot call itself'));
    if (this.outgoing.has(peerId)) return Promise.reject(new FerryError('busy', `a call to ${peerId} is already being set up`));
    this.calls.get(peerId)?.end('replaced', true);
    const timeoutMs = options.timeoutMs ?? this.opts.callTimeoutMs ?? 30_000;
    return new Promise<Call>((resolve, reject) => {
      const timer = setTimeout(
        () => this.failOutgoing(peerId, new FerryError('timeout', `call to ${peerId} did not connect within ${timeoutMs} ms`), true),
        timeoutMs,
      );
      this.outgoing.set(peerId, { resolve, reject, timer });
      this.placeCall(peerId).catch((err: unknown) => {
        if (err instanceof FerryError && err.code === 'glare') return; // answered their offer instead
        this.failOutgoing(peerId, err instanceof Error ? err : new Error(String(err)), true);
      });
    });
  }

  /**
   * Registers a handler for incoming calls, called once each call's data channel is open.
   * Calls that arrived before any handler was registered are delivered to the first one.
   * Returns a function that unregisters it.
   */
  onCall(handler: CallHandler): () => void {
    this.handlers.add(handler);
    const waiting = this.waitingForHandler.splice(0);
    if (waiting.length > 0) {
      // Delivered after onCall() returns, never from inside it.
      queueMicrotask(() => { for (const call of waiting) if (!call.closed) handler(call); });
    }
    return () => { this.handlers.delete(handler); };
  }

  /** Ends every call (with a bye) and the signaling connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const call of [...this.calls.values()]) call.end('local', true);
    this.signal.close();
  }

  private async placeCall(peerId: string): Promise<void> {
    const call = await this.newCall(peerId, 'caller');
    if (!this.outgoing.has(peerId)) {
      call.end('cancelled', false);
      return;
    }
    if (this.calls.has(peerId)) {
      // Their offer arrived while we were preparing ours: answer it (incoming() settles this call()).
      call.end('glare', false);
      throw new FerryError('glare', 'answered the other peer\'s offer');
    }
    this.calls.set(peerId, call);
    await call.start();
    await call.opened;
    this.settleOutgoing(peerId, call);
  }

  private async newCall(peerId: string, role: 'caller' | 'callee'): Promise<Call> {
    const servers = await this.currentIceServers();
    const config: PeerConnectionConfig = {
      ...this.opts.rtcConfig,
      ...this.opts.adapter.extraConfig,
      iceServers: this.opts.adapter.iceServers(servers),
      iceTransportPolicy: this.opts.forceRelay ? 'relay' : 'all',
    };
    const pc = new this.opts.RTCPeerConnection(config) as PeerConnectionLike;
    const call = new Call(
      {
        send: (msg) => this.signal.send(msg),
        ended: (c) => { if (this.calls.get(c.peerId) === c) this.calls.delete(c.peerId); },
      },
      peerId,
      role,
      pc,
    );
    return call;
  }

  private async currentIceServers(): Promise<IceServer[]> {
    if (this.ice.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
      const r = await fetchIceServers(this.opts.fetch, this.http, this.bearer, this.opts.ttl);
      this.ice = { servers: r.iceServers, expiresAt: r.expiresAt };
    }
    return this.ice.servers;
  }

  private settleOutgoing(peerId: string, call: Call): void {
    const pending = this.outgoing.get(peerId);
    if (!pending) return;
    this.outgoing.delete(peerId);
    clearTimeout(pending.timer);
    pending.resolve(call);
  }

  private failOutgoing(peerId: string, err: Error, notify: boolean): void {
    const pending = this.outgoing.get(peerId);
    if (!pending) return;
    this.outgoing.delete(peerId);
    clearTimeout(pending.timer);
    const call = this.calls.get(peerId);
    if (call && call.role === 'caller') call.end(err instanceof FerryError ? err.code : 'failed', notify);
    pending.reject(err);
  }

  private dispatch(msg: ServerMessage): void {
    switch (msg.type) {
      case 'offer':
        void this.incoming(msg.from, msg.payload);
        return;
      case 'answer':
        void this.calls.get(msg.from)?.handleAnswer(msg.payload);
        return;
      case 'candidate': {
        const call = this.calls.get(msg.from);
        if (call) {
          call.handleCandidate(msg.payload);
        } else if (msg.payload !== null) {
          const list = this.early.get(msg.from) ?? [];
          if (list.length < MAX_EARLY_CANDIDATES) list.push(msg.payload);
          this.early.set(msg.from, list);
        }
        return;
      }
      case 'bye':
        this.early.delete(msg.from);
        if (this.outgoing.has(msg.from)) {
          this.failOutgoing(msg.from, new FerryError('rejected', `${msg.from} hung up`), false);
        }
        this.calls.get(msg.from)?.end('remote', false);
        return;
      case 'error':
        if (msg.to !== undefined && this.outgoing.has(msg.to)) {
          this.failOutgoing(msg.to, new FerryError(msg.code, `call to ${msg.to}: ${msg.message}`), false);
        } else {
          this.onerror?.(new FerryError(msg.code, msg.message));
        }
        return;
      default:
        return;
    }
  }

  private async incoming(from: string, offer: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    if (this.closed) return;
    const existing = this.calls.get(from);
    if (existing?.awaitingAnswer) {
      // Glare: both called each other. The peer with the smaller id keeps its offer; the other
      // drops its own (without a bye, which would end the call it is about to answer) and answers.
      if (this.peerId < from) return;
      existing.end('glare', false);
    } else if (existing) {
      existing.end('replaced', false); // the other side started over
    }
    let call: Call;
    try {
      call = await this.newCall(from, 'callee');
    } catch (err) {
      this.onerror?.(err instanceof FerryError ? err : new FerryError('failed', String(err)));
      return;
    }
    this.calls.set(from, call);
    for (const c of this.early.get(from) ?? []) call.handleCandidate(c);
    this.early.delete(from);
    try {
      await call.answer(offer);
      await call.opened;
    } catch (err) {
      if (!call.closed) call.end(`answer failed: ${(err as Error)?.message ?? err}`, true);
      return;
    }
    if (this.outgoing.has(from)) {
      this.settleOutgoing(from, call); // our own call() to them resolves with this call
      return;
    }
    if (this.handlers.size === 0) this.waitingForHandler.push(call);
    for (const h of this.handlers) h(call);
  }

  private signalClosed(info: { code?: number; reason?: string }): void {
    if (this.closed) return;
    this.closed = true;
    for (const peerId of [...this.outgoing.keys()]) {
      this.failOutgoing(peerId, new FerryError('signaling_closed', 'the signaling connection closed'), false);
    }
    // Established calls keep running: their data no longer needs signaling.
    this.onclose?.(info);
  }
}

/**
 * Connects a peer to Ferry: fetches ICE servers, opens the signaling WebSocket and resolves once
 * the server has welcomed `peerId`.
 */
export async function connect(options: ConnectOptions): Promise<FerryClient> {
  const g = globalThis as unknown as Record<string, unknown>;
  const RTCPeerConnection = options.RTCPeerConnection ?? (g.RTCPeerConnection as PeerConnectionConstructor | undefined);
  const WebSocketCtor = options.WebSocket ?? (g.WebSocket as WebSocketConstructor | undefined);
  const fetchFn = options.fetch ?? (typeof g.fetch === 'function' ? (g.fetch as FetchLike).bind(globalThis) : undefined);
  if (!RTCPeerConnection) throw new FerryError('unsupported', 'no RTCPeerConnection: pass one in the options');
  if (!WebSocketCtor) throw new FerryError('unsupported', 'no WebSocket: pass one in the options (e.g. from "ws")');
  if (!fetchFn) throw new FerryError('unsupported', 'no fetch: pass one in the options');
  if (!options.peerId) throw new FerryError('bad_peer', 'peerId is required');
  const bearer = options.token ?? options.apiKey;
  if (!bearer) throw new FerryError('unauthorized', 'pass a signaling token (token) or an API key (apiKey)');
  const { http, ws } = baseUrls(options.url);

  const ice = await fetchIceServers(fetchFn, http, bearer, options.ttl);

  let wsUrl = `${ws}/v1/signal?peer_id=${encodeURIComponent(options.peerId)}`;
  let headers: Record<string, string> | undefined;
  if (options.token !== undefined) {
    wsUrl += `&token=${encodeURIComponent(options.token)}`;
  } else if (options.headerAuth) {
    headers = { authorization: `Bearer ${options.apiKey}` };
  } else {
    const minted = await mintSignalToken(fetchFn, http, options.apiKey as string);
    wsUrl += `&token=${encodeURIComponent(minted.token)}`;
  }
  const signal = await SignalSocket.open({
    WebSocket: WebSocketCtor,
    url: wsUrl,
    ...(headers ? { headers } : {}),
    timeoutMs: options.connectTimeoutMs ?? 10_000,
    pingIntervalMs: options.pingIntervalMs ?? 25_000,
  });
  return new FerryClient(
    signal,
    { ...options, RTCPeerConnection, fetch: fetchFn, adapter: options.adapter ?? standardAdapter },
    http,
    bearer,
    { servers: ice.iceServers, expiresAt: ice.expiresAt },
  );
}
