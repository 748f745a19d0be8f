// The signaling bench's load generator (a child of bench/signaling.ts, pinned to its own core):
// WebSocket clients (bench/lib/raw-ws.ts: pre-built frames, no per-frame decoding) against Ferry or
// PeerJS, commanded over a control connection (bench/lib/control.ts).
//   connect {set, proto, port, pairs}     open 2·pairs peers (a_i sends to b_i), wait until each is registered
//   idle    {set, proto, port, count}     open `count` peers that only sit there (memory per peer)
//   step    {set, kind, rate, seconds, drainMs}   send `rate` frames/s for `seconds`, then wait for stragglers
//   close   {set}                         close a set's sockets
// Usage: node dist/bench/signaling-loadgen.js CONTROL_PORT
import { serveControl } from './lib/control.js';
import { RawWs, textFrame } from './lib/raw-ws.js';
import { MARKER, connectTarget, frameTemplate, isReady, readTimestamp, stamp, writeStamp, type Kind, type Proto } from './lib/signal-frames.js';

const OFFER_BYTES = 2600;
const CANDIDATE_BYTES = 440;
const CONNECT_CONCURRENCY = 64;
const MAX_BUFFERED = 8 * 1024 * 1024;

/** A complete client frame with a placeholder timestamp at `tsOffset`. */
interface FrameBytes {
  readonly frame: Buffer;
  readonly tsOffset: number;
}

interface Pair {
  readonly a: RawWs;
  readonly b: RawWs;
  readonly tpl: Readonly<Record<Kind, FrameBytes>>;
}

interface ConnSet {
  readonly proto: Proto;
  readonly sockets: RawWs[];
  readonly pairs: Pair[];
}

const sets = new Map<string, ConnSet>();

/** Receive-side state of the running step (one step at a time). */
const rx = {
  marker: MARKER.offer,
  startUs: Number.POSITIVE_INFINITY,
  lat: new Float64Array(1),
  n: 0,
  stale: 0,
  other: 0,
  errors: 0,
};

function onTargetFrame(buf: Buffer, start: number, end: number): void {
  const ts = readTimestamp(buf, rx.marker, start, end);
  if (ts < 0) {
    rx.other++;
    return;
  }
  if (ts < rx.startUs) {
    rx.stale++;
    return;
  }
  if (rx.n < rx.lat.length) rx.lat[rx.n++] = performance.now() * 1000 - ts;
}

function onSenderFrame(): void {
  rx.errors++; // senders receive nothing in this load but error frames (Ferry) or EXPIRE/LEAVE (PeerJS)
}

async function open(proto: Proto, port: number, id: string, role: 'a' | 'b'): Promise<RawWs> {
  const { path, headers } = connectTarget(proto, id);
  let opened: { ws: RawWs; first: string };
  try {
    opened = await RawWs.open(port, path, headers, 10_000);
  } catch (err) {
    throw new Error(`${id}: ${(err as Error).message}`);
  }
  if (!isReady(proto, opened.first)) {
    opened.ws.terminate();
    throw new Error(`${id}: unexpected first frame ${opened.first.slice(0, 200)}`);
  }
  opened.ws.onText = role === 'b' ? onTargetFrame : onSenderFrame;
  return opened.ws;
}

function frameBytes(proto: Proto, kind: Kind, to: string): FrameBytes {
  const t = frameTemplate(proto, kind, to, kind === 'offer' ? OFFER_BYTES : CANDIDATE_BYTES);
  const frame = textFrame(t.pre + stamp(0) + t.post);
  return { frame, tsOffset: frame.length - Buffer.byteLength(t.post) - stamp(0).length };
}

async function openMany<T>(n: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await make(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, n) }, worker));
  return out;
}

async function closeSet(name: string): Promise<number> {
  const set = sets.get(name);
  if (!set) return 0;
  sets.delete(name);
  await Promise.all(set.sockets.map((ws) => ws.close(5000)));
  return set.sockets.length;
}

async function connectPairs(name: string, proto: Proto, port: number, pairs: number): Promise<Record<string, unknown>> {
  await closeSet(name);
  const t0 = performance.now();
  const tag = `${name.replace(/[^a-z0-9]/gi, '')}${Date.now() % 100000}`;
  const list = await openMany(pairs, async (i) => {
    const aId = `a${i}x${tag}`;
    const bId = `b${i}x${tag}`;
    const [a, b] = await Promise.all([open(proto, port, aId, 'a'), open(proto, port, bId, 'b')]);
    const tpl = { offer: frameBytes(proto, 'offer', bId), candidate: frameBytes(proto, 'candidate', bId) };
    return { a, b, tpl };
  });
  sets.set(name, { proto, pairs: list, sockets: list.flatMap((p) => [p.a, p.b]) });
  const tpl = list[0]?.tpl;
  return {
    connected: list.length * 2,
    ms: Math.round(performance.now() - t0),
    // WebSocket payload bytes (the frame less its 8-byte client header)
    offer_bytes: tpl ? tpl.offer.frame.length - 8 : 0,
    candidate_bytes: tpl ? tpl.candidate.frame.length - 8 : 0,
  };
}

async function connectIdle(name: string, proto: Proto, port: number, count: number): Promise<Record<string, unknown>> {
  await closeSet(name);
  const t0 = performance.now();
  const tag = `${Date.now() % 100000}`;
  const sockets = await openMany(count, (i) => open(proto, port, `i${i}x${tag}`, 'b'));
  sets.set(name, { proto, pairs: [], sockets });
  return { connected: sockets.length, ms: Math.round(performance.now() - t0) };
}

function percentile(sorted: Float64Array, n: number, of: number, q: number): number | null {
  // Frames never received count as slower than any received one.
  const idx = Math.max(0, Math.ceil(q * of) - 1);
  return idx < n ? Math.round(sorted[idx] / 10) / 100 : null; // µs → ms, 2 decimals
}

async function step(name: string, kind: Kind, rate: number, seconds: number, drainMs: number): Promise<Record<string, unknown>> {
  const set = sets.get(name);
  if (!set || set.pairs.length === 0) throw new Error(`no pairs connected in set ${name}`);
  const total = Math.round(rate * seconds);
  rx.marker = MARKER[kind];
  rx.lat = new Float64Array(total);
  rx.n = 0;
  rx.stale = 0;
  rx.other = 0;
  rx.errors = 0;
  const pairs = set.pairs;
  let sent = 0;
  let skipped = 0;
  let maxLagMs = 0;
  const t0 = performance.now();
  rx.startUs = t0 * 1000;
  const counts = new Int32Array(pairs.length);
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000));
      if (sent < due) maxLagMs = Math.max(maxLagMs, now - (t0 + (sent * 1000) / rate));
      // Frames sent..due-1 go round-robin over the pairs; each pair's share goes out in one write.
      for (let i = sent; i < due; i++) counts[i % pairs.length]++;
      sent = due;
      for (let j = 0; j < pairs.length; j++) {
        const k = counts[j];
        if (k === 0) continue;
        counts[j] = 0;
        const p = pairs[j];
        if (p.a.bufferedAmount > MAX_BUFFERED) {
          skipped += k;
          continue;
        }
        const { frame, tsOffset } = p.tpl[kind];
        const out = Buffer.allocUnsafe(frame.length * k);
        const t = performance.now();
        for (let m = 0; m < k; m++) {
          frame.copy(out, m * frame.length);
          writeStamp(out, m * frame.length + tsOffset, t);
        }
        p.a.write(out);
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
  });
  const sendMs = performance.now() - t0;
  const drainEnd = performance.now() + drainMs;
  while (rx.n + rx.stale < sent && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 5));
  const n = rx.n;
  const sorted = rx.lat.subarray(0, n).sort();
  rx.startUs = Number.POSITIVE_INFINITY;
  return {
    sent,
    delivered: n,
    lost: sent - skipped - n,
    skipped_backpressure: skipped,
    send_ms: Math.round(sendMs),
    delivered_per_s: Math.round(n / (sendMs / 1000)),
    p50_ms: percentile(sorted, n, n, 0.5),
    p90_ms: percentile(sorted, n, sent, 0.9),
    p99_ms: percentile(sorted, n, sent, 0.99),
    max_ms: n > 0 ? Math.round(sorted[n - 1] / 10) / 100 : null,
    sender_frames: rx.errors,
    stale: rx.stale,
    unparsed: rx.other,
    send_lag_max_ms: Math.round(maxLagMs * 10) / 10,
  };
}

const port = Number(process.argv[2]);
if (!(port > 0)) {
  process.stderr.write('usage: signaling-loadgen CONTROL_PORT\n');
  process.exit(64);
}
await serveControl(port, async (cmd) => {
  const name = String(cmd.set ?? 'default');
  switch (cmd.cmd) {
    case 'connect':
      return connectPairs(name, cmd.proto as Proto, Number(cmd.port), Number(cmd.pairs));
    case 'idle':
      return connectIdle(name, cmd.proto as Proto, Number(cmd.port), Number(cmd.count));
    case 'step':
      return step(name, cmd.kind as Kind, Number(cmd.rate), Number(cmd.seconds), Number(cmd.drainMs ?? 1000));
    case 'close':
      return { closed: await closeSet(name) };
    case 'exit':
      setTimeout(() => process.exit(0), 10);
      return { ok: true };
    default:
      throw new Error(`unknown command ${String(cmd.cmd)}`);
  }
});
process.exit(0);
