/**
 * `signalingSocket`: the signaling WebSocket `GET /v1/signal` (frames in protocol/signaling.ts) as a
 * fastify-plugin, `app.register(signalingSocket, deps)`. It registers @fastify/websocket on the
 * instance unless it is there already, adds the route, and decorates the instance with
 * `app.signaling`, the hub (stats, close, closing an account's or an API key's sockets).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import fp from 'fastify-plugin';
import type { WebSocket } from 'ws';
import { errorBody } from '../errors.js';
import { SignalConnection } from './connection.js';
import { Heartbeat } from './heartbeat.js';
import { Hub, type HubStats, type SignalGrant } from './hub.js';
import { resolveLimits, type SignalLimits } from './limits.js';
import { CLOSE } from '../../protocol/signaling.js';
import { RecentRevocations } from './revocations.js';
import type { SignalRouter } from '../../src/signaling/router.js';
import { checkOrigin, isRefusal, readUpgradeRequest, refusal, type SignalCredentials, type UpgradeRefusal } from './upgrade.js';

export type { SignalLimits } from './limits.js';
export type { SignalCredentials } from './upgrade.js';
export type { HubStats, SignalGrant } from './hub.js';
export type { SignalRouter } from '../../src/signaling/router.js';

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** Who a connection is: its account, and what else ends it (an API key's revocation, a token's expiry). */
export interface SignalIdentity extends SignalGrant {
  readonly accountId: string;
}

export interface SignalSocketDeps {
  /** Who holds these credentials, or null when they are not valid. */
  authenticate(cred: SignalCredentials): Promise<SignalIdentity | null>;
  /**
   * Whether a page of this origin (the Origin header) may connect; refused with 403 before the
   * credentials are read. Absent: every origin. Requests without Origin are never checked.
   */
  originAllowed?: (origin: string) => boolean;
  log?: { info: LogFn; warn: LogFn; debug: LogFn };
  limits?: Partial<SignalLimits>;
  /** Clock in ms since the epoch (queue expiry, rate limits, token expiry). Default Date.now. */
  now?: () => number;
  /**
   * A fleet: where messages to peers not connected to this node go (src/store/redis/signal-router.ts). Absent:
   * one node, they are queued here. Closed by whoever made it, after the app.
   */
  router?: SignalRouter;
}

export interface SignalingHub {
  stats(): HubStats;
  /** Closes every signaling socket with 1001 and stops the timers; resolves once they are closed. */
  close(): Promise<void>;
  /** Expires queued messages now (a timer does it every queueTtlMs/4, at most every second). */
  sweep(): void;
  /**
   * Closes every signaling socket of an account (1008 "account closed": call it when the account is
   * disabled or its credentials are revoked) and drops its queued messages; returns how many.
   */
  closeAccount(accountId: string): number;
  /**
   * Closes the account's signaling sockets opened with this API key (4401 "credential revoked":
   * call it when the key is revoked); the account's other sockets stay. Returns how many.
   */
  closeApiKey(accountId: string, apiKeyId: string): number;
  /** The accounts with sockets opened with API keys here, and those keys' ids. */
  apiKeysInUse(): Map<string, Set<string>>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The signaling WebSocket's hub, decorated by the signalingSocket plugin. */
    signaling: SignalingHub;
  }
}

export const SIGNAL_PATH = '/v1/signal';
const CLOSE_WAIT_MS = 1000;

const noop: LogFn = () => {};

async function signalingSocketPlugin(app: FastifyInstance, deps: SignalSocketDeps): Promise<void> {
  const limits = resolveLimits(deps.limits);
  const now = deps.now ?? Date.now;
  const log = deps.log ?? { info: noop, warn: noop, debug: noop };
  const hub = new Hub(limits, now, deps.router);
  // A socket opened with a signaling token closes at the first heartbeat after the token expired.
  const heartbeat = new Heartbeat(limits.heartbeatMs, now, (c) => {
    hub.detach(c.session);
    c.socket.close(CLOSE.credentialEnded, 'credential expired');
  });
  const admitted = new WeakMap<FastifyRequest, { identity: SignalIdentity; peerId: string; response: ServerResponse; mark: number }>();
  const revocations = new RecentRevocations();
  let sweeper: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  const refuse = (reply: FastifyReply, r: UpgradeRefusal): FastifyReply => reply.code(r.status).send(r.body);

  const admit = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (deps.originAllowed) {
      const badOrigin = checkOrigin(request.headers.origin, deps.originAllowed);
      if (badOrigin) {
        log.debug({ origin: String(request.headers.origin).slice(0, 200) }, 'signaling: upgrade refused, origin not allowed');
        return refuse(reply, badOrigin);
      }
    }
    const read = readUpgradeRequest(request.query, request.headers.authorization);
    if (isRefusal(read)) return refuse(reply, read);
    // Taken before the check: a revocation while it runs counts too.
    const mark = revocations.mark;
    let identity: SignalIdentity | null;
    try {
      identity = await deps.authenticate(read.credentials);
    } catch (err) {
      log.warn({ err }, 'signaling: authenticate failed');
      return refuse(reply, refusal(503, 'unavailable', 'could not check the credentials; try again'));
    }
    if (!identity) return refuse(reply, refusal(401, 'unauthorized', 'invalid or expired credentials'));
    const { accountId } = identity;
    if (closing) return refuse(reply, refusal(503, 'unavailable', 'the server is shutting down'));
    if (!hub.canAttach(accountId, read.peerId)) {
      return refuse(
        reply,
        refusal(429, 'too_many_peers', `the account has ${limits.maxPeersPerAccount} connected peers, the most allowed`),
      );
    }
    admitted.set(request, { identity, peerId: read.peerId, response: reply.raw, mark });
    return undefined;
  };

  // ws closes the connection itself on protocol errors (1009 too big, 1002…): log, do not cut it.
  function onSocketError(this: WebSocket, err: Error): void {
    log.debug({ err: err.message }, 'signaling: socket error');
    if (this.readyState === this.OPEN) this.terminate();
  }

  const onSocket = (socket: WebSocket, request: FastifyRequest): void => {
    const who = admitted.get(request);
    admitted.delete(request);
    if (!who) {
      socket.close(CLOSE.policy, 'not admitted');
      return;
    }
    if (closing) {
      socket.close(CLOSE.goingAway, 'server shutting down');
      return;
    }
    const { identity } = who;
    // Revoked while the handshake was in flight: closed as the hub would have closed it.
    const revoked = revocations.since(who.mark, identity);
    if (revoked !== null) {
      if (revoked === 'account') socket.close(CLOSE.policy, 'account closed');
      else socket.close(CLOSE.credentialEnded, 'credential revoked');
      return;
    }
    const session = hub.attach(identity.accountId, who.peerId, socket, identity);
    if (!session) {
      socket.close(CLOSE.policy, 'too many peers in this account');
      return;
    }
    // Memory per idle peer: @fastify/websocket's error listener holds the fastify request and
    // reply, and the raw response stays attached to the TCP socket; drop both (≈ 2.5 KB of heap each).
    who.response.detachSocket(request.raw.socket);
    socket.removeAllListeners('error');
    socket.on('error', onSocketError);
    const conn = new SignalConnection(socket, session, hub, limits, now);
    heartbeat.add(conn);
    const { peerId } = who; // the close listener must not hold `who` (and its response)
    const { accountId } = identity;
    log.debug({ account: accountId, peer: peerId }, 'signaling: peer connected');
    socket.once('close', (code: number) => {
      heartbeat.delete(conn);
      hub.detach(session);
      log.debug({ account: accountId, peer: peerId, code }, 'signaling: peer disconnected');
    });
  };

  const close = (): Promise<void> => {
    if (closing) return closing;
    closing = (async () => {
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
      heartbeat.stop();
      const sockets = heartbeat.sockets();
      hub.closeAll(CLOSE.goingAway, 'server shutting down');
      await Promise.all(sockets.map((s) => closed(s, CLOSE_WAIT_MS)));
    })();
    return closing;
  };

  // Before @fastify/websocket's own preClose (which closes sockets without a code): ours say 1001.
  app.addHook('preClose', close);
  if (!app.hasPlugin('@fastify/websocket')) {
    await app.register(websocket, {
      options: { maxPayload: limits.maxFrameBytes, perMessageDeflate: false },
      errorHandler: (err: Error, socket: WebSocket) => onSocketError.call(socket, err),
    });
  } else {
    const max = (app.websocketServer.options as { maxPayload?: number }).maxPayload ?? 0;
    if (max > limits.maxFrameBytes) {
      log.info({ maxPayload: max, maxMessageBytes: limits.maxMessageBytes }, 'signaling: @fastify/websocket was registered with a larger maxPayload; frames over maxMessageBytes get too_large');
    }
  }
  app.route({
    method: 'GET',
    url: SIGNAL_PATH,
    schema: { hide: true },
    preValidation: admit,
    handler: (_request, reply) =>
      reply.code(426).header('upgrade', 'websocket').send(errorBody('upgrade_required', 'this endpoint is a WebSocket')),
    wsHandler: onSocket,
  });
  sweeper = setInterval(() => hub.sweep(), Math.min(1000, Math.max(20, limits.queueTtlMs / 4)));
  sweeper.unref();

  const signaling: SignalingHub = {
    stats: () => hub.stats(),
    close,
    sweep: () => hub.sweep(),
    closeAccount: (accountId) => {
      revocations.record(accountId);
      return hub.closeAccount(accountId, CLOSE.policy, 'account closed');
    },
    closeApiKey: (accountId, apiKeyId) => {
      revocations.record(accountId, apiKeyId);
      return hub.closeApiKey(accountId, apiKeyId, CLOSE.credentialEnded, 'credential revoked');
    },
    apiKeysInUse: () => hub.apiKeysInUse(),
  };
  app.decorate('signaling', signaling);
}

/** Not encapsulated (fastify-plugin): the route, @fastify/websocket and `app.signaling` are the registering instance's. */
export const signalingSocket = fp(signalingSocketPlugin, { name: 'ferry-signaling-socket', fastify: '5.x' });

/** Resolves when the socket has closed; terminates it after `ms`. */
function closed(socket: WebSocket, ms: number): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.terminate(), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
