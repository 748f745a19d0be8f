// Starts Ferry's TurnServer in-process on ephemeral loopback ports, for protocol tests.
import { TurnServer } from '../../turn/server.js';
import type { EngineLogger, TurnServerOptions } from '../../turn/options.js';
import type { AllocationGate, AllocationInfo, CloseReason, TurnEvents } from '../../turn/interfaces.js';
import { createAuthHandler } from '../../src/credentials/auth-handler.js';
import { createPeerPolicy } from '../../turn/peer-policy.js';
import { reservePortRange, type PortRange } from './ports.js';
import { dataPlaneOption, type DataPlaneName } from './data-plane.js';

export interface Fixture {
  server: TurnServer;
  udpPort: number;
  tcpPort: number;
  tlsPort?: number;
  /** The relay port range the server allocates from. */
  portMin: number;
  portMax: number;
  /** A fake clock: tests move it with advance(). */
  clock: { now: number; advance(ms: number): void };
  closed: { info: AllocationInfo; reason: CloseReason }[];
  /**
   * The engine takes its events and gate at construction only: the fixture passes its own, which
   * record `closed` and hand each event to the listener given here (replacing the previous one),
   * and ask the gate given here (none: every Allocate may go on). For tests that share a server.
   */
  listen(events: TurnEvents | undefined): void;
  gate(gate: AllocationGate | undefined): void;
  stop(): Promise<void>;
}

export interface FixtureOptions {
  host?: string;
  users?: Record<string, string>;
  secrets?: string[];
  allow?: string[];
  deny?: string[];
  /** The peer policy's own and relay addresses (default: none, so `allow` alone decides). */
  serverAddresses?: string[];
  relayAddresses?: string[];
  ips4?: string[];
  ips6?: string[];
  portMin?: number;
  portMax?: number;
  quotas?: Partial<TurnServerOptions['quotas']>;
  tls?: { cert: Buffer; key: Buffer };
  maxBps?: number;
  accountMaxBps?: (account: string) => number;
  nonceTtlMs?: number;
  nonceSecret?: Buffer;
  rateLimits?: TurnServerOptions['rateLimits'];
  log?: TurnServerOptions['log'];
  /** Default: FERRY_TEST_DATA_PLANE (test/helpers/data-plane.ts). */
  dataPlane?: DataPlaneName;
}

export async function startServer(o: FixtureOptions = {}): Promise<Fixture> {
  const host = o.host ?? '127.0.0.1';
  const clock = {
    now: Date.now(),
    advance(ms: number) {
      this.now += ms;
    },
  };
  const closed: Fixture['closed'] = [];
  let listener: TurnEvents | undefined;
  let testGate: AllocationGate | undefined;
  const events: TurnEvents = {
    allocationCreated: (info) => listener?.allocationCreated?.(info),
    allocationClosed: (info, reason, endedAt) => {
      closed.push({ info, reason });
      listener?.allocationClosed?.(info, reason, endedAt);
    },
    authFailure: (reason, clientAddress) => listener?.authFailure?.(reason, clientAddress),
    peerRefused: (reason) => listener?.peerRefused?.(reason),
    connectionRefused: (reason) => listener?.connectionRefused?.(reason),
    rateLimited: (kind) => listener?.rateLimited?.(kind),
  };
  // Without an explicit range, a block below the ephemeral range claimed for this fixture's lifetime.
  const range: PortRange | undefined = o.portMin === undefined ? await reservePortRange() : undefined;
  const portMin = o.portMin ?? range!.lo;
  const portMax = o.portMax ?? (range ? range.hi : portMin + 99);
  const server = new TurnServer({
    realm: 'ferry.test',
    listen: [{ host, port: 0 }],
    tls: o.tls ? [{ host, port: 0, ...o.tls }] : undefined,
    relay: { ips4: o.ips4 ?? (host.includes(':') ? [] : [host]), ips6: o.ips6 ?? (host.includes(':') ? [host] : []), portMin, portMax },
    auth: createAuthHandler({ users: o.users ?? { alice: 'alice-pass', bob: 'bob-pass' }, secrets: o.secrets ?? [] }),
    peerPolicy: createPeerPolicy({
      allow: o.allow ?? ['127.0.0.0/8', '::1/128'],
      deny: o.deny ?? [],
      serverAddresses: o.serverAddresses ?? [],
      relayAddresses: o.relayAddresses ?? [],
    }),
    quotas: { allocationsPerUser: 10, totalAllocations: 100, permissionsPerAllocation: 10, channelsPerAllocation: 10, ...o.quotas },
    ...(o.maxBps !== undefined ? { maxBps: o.maxBps } : {}),
    ...(o.accountMaxBps !== undefined ? { accountMaxBps: o.accountMaxBps } : {}),
    ...(o.nonceTtlMs !== undefined ? { nonceTtlMs: o.nonceTtlMs } : {}),
    ...(o.nonceSecret !== undefined ? { nonceSecret: o.nonceSecret } : {}),
    ...(o.rateLimits !== undefined ? { rateLimits: o.rateLimits } : {}),
    ...(o.log !== undefined ? { log: o.log } : {}),
    now: () => clock.now,
    ...dataPlaneOption(o.dataPlane),
    events,
    gate: {
      mayAllocate: (account, clientAddress, held) => testGate?.mayAllocate(account, clientAddress, held) ?? 'ok',
      authBlocked: (clientAddress) => testGate?.authBlocked?.(clientAddress) ?? false,
    },
  });
  try {
    await server.start();
  } catch (err) {
    range?.release();
    throw err;
  }
  const l = server.listening();
  return {
    server,
    udpPort: l.find((x) => x.transport === 'udp')!.port,
    tcpPort: l.find((x) => x.transport === 'tcp')!.port,
    tlsPort: l.find((x) => x.transport === 'tls')?.port,
    portMin,
    portMax,
    clock,
    closed,
    listen: (e) => {
      listener = e;
    },
    gate: (g) => {
      testGate = g;
    },
    stop: async () => {
      try {
        await server.stop();
      } finally {
        range?.release();
      }
    },
  };
}
