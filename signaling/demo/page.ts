/**
 * The demo page's script (runs in the browser; served at /demo/page.js). It loads the SDK from
 * /sdk/ferry.js, connects with a signaling token taken from the URL fragment (never from the
 * server), calls a peer, exchanges chat messages and shows, live, what getStats() says about the
 * connection (./stats.js) and, on a failure, what to do about it (./hints.js).
 *
 * URL fragment parameters: token, me, peer, relay=1 (relay only), call=1 (call `peer` as soon as
 * connected, and keep trying for up to 10 minutes until `peer` is online, so the two tabs can open
 * in either order).
 * me, peer, relay and call may also be in the query string; the token only in the fragment, which
 * the browser does not send to the server (so it stays out of access logs).
 * `window.ferryDemo` exposes the state for tests.
 */
import { closeFailure, hintFor, type Failure } from './hints.js';
import { panelRows, summarize, transportStats, type StatsSummary } from './stats.js';

type Sdk = typeof import('../../client/index.js');
type Call = import('../../client/index.js').Call;
type Client = import('../../client/index.js').FerryClient;

const sdk = (await import(new URL('../sdk/ferry.js', import.meta.url).href)) as Sdk;

/** How often the connection panel reads getStats(). */
const STATS_INTERVAL_MS = 1000;
/** Auto-call: the pause between attempts while the peer is not online yet. */
const RETRY_MS = 1000;
/** Auto-call: how long to keep trying (each attempt waits up to 10 s in Ferry's queue for the peer). */
const AUTO_CALL_MS = 10 * 60_000;

/** What the page exposes as window.ferryDemo.state (read by the e2e tests). */
export interface DemoState {
  status: string;
  /** 'direct' or 'relay' once a candidate pair is selected. */
  path: string | null;
  peer: string | null;
  received: string[];
  sent: string[];
  /** The failure shown, "code: message"; null when none. */
  error: string | null;
  errorCode: string | null;
  /** The failure's title and hint as shown. */
  hint: string | null;
  /** Signaling welcomed this peer (the socket is open). */
  registered: boolean;
  /** The RTCPeerConnection's connectionState of the current (or last) call. */
  connection: string;
  /** The last getStats() summary of the current (or last) call. */
  stats: StatsSummary | null;
  /** TURN URLs the page got from /v1/ice-servers. */
  turnUrls: string[];
}

const state: DemoState = {
  status: 'idle', path: null, peer: null, received: [], sent: [], error: null, errorCode: null, hint: null,
  registered: false, connection: 'no call yet', stats: null, turnUrls: [],
};
(window as unknown as { ferryDemo: unknown }).ferryDemo = { state, send: (text: string) => send(text) };

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};
const fragment = new URLSearchParams(location.hash.slice(1));
const query = new URLSearchParams(location.search.slice(1));
const param = (name: string): string | null => fragment.get(name) ?? query.get(name);

const tokenInput = $<HTMLInputElement>('token');
const meInput = $<HTMLInputElement>('me');
const peerInput = $<HTMLInputElement>('peer');
const relayInput = $<HTMLInputElement>('relay');
const msgInput = $<HTMLInputElement>('msg');
const buttons = { connect: $<HTMLButtonElement>('connect'), call: $<HTMLButtonElement>('call'), hangup: $<HTMLButtonElement>('hangup'), send: $<HTMLButtonElement>('send') };
tokenInput.value = fragment.get('token') ?? '';
meInput.value = param('me') ?? '';
peerInput.value = param('peer') ?? '';
relayInput.checked = param('relay') === '1';
const autoCall = param('call') === '1';

let client: Client | null = null;
let connecting = false;
let calling = false;
let current: Call | null = null;
/** The RTCPeerConnection of the current (or last) call, incoming or outgoing, as soon as it exists. */
let activePc: RTCPeerConnection | null = null;
let candidateErrors: string[] = [];
/** Connections that reached 'failed' (the SDK closes them at once, so their state reads 'closed' after). */
const failedPcs = new WeakSet<RTCPeerConnection>();
let hungUp = false;

function refresh(): void {
  const registered = client !== null;
  const channelOpen = current !== null && current.channel.readyState === 'open';
  buttons.connect.disabled = registered || connecting || tokenInput.value.trim() === '' || meInput.value.trim() === '';
  for (const input of [tokenInput, meInput, relayInput]) input.disabled = registered || connecting;
  buttons.call.disabled = !registered || calling || current !== null || peerInput.value.trim() === '';
  buttons.hangup.disabled = !calling && current === null;
  buttons.send.disabled = !channelOpen;
  msgInput.disabled = !channelOpen;
  state.registered = registered;
}

function setStatus(text: string): void {
  state.status = text;
  $('status').textContent = text;
  refresh();
}

function toFailure(err: unknown): Failure {
  if (err instanceof Error) {
    const e = err as Error & { code?: string; status?: number };
    return { code: e.code ?? e.name, message: e.message, ...(e.status !== undefined ? { status: e.status } : {}) };
  }
  return { code: 'error', message: String(err) };
}

function showFailure(f: Failure): void {
  const { title, hint } = hintFor(f, {
    origin: location.origin, peer: peerInput.value.trim() || (state.peer ?? ''), relayOnly: relayInput.checked,
    turnUrls: state.turnUrls, candidateErrors,
  });
  state.error = `${f.code}: ${f.message}`;
  state.errorCode = f.code;
  state.hint = `${title}. ${hint}`;
  $('problem-title').textContent = title;
  $('problem-hint').textContent = hint;
  $('problem-detail').textContent = `${f.code}: ${f.message}`;
  $('problem').hidden = false;
}

function clearFailure(): void {
  state.error = state.errorCode = state.hint = null;
  $('problem').hidden = true;
}

function log(who: string, text: string): void {
  const li = document.createElement('li');
  li.textContent = `${who}: ${text}`;
  li.className = who === 'me' ? 'me' : 'them';
  $('log').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

// ---- the connection panel ----

function renderStats(): void {
  const table = $<HTMLTableElement>('stats');
  const body = document.createElement('tbody');
  for (const [label, text] of panelRows(state.stats, state.connection)) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    const td = document.createElement('td');
    th.textContent = label;
    td.textContent = text;
    tr.append(th, td);
    body.append(tr);
  }
  table.replaceChildren(body);
  const path = $('path');
  path.textContent = state.path ?? '–';
  path.className = state.path ?? '';
}

async function pollStats(): Promise<void> {
  const pc = activePc;
  if (pc === null || pc.connectionState === 'closed') return;
  let report: RTCStatsReport;
  try {
    report = await pc.getStats();
  } catch {
    return; // closed in the meantime
  }
  if (pc !== activePc) return;
  state.connection = `${pc.connectionState} (ICE ${pc.iceConnectionState})`;
  const summary = summarize(sdk.selectedPair(report), transportStats(report as unknown as Parameters<typeof transportStats>[0]));
  if (summary !== null) {
    state.stats = summary;
    state.path = summary.path;
  }
  renderStats();
}
setInterval(() => void pollStats(), STATS_INTERVAL_MS);

/**
 * Every RTCPeerConnection the SDK makes goes through this subclass, so the page sees a call's
 * connection from its first moment on both sides (the SDK hands over only calls that opened): an
 * ICE failure then shows on the callee's tab too, not only on the caller's.
 */
class WatchedPeerConnection extends RTCPeerConnection {
  constructor(config?: RTCConfiguration) {
    super(config);
    watch(this);
  }
}

function watch(pc: RTCPeerConnection): void {
  activePc = pc;
  candidateErrors = [];
  state.stats = null;
  state.path = null;
  state.connection = pc.connectionState;
  renderStats();
  pc.addEventListener('icecandidateerror', (ev) => {
    const e = ev as RTCPeerConnectionIceErrorEvent;
    if (candidateErrors.length < 20) candidateErrors.push(`${e.url}: ${e.errorCode} ${e.errorText}`.trim());
  });
  pc.addEventListener('connectionstatechange', () => {
    if (pc !== activePc) return;
    state.connection = `${pc.connectionState} (ICE ${pc.iceConnectionState})`;
    if (pc.connectionState === 'failed') {
      failedPcs.add(pc);
      showFailure({ code: 'ice_failed', message: `ICE connection state ${pc.iceConnectionState}` });
    }
    void pollStats();
    renderStats();
  });
}

// ---- calls ----

const failedPc = () => activePc !== null && failedPcs.has(activePc);

function endReasonFailure(reason: string, peer: string): Failure | null {
  if (reason === 'local' || reason === 'replaced' || reason === 'glare') return null;
  if (reason === 'remote' || reason === 'channel closed') return { code: 'peer_left', message: `${peer} ended the call (${reason})` };
  if (reason === 'connection failed' && failedPc()) {
    return { code: state.stats !== null ? 'connection_lost' : 'ice_failed', message: `call ended: ${reason}` };
  }
  return { code: 'closed', message: `call ended: ${reason}` };
}

function attach(call: Call): void {
  if (current !== null && current !== call) current.close();
  current = call;
  state.peer = call.peerId;
  clearFailure();
  setStatus(`in a call with ${call.peerId}`);
  call.channel.onmessage = (ev) => {
    const text = typeof ev.data === 'string' ? ev.data : `[${(ev.data as ArrayBuffer).byteLength} bytes]`;
    state.received.push(text);
    log(call.peerId, text);
  };
  call.onclose = (reason) => {
    if (current !== call) return;
    current = null;
    const f = endReasonFailure(reason, call.peerId);
    if (f !== null) showFailure(f);
    setStatus(`call ended (${reason})`);
    void pollStats();
  };
  void pollStats();
  refresh();
}

function send(text: string): boolean {
  if (current === null || current.channel.readyState !== 'open' || text === '') return false;
  current.channel.send(text);
  state.sent.push(text);
  log('me', text);
  return true;
}

async function connectPeer(): Promise<void> {
  if (client !== null || connecting) return;
  connecting = true;
  clearFailure();
  setStatus('connecting…');
  let c: Client;
  try {
    c = await sdk.connect({
      url: location.origin,
      token: tokenInput.value.trim(),
      peerId: meInput.value.trim(),
      forceRelay: relayInput.checked,
      RTCPeerConnection: WatchedPeerConnection,
    });
  } catch (err) {
    connecting = false;
    setStatus('not connected');
    showFailure(toFailure(err));
    return;
  }
  connecting = false;
  client = c;
  state.turnUrls = c.iceServers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
  c.onCall((call) => attach(call));
  c.onclose = (info) => {
    if (client !== c) return;
    client = null;
    const f = closeFailure(info.code, info.reason);
    if (f !== null) showFailure(f);
    setStatus(current !== null ? `signaling closed (the call with ${current.peerId} keeps running)` : 'signaling closed');
  };
  c.onerror = (err) => showFailure(toFailure(err));
  setStatus(`connected as ${c.peerId}`);
}

/** Calls the peer; with `untilOnline`, keeps trying while the peer is not online (auto-call). */
async function callPeer(untilOnline = false): Promise<void> {
  const c = client;
  if (c === null || calling || current !== null) return;
  const peer = peerInput.value.trim();
  const giveUpAt = Date.now() + AUTO_CALL_MS;
  calling = true;
  hungUp = false;
  clearFailure();
  setStatus(`calling ${peer}…`);
  try {
    for (;;) {
      try {
        const call = await c.call(peer);
        if (hungUp) call.close(); // hung up while it was being set up
        else attach(call);
        return;
      } catch (err) {
        const f = failedPc() ? { code: 'ice_failed', message: (err as Error).message } : toFailure(err);
        const waiting = untilOnline && !hungUp && client === c && Date.now() < giveUpAt && (f.code === 'peer_unavailable' || f.code === 'rejected');
        if (!waiting) {
          if (!hungUp) {
            showFailure(f);
            setStatus('call failed');
          }
          return;
        }
        setStatus(`waiting for ${peer} to open the other demo URL… (calling again every ${RETRY_MS / 1000} s)`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
        if (hungUp || client !== c) return;
      }
    }
  } finally {
    calling = false;
    refresh();
  }
}

function hangUp(): void {
  hungUp = true;
  if (current !== null) current.close();
  else if (calling) setStatus('call cancelled');
  refresh();
}

for (const input of [tokenInput, meInput, peerInput]) input.addEventListener('input', refresh);
buttons.connect.addEventListener('click', () => void connectPeer());
buttons.call.addEventListener('click', () => void callPeer());
buttons.hangup.addEventListener('click', hangUp);
$('chat').addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (send(msgInput.value)) msgInput.value = '';
});
// Closing or reloading the tab: say bye, so the other tab learns at once that this peer left.
window.addEventListener('pagehide', () => void client?.close());

renderStats();
refresh();
if (fragment.get('token') === null && query.get('token') !== null) {
  showFailure({ code: 'token_in_query', message: 'the token is in the query string (?token=)' });
} else if (tokenInput.value !== '' && meInput.value !== '') {
  await connectPeer();
  if (client !== null && autoCall && peerInput.value.trim() !== '') await callPeer(true);
} else {
  setStatus('enter a signaling token and a peer id, then Connect');
}
