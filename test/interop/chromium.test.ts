// Interop: Chromium (playwright-core, Debian's /usr/bin/chromium) with two relay-only
// RTCPeerConnections in one page, through Ferry over TURN/UDP, TURN/TCP and TURN/TLS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext } from 'playwright-core';
import {
  LOOPBACK_PEERS, TEST_PASSWORD, TEST_SECRET, TEST_USER, restCredentials, startFerryProcess, type FerryProcess,
} from '../helpers/ferry-process.js';

import { launchChromium, type LaunchedChromium } from '../helpers/chromium.js';

const TEST_TIMEOUT = 60_000;
const N = 200;
interface IceServerInit { urls: string; username: string; credential: string }
interface CandidateError { errorCode: number; errorText: string; url: string }
interface PageResult {
  error?: string;
  received: string[];
  sent: string[];
  candidates: string[];
  candidateErrors: CandidateError[];
  selected: Array<Record<string, unknown> | null>;
}

/** Runs inside the page: connect two relay-only peers, send n messages, report the selected pairs. */
async function relayRoundTrip(args: { iceServers: IceServerInit[]; n: number; timeoutMs: number }): Promise<PageResult> {
  const res: PageResult = { received: [], sent: [], candidates: [], candidateErrors: [], selected: [] };
  const cfg: RTCConfiguration = { iceServers: args.iceServers, iceTransportPolicy: 'relay' };
  const a = new RTCPeerConnection(cfg);
  const b = new RTCPeerConnection(cfg);
  const deadline = (ms: number, what: string) =>
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms));
  for (const pc of [a, b]) {
    pc.addEventListener('icecandidateerror', (e) => {
      const ev = e as RTCPeerConnectionIceErrorEvent;
      res.candidateErrors.push({ errorCode: ev.errorCode, errorText: ev.errorText, url: ev.url });
    });
    pc.addEventListener('icecandidate', (e) => { if (e.candidate) res.candidates.push(e.candidate.candidate); });
  }
  const gathered = (pc: RTCPeerConnection) => new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
  });
  const selectedLocal = async (pc: RTCPeerConnection) => {
    const stats = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((s: Record<string, unknown>) => stats.set(s.id as string, s));
    const transport = [...stats.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport ? stats.get(transport.selectedCandidatePairId as string) : undefined;
    return pair ? stats.get(pair.localCandidateId as string) ?? null : null;
  };
  try {
    const tx = a.createDataChannel('ferry');
    const rxP = new Promise<RTCDataChannel>((resolve) => { b.ondatachannel = (e) => resolve(e.channel); });
    await a.setLocalDescription();
    await Promise.race([gathered(a), deadline(15_000, 'offerer gathering')]);
    if (res.candidates.length === 0) throw new Error('offerer gathered no relay candidate');
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription();
    await Promise.race([gathered(b), deadline(15_000, 'answerer gathering')]);
    await a.setRemoteDescription(b.localDescription!);
    const rx = await Promise.race([rxP, deadline(args.timeoutMs, 'remote data channel')]);
    const all = new Promise<void>((resolve) => {
      rx.onmessage = (e) => { res.received.push(String(e.data)); if (res.received.length >= args.n) resolve(); };
    });
    if (tx.readyState !== 'open') {
      await Promise.race([new Promise((r) => { tx.onopen = r; }), deadline(args.timeoutMs, 'data channel open')]);
    }
    for (let i = 0; i < args.n; i++) {
      const msg = `ferry-${i}-${'z'.repeat(i % 50)}`;
      res.sent.push(msg);
      tx.send(msg);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.race([all, deadline(args.timeoutMs, `all ${args.n} messages`)]);
    res.selected = [await selectedLocal(a), await selectedLocal(b)];
  } catch (err) {
    res.error = String(err);
  } finally {
    a.close();
    b.close();
  }
  return res;
}

/** Runs inside the page: gather with one peer and report icecandidateerror events. */
async function gatherErrors(args: { iceServers: IceServerInit[] }): Promise<CandidateError[]> {
  const errors: CandidateError[] = [];
  const pc = new RTCPeerConnection({ iceServers: args.iceServers, iceTransportPolicy: 'relay' });
  pc.addEventListener('icecandidateerror', (e) => {
    const ev = e as RTCPeerConnectionIceErrorEvent;
    errors.push({ errorCode: ev.errorCode, errorText: ev.errorText, url: ev.url });
  });
  pc.createDataChannel('probe');
  await pc.setLocalDescription();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 15_000);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
    });
  });
  pc.close();
  return errors;
}

describe('Chromium through Ferry (relay only)', () => {
  let ferry: FerryProcess;
  let context: BrowserContext;
  let browser: LaunchedChromium | undefined;

  before(async () => {
    ferry = await startFerryProcess({ peers: LOOPBACK_PEERS }, { tls: true });
    browser = await launchChromium(['--ignore-certificate-errors']);
    context = browser.context;
  });
  after(async () => {
    await browser?.close();
    await ferry?.stop();
  });

  const cases: Array<{ name: string; relayProtocol: string; server: () => IceServerInit }> = [
    {
      name: 'TURN/UDP (turn:?transport=udp), static credentials', relayProtocol: 'udp',
      server: () => ({ urls: `turn:127.0.0.1:${ferry.udpPort}?transport=udp`, username: TEST_USER, credential: TEST_PASSWORD }),
    },
    {
      name: 'TURN/TCP (turn:?transport=tcp), static credentials', relayProtocol: 'tcp',
      server: () => ({ urls: `turn:127.0.0.1:${ferry.tcpPort}?transport=tcp`, username: TEST_USER, credential: TEST_PASSWORD }),
    },
    {
      name: 'TURN/TLS (turns:?transport=tcp), static credentials', relayProtocol: 'tls',
      server: () => ({ urls: `turns:127.0.0.1:${ferry.tlsPort}?transport=tcp`, username: TEST_USER, credential: TEST_PASSWORD }),
    },
    {
      name: 'TURN/UDP, TURN REST credentials', relayProtocol: 'udp',
      server: () => {
        const c = restCredentials(TEST_SECRET, 'erin');
        return { urls: `turn:127.0.0.1:${ferry.udpPort}?transport=udp`, username: c.username, credential: c.password };
      },
    },
  ];

  for (const c of cases) {
    test(c.name, { timeout: TEST_TIMEOUT }, async () => {
      const page = await context.newPage();
      try {
        await page.goto('about:blank');
        const r = await page.evaluate(relayRoundTrip, { iceServers: [c.server()], n: N, timeoutMs: 20_000 });
        const info = JSON.stringify({ ...r, received: r.received.length, sent: r.sent.length }, null, 1) +
          `\n--- ferry log (tail) ---\n${ferry.logs().slice(-3000)}`;
        assert.equal(r.error, undefined, info);
        assert.ok(r.candidates.length > 0, info);
        for (const cand of r.candidates) assert.match(cand, / typ relay/, info);
        assert.deepEqual(r.received, r.sent, info);
        const [lo, hi] = ferry.config.relay_ports.split('-').map(Number);
        for (const local of r.selected) {
          assert.ok(local, `no selected candidate pair\n${info}`);
          assert.equal(local.candidateType, 'relay', info);
          assert.equal(local.relayProtocol, c.relayProtocol, info);
          assert.equal(local.address, '127.0.0.1', info);
          const port = Number(local.port);
          assert.ok(port >= lo && port <= hi, `relay port ${port} outside ${lo}-${hi}\n${info}`);
        }
      } finally {
        await page.close();
      }
    });
  }

  test('wrong password: icecandidateerror with errorCode 401', { timeout: TEST_TIMEOUT }, async () => {
    const page = await context.newPage();
    try {
      await page.goto('about:blank');
      const errors = await page.evaluate(gatherErrors, {
        iceServers: [{ urls: `turn:127.0.0.1:${ferry.udpPort}?transport=udp`, username: TEST_USER, credential: 'wrong-password' }],
      });
      assert.ok(errors.some((e) => e.errorCode === 401), `expected a 401 among ${JSON.stringify(errors)}`);
      assert.ok(ferry.running(), 'Ferry exited');
    } finally {
      await page.close();
    }
  });
});
