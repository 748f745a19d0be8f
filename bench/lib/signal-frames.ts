// Signaling frames for the bench, in Ferry's protocol and in PeerJS's, of the same byte size. Each
// frame carries its send time (integer µs of performance.now()) where real signaling has a number:
// the SDP's session id (`o=- <t> 2 IN IP4 …`) and the candidate's foundation (`candidate:<t> 1 udp …`).

export type Proto = 'ferry' | 'peerjs';
export type Kind = 'offer' | 'candidate';

/** A frame is `pre + timestamp + post`. */
export interface FrameTemplate {
  readonly pre: string;
  readonly post: string;
}

const TS = '@@TS@@';
const TS_DIGITS = 11; // µs since the loadgen started, for ~1 day

const SDP_LINES = [
  'v=0',
  `o=- ${TS} 2 IN IP4 127.0.0.1`,
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS stream0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Xq3T',
  'a=ice-pwd:aSGh8QK0SEJRx0k1sQnC9yPm',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=sendrecv',
  'a=msid:stream0 track0',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=ssrc:1001 cname:bench',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:Xq3T',
  'a=ice-pwd:aSGh8QK0SEJRx0k1sQnC9yPm',
  'a=mid:1',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
];

function sdpOf(padding: number): string {
  const lines = [...SDP_LINES];
  for (let i = 0; padding > 0; i++) {
    const line = `a=rtpmap:${96 + (i % 30)} VP8/90000`;
    if (padding < line.length + 4) {
      lines.push(`a=x-pad:${'p'.repeat(Math.max(0, padding - 12))}`);
      break;
    }
    lines.push(line);
    padding -= line.length + 4; // + the JSON-escaped CR LF
  }
  return `${lines.join('\r\n')}\r\n`;
}

function candidateOf(padding: number): string {
  return `candidate:${TS} 1 udp 2122260223 192.0.2.17 54400 typ host generation 0 ufrag Xq3T network-cost 10${
    padding > 0 ? ` x-pad ${'p'.repeat(padding)}` : ''
  }`;
}

function body(proto: Proto, kind: Kind, to: string, padding: number): unknown {
  if (proto === 'ferry') {
    return kind === 'offer'
      ? { type: 'offer', to, payload: { type: 'offer', sdp: sdpOf(padding) } }
      : { type: 'candidate', to, payload: { candidate: candidateOf(padding), sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'Xq3T' } };
  }
  // What the PeerJS client library sends (MediaConnection / DataConnection negotiation).
  return kind === 'offer'
    ? { type: 'OFFER', payload: { sdp: { type: 'offer', sdp: sdpOf(padding) }, type: 'data', connectionId: 'dc_bench0001', label: 'dc_bench0001', reliable: true, serialization: 'binary' }, dst: to }
    : { type: 'CANDIDATE', payload: { candidate: { candidate: candidateOf(padding), sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'Xq3T' }, type: 'data', connectionId: 'dc_bench0001' }, dst: to };
}

/** A frame template of `bytes` bytes (with an 11-digit timestamp) from the sender to `to`. */
export function frameTemplate(proto: Proto, kind: Kind, to: string, bytes: number): FrameTemplate {
  const size = (padding: number) => Buffer.byteLength(JSON.stringify(body(proto, kind, to, padding))) - TS.length + TS_DIGITS;
  let padding = 0;
  // Grow the padding until the frame has about the size asked for (size is ~linear in it), then
  // look around for the exact size (the SDP grows by whole lines).
  for (let i = 0; i < 50 && size(padding) < bytes; i++) padding += Math.max(1, bytes - size(padding));
  let best = 0;
  for (let p = Math.max(0, padding - 80); p <= padding + 80; p++) {
    const n = size(p);
    if (n === bytes) {
      best = p;
      break;
    }
    if (n < bytes && n > size(best)) best = p;
  }
  padding = best;
  const text = JSON.stringify(body(proto, kind, to, padding));
  const at = text.indexOf(TS);
  return { pre: text.slice(0, at), post: text.slice(at + TS.length) };
}

/** The marker after which a frame's timestamp is written. */
export const MARKER: Readonly<Record<Kind, Buffer>> = {
  offer: Buffer.from('o=- '),
  candidate: Buffer.from('candidate:'),
};

/** The send timestamp in the frame at buf[start, end), or -1. */
export function readTimestamp(buf: Buffer, marker: Buffer, start = 0, end = buf.length): number {
  const at = buf.indexOf(marker, start);
  if (at < 0 || at >= end) return -1;
  let n = 0;
  let i = at + marker.length;
  const stop = Math.min(end, i + 16);
  for (; i < stop; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  return i === at + marker.length ? -1 : n;
}

/** Timestamp of now, in µs, padded to TS_DIGITS characters. */
export function stamp(nowMs: number): string {
  return String(Math.floor(nowMs * 1000)).padStart(TS_DIGITS, '0');
}

/** Writes `nowMs` as TS_DIGITS decimal digits (µs) at buf[off]. */
export function writeStamp(buf: Buffer, off: number, nowMs: number): void {
  let v = Math.floor(nowMs * 1000);
  for (let i = TS_DIGITS - 1; i >= 0; i--) {
    buf[off + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
}

export function connectTarget(proto: Proto, id: string): { path: string; headers: Record<string, string> } {
  return proto === 'ferry'
    ? { path: `/v1/signal?peer_id=${id}`, headers: { authorization: 'Bearer bench' } }
    : { path: `/peerjs?key=peerjs&id=${id}&token=t${id}`, headers: {} };
}

/** Whether the first frame a server sends means "registered". */
export function isReady(proto: Proto, first: string): boolean {
  return proto === 'ferry' ? first.startsWith('{"type":"welcome"') : first === '{"type":"OPEN"}';
}
