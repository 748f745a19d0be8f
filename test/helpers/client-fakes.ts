// In-memory fakes for the client SDK's unit tests: a signaling server with WebSocket-like clients,
// and an RTCPeerConnection that "connects" two instances once each has the other's description
// and at least one of its candidates (added after the remote description, as real ICE needs).

type Handler<T = unknown> = ((ev: T) => void) | null;

// ---------------------------------------------------------------------------------------------
// Signaling

export interface FakeFrame { from: string; msg: Record<string, unknown> }

export class FakeSignalServer {
  readonly sockets = new Map<string, FakeWebSocket>();
  /** Every client frame, in arrival order. */
  readonly frames: FakeFrame[] = [];
  /** The URLs and constructor options clients connected with. */
  readonly connections: Array<{ url: string; options: unknown }> = [];
  /** Refuse connections: close with this code before welcome. */
  refuse: number | null = null;
  /** Drop offers instead of delivering them (to test timeouts). */
  dropOffers = false;

  /** A WebSocket constructor bound to this server. */
  get WebSocket(): new (url: string, options?: unknown) => FakeWebSocket {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const server = this;
    return class extends FakeWebSocket {
      constructor(url: string, options?: unknown) {
        super(server, url, options);
      }
    };
  }

  route(from: string, msg: Record<string, unknown>): void {
    this.frames.push({ from, msg });
    if (msg.type === 'ping') return;
    const to = String(msg.to);
    const target = this.sockets.get(to);
    if (!target) {
      this.sockets.get(from)?.deliver({ type: 'error', code: 'peer_unavailable', message: `${to} is not connected`, to });
      return;
    }
    if (msg.type === 'offer' && this.dropOffers) return;
    target.deliver({ type: msg.type, from, ...(msg.type === 'bye' ? {} : { payload: msg.payload }) });
  }
}

export class FakeWebSocket {
  readyState = 0;
  onopen: Handler = null;
  onclose: Handler<{ code?: number; reason?: string }> = null;
  onerror: Handler = null;
  onmessage: Handler<{ data: unknown }> = null;
  readonly peerId: string;

  constructor(private readonly server: FakeSignalServer, readonly url: string, readonly options?: unknown) {
    server.connections.push({ url, options });
    this.peerId = new URL(url).searchParams.get('peer_id') ?? '';
    setTimeout(() => {
      if (server.refuse !== null) {
        this.readyState = 3;
        this.onclose?.({ code: server.refuse, reason: 'refused' });
        return;
      }
      this.readyState = 1;
      server.sockets.set(this.peerId, this);
      this.onopen?.({});
      this.deliver({ type: 'welcome', peer_id: this.peerId });
    }, 1);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    const msg = JSON.parse(data) as Record<string, unknown>;
    setTimeout(() => this.server.route(this.peerId, msg), 0);
  }

  deliver(msg: Record<string, unknown>): void {
    if (this.readyState !== 1) return;
    setTimeout(() => this.onmessage?.({ data: JSON.stringify(msg) }), 0);
  }

  close(): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    if (this.server.sockets.get(this.peerId) === this) this.server.sockets.delete(this.peerId);
    setTimeout(() => this.onclose?.({ code: 1000, reason: '' }), 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Peer connections

export interface FakePcOptions {
  /** Candidate types this side gathers, e.g. ['host', 'relay']; default ['relay']. */
  candidateTypes?: string[];
  /**
   * 'werift': candidates fire during setLocalDescription, before it resolves (werift gathers
   * inside setLocalDescription). 'browser': they fire after it resolves. Default 'browser'.
   */
  gathering?: 'werift' | 'browser';
  /** Stats style for getStats(): 'browser' (transport.selectedCandidatePairId) or 'werift' (nominated pair). */
  stats?: 'browser' | 'werift';
}

const registry = new Map<string, FakeRTCPeerConnection>();
let nextId = 1;

export class FakeDataChannel {
  readyState = 'connecting';
  binaryType = 'blob';
  onopen: Handler = null;
  onclose: Handler = null;
  onmessage: Handler<{ data: unknown }> = null;
  remote: FakeDataChannel | null = null;
  readonly sent: unknown[] = [];

  constructor(readonly label: string) {}

  send(data: unknown): void {
    if (this.readyState !== 'open') throw new Error(`send on a ${this.readyState} channel`);
    this.sent.push(data);
    const remote = this.remote;
    setTimeout(() => remote?.onmessage?.({ data }), 0);
  }

  open(): void {
    if (this.readyState !== 'connecting') return;
    this.readyState = 'open';
    this.onopen?.({});
  }

  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    setTimeout(() => this.onclose?.({}), 0);
    const remote = this.remote;
    if (remote && remote.readyState !== 'closed') remote.close();
  }
}

export class FakeRTCPeerConnection {
  static options: FakePcOptions = {};
  static readonly instances: FakeRTCPeerConnection[] = [];
  readonly id = `pc${nextId++}`;
  readonly opts: FakePcOptions;
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  connectionState = 'new';
  onicecandidate: Handler<{ candidate: unknown }> = null;
  ondatachannel: Handler<{ channel: FakeDataChannel }> = null;
  onconnectionstatechange: Handler = null;
  readonly addedCandidates: unknown[] = [];
  /** addIceCandidate calls refused because no remote description was set. */
  readonly refusedCandidates: unknown[] = [];
  channel: FakeDataChannel | null = null;
  closed = false;
  peer: FakeRTCPeerConnection | null = null;

  constructor(readonly config: Record<string, unknown>) {
    this.opts = { ...FakeRTCPeerConnection.options };
    registry.set(this.id, this);
    FakeRTCPeerConnection.instances.push(this);
  }

  createDataChannel(label: string): FakeDataChannel {
    this.channel = new FakeDataChannel(label);
    return this.channel;
  }

  async createOffer(): Promise<{ type: string; sdp: string }> {
    return { type: 'offer', sdp: `v=0 fake offer from ${this.id}` };
  }

  async createAnswer(): Promise<{ type: string; sdp: string }> {
    if (!this.remoteDescription) throw new Error('createAnswer without a remote offer');
    return { type: 'answer', sdp: `v=0 fake answer from ${this.id}` };
  }

  async setLocalDescription(desc: { type: string; sdp?: string }): Promise<void> {
    this.localDescription = { type: desc.type, sdp: desc.sdp ?? '' };
    if (this.opts.gathering === 'werift') this.gather();
    else setTimeout(() => this.gather(), 0);
  }

  async setRemoteDescription(desc: { type: string; sdp?: string }): Promise<void> {
    const m = /from (pc\d+)/.exec(desc.sdp ?? '');
    if (!m) throw new Error(`unparsable fake SDP: ${desc.sdp}`);
    this.remoteDescription = { type: desc.type, sdp: desc.sdp ?? '' };
    this.peer = registry.get(m[1]) ?? null;
    this.tryConnect();
  }

  async addIceCandidate(c: { candidate: string }): Promise<void> {
    if (!this.remoteDescription) {
      this.refusedCandidates.push(c);
      throw new Error('InvalidStateError: no remote description');
    }
    this.addedCandidates.push(c);
    this.tryConnect();
  }

  private gather(): void {
    if (this.closed) return;
    const types = this.opts.candidateTypes ?? ['relay'];
    types.forEach((t, i) => {
      this.onicecandidate?.({
        candidate: { candidate: `candidate:${i} 1 udp 100 127.0.0.1 ${5000 + i} typ ${t}`, sdpMid: '0', sdpMLineIndex: 0 },
      });
    });
    this.onicecandidate?.({ candidate: null });
  }

  private ready(): boolean {
    return !this.closed && this.remoteDescription !== null && this.addedCandidates.length > 0;
  }

  private tryConnect(): void {
    const peer = this.peer;
    if (!peer || !this.ready() || !peer.ready() || peer.peer !== this) return;
    if (this.connectionState === 'connected') return;
    const caller = this.channel ? this : peer.channel ? peer : null;
    const callee = caller === this ? peer : this;
    this.setState('connected');
    peer.setState('connected');
    if (!caller?.channel) return;
    const remote = new FakeDataChannel(caller.channel.label);
    caller.channel.remote = remote;
    remote.remote = caller.channel;
    setTimeout(() => {
      callee.ondatachannel?.({ channel: remote });
      remote.open();
      caller.channel?.open();
    }, 0);
  }

  private setState(s: string): void {
    this.connectionState = s;
    this.onconnectionstatechange?.({});
  }

  private selectedTypes(): [string, string] {
    const local = this.opts.candidateTypes ?? ['relay'];
    const remote = this.peer?.opts.candidateTypes ?? ['relay'];
    // "ICE" picks host-host when both have a host candidate, else whatever involves a relay.
    if (local.includes('host') && remote.includes('host')) return ['host', 'host'];
    return [local.includes('relay') ? 'relay' : local[0], remote.includes('relay') ? 'relay' : remote[0]];
  }

  async getStats(): Promise<unknown> {
    if (this.connectionState !== 'connected') return new Map();
    const [l, r] = this.selectedTypes();
    const local = { id: 'L1', type: 'local-candidate', candidateType: l };
    const remote = { id: 'R1', type: 'remote-candidate', candidateType: r };
    if (this.opts.stats === 'werift') {
      const other = { id: 'P0', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', nominated: false, state: 'failed' };
      const pair = { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', nominated: true, state: 'succeeded' };
      return [other, local, remote, pair];
    }
    const pair = { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1' };
    const transport = { id: 'T1', type: 'transport', selectedCandidatePairId: 'P1' };
    return new Map(Object.entries({ T1: transport, P1: pair, L1: local, R1: remote }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel?.close();
    this.connectionState = 'closed';
  }

  static reset(): void {
    FakeRTCPeerConnection.options = {};
    FakeRTCPeerConnection.instances.length = 0;
    registry.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface FakeFetchCall { url: string; method: string; headers: Record<string, string>; body?: string }

/** A fetch answering Ferry's two SDK endpoints; `status` overrides the HTTP status. */
export function fakeFetch(opts: { status?: number; expiresAt?: unknown; iceServers?: unknown } = {}) {
  const calls: FakeFetchCall[] = [];
  const fetch = async (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => {
    calls.push({ url, ...init });
    const status = opts.status ?? 200;
    let body: unknown;
    if (status !== 200) body = { error: { code: 'unauthorized', message: 'bad key' } };
    else if (url.endsWith('/v1/ice-servers')) {
      body = {
        iceServers: opts.iceServers ?? [{
          urls: ['stun:127.0.0.1:3478', 'turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'],
          username: '1700000000:acc_x',
          credential: 'c2VjcmV0/+=',
        }],
        expires_at: opts.expiresAt ?? new Date(Date.now() + 3_600_000).toISOString(),
      };
    } else if (url.endsWith('/v1/signal-tokens')) {
      body = { token: 'st_minted', expires_at: Math.floor(Date.now() / 1000) + 600 };
    } else {
      return { ok: false, status: 404, json: async () => ({}), text: async () => 'not found' };
    }
    return { ok: status === 200, status, json: async () => body, text: async () => JSON.stringify(body) };
  };
  return { fetch, calls };
}
