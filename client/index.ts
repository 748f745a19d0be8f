/**
 * Ferry's client SDK: `connect()` a peer, `call()` another, exchange messages over a data channel.
 * Browser-safe ES modules (served by Ferry at /sdk/index.js); in Node inject werift's or
 * node-datachannel's RTCPeerConnection with its adapter, and `ws`'s WebSocket.
 */
export { connect, FerryClient, baseUrls, type ConnectOptions, type CallOptions } from './client.js';
export { Call, CHANNEL_LABEL, type CallRole } from './call.js';
export { FerryChannel, type ChannelMessageEvent } from './channel.js';
export { FerryError } from './errors.js';
export {
  standardAdapter, weriftAdapter, nodeDataChannelAdapter,
  type PeerAdapter, type WeriftAdapterOptions, type NodeDataChannelAdapterOptions,
} from './adapters.js';
export { pathFromStats, selectedPair, type SelectedPair } from './path.js';
export { parseIceUrl, type IceUrl } from './ice-url.js';
export type {
  CallPath, IceServer, IceCandidateInit, PeerConnectionConstructor, WebSocketConstructor, FetchLike,
} from './types.js';
