// Interop: two node-datachannel (libdatachannel/libjuice) peers in one process, relay-only, through
// Ferry over UDP (libjuice has no TURN over TCP/TLS).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerConnection, cleanup, type DataChannel, type IceServer } from 'node-datachannel';
import {
  LOOPBACK_PEERS, TEST_PASSWORD, TEST_SECRET, TEST_USER, restCredentials, startFerryProcess, type FerryProcess,
} from '../helpers/ferry-process.js';
import { exitIfStuck, sleep, until, withTimeout } from '../helpers/wait.js';
import { watchNativeHangs } from '../helpers/native-hang-watchdog.js';
import { candidateGate } from '../helpers/candidate-gate.js';

watchNativeHangs('interop/node-datachannel');

const TEST_TIMEOUT = 60_000;
const N = 200;
/**
 * Every PeerConnection and DataChannel made here, kept reachable until cleanup(): node-datachannel
 * 0.33's cleanup() closes all channels it still tracks, and one whose JS object was garbage-collected
 * crashes it (SIGSEGV in ThreadSafeCallback::~ThreadSafeCallback from DataChannelWrapper::CloseAll,
 * or a napi_release_threadsafe_function assertion) in most runs.
 */
const keepAlive: unknown[] = [];

interface Pair {
  a: PeerConnection;
  b: PeerConnection;
  tx: DataChannel;
  rx: DataChannel;
  candidates: { a: string[]; b: string[] };
  close(): void;
}

/** Hands `from`'s description and candidates to `to`, candidates behind the description. */
function link(from: PeerConnection, to: PeerConnection, seen: string[]): void {
  const gate = candidateGate(to);
  from.onLocalDescription((sdp, type) => gate.description(sdp, type));
  from.onLocalCandidate((c, mid) => { seen.push(c); gate.candidate(c, mid); });
}

/**
 * Wires two peers together in-process. On loopback libjuice may find a direct path despite
 * iceTransportPolicy 'relay'; binding the peers to different loopback addresses forces the relay.
 */
async function connectPair(server: IceServer): Promise<Pair> {
  const cfg = (bindAddress: string) => ({ iceServers: [server], iceTransportPolicy: 'relay' as const, bindAddress });
  const a = new PeerConnection('ferry-a', cfg('127.0.0.2'));
  const b = new PeerConnection('ferry-b', cfg('127.0.0.3'));
  const candidates = { a: [] as string[], b: [] as string[] };
  keepAlive.push(a, b);
  const close = (): void => {
    for (const pc of [a, b]) { try { pc.close(); } catch { /* already closed */ } }
  };
  link(a, b, candidates.a);
  link(b, a, candidates.b);
  const rxP = new Promise<DataChannel>((resolve) => b.onDataChannel((dc) => { keepAlive.push(dc); resolve(dc); }));
  const tx = a.createDataChannel('ferry');
  keepAlive.push(tx);
  try {
    const opened = new Promise<void>((resolve) => tx.onOpen(() => resolve()));
    await withTimeout(opened, 30_000, () =>
      `data channel open (state a=${a.state()} b=${b.state()}, candidates a=${candidates.a.length} b=${candidates.b.length})`);
    const rx = await withTimeout(rxP, 10_000, 'remote data channel');
    return { a, b, tx, rx, candidates, close };
  } catch (err) {
    close();
    throw err;
  }
}

async function exchangeMessages(p: Pair): Promise<void> {
  const received: string[] = [];
  p.rx.onMessage((m) => received.push(typeof m === 'string' ? m : m.toString()));
  const sent: string[] = [];
  for (let i = 0; i < N; i++) {
    const msg = `ferry-${i}-${'y'.repeat(i % 50)}`;
    sent.push(msg);
    assert.ok(p.tx.sendMessage(msg) || p.tx.isOpen(), `sendMessage ${i} failed on a closed channel`);
    if (i % 10 === 9) await sleep(1);
  }
  await until(() => received.length >= N, 20_000, `all ${N} messages (got ${received.length})`);
  assert.deepEqual(received, sent);
}

describe('node-datachannel through Ferry (relay only, TURN/UDP)', () => {
  let ferry: FerryProcess;

  before(async () => { ferry = await startFerryProcess({ peers: LOOPBACK_PEERS }); });
  after(async () => {
    await ferry?.stop();
    cleanup(); // stops libdatachannel's threads so the process can exit
    keepAlive.length = 0;
    exitIfStuck();
  });

  const cases: Array<{ name: string; creds: () => { username: string; password: string } }> = [
    { name: 'static credentials', creds: () => ({ username: TEST_USER, password: TEST_PASSWORD }) },
    { name: 'TURN REST credentials', creds: () => restCredentials(TEST_SECRET, 'dave') },
  ];

  for (const c of cases) {
    test(c.name, { timeout: TEST_TIMEOUT }, async () => {
      const { username, password } = c.creds();
      const server: IceServer = { hostname: '127.0.0.1', port: ferry.udpPort, username, password, relayType: 'TurnUdp' as IceServer['relayType'] };
      const pair = await connectPair(server);
      try {
        for (const cand of [...pair.candidates.a, ...pair.candidates.b]) {
          assert.match(cand, / typ relay/, `non-relay candidate gathered: ${cand}`);
        }
        await exchangeMessages(pair);
        const [lo, hi] = ferry.config.relay_ports.split('-').map(Number);
        for (const pc of [pair.a, pair.b]) {
          const sel = pc.getSelectedCandidatePair();
          assert.ok(sel, 'no selected candidate pair');
          assert.equal(sel.local.type, 'relay', JSON.stringify(sel));
          assert.equal(sel.local.address, '127.0.0.1', JSON.stringify(sel));
          assert.ok(sel.local.port >= lo && sel.local.port <= hi, `relay port outside ${lo}-${hi}: ${JSON.stringify(sel)}`);
        }
      } finally {
        pair.close();
      }
    });
  }
});
