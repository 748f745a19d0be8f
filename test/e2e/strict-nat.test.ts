// The strict-NAT proof: two WebRTC peers, each behind its own symmetric NAT, can only reach each
// other through Ferry's relay, and the SDK gets them there. Everything runs in network namespaces
// this test creates (test/helpers/netns.ts), with addresses from 198.18.0.0/15 only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildTopology, FERRY_IP, FLAT_PEER_IPS, NAT_PEER_IPS, NAT_WAN_IPS, ownNamespaces, runInNs, spawnInNs, TEST_NET,
  type NsProcess, type Topology,
} from '../helpers/netns.js';
import { restCredentials } from '../helpers/ferry-process.js';
import { sleep } from '../helpers/wait.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/e2e → root
const FIXTURES = fileURLToPath(new URL('../helpers/fixtures/', import.meta.url));
const UDP_AGENT = `${FIXTURES}udp-agent.js`;
const RAW_PEER = `${FIXTURES}raw-peer.js`;
const SDK_PEER = `${FIXTURES}peer.js`;
/** `node -e SCRIPT HOST PORT MS`: sends STUN Binding requests until one is answered (exit 0) or MS pass (exit 1). */
const STUN_WAIT_SCRIPT = `
const dgram = require('node:dgram');
const [host, port, ms] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const req = Buffer.alloc(20);
req.writeUInt16BE(1, 0); req.writeUInt32BE(0x2112a442, 4); require('node:crypto').randomBytes(12).copy(req, 8);
s.on('message', (m) => { if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(req.subarray(8, 20))) process.exit(0); });
s.on('error', () => {});
setInterval(() => s.send(req, Number(port), host), 100);
setTimeout(() => { console.error('no STUN Binding response from ' + host + ':' + port + ' within ' + ms + ' ms'); process.exit(1); }, Number(ms));
s.send(req, Number(port), host);
`;

const TURN_PORT = 3478;
const SIGNALING_PORT = 8080;
const SIGNALING_URL = `http://${FERRY_IP}:${SIGNALING_PORT}`;
const MESSAGES = 100;
const RELAY_PORTS = { lo: 40000, hi: 40199 };
const SECRET = 'strict-nat-rest-secret-0123456789';
const ADMIN_TOKEN = 'strict-nat-admin-token-0123456789';

type Ev = Record<string, unknown>;

function agent(topo: Topology, ns: string, ...flags: string[]): NsProcess {
  return spawnInNs(topo, ns, process.execPath, [UDP_AGENT, '--max-ms', '30000', ...flags], { cwd: REPO_ROOT });
}

async function bound(a: NsProcess, ip: string, port: number): Promise<void> {
  a.send({ op: 'bind', ip, port });
  await a.waitFor((e) => e.ev === 'bound' && e.port === port, 5000, `bind ${ip}:${port}`);
}

const recvs = (a: NsProcess, port?: number): Ev[] => a.events.filter((e) => e.ev === 'recv' && (port === undefined || e.port === port));

describe('the test network is a pair of symmetric NATs', () => {
  let topo: Topology | undefined;
  const procs: NsProcess[] = [];

  before(() => { topo = buildTopology('nat'); });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    topo?.teardown();
    assert.deepEqual(ownNamespaces(), [], 'namespaces left behind');
  });

  test('mapping depends on the destination, and only replies come back in', { timeout: 30_000 }, async (ctx) => {
    const t = topo!;
    const server = agent(t, t.pub, '--echo');
    const lan1 = agent(t, t.peers[0]);
    const lan2 = agent(t, t.peers[1]);
    procs.push(server, lan1, lan2);
    for (const p of [server, lan1, lan2]) await p.waitFor((e) => e.ev === 'ready', 5000, 'agent ready');
    await bound(server, FERRY_IP, 4000);
    await bound(server, FERRY_IP, 4001);
    await bound(server, FERRY_IP, 4002);
    await bound(lan1, NAT_PEER_IPS[0], 5555);
    await bound(lan2, NAT_PEER_IPS[1], 5555);

    // One local socket, two destinations: the server sees two different public ports.
    lan1.send({ op: 'send', port: 5555, to: `${FERRY_IP}:4000`, data: 'a' });
    lan1.send({ op: 'send', port: 5555, to: `${FERRY_IP}:4001`, data: 'b' });
    const seenA = await server.waitFor((e) => e.ev === 'recv' && e.port === 4000, 5000, 'probe to :4000');
    const seenB = await server.waitFor((e) => e.ev === 'recv' && e.port === 4001, 5000, 'probe to :4001');
    const [ipA, portA] = String(seenA.from).split(':');
    const [ipB, portB] = String(seenB.from).split(':');
    assert.equal(ipA, NAT_WAN_IPS[0], 'lan1 is hidden behind nat1');
    assert.equal(ipB, NAT_WAN_IPS[0]);
    ctx.diagnostic(`lan1 ${NAT_PEER_IPS[0]}:5555 → ${FERRY_IP}:4000 seen as ${String(seenA.from)}; → ${FERRY_IP}:4001 seen as ${String(seenB.from)}`);
    assert.notEqual(portA, portB, 'symmetric NAT: a new public port per destination');
    // Replies to each flow come back (positive control for the filter below).
    await lan1.waitFor((e) => e.ev === 'recv' && e.from === `${FERRY_IP}:4000`, 5000, 'reply from :4000');
    await lan1.waitFor((e) => e.ev === 'recv' && e.from === `${FERRY_IP}:4001`, 5000, 'reply from :4001');

    // Unsolicited packets to the mapped public port are dropped: from another port of the same
    // host, and from the other NAT's peer (what a direct ICE check would be).
    const before = recvs(lan1).length;
    server.send({ op: 'send', port: 4002, to: `${NAT_WAN_IPS[0]}:${portA}`, data: 'unsolicited-port' });
    lan2.send({ op: 'send', port: 5555, to: `${NAT_WAN_IPS[0]}:${portA}`, data: 'unsolicited-peer' });
    lan2.send({ op: 'send', port: 5555, to: `${NAT_PEER_IPS[0]}:5555`, data: 'unsolicited-lan' });
    await server.waitFor((e) => e.ev === 'sent' && e.data === 'unsolicited-port', 5000, 'unsolicited send');
    await sleep(1000);
    assert.deepEqual(recvs(lan1).slice(before), [], 'nat1 let an unsolicited packet in');
    // The flow itself still works after that (the drop was the filter, not a dead path).
    server.send({ op: 'send', port: 4000, to: `${NAT_WAN_IPS[0]}:${portA}`, data: 'solicited' });
    await lan1.waitFor((e) => e.ev === 'recv' && e.data === 'solicited', 5000, 'reply on the mapped flow');
  });
});

// ---- Ferry inside the pub namespace --------------------------------------------------------------

interface FerryInNs {
  readonly proc: NsProcess;
  stop(): Promise<void>;
}

async function startFerryInNs(topo: Topology): Promise<FerryInNs> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-strict-nat-'));
  const configPath = join(dir, 'ferry.json');
  writeFileSync(configPath, JSON.stringify({
    address: `${FERRY_IP}:${TURN_PORT}`,
    relay_ip: FERRY_IP,
    relay_ports: `${RELAY_PORTS.lo}-${RELAY_PORTS.hi}`,
    realm: 'ferry.strict-nat',
    auth_secrets: [SECRET],
    peers: { allow: [TEST_NET] },
    log_level: 'info',
    signaling: { address: `${FERRY_IP}:${SIGNALING_PORT}`, admin_token: ADMIN_TOKEN, public_host: FERRY_IP },
    storage: 'sqlite::memory:',
  }, null, 2));
  const proc = spawnInNs(topo, topo.pub, process.execPath, [join(REPO_ROOT, 'bin', 'ferry.js'), 'start', '--fg', '--config', configPath], { cwd: REPO_ROOT });
  const stop = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when a STUN Binding from inside pub is answered (a self-contained script: no import).
  const r = await runInNs(topo, topo.pub, process.execPath, ['-e', STUN_WAIT_SCRIPT, FERRY_IP, String(TURN_PORT), '10000'], 15_000);
  if (r.code !== 0) {
    await stop();
    throw new Error(`Ferry did not answer STUN in ${topo.pub}: ${r.output}\n--- ferry output ---\n${proc.output().slice(-4000)}`);
  }
  return { proc, stop };
}

// ---- bare node-datachannel peers, signaling relayed by the test ----------------------------------

interface RawResult extends Ev {
  connected: boolean;
  path: 'direct' | 'relay' | null;
  sent: number;
  received: number;
}

/** Runs an offerer in peers[0] and an answerer in peers[1], relaying their SDP and candidates. */
async function rawPair(topo: Topology, ice: unknown[], timeoutMs: number, n = 100): Promise<{ offer: RawResult; answer: RawResult; output: string }> {
  const args = (role: string): string[] =>
    [RAW_PEER, '--role', role, '--ice', JSON.stringify(ice), '--policy', 'all', '--n', String(n), '--timeout-ms', String(timeoutMs)];
  const offer = spawnInNs(topo, topo.peers[0], process.execPath, args('offer'), { cwd: REPO_ROOT });
  const answer = spawnInNs(topo, topo.peers[1], process.execPath, args('answer'), { cwd: REPO_ROOT });
  const forwarded = new Map<NsProcess, number>([[offer, 0], [answer, 0]]);
  const pump = setInterval(() => {
    for (const [from, to] of [[offer, answer], [answer, offer]] as const) {
      const evs = from.events;
      for (let i = forwarded.get(from) ?? 0; i < evs.length; i++) {
        const e = evs[i];
        if (e.ev === 'description') to.send({ op: 'description', sdp: e.sdp, type: e.type });
        if (e.ev === 'candidate') to.send({ op: 'candidate', candidate: e.candidate, mid: e.mid });
      }
      forwarded.set(from, evs.length);
    }
  }, 10);
  try {
    const isResult = (e: Ev): boolean => e.ev === 'result';
    const [o, a] = await Promise.all([
      offer.waitFor(isResult, timeoutMs + 10_000, 'offerer result'),
      answer.waitFor(isResult, timeoutMs + 10_000, 'answerer result'),
    ]);
    return { offer: o as RawResult, answer: a as RawResult, output: `--- offer ---\n${offer.output()}\n--- answer ---\n${answer.output()}` };
  } finally {
    clearInterval(pump);
    offer.send({ op: 'exit' });
    answer.send({ op: 'exit' });
    await Promise.all([offer.exited(5000), answer.exited(5000)]);
  }
}

const stunServer = (): unknown => `stun:${FERRY_IP}:${TURN_PORT}`;
const turnServer = (account: string): unknown => {
  const { username, password } = restCredentials(SECRET, account);
  return { hostname: FERRY_IP, port: TURN_PORT, username, password, relayType: 'TurnUdp' };
};
/** The selected pair has a relay candidate, and it is one of Ferry's relayed addresses. */
function assertRelayedByFerry(selected: unknown, context: string): void {
  const sel = selected as { local: { type: string; address: string; port: number }; remote: { type: string; address: string; port: number } } | null;
  assert.ok(sel, `no selected pair: ${context}`);
  const relays = [sel.local, sel.remote].filter((c) => c.type === 'relay');
  assert.ok(relays.length > 0, `no relay candidate in the selected pair: ${context}`);
  for (const c of relays) {
    assert.equal(c.address, FERRY_IP, `relay candidate not on Ferry: ${context}`);
    assert.ok(c.port >= RELAY_PORTS.lo && c.port <= RELAY_PORTS.hi, `relay port outside Ferry's relay_ports: ${context}`);
  }
}

const pairText = (r: RawResult): string => {
  const sel = r.selected as { local: { type: string; address: string; port: number }; remote: { type: string; address: string; port: number } } | null;
  return sel ? `${sel.local.type} ${sel.local.address}:${sel.local.port} ↔ ${sel.remote.type} ${sel.remote.address}:${sel.remote.port}` : 'none';
};
const brief = (r: RawResult): string => JSON.stringify({ ...r, candidates: undefined });

describe('bare node-datachannel peers behind symmetric NATs', () => {
  let topo: Topology | undefined;
  let ferry: FerryInNs | undefined;

  before(async () => {
    topo = buildTopology('nat');
    ferry = await startFerryInNs(topo);
  });
  after(async () => {
    await ferry?.stop();
    topo?.teardown();
    assert.deepEqual(ownNamespaces(), [], 'namespaces left behind');
  });

  test('with STUN only (no TURN) they cannot connect', { timeout: 60_000 }, async () => {
    const r = await rawPair(topo!, [stunServer()], 15_000);
    // They did learn their public addresses: the failure is the NAT's filtering, not blindness.
    assert.ok(r.offer.candidates instanceof Array && (r.offer.candidates as string[]).some((c) => c.includes('typ srflx')),
      `no srflx candidate: ${brief(r.offer)}`);
    assert.equal(r.offer.connected, false, `connected without a relay: ${brief(r.offer)}`);
    assert.equal(r.answer.connected, false, `connected without a relay: ${brief(r.answer)}`);
  });

  test('with Ferry\'s TURN they connect through the relay', { timeout: 60_000 }, async (t) => {
    const r = await rawPair(topo!, [stunServer(), turnServer('raw')], 20_000);
    t.diagnostic(`selected pairs: offer ${pairText(r.offer)}; answer ${pairText(r.answer)}`);
    for (const side of [r.offer, r.answer]) {
      assert.equal(side.connected, true, `${brief(side)}\n${r.output.slice(-3000)}\n--- ferry ---\n${ferry!.proc.output().slice(-3000)}`);
      assert.equal(side.path, 'relay', brief(side));
      assertRelayedByFerry(side.selected, brief(side));
      assert.equal(side.received, 100, brief(side));
      assert.equal(side.inOrder, true, brief(side));
    }
  });
});

describe('control: the same routers as port-preserving (cone) NATs let STUN-only peers through', () => {
  let topo: Topology | undefined;
  let ferry: FerryInNs | undefined;

  before(async () => {
    topo = buildTopology('cone-nat');
    ferry = await startFerryInNs(topo);
  });
  after(async () => {
    await ferry?.stop();
    topo?.teardown();
    assert.deepEqual(ownNamespaces(), [], 'namespaces left behind');
  });

  test('STUN only: a direct (hole-punched) path', { timeout: 60_000 }, async (t) => {
    const r = await rawPair(topo!, [stunServer()], 15_000);
    t.diagnostic(`selected pairs: offer ${pairText(r.offer)}; answer ${pairText(r.answer)}`);
    for (const side of [r.offer, r.answer]) {
      assert.equal(side.connected, true, `${brief(side)}\n${r.output.slice(-3000)}`);
      assert.equal(side.path, 'direct', brief(side));
      // Public (server-reflexive) addresses on both ends: the LANs themselves stay unreachable.
      const sel = side.selected as { local: { type: string }; remote: { type: string } };
      // (a peer-reflexive candidate is the same NAT mapping, learned from a check before it was signaled)
      for (const type of [sel.local.type, sel.remote.type]) assert.ok(type === 'srflx' || type === 'prflx', brief(side));
      assert.equal(side.received, 100, brief(side));
    }
  });
});

// ---- the SDK, with Ferry's HTTP API and WebSocket signaling ---------------------------------------

/** One HTTP request made from inside `ns` with curl (no proxy); bounded to 5 s. */
async function httpInNs(topo: Topology, ns: string, method: string, path: string, bearer?: string, body?: unknown):
Promise<{ status: number; body: string }> {
  const args = ['-sS', '--noproxy', '*', '-m', '5', '-X', method, '-w', '\n%{http_code}'];
  if (bearer) args.push('-H', `authorization: Bearer ${bearer}`);
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
  args.push(`${SIGNALING_URL}${path}`);
  const r = await runInNs(topo, ns, 'curl', args, 10_000);
  const i = r.output.lastIndexOf('\n');
  const status = Number(r.output.slice(i + 1).trim());
  return { status: Number.isFinite(status) ? status : 0, body: r.output.slice(0, Math.max(i, 0)) };
}

async function waitForHealthz(topo: Topology, ferry: FerryInNs, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    const r = await httpInNs(topo, topo.pub, 'GET', '/healthz');
    if (r.status === 200) return;
    last = `${r.status} ${r.body}`;
    await sleep(200);
  }
  throw new Error(`no /healthz on ${SIGNALING_URL} within ${ms} ms (last: ${last})\n--- ferry output ---\n${ferry.proc.output().slice(-4000)}`);
}

async function createAccount(topo: Topology, name: string): Promise<string> {
  const r = await httpInNs(topo, topo.pub, 'POST', '/v1/accounts', ADMIN_TOKEN, { name });
  assert.equal(r.status, 201, `POST /v1/accounts: ${r.status} ${r.body}`);
  const key = (JSON.parse(r.body) as { api_key?: unknown }).api_key;
  assert.equal(typeof key, 'string', r.body);
  return key as string;
}

interface SdkResult extends Ev {
  connected: boolean;
  path: 'direct' | 'relay' | null;
  sent: number;
  received: number;
  inOrder: boolean;
  turnUrls: string[];
  stunUrls: string[];
  policies: string[];
}

let pairCounter = 0;

/** A callee in peers[1] and a caller in peers[0], both through Ferry's signaling. */
async function sdkPair(topo: Topology, apiKey: string, timeoutMs: number, extra: string[] = []):
Promise<{ caller: SdkResult; callee: SdkResult; output: string }> {
  const id = ++pairCounter;
  const calleeId = `callee-${id}`;
  const args = (...more: string[]): string[] => [
    SDK_PEER, '--url', SIGNALING_URL, '--api-key', apiKey, '--n', String(MESSAGES), '--timeout-ms', String(timeoutMs), ...extra, ...more,
  ];
  const callee = spawnInNs(topo, topo.peers[1], process.execPath, args('--peer-id', calleeId, '--answer'), { cwd: REPO_ROOT });
  let caller: NsProcess | undefined;
  const output = (): string => `--- caller ---\n${caller?.output() ?? ''}\n--- callee ---\n${callee.output()}`;
  try {
    await callee.waitFor((e) => e.ev === 'connected' || e.ev === 'result', 15_000, 'callee connected to signaling');
    caller = spawnInNs(topo, topo.peers[0], process.execPath, args('--peer-id', `caller-${id}`, '--call', calleeId), { cwd: REPO_ROOT });
    const isResult = (e: Ev): boolean => e.ev === 'result';
    const [a, b] = await Promise.all([
      caller.waitFor(isResult, timeoutMs + 20_000, 'caller result'),
      callee.waitFor(isResult, timeoutMs + 20_000, 'callee result'),
    ]);
    return { caller: a as SdkResult, callee: b as SdkResult, output: output() };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${output().slice(-4000)}`);
  } finally {
    for (const p of [caller, callee]) p?.send({ op: 'exit' });
    await Promise.all([caller?.exited(5000), callee.exited(5000)]);
  }
}

const sdkBrief = (r: SdkResult): string => JSON.stringify(r);

describe('SDK peers behind symmetric NATs: relayed by Ferry', () => {
  let topo: Topology | undefined;
  let ferry: FerryInNs | undefined;
  let apiKey = '';

  before(async () => {
    topo = buildTopology('nat');
    ferry = await startFerryInNs(topo);
    await waitForHealthz(topo, ferry);
    apiKey = await createAccount(topo, 'strict-nat');
  });
  after(async () => {
    await ferry?.stop();
    topo?.teardown();
    assert.deepEqual(ownNamespaces(), [], 'namespaces left behind');
  });

  test('control: without TURN servers the SDK cannot connect them', { timeout: 90_000 }, async (t) => {
    const r = await sdkPair(topo!, apiKey, 15_000, ['--no-turn']);
    t.diagnostic(`caller: ${String(r.caller.why)}; callee: ${String(r.callee.why)}`);
    for (const side of [r.caller, r.callee]) {
      assert.deepEqual(side.turnUrls, [], sdkBrief(side));
      assert.ok(side.stunUrls.length > 0, `the control must keep STUN: ${sdkBrief(side)}`);
      // The call was signaled, and each side learnt its public address through STUN: what fails is
      // the NATs' filtering of direct checks.
      const pcs = side.peerConnections as Array<{ candidateTypes: string[] }>;
      assert.ok(pcs.length > 0 && pcs.every((pc) => pc.candidateTypes.includes('srflx')), `no srflx candidate: ${sdkBrief(side)}`);
      assert.equal(side.connected, false, `connected without a relay: ${sdkBrief(side)}`);
      assert.equal(side.received, 0, sdkBrief(side));
    }
  });

  test('with Ferry\'s ICE servers (policy "all") the SDK reports relay and every message arrives', { timeout: 90_000 }, async (t) => {
    const r = await sdkPair(topo!, apiKey, 20_000);
    t.diagnostic(`caller ${JSON.stringify(r.caller.selected)}; callee ${JSON.stringify(r.callee.selected)}`);
    for (const side of [r.caller, r.callee]) {
      assert.ok(side.turnUrls.length > 0, `no TURN server was used: ${sdkBrief(side)}`);
      assert.deepEqual(side.policies, ['all'], `relay was not forced: ${sdkBrief(side)}`);
      assert.equal(side.connected, true, `${sdkBrief(side)}\n${r.output.slice(-3000)}\n--- ferry ---\n${ferry!.proc.output().slice(-3000)}`);
      assert.equal(side.path, 'relay', sdkBrief(side));
      assertRelayedByFerry(side.selected, sdkBrief(side));
      assert.equal(side.sent, MESSAGES, sdkBrief(side));
      assert.equal(side.received, MESSAGES, sdkBrief(side));
      assert.equal(side.inOrder, true, sdkBrief(side));
    }
  });
});

describe('SDK peers without NAT: a direct path', () => {
  let topo: Topology | undefined;
  let ferry: FerryInNs | undefined;
  let apiKey = '';

  before(async () => {
    topo = buildTopology('flat');
    ferry = await startFerryInNs(topo);
    await waitForHealthz(topo, ferry);
    apiKey = await createAccount(topo, 'no-nat');
  });
  after(async () => {
    await ferry?.stop();
    topo?.teardown();
    assert.deepEqual(ownNamespaces(), [], 'namespaces left behind');
  });

  test('the SDK reports direct and every message arrives', { timeout: 90_000 }, async (t) => {
    const r = await sdkPair(topo!, apiKey, 20_000);
    t.diagnostic(`caller ${JSON.stringify(r.caller.selected)}; callee ${JSON.stringify(r.callee.selected)}`);
    for (const side of [r.caller, r.callee]) {
      assert.ok(side.turnUrls.length > 0, `TURN was offered too (the choice was ICE's): ${sdkBrief(side)}`);
      assert.equal(side.connected, true, `${sdkBrief(side)}\n${r.output.slice(-3000)}`);
      assert.equal(side.path, 'direct', sdkBrief(side));
      const sel = side.selected as { local: { type: string; address: string }; remote: { type: string; address: string } };
      // host candidates, or a peer-reflexive one when the other side's check arrived before its
      // host candidate was signaled: the same direct address either way (checked next)
      for (const type of [sel.local.type, sel.remote.type]) assert.ok(type === 'host' || type === 'prflx', sdkBrief(side));
      assert.deepEqual([sel.local.address, sel.remote.address].sort(), [...FLAT_PEER_IPS], sdkBrief(side));
      assert.equal(side.received, MESSAGES, sdkBrief(side));
      assert.equal(side.inOrder, true, sdkBrief(side));
    }
  });
});
