/**
 * The demo page's script (runs in the browser; served at /demo/page.js). It loads the SDK from
 * /sdk/index.js, connects with a signaling token taken from the URL (never from the server), calls
 * a peer, shows the path the call took and exchanges chat messages.
 *
 * URL parameters (hash or query): token, me, peer, relay=1 (relay only), call=1 (call `peer` as
 * soon as connected, retrying while it is not online yet).
 * `window.ferryDemo` exposes the state for tests.
 */
type Sdk = typeof import('../../client/index.js');
type Call = import('../../client/index.js').Call;
type Client = import('../../client/index.js').FerryClient;

const sdk = (await import(new URL('../sdk/index.js', import.meta.url).href)) as Sdk;

/** What the page exposes as window.ferryDemo.state (read by the e2e test). */
export interface DemoState {
  status: string;
  path: string | null;
  peer: string | null;
  received: string[];
  sent: string[];
  error: string | null;
}

const state: DemoState = { status: 'idle', path: null, peer: null, received: [], sent: [], error: null };
(window as unknown as { ferryDemo: unknown }).ferryDemo = {
  state,
  send: (text: string) => send(text),
};

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};
const params = new URLSearchParams(location.hash.length > 1 ? location.hash.slice(1) : location.search.slice(1));
const tokenInput = $<HTMLInputElement>('token');
const meInput = $<HTMLInputElement>('me');
const peerInput = $<HTMLInputElement>('peer');
const relayInput = $<HTMLInputElement>('relay');
const msgInput = $<HTMLInputElement>('msg');
tokenInput.value = params.get('token') ?? '';
meInput.value = params.get('me') ?? '';
peerInput.value = params.get('peer') ?? '';
relayInput.checked = params.get('relay') === '1';

let client: Client | null = null;
let current: Call | null = null;

function setStatus(text: string): void {
  state.status = text;
  $('status').textContent = text;
}

function setError(err: unknown): void {
  const text = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
  state.error = text;
  $('error').textContent = text;
}

function log(who: string, text: string): void {
  const li = document.createElement('li');
  li.textContent = `${who}: ${text}`;
  li.className = who === 'me' ? 'me' : 'them';
  $('log').append(li);
}

function attach(call: Call): void {
  current?.close();
  current = call;
  state.peer = call.peerId;
  state.path = null;
  $('path').textContent = '…';
  setStatus(`in a call with ${call.peerId}`);
  call.channel.onmessage = (ev) => {
    const text = typeof ev.data === 'string' ? ev.data : `[${(ev.data as ArrayBuffer).byteLength} bytes]`;
    state.received.push(text);
    log(call.peerId, text);
  };
  call.onclose = (reason) => {
    if (current !== call) return;
    current = null;
    setStatus(`call ended (${reason})`);
  };
  call.path(10_000).then(
    (path) => {
      state.path = path;
      $('path').textContent = path;
    },
    (err: unknown) => setError(err),
  );
}

function send(text: string): boolean {
  if (!current || current.channel.readyState !== 'open' || text === '') return false;
  current.channel.send(text);
  state.sent.push(text);
  log('me', text);
  return true;
}

async function connectPeer(): Promise<void> {
  if (client) return;
  setStatus('connecting…');
  state.error = null;
  try {
    client = await sdk.connect({
      url: location.origin,
      token: tokenInput.value.trim(),
      peerId: meInput.value.trim(),
      forceRelay: relayInput.checked,
    });
  } catch (err) {
    setStatus('not connected');
    setError(err);
    return;
  }
  client.onCall((call) => attach(call));
  client.onclose = () => {
    client = null;
    setStatus('signaling closed');
  };
  client.onerror = (err) => setError(err);
  setStatus(`connected as ${client.peerId}`);
}

async function callPeer(retryForMs = 0): Promise<void> {
  if (!client) return;
  const peer = peerInput.value.trim();
  const end = Date.now() + retryForMs;
  setStatus(`calling ${peer}…`);
  for (;;) {
    try {
      attach(await client.call(peer));
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'peer_unavailable' && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      setStatus('call failed');
      setError(err);
      return;
    }
  }
}

$('connect').addEventListener('click', () => void connectPeer());
$('call').addEventListener('click', () => void callPeer());
$('hangup').addEventListener('click', () => current?.close());
$('chat').addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (send(msgInput.value)) msgInput.value = '';
});

if (tokenInput.value && meInput.value) {
  await connectPeer();
  if (client && params.get('call') === '1' && peerInput.value) await callPeer(30_000);
}
