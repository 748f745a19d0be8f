// Interop: two werift peers in one process, relay-only, through Ferry over UDP and TCP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/werift-quirks.js';
import type { RTCPeerConnection } from 'werift';
import {
  LOOPBACK_PEERS, TEST_PASSWORD, TEST_SECRET, TEST_USER, restCredentials, startFerryProcess, type FerryProcess,
} from '../helpers/ferry-process.js';
import { exitIfStuck, sleep, until } from '../helpers/wait.js';
import { connectRelayPair, type IceServer, type WeriftPair } from '../helpers/werift-pair.js';

const TEST_TIMEOUT = 60_000;
const N = 200;

/** Offer/answer with full (non-trickle) descriptions, as both peers live in this process. */
function connectPair(server: IceServer): Promise<WeriftPair> {
  return connectRelayPair(server, {
    label: 'ferry',
    // werift reports no error for a failed Allocate (e.g. 401): it just offers no candidate.
    offerGathered: (a) => assert.ok(sdpCandidates(a).length > 0, 'offerer gathered no relay candidate (Allocate failed?)'),
  });
}

function sdpCandidates(pc: RTCPeerConnection): string[] {
  return (pc.localDescription?.sdp ?? '').split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
}

/** Local candidate of the selected pair, found through getStats (transport → pair → local-candidate). */
async function selectedLocalCandidate(pc: RTCPeerConnection): Promise<Record<string, unknown>> {
  const report = await pc.getStats();
  const stats = [...report.values()] as unknown as Array<Record<string, unknown>>;
  const byId = new Map(stats.map((s) => [s.id as string, s]));
  const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
  const pair = transport
    ? byId.get(transport.selectedCandidatePairId as string)
    : stats.find((s) => s.type === 'candidate-pair' && s.nominated);
  assert.ok(pair, `no selected candidate pair in stats: ${JSON.stringify(stats)}`);
  const local = byId.get(pair.localCandidateId as string);
  assert.ok(local, `selected pair's local candidate missing from stats`);
  return local;
}

async function exchangeMessages(p: WeriftPair): Promise<void> {
  const received: string[] = [];
  p.rx.onMessage.subscribe((m) => received.push(m.toString()));
  const sent: string[] = [];
  for (let i = 0; i < N; i++) {
    const msg = `ferry-${i}-${'x'.repeat(i % 50)}`;
    sent.push(msg);
    p.tx.send(msg);
    if (i % 10 === 9) await sleep(1); // pace: two peers in one process overflow socket buffers otherwise
  }
  await until(() => received.length >= N, 20_000, `all ${N} messages (got ${received.length})`);
  assert.deepEqual(received, sent);
}

describe('werift through Ferry (relay only)', () => {
  let ferry: FerryProcess;

  before(async () => { ferry = await startFerryProcess({ peers: LOOPBACK_PEERS }, { tls: true }); });
  after(async () => {
    await ferry?.stop();
    exitIfStuck();
  });

  const cases: Array<{ name: string; tls?: boolean; server: () => IceServer }> = [
    {
      name: 'UDP, static credentials',
      server: () => ({ urls: `turn:127.0.0.1:${ferry.udpPort}`, username: TEST_USER, credential: TEST_PASSWORD }),
    },
    {
      name: 'TCP (?transport=tcp), static credentials',
      server: () => ({ urls: `turn:127.0.0.1:${ferry.tcpPort}?transport=tcp`, username: TEST_USER, credential: TEST_PASSWORD }),
    },
    {
      name: 'UDP, TURN REST credentials',
      server: () => {
        const c = restCredentials(TEST_SECRET, 'carol');
        return { urls: `turn:127.0.0.1:${ferry.udpPort}`, username: c.username, credential: c.password };
      },
    },
    {
      name: 'TLS (turns:, self-signed certificate accepted via NODE_TLS_REJECT_UNAUTHORIZED=0)',
      tls: true,
      server: () => ({ urls: `turns:127.0.0.1:${ferry.tlsPort}?transport=tcp`, username: TEST_USER, credential: TEST_PASSWORD }),
    },
  ];

  for (const c of cases) {
    test(c.name, { timeout: TEST_TIMEOUT }, async () => {
      const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      if (c.tls) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      const pair = await connectPair(c.server()).finally(() => {
        if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
      });
      try {
        for (const pc of [pair.a, pair.b]) {
          const cands = sdpCandidates(pc);
          assert.ok(cands.length > 0, 'no candidates in the local description');
          for (const line of cands) assert.match(line, / typ relay/, `non-relay candidate offered: ${line}`);
        }
        await exchangeMessages(pair);
        for (const pc of [pair.a, pair.b]) {
          const local = await selectedLocalCandidate(pc);
          assert.equal(local.candidateType, 'relay', JSON.stringify(local));
          assert.equal(local.address, '127.0.0.1', JSON.stringify(local));
          const [lo, hi] = ferry.config.relay_ports.split('-').map(Number);
          const port = Number(local.port);
          assert.ok(port >= lo && port <= hi, `relay port ${port} outside Ferry's range ${lo}-${hi}`);
        }
      } finally {
        await pair.close();
      }
    });
  }
});
