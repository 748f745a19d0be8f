// A signaling app over an in-memory SQLite store, a fake clock and a recording RelayControl.
import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { AccountService } from '../../src/accounts/service.js';
import type { RelayControl } from '../../src/accounts/types.js';
import { IceServerIssuer } from '../../src/credentials/ice-servers.js';
import { SignalTokens } from '../../src/credentials/signal-token.js';
import { openSqliteStore } from '../../src/store/sqlite-account-store.js';
import type { SqliteAccountStore } from '../../src/store/sqlite-account-store.js';
import { buildSignalingApp, type SignalingDeps } from '../../signaling/app.js';
import { SESSION_COUNTERS } from '../../turn/index.js';

export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
export const SECRET = 'rest-secret-0123456789abcdef';
export const TURN_PORT = 3478;

export interface TestAppOptions {
  /** null: no admin token (admin API disabled). */
  readonly adminToken?: string | null;
  /** null: no auth_secrets. */
  readonly secret?: string | null;
  readonly tlsPort?: number;
  readonly publicHost?: string;
  /** Allocations RelayControl claims to close per call. */
  readonly closedPerCall?: number;
  /** Relay session and usage deps (without them the sessions and usage routes do not exist). */
  readonly relay?: Pick<SignalingDeps, 'relaySessions' | 'closeSessions' | 'now' | 'usage' | 'usageLimited' | 'relays' | 'healthProblems' | 'overview'>;
  /** HTTP server time limits (short ones for the timeout tests). */
  readonly httpTimeouts?: SignalingDeps['httpTimeouts'];
  /** Signaling WebSocket limits (a short heartbeat for the token expiry tests). */
  readonly signalLimits?: SignalingDeps['signalLimits'];
  /** The app (signaling sockets included) reads the fake clock too, not only the tokens. */
  readonly appClock?: boolean;
  /** Builds the server from the deps instead of buildSignalingApp (e.g. mounting signalingPlugin elsewhere). */
  readonly build?: (deps: SignalingDeps) => FastifyInstance;
}

/** With a relay (no live sessions) and an empty usage ledger: every route exists, as in a running Ferry. */
export const WIRED: TestAppOptions = {
  relay: {
    relaySessions: () => [],
    closeSessions: () => 0,
    usage: { usage: async () => [] },
    // One node, as with SQLite storage: it lists itself, /v1/ice-servers hands out its own URLs.
    relays: { nodeId: 'local', read: async () => [], pick: () => undefined },
    // An idle node: nothing relayed, nothing waiting, a 30-day timeframe from the fake clock's start.
    overview: {
      startedAt: Date.UTC(2030, 0, 1),
      snapshot: () => ({
        allocations: 0,
        relayed: Object.fromEntries(SESSION_COUNTERS.map((k) => [k, 0])) as Record<(typeof SESSION_COUNTERS)[number], number>,
        webhookBacklog: 0,
        signalingPeers: 0,
      }),
      timeframe: () => ({ start: Date.UTC(2030, 0, 1), lengthMs: 30 * 86_400_000 }),
      limits: () => ({ softLimit: 0.8, hardLimit: 1 }),
    },
  },
};

export interface TestApp {
  readonly app: FastifyInstance;
  readonly accounts: AccountService;
  readonly store: SqliteAccountStore;
  /** Account ids RelayControl was asked to close, in order. */
  readonly closeCalls: string[];
  /** setAccountMaxBps calls the relay received: [account, bytes per second]. */
  readonly maxBpsCalls: [string, number][];
  readonly clock: { ms: number };
  /** app.inject with the admin bearer unless `auth` says otherwise (null: no Authorization). */
  request(opts: InjectOptions & { auth?: string | null }): Promise<LightMyRequestResponse>;
  /** POST /v1/accounts as the admin, asserting 201: the new account's id and API key. */
  createAccount(name: string): Promise<{ id: string; api_key: string }>;
  close(): Promise<void>;
}

export async function testApp(options: TestAppOptions = {}): Promise<TestApp> {
  const clock = { ms: Date.UTC(2030, 0, 1) };
  const now = () => clock.ms;
  const store = openSqliteStore('sqlite::memory:');
  const closeCalls: string[] = [];
  const maxBpsCalls: [string, number][] = [];
  const relay: RelayControl = {
    closeAccountAllocations: (id) => {
      closeCalls.push(id);
      return options.closedPerCall ?? 0;
    },
    setAccountMaxBps: (id, bps) => void maxBpsCalls.push([id, bps]),
  };
  const accounts = await AccountService.open(store, now);
  accounts.subscribeRelay(relay);
  const secret = options.secret === undefined ? SECRET : options.secret ?? undefined;
  const iceServers = new IceServerIssuer({
    secret: () => secret,
    turnPort: TURN_PORT,
    ...(options.tlsPort !== undefined ? { tlsPort: options.tlsPort } : {}),
    ...(options.publicHost !== undefined ? { publicHost: options.publicHost } : {}),
    now,
  });
  const tokens = new SignalTokens({ secret: () => secret, directory: accounts.directory, now });
  const adminToken = options.adminToken === undefined ? ADMIN_TOKEN : options.adminToken ?? undefined;
  const app = (options.build ?? buildSignalingApp)({
    accounts,
    iceServers,
    tokens,
    ...(adminToken !== undefined ? { adminToken } : {}),
    ...options.relay,
    ...(options.httpTimeouts !== undefined ? { httpTimeouts: options.httpTimeouts } : {}),
    ...(options.signalLimits !== undefined ? { signalLimits: options.signalLimits } : {}),
    ...(options.appClock === true ? { now } : {}),
  });
  await app.ready();
  const request: TestApp['request'] = ({ auth, ...opts }) => {
    const token = auth === undefined ? ADMIN_TOKEN : auth;
    const headers = { ...(opts.headers ?? {}), ...(token !== null ? { authorization: `Bearer ${token}` } : {}) };
    return app.inject({ ...opts, headers });
  };
  return {
    app,
    accounts,
    store,
    closeCalls,
    maxBpsCalls,
    clock,
    request,
    async createAccount(name) {
      const res = await request({ method: 'POST', url: '/v1/accounts', payload: { name } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; api_key: string };
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/** The error body of a response, checked to be `{error: {code, message}}` and nothing more. */
export function errorOf(res: LightMyRequestResponse): { code: string; message: string } {
  if (!/^application\/json/.test(String(res.headers['content-type']))) {
    throw new Error(`expected a JSON error, got ${String(res.headers['content-type'])}: ${res.body}`);
  }
  const body = res.json() as { error?: { code?: unknown; message?: unknown } };
  const { error } = body;
  if (Object.keys(body).length !== 1 || typeof error?.code !== 'string' || typeof error.message !== 'string') {
    throw new Error(`not an error body: ${res.body}`);
  }
  if (/\n\s+at /.test(res.body)) throw new Error(`stack trace in ${res.body}`);
  return { code: error.code, message: error.message };
}
