// The fuzz harness against a running Ferry (bench/fuzz.ts, and a bounded slice in
// test/system/turn/fuzz-process.test.ts): random and mutated datagrams, mutated ChannelData, requests with
// odd attributes signed with the long-term key of live allocations, and TCP streams of mutated
// frames cut at random points, over many connections. Every input the codec calls garbage
// (isGarbage) leaves from a socket that sends nothing else, so any datagram that socket receives is
// an answer to garbage. Flow control: every `window` datagrams a Binding from a probe socket must be
// answered before more are sent (the listening socket's queue is FIFO), so the kernel buffers are
// not what is measured. Every loop is bounded by the input count and by `seconds`.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { TestTurnClient } from '../../test/helpers/turn-client.js';
import { UdpPeer } from '../../test/helpers/udp-peer.js';
import * as C from '../../turn/codec/constants.js';
import { randInt, randomBytes } from '../../test/helpers/bytes.js';
import {
  isGarbage, mutateChannelData, mutateStun, prng, randomDatagram, sendIndicationBody, signedBody, tcpStream,
  type Addr, type Rand, type SignContext,
} from './fuzz-inputs.js';
import { scanOutput, type OutputScan } from './fuzz-output.js';

export interface FuzzTarget {
  readonly host: string;
  /** Ferry's TURN port (UDP and TCP). */
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** IP the echo peer binds; Ferry's peers.allow must admit it (and should admit nothing else). */
  readonly peerHost: string;
  /** When set (and Ferry relays IPv6), every other allocation is IPv6 with its echo peer on this IP. */
  readonly peerHost6?: string;
  alive(): boolean;
  /** VmRSS of the server in kB, or null when unknown. */
  rssKb(): number | null;
  /** What the server printed so far (stdout and stderr). */
  output(): string;
}

export interface FuzzOptions {
  readonly inputs: number;
  readonly seconds: number;
  readonly seed: number;
  /** Live allocations whose keys sign the mutated requests. */
  readonly allocations: number;
  /** Datagrams between two flow-control Bindings. */
  readonly window?: number;
  readonly log?: (msg: string) => void;
}

export interface FuzzReport {
  inputs: number;
  by_kind: Record<string, number>;
  seconds: number;
  inputs_per_s: number;
  stopped_by: 'inputs' | 'time' | 'server_exit';
  garbage_sent: number;
  answers_to_garbage: number;
  answers_to_garbage_examples: string[];
  answers_to_requests: number;
  flow_control_timeouts: number;
  allocations_replaced: number;
  pool_allocations_made: number;
  tcp_connections: number;
  alive: boolean;
  binding_ok: boolean;
  fresh_allocate_ok: boolean;
  fresh_allocate_code: number | null;
  rss_kb: { start: number | null; middle: number | null; end: number | null };
  output: OutputScan;
}

const KINDS = ['random', 'stun_mutant', 'channel_data', 'send_indication', 'signed', 'signed_allocate', 'peer_datagram', 'tcp_frame'] as const;
type Kind = (typeof KINDS)[number];

async function udpSocket(host: string, onMessage: (m: Buffer) => void): Promise<UdpSocket> {
  const s = createSocket('udp4');
  s.on('message', onMessage);
  s.on('error', () => {});
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  return s;
}

interface Live {
  readonly c: TestTurnClient;
  readonly relayed: Addr;
  /** The echo peer of the allocation's family, and the socket that sends datagrams of any size from its IP. */
  readonly peer: UdpPeer;
  readonly sender: UdpPeer;
}

/** A client holding an allocation (IPv6 when the peer is) with channel 0x4000 bound to the echo peer. */
async function liveAllocation(t: FuzzTarget, peer: UdpPeer, sender: UdpPeer): Promise<Live | null> {
  const c = await TestTurnClient.connect({ port: t.port, host: t.host, username: t.username, password: t.password });
  try {
    const v6 = peer.address.address.includes(':');
    const r = await c.allocate(v6 ? (w) => w.addAddressFamily(C.ATTR_REQUESTED_ADDRESS_FAMILY, 6) : undefined);
    const relayed = r.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS);
    if (r.code !== 0 || relayed === null || (await c.channelBind(0x4000, peer.address)).code !== 0) throw new Error(`code ${r.code}`);
    return { c, relayed, peer, sender };
  } catch {
    c.close();
    return null;
  }
}

async function drain(c: TestTurnClient): Promise<void> {
  for (let i = 0; i < 100_000 && (await c.nextData(0)) !== null; i++);
}

async function bindingOk(t: FuzzTarget): Promise<boolean> {
  const c = await TestTurnClient.connect({ port: t.port, host: t.host });
  try {
    return (await c.transact(c.build(C.METHOD_BINDING, null, false), 2000)).cls === C.CLASS_SUCCESS;
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/** A fresh Allocate from a new port, retried for up to 10 s (rate limits on 401s may need a moment). */
async function freshAllocate(t: FuzzTarget): Promise<number | null> {
  const end = Date.now() + 10_000;
  let code: number | null = null;
  while (Date.now() < end) {
    const c = await TestTurnClient.connect({ port: t.port, host: t.host, username: t.username, password: t.password });
    try {
      code = (await c.allocate()).code;
      if (code === 0) await c.refresh(0);
    } catch {
      code = null;
    } finally {
      c.close();
    }
    if (code === 0) return 0;
    await sleep(500);
  }
  return code;
}

export async function runFuzz(t: FuzzTarget, o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => {});
  const rand: Rand = prng(o.seed);
  const tcpRand: Rand = prng(o.seed + 1); // its own sequence: the two loops interleave by timing
  const flowWindow = o.window ?? 512;
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  const server: Addr = { address: t.host, port: t.port };
  const examples: string[] = [];
  let garbageSent = 0;
  let garbageAnswers = 0;
  let requestAnswers = 0;
  let flowTimeouts = 0;
  let replaced = 0;
  let poolMade = 0;
  let tcpConnections = 0;
  const garbage: UdpSocket[] = [];
  const mutants: UdpSocket[] = [];
  const allocs: Live[] = [];
  const pool: TestTurnClient[] = [];
  /** Echo peers, and senders of datagrams of any size (up to UDP's maximum) from the peers' IPs to relayed addresses. */
  const peers: UdpPeer[] = [];
  const senders: UdpPeer[] = [];
  let probe: TestTurnClient | undefined;
  try {
    for (const host of t.peerHost6 === undefined ? [t.peerHost] : [t.peerHost, t.peerHost6]) {
      peers.push(await UdpPeer.open(host, true));
      senders.push(await UdpPeer.open(host));
    }
    const peer = peers[0];
    probe = await TestTurnClient.connect({ port: t.port, host: t.host });
    const prober = probe;
    for (let i = 0; i < 4; i++) {
      garbage.push(await udpSocket(t.host, (m) => {
        garbageAnswers++;
        if (examples.length < 5) examples.push(m.subarray(0, 64).toString('hex'));
      }));
      mutants.push(await udpSocket(t.host, () => requestAnswers++));
    }
    for (let i = 0; i < o.allocations; i++) {
      const a = await liveAllocation(t, peers[i % peers.length], senders[i % peers.length]);
      if (a === null) throw new Error(`fuzz: allocation ${i + 1} of ${o.allocations} failed before the run`);
      allocs.push(a);
    }
    for (let i = 0; i < 2; i++) {
      const c = await TestTurnClient.connect({ port: t.port, host: t.host, username: t.username, password: t.password });
      pool.push(c);
      await c.refresh(0).catch(() => null); // takes the 401 challenge: realm and nonce for this port
    }
    const ctx = (p: UdpPeer = peer): SignContext => ({ peer: p.address, server, relayed: allocs.map((a) => a.relayed) });
    const a0 = allocs[0].c;
    const seeds = [
      a0.build(C.METHOD_BINDING, null, false),
      a0.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(C.TRANSPORT_UDP), false),
      a0.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(C.TRANSPORT_UDP).addEvenPort(true), true),
      a0.build(C.METHOD_CREATE_PERMISSION, signedBody(rand, C.METHOD_CREATE_PERMISSION, ctx()), true),
      a0.build(C.METHOD_CHANNEL_BIND, signedBody(rand, C.METHOD_CHANNEL_BIND, ctx()), true),
      a0.build(C.METHOD_REFRESH, (w) => w.addUint32(C.ATTR_LIFETIME, 600), true),
      a0.build(C.METHOD_SEND, sendIndicationBody(rand, ctx()), false, undefined, C.CLASS_INDICATION),
    ];
    const rss = { start: t.rssKb(), middle: null as number | null, end: null as number | null };
    const tcpBudget = Math.floor(o.inputs / 10);
    const udpBudget = o.inputs - tcpBudget;
    log(`fuzz: ${o.allocations} allocations live; sending ${udpBudget} datagrams and ${tcpBudget} TCP frames`);

    const sendGarbage = (b: Buffer, n: number): void => {
      garbage[n & 3].send(b, t.port, t.host);
      garbageSent++;
    };
    /** Garbage leaves from a garbage socket; a decodable request from a mutant socket (answers allowed). */
    const route = (b: Buffer, n: number): void => {
      if (isGarbage(b)) sendGarbage(b, n);
      else mutants[n & 3].send(b, t.port, t.host);
    };

    const checkAllocations = async (): Promise<void> => {
      for (const p of peers) p.received.length = 0; // an echo peer keeps what it got: bounded here
      for (let i = 0; i < allocs.length; i++) {
        const { c, peer: p, sender } = allocs[i];
        await drain(c);
        const r = await c.refresh().catch(() => null); // also takes a new nonce after a 438
        if (r !== null && r.code === 0) continue;
        c.close();
        const a = await liveAllocation(t, p, sender); // deleted by a fuzzed Refresh 0, or lost
        if (a === null) throw new Error('fuzz: could not replace an allocation');
        allocs[i] = a;
        replaced++;
      }
      for (const c of pool) if ((await c.refresh(0).catch(() => null))?.code === 0) poolMade++;
    };

    const udpLoop = async (): Promise<void> => {
      for (let n = 0; n < udpBudget; n++) {
        if (n % flowWindow === 0) {
          if (performance.now() > deadline) return;
          if (rss.middle === null && n >= udpBudget / 2) rss.middle = t.rssKb();
          if (n % (flowWindow * 16) === 0 && n > 0) await checkAllocations();
          const ok = await prober.transact(prober.build(C.METHOD_BINDING, null, false), 3000).then(() => true, () => false);
          if (!ok) flowTimeouts++;
          if (!t.alive()) return;
        } else if (n % 128 === 0) {
          await tick();
        }
        const r = rand();
        const live = allocs[randInt(rand, allocs.length)];
        const a = live.c;
        let kind: Kind;
        if (r < 0.2) {
          kind = 'random';
          route(randomDatagram(rand), n);
        } else if (r < 0.48) {
          kind = 'stun_mutant';
          route(mutateStun(rand, seeds[randInt(rand, seeds.length)]), n);
        } else if (r < 0.6) {
          kind = 'channel_data';
          const b = mutateChannelData(rand, 0x4000);
          if (rand() < 0.5) a.sendRaw(b); // the data path of a live allocation
          else sendGarbage(b, n); // from a 5-tuple without one: dropped, never answered
        } else if (r < 0.68) {
          kind = 'send_indication';
          a.sendRaw(a.build(C.METHOD_SEND, sendIndicationBody(rand, ctx(live.peer)), false, undefined, C.CLASS_INDICATION));
        } else if (r < 0.93) {
          kind = 'signed';
          const method = [C.METHOD_CREATE_PERMISSION, C.METHOD_CHANNEL_BIND, C.METHOD_REFRESH][randInt(rand, 3)];
          const b = a.build(method, signedBody(rand, method, ctx(live.peer)), true);
          a.sendRaw(rand() < 0.1 ? mutateStun(rand, b) : b);
        } else if (r < 0.97) {
          kind = 'peer_datagram';
          const v6 = live.relayed.address.includes(':');
          const max = v6 ? 65_527 : 65_507; // UDP's largest payload over IPv6 / IPv4 loopback
          const size = rand() < 0.05 ? max - randInt(rand, 30) : randInt(rand, rand() < 0.9 ? 200 : 9000);
          live.sender.send(randomBytes(rand, size), live.relayed);
        } else {
          kind = 'signed_allocate';
          const p = pool[randInt(rand, pool.length)];
          p.sendRaw(p.build(C.METHOD_ALLOCATE, signedBody(rand, C.METHOD_ALLOCATE, ctx()), true));
        }
        counts[kind]++;
      }
    };

    const tcpLoop = async (): Promise<void> => {
      let sent = 0;
      const one = async (): Promise<void> => {
        const frames = Math.min(1 + randInt(tcpRand, 100), tcpBudget - sent);
        sent += frames;
        tcpConnections++;
        const stream = tcpStream(tcpRand, seeds, frames, 0x4000);
        const s = connect({ host: t.host, port: t.port });
        s.on('error', () => {});
        s.on('data', () => {});
        const opened = await Promise.race([
          new Promise<boolean>((r) => s.once('connect', () => r(true))),
          new Promise<boolean>((r) => s.once('close', () => r(false))),
          sleep(3000).then(() => false),
        ]);
        for (let at = 0; opened && at < stream.length && !s.destroyed && performance.now() < deadline;) {
          const end = Math.min(stream.length, at + 1 + randInt(tcpRand, 400));
          s.write(stream.subarray(at, end));
          at = end;
          await tick();
        }
        counts.tcp_frame += frames;
        if (tcpRand() < 0.5) s.end();
        s.destroy();
      };
      const inFlight = new Set<Promise<void>>();
      while (sent < tcpBudget && performance.now() < deadline && t.alive()) {
        const p = one().finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 8) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    };

    await Promise.all([udpLoop(), tcpLoop()]);
    const inputs = KINDS.reduce((s, k) => s + counts[k], 0);
    const seconds = (performance.now() - started) / 1000;
    await sleep(500); // late answers still count
    const alive = t.alive();
    rss.middle ??= t.rssKb();
    const binding = alive && (await bindingOk(t));
    const freshCode = alive ? await freshAllocate(t) : null;
    rss.end = t.rssKb();
    return {
      inputs,
      by_kind: counts,
      seconds: Math.round(seconds * 10) / 10,
      inputs_per_s: Math.round(inputs / seconds),
      stopped_by: inputs >= o.inputs ? 'inputs' : alive ? 'time' : 'server_exit',
      garbage_sent: garbageSent,
      answers_to_garbage: garbageAnswers,
      answers_to_garbage_examples: examples,
      answers_to_requests: requestAnswers,
      flow_control_timeouts: flowTimeouts,
      allocations_replaced: replaced,
      pool_allocations_made: poolMade,
      tcp_connections: tcpConnections,
      alive: t.alive(),
      binding_ok: binding,
      fresh_allocate_ok: freshCode === 0,
      fresh_allocate_code: freshCode,
      rss_kb: rss,
      output: scanOutput(t.output()),
    };
  } finally {
    for (const s of [...garbage, ...mutants]) s.close();
    for (const a of allocs) a.c.close();
    for (const c of pool) c.close();
    probe?.close();
    for (const p of [...peers, ...senders]) p.close();
  }
}
