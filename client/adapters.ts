/**
 * Per-implementation shims. Ferry hands out one standard ICE server entry
 * (`stun:`, `turn:?transport=udp`, `turn:?transport=tcp`, maybe `turns:`); browsers take it as is,
 * the Node implementations need it rewritten. Pass the adapter that matches the RTCPeerConnection
 * you inject: `connect({ RTCPeerConnection, adapter: weriftAdapter() })`. The SDK never guesses
 * the implementation from globals.
 */
import { eachUrl, parseIceUrl, type TurnTransport } from './ice-url.js';
import type { IceServer } from './types.js';

export interface PeerAdapter {
  /** For logs and error messages. */
  readonly name: string;
  /** Rewrites Ferry's ICE servers into what this implementation understands. */
  iceServers(servers: readonly IceServer[]): IceServer[];
  /** Extra RTCPeerConnection configuration fields (e.g. node-datachannel's bindAddress). */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
}

/** Browsers (and any spec-complete implementation): the servers unchanged. */
export const standardAdapter: PeerAdapter = {
  name: 'standard',
  iceServers: (servers) => servers.map((s) => ({ ...s, urls: Array.isArray(s.urls) ? [...s.urls] : s.urls })),
};

export interface WeriftAdapterOptions {
  /** Which TURN transport werift should use (it uses only one TURN URL; default 'udp'). */
  readonly transport?: TurnTransport;
}

/**
 * werift: it reads only the FIRST `turn:`/`turns:` URL across all entries (and the first `stun:`).
 * One entry per URL, STUN first, then the TURN URL of the preferred transport ahead of the others,
 * so the choice is explicit rather than an accident of the server's ordering.
 */
export function weriftAdapter(options: WeriftAdapterOptions = {}): PeerAdapter {
  const preferred = options.transport ?? 'udp';
  return {
    name: `werift(${preferred})`,
    iceServers(servers) {
      const rank = (url: string): number => {
        const p = parseIceUrl(url);
        if (!p) return 3;
        if (p.transport === undefined) return 0; // stun
        return p.transport === preferred ? 1 : 2;
      };
      return eachUrl(servers)
        .map(({ server, url }) => ({ server, url, rank: rank(url) }))
        .filter((e) => e.rank < 3)
        .sort((a, b) => a.rank - b.rank)
        .map(({ server, url }) => entry(server, url));
    },
  };
}

export interface NodeDataChannelAdapterOptions {
  /**
   * Local address libjuice binds to. On loopback two peers may find a direct path even with
   * iceTransportPolicy 'relay'; distinct addresses (127.0.0.2, 127.0.0.3) make relaying real.
   */
  readonly bindAddress?: string;
  /** Extra native PeerConnection options (portRangeBegin, enableIceUdpMux, ...). */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
}

/**
 * node-datachannel's polyfill (libdatachannel + libjuice): TURN over UDP only, so `?transport=tcp`
 * and `turns:` URLs are dropped. The polyfill folds username and credential into the URL
 * (`turn:USER:PASS@host:port`), which libdatachannel splits at ':' and '@' and then
 * percent-decodes: TURN REST usernames (`<expiry>:<account>`) and base64 credentials must be
 * percent-encoded first, or the username is cut at its first ':'.
 */
export function nodeDataChannelAdapter(options: NodeDataChannelAdapterOptions = {}): PeerAdapter {
  const extraConfig: Record<string, unknown> = { ...options.extraConfig };
  if (options.bindAddress !== undefined) extraConfig.bindAddress = options.bindAddress;
  return {
    name: 'node-datachannel',
    extraConfig,
    iceServers(servers) {
      const out: IceServer[] = [];
      for (const { server, url } of eachUrl(servers)) {
        const p = parseIceUrl(url);
        if (!p || p.scheme === 'stuns' || p.scheme === 'turns') continue;
        if (p.scheme === 'stun') {
          out.push({ urls: [url] });
          continue;
        }
        if (p.transport !== 'udp') continue;
        const host = p.host.includes(':') ? `[${p.host}]` : p.host;
        out.push({
          urls: [`turn:${host}:${p.port}`],
          ...(server.username !== undefined ? { username: encodeURIComponent(server.username) } : {}),
          ...(server.credential !== undefined ? { credential: encodeURIComponent(server.credential) } : {}),
        });
      }
      return out;
    },
  };
}

function entry(server: IceServer, url: string): IceServer {
  return {
    urls: [url],
    ...(server.username !== undefined ? { username: server.username } : {}),
    ...(server.credential !== undefined ? { credential: server.credential } : {}),
  };
}
