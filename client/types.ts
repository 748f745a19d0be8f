/**
 * Structural types for the parts of WebRTC and WebSocket the SDK uses. They are deliberately small
 * so that the browser's RTCPeerConnection, werift's and node-datachannel's polyfill all fit, and
 * so that this directory compiles without DOM or Node types (it is served to browsers as is).
 */

/** An ICE server entry, as Ferry's `POST /v1/ice-servers` returns it and RTCConfiguration takes it. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export type IceTransportPolicy = 'all' | 'relay';

/** What the SDK passes to an RTCPeerConnection constructor (an adapter may add fields). */
export interface PeerConnectionConfig {
  iceServers: IceServer[];
  iceTransportPolicy: IceTransportPolicy;
  [extra: string]: unknown;
}

export interface SessionDescriptionInit {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp?: string;
}

/**
 * RTCIceCandidateInit as it travels through signaling (JSON); also the fields of an `icecandidate`
 * event's candidate object (every implementation has these).
 */
export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export type MessageData = string | ArrayBuffer | ArrayBufferView;

export interface DataChannelLike {
  readonly label: string;
  readonly readyState: string;
  binaryType?: string;
  send(data: MessageData): void;
  close(): void;
  onopen?: ((ev: unknown) => void) | null;
  onclose?: ((ev: unknown) => void) | null;
  onmessage?: ((ev: { data: unknown }) => void) | null;
}

export interface PeerConnectionLike {
  readonly localDescription?: { type: string; sdp: string } | null;
  readonly connectionState?: string;
  onicecandidate?: ((ev: { candidate?: IceCandidateInit | null }) => void) | null;
  ondatachannel?: ((ev: { channel: DataChannelLike }) => void) | null;
  onconnectionstatechange?: ((ev: unknown) => void) | null;
  createDataChannel(label: string, options?: Record<string, unknown>): DataChannelLike;
  createOffer(): Promise<{ type: string; sdp?: string }>;
  createAnswer(): Promise<{ type: string; sdp?: string }>;
  setLocalDescription(description?: SessionDescriptionInit): Promise<unknown>;
  setRemoteDescription(description: SessionDescriptionInit): Promise<unknown>;
  addIceCandidate(candidate: IceCandidateInit): Promise<unknown>;
  getStats(): Promise<unknown>;
  close(): unknown;
}

/**
 * An RTCPeerConnection class: the browser's, werift's `RTCPeerConnection` or
 * `node-datachannel/polyfill`'s. Typed loosely on purpose: the three declare their constructor
 * parameters differently, and the SDK only relies on PeerConnectionLike.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PeerConnectionConstructor = new (config: any) => unknown;

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

/**
 * A WebSocket class: the browser's, or `ws` in Node. The second argument is only used in Node,
 * for header authentication (`ws` takes `{ headers }` there; browsers cannot send headers).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WebSocketConstructor = new (url: string, ...rest: any[]) => unknown;

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: unknown },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; text(): Promise<string> }>;

/** The path a connected call takes, read from the selected ICE candidate pair. */
export type CallPath = 'direct' | 'relay';
