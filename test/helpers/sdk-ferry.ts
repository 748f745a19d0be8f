// For the SDK end-to-end tests: Ferry as a real process (`ferry start --fg`) with TURN and the
// signaling service, an in-memory store, loopback peers allowed, and one account created through
// the admin API. Stopping it kills the process group (also when the test process dies).
import assert from 'node:assert/strict';
import type { Call, FerryClient } from '../../client/index.js';
import { sleep, until, withTimeout } from './wait.js';
import { freePort } from './ports.js';
import { LOOPBACK_PEERS, startFerryProcess, type FerryProcess } from './ferry-process.js';
import { apiRequest } from './admin-http.js';

export const ADMIN_TOKEN = 'sdk-e2e-admin-token-0123456789';

export interface SignalingFerry {
  readonly ferry: FerryProcess;
  /** http://127.0.0.1:PORT: an IP, so the TURN URLs Ferry hands out (built from Host) are IPs too. */
  readonly url: string;
  readonly apiKey: string;
  readonly accountId: string;
  /** Relay port range as numbers. */
  readonly relayPorts: readonly [number, number];
  /** A fresh signaling token (`st_…`) minted with the API key. */
  mintToken(): Promise<string>;
  stop(): Promise<void>;
}

async function waitForHttp(url: string, ms: number, ferry: FerryProcess): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    if (!ferry.running()) throw new Error(`Ferry exited:\n${ferry.logs().slice(-3000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} not answering within ${ms} ms (${last})\n${ferry.logs().slice(-3000)}`);
}

async function postJson(base: string, path: string, bearer: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await apiRequest(base, 'POST', path, bearer, body, { timeoutMs: 5000 });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${base}${path}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** `signaling`: more signaling keys (e.g. cors_origins) beside the address and the admin token. */
export async function startSignalingFerry(options: { signaling?: Record<string, unknown> } = {}): Promise<SignalingFerry> {
  const signalingPort = await freePort();
  const ferry = await startFerryProcess({
    peers: LOOPBACK_PEERS,
    log_level: 'info',
    signaling: { ...options.signaling, address: `127.0.0.1:${signalingPort}`, admin_token: ADMIN_TOKEN },
    storage: 'sqlite::memory:',
  });
  const url = `http://127.0.0.1:${signalingPort}`;
  try {
    await waitForHttp(`${url}/healthz`, 10_000, ferry);
    const account = await postJson(url, '/v1/accounts', ADMIN_TOKEN, { name: 'sdk-e2e' });
    const apiKey = String(account.api_key);
    const [lo, hi] = ferry.config.relay_ports.split('-').map(Number);
    return {
      ferry,
      url,
      apiKey,
      accountId: String(account.id),
      relayPorts: [lo, hi],
      mintToken: async () => String((await postJson(url, '/v1/signal-tokens', apiKey, {})).token),
      stop: () => ferry.stop(),
    };
  } catch (err) {
    await ferry.stop();
    throw err;
  }
}

// ---- call helpers shared by the Node SDK tests ----


/** `a` calls `b`; resolves with both ends once both data channels are open. */
export async function callPair(a: FerryClient, b: FerryClient, timeoutMs = 30_000): Promise<{ caller: Call; callee: Call }> {
  const incoming = new Promise<Call>((resolve) => { const off = b.onCall((c) => { off(); resolve(c); }); });
  const caller = await withTimeout(a.call(b.peerId, { timeoutMs }), timeoutMs + 1000, `call ${a.peerId} → ${b.peerId}`);
  const callee = await withTimeout(incoming, timeoutMs, `incoming call at ${b.peerId}`);
  return { caller, callee };
}

/**
 * Sends `n` messages each way (paced: two peers in one process overflow socket buffers on
 * unpaced bursts) and checks that every one arrives, in order.
 */
export async function exchange(caller: Call, callee: Call, n: number): Promise<void> {
  const atCallee: string[] = [];
  const atCaller: string[] = [];
  callee.channel.onmessage = (ev) => atCallee.push(typeof ev.data === 'string' ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString());
  caller.channel.onmessage = (ev) => atCaller.push(typeof ev.data === 'string' ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString());
  const sentByCaller: string[] = [];
  const sentByCallee: string[] = [];
  for (let i = 0; i < n; i++) {
    const m1 = `to-callee-${i}-${'x'.repeat(i % 40)}`;
    const m2 = `to-caller-${i}`;
    caller.channel.send(m1);
    callee.channel.send(m2);
    sentByCaller.push(m1);
    sentByCallee.push(m2);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1));
  }
  await until(() => atCallee.length >= n && atCaller.length >= n, 20_000,
    `all ${n} messages each way (callee got ${atCallee.length}, caller got ${atCaller.length})`);
  assert.deepEqual(atCallee, sentByCaller);
  assert.deepEqual(atCaller, sentByCallee);
}

/** The selected pair's local candidate is a relay candidate on Ferry's relay address and ports. */
export async function assertRelayedThroughFerry(call: Call, f: SignalingFerry): Promise<void> {
  assert.equal(await call.path(), 'relay');
  const sel = await call.selectedPair();
  assert.ok(sel, 'no selected candidate pair');
  assert.equal(sel.local.candidateType, 'relay', JSON.stringify(sel.local));
  const address = sel.local.address ?? sel.local.ip;
  assert.equal(address, '127.0.0.1', JSON.stringify(sel.local));
  const port = Number(sel.local.port);
  const [lo, hi] = f.relayPorts;
  assert.ok(port >= lo && port <= hi, `relay port ${port} outside Ferry's range ${lo}-${hi}`);
}
