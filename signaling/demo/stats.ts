/**
 * The demo's connection panel: what RTCPeerConnection.getStats() says about the selected candidate
 * pair (each end's candidate type, protocol and address, the relayed address when a relay is in the
 * path), the round-trip time and the bytes each way. Pure: the page passes in the selected pair it
 * got from the SDK's selectedPair() and renders the result.
 */

type Stat = Record<string, unknown>;

export interface CandidateSummary {
  /** host, srflx, prflx or relay. */
  readonly type: string;
  /** udp or tcp: the transport of this candidate's checks. */
  readonly protocol: string;
  /** address:port as the stats give it (Chromium shows the other browser's host candidates as mDNS names). */
  readonly address: string;
  /** For a local relay candidate: how this browser reaches the TURN server (udp, tcp, tls). */
  readonly relayProtocol: string | null;
  /** For a local relay candidate: the TURN URL it came from. */
  readonly url: string | null;
}

export interface StatsSummary {
  readonly path: 'direct' | 'relay';
  readonly local: CandidateSummary;
  readonly remote: CandidateSummary;
  /** The relayed transport address on the TURN server (the local relay candidate's, else the remote's); null when direct. */
  readonly relayedAddress: string | null;
  /** Current round-trip time of the pair's STUN checks, ms; null until measured. */
  readonly rttMs: number | null;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function hostPort(s: Stat): string {
  const host = str(s.address) ?? str(s.ip);
  const port = num(s.port);
  // Browsers leave out the IP of host candidates (it would identify the machine) unless the page
  // may use the camera or microphone.
  if (host === null) return port === null ? 'address hidden by the browser' : `port ${port} (address hidden by the browser)`;
  const h = host.includes(':') ? `[${host}]` : host;
  return port === null ? h : `${h}:${port}`;
}

function candidate(s: Stat): CandidateSummary {
  return {
    type: str(s.candidateType) ?? '?',
    protocol: str(s.protocol) ?? '?',
    address: hostPort(s),
    relayProtocol: str(s.relayProtocol),
    url: str(s.url),
  };
}

/**
 * The summary of a selected pair ({pair, local, remote} stats, as client/path.ts selectedPair gives
 * it). Bytes come from the transport stats when given: the pair's own count starts again at 0
 * when ICE switches to another pair.
 */
export function summarize(sel: { pair: Stat; local: Stat; remote: Stat } | null, transport?: Stat): StatsSummary | null {
  if (sel === null) return null;
  const local = candidate(sel.local);
  const remote = candidate(sel.remote);
  const relayed = local.type === 'relay' ? local.address : remote.type === 'relay' ? remote.address : null;
  const rtt = num(sel.pair.currentRoundTripTime);
  return {
    path: relayed !== null ? 'relay' : 'direct',
    local,
    remote,
    relayedAddress: relayed,
    rttMs: rtt === null ? null : Math.round(rtt * 10_000) / 10,
    bytesSent: num(transport?.bytesSent) ?? num(sel.pair.bytesSent) ?? 0,
    bytesReceived: num(transport?.bytesReceived) ?? num(sel.pair.bytesReceived) ?? 0,
  };
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(2)} MB`;
}

function describe(c: CandidateSummary): string {
  const via = c.relayProtocol !== null ? `, to the relay over ${c.relayProtocol}` : '';
  return `${c.type} · ${c.protocol} · ${c.address}${via}`;
}

/** The transport stats (DTLS over ICE) of a getStats() report: bytes each way over the call's life. */
export function transportStats(report: { forEach(cb: (s: Stat) => void): void }): Stat | undefined {
  let found: Stat | undefined;
  report.forEach((s) => { if (found === undefined && s.type === 'transport') found = s; });
  return found;
}

/** The panel's rows, label → text, in display order. */
export function panelRows(s: StatsSummary | null, connection: string): Array<[string, string]> {
  const rows: Array<[string, string]> = [['Connection', connection]];
  if (s === null) {
    rows.push(['Candidate pair', 'none selected yet']);
    return rows;
  }
  rows.push(
    ['Path', s.path === 'relay' ? 'relay (through the TURN server)' : 'direct (peer to peer)'],
    ['Local candidate', describe(s.local)],
    ['Remote candidate', describe(s.remote)],
    ['Relayed address', s.relayedAddress ?? '– (not relayed)'],
    ['Round-trip time', s.rttMs === null ? 'not measured yet' : `${s.rttMs} ms`],
    ['Bytes sent', formatBytes(s.bytesSent)],
    ['Bytes received', formatBytes(s.bytesReceived)],
  );
  return rows;
}
