/**
 * Cross-node signaling over Redis (cluster mode): a SignalRouter that makes the fleet one hub.
 * - A peer registering here claims its peer id in a directory ("<node> <boot> <conn>"); a holder
 *   on another node is told to close (4000 "replaced"); what was queued for it comes with the claim.
 * - A message for a peer not connected here goes through one Lua script: published to the holding
 *   node's channel (ferry:sig:to:<node>), or queued in a bounded list per (account, peer) with the
 *   queue TTL; the sender's node records what it queued, to report expiry to the sender.
 * - A node is alive while ferry:sig:alive:<node> holds its boot id (set every heartbeat, TTL
 *   cluster.ttl): entries of a dead or restarted node count as absent, so their messages queue.
 * - Redis away: messages to other nodes fail at once with `unavailable` (local peers still reach
 *   each other); when Redis is back the node sets its alive key and claims its peers again.
 * Bounds: the hub's message size; at most maxInFlight messages (maxInFlightBytes) wait for Redis;
 * notes over maxNoteChars are dropped; queues are bounded per peer (maxQueuedPerPeer, in Redis) and
 * per account and node (maxQueuedPerAccount): fleet-wide nodes × maxQueuedPerAccount per account.
 */
import type { Redis } from 'ioredis';
import { createRedis } from './client.js';
import { FleetQueue } from './signal-queue.js';
import {
  ALIVE_PREFIX, CHANNEL_PREFIX, CLAIM_LUA, DIRECTORY_TTL_MS, FORWARD_LUA, RELEASE_LUA, TAKE_LUA,
  channelOf, deliverNote, parseNote, parseQueueEntry, peerKey, queueEntry, queueKey, replacedNote, undeliverableNote,
  type Carried, type Note, type SenderRef,
} from './signal-keys.js';
import type { LocalPeers, RoutedMessage, RoutedPeer, RouterLimits, RouterStats, SignalRouter } from '../../signaling/router.js';

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

export interface RedisSignalRouterOptions {
  readonly redisUrl: string;
  readonly nodeId: string;
  /** New for each start of the process: what an earlier run of the same node left is told apart. */
  readonly bootId: string;
  /** How often the node's alive key is set, and its TTL (cluster.heartbeat, cluster.ttl). */
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  readonly now?: () => number;
  readonly log?: { info: LogFn; warn: LogFn; debug: LogFn };
  /** Messages handed to Redis and not answered yet; beyond it senders get `unavailable`. Default 10000. */
  readonly maxInFlight?: number;
  /** The same in bytes of message text (UTF-16 counted as 2 per character). Default 32 MiB. */
  readonly maxInFlightBytes?: number;
}

interface Scripts {
  ferrySigForward(peer: string, queue: string, ...argv: (string | number)[]): Promise<number>;
  ferrySigClaim(peer: string, queue: string, ...argv: (string | number)[]): Promise<string[]>;
  ferrySigRelease(peer: string, ...argv: string[]): Promise<number>;
  ferrySigTake(queue: string, prefix: string): Promise<number>;
}

/** Notes held for a peer while its claim is on its way (they must follow what was queued for it). */
const MAX_HELD_NOTES = 256;
const SWEEP_BATCH = 512;
const RESUME_BATCH = 500;
const noop: LogFn = () => {};

/**
 * A queue list outlives its messages' TTL: the node that queued a message removes it once
 * expired and tells the sender (within a sweep interval, or once Redis is back); the list's own
 * TTL only clears what a node that died left behind.
 */
const listTtlMs = (limits: RouterLimits): number => 2 * limits.queueTtlMs + 10_000;

export class RedisSignalRouter implements SignalRouter {
  private local: LocalPeers | undefined;
  private limits: RouterLimits | undefined;
  private readonly cmd: Redis & Scripts;
  private readonly sub: Redis;
  private readonly now: () => number;
  private readonly log: { info: LogFn; warn: LogFn; debug: LogFn };
  private readonly me: string;
  private readonly maxInFlight: number;
  private readonly maxInFlightBytes: number;
  private readonly claimed = new Set<RoutedPeer>();
  private readonly held = new Map<RoutedPeer, string[]>();
  private readonly queue = new FleetQueue();
  private maxNoteChars = 0;
  private inFlight = 0;
  private inFlightBytes = 0;
  private seq = 0;
  private started = false;
  private closed = false;
  private resuming: Promise<void> | undefined;
  private resumeAgain = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: RedisSignalRouterOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? { info: noop, warn: noop, debug: noop };
    this.me = `${opts.nodeId} ${opts.bootId} `;
    this.maxInFlight = opts.maxInFlight ?? 10_000;
    this.maxInFlightBytes = opts.maxInFlightBytes ?? 32 * 1024 * 1024;
    const cmd = createRedis(opts.redisUrl, { role: `signal:${opts.nodeId}` });
    cmd.defineCommand('ferrySigForward', { numberOfKeys: 2, lua: FORWARD_LUA });
    cmd.defineCommand('ferrySigClaim', { numberOfKeys: 2, lua: CLAIM_LUA });
    cmd.defineCommand('ferrySigRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    cmd.defineCommand('ferrySigTake', { numberOfKeys: 1, lua: TAKE_LUA });
    this.cmd = cmd as Redis & Scripts;
    this.sub = createRedis(opts.redisUrl, { role: `signal-sub:${opts.nodeId}` });
    // ioredis reports connection trouble as 'error' events: never thrown, logged once per state change.
    let cmdDown = false;
    let subDown = false;
    this.cmd.on('error', (err: Error) => {
      if (!cmdDown) this.log.warn({ err: err.message }, 'signaling: Redis unreachable, messages to other nodes fail until it is back');
      cmdDown = true;
    });
    this.sub.on('error', (err: Error) => {
      if (!subDown) this.log.debug({ err: err.message }, 'signaling: Redis subscriber unreachable');
      subDown = true;
    });
    this.cmd.on('ready', () => {
      if (cmdDown) this.log.info({}, 'signaling: Redis reachable again; registering this node\'s peers again');
      cmdDown = false;
      if (this.started) this.resume();
    });
    this.sub.on('ready', () => {
      subDown = false;
      if (this.started) this.subscribeAndResume();
    });
    this.sub.on('message', (_channel: string, text: string) => {
      try {
        this.onNote(text);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'signaling: a note from another node failed');
      }
    });
  }

  /** Connects both connections and subscribes. Redis unreachable: logs, keeps trying in the background. */
  async start(): Promise<void> {
    // Both connections are started, each on its own: one that fails keeps reconnecting in the
    // background and its 'ready' handler (above, once started) subscribes or registers then.
    const warn = (err: unknown) => this.log.warn({ err: (err as Error).message }, 'signaling: Redis not reachable at start; retrying');
    const connect = (r: Redis) => r.connect().then(() => true, (err: unknown) => (warn(err), false));
    const [cmdUp, subUp] = await Promise.all([connect(this.cmd), connect(this.sub)]);
    try {
      if (subUp) await this.sub.subscribe(channelOf(this.opts.nodeId));
      if (cmdUp) await this.heartbeat();
    } catch (err) {
      warn(err);
    }
    this.started = true;
    // A connection that came up between its failed connect() and now was not acted on by 'ready'.
    if (!subUp && this.sub.status === 'ready') this.subscribeAndResume();
    else if (!cmdUp && this.cmd.status === 'ready') this.resume();
    const every = (ms: number, f: () => void) => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.heartbeatMs, () => void this.heartbeat().catch(() => {}));
    every(DIRECTORY_TTL_MS / 3, () => this.resume());
  }

  bind(local: LocalPeers, limits: RouterLimits): void {
    this.local = local;
    this.limits = limits;
    this.maxNoteChars = 2 * limits.maxFrameBytes + 4096;
    const t = setInterval(() => this.sweep(), Math.min(1000, Math.max(20, limits.queueTtlMs / 4)));
    t.unref();
    this.timers.push(t);
  }

  stats(): RouterStats {
    return { queued: this.queue.count, inFlight: this.inFlight, connected: this.cmd.status === 'ready' && this.sub.status === 'ready' };
  }

  attached(session: RoutedPeer): void {
    if (this.closed) return;
    this.claimed.add(session);
    void this.claim(session, 'new');
  }

  detached(session: RoutedPeer): void {
    if (!this.claimed.delete(session)) return;
    this.cmd.ferrySigRelease(peerKey(session.accountId, session.peerId), `${this.me}${session.connId}`).catch(() => {
      // Redis away: the entry stays, pointing at this node; a message to it is answered
      // peer_unavailable from here, and the entry is removed then (see onDeliver).
    });
  }

  forward(from: RoutedPeer, frame: RoutedMessage, text: string): void {
    const limits = this.limits;
    if (!limits) return;
    const bye = frame.type === 'bye';
    const fail = (message: string): void => {
      if (!bye && from.open) from.sendError('unavailable', message, frame.id, frame.to);
    };
    if (this.closed) return fail('the server is shutting down');
    const bytes = 4 * text.length; // the note and the queue entry each carry the text
    if (this.inFlight >= this.maxInFlight || this.inFlightBytes + bytes > this.maxInFlightBytes) {
      return fail(`too many messages to other nodes are waiting for Redis (${this.maxInFlight} at most); try again`);
    }
    const accountId = from.accountId;
    const sender: SenderRef = { node: this.opts.nodeId, boot: this.opts.bootId, conn: from.connId, peer: from.peerId, id: frame.id ?? null };
    const carried: Carried = { accountId, to: frame.to, from: sender, bye, text };
    let entry = '';
    let prefix = '';
    const expiresAt = this.now() + limits.queueTtlMs;
    // A bye is never queued; nor is a message once this node holds maxQueuedPerAccount of the account's.
    const accountFull = this.queue.accountCount(accountId) >= limits.maxQueuedPerAccount;
    if (!bye && !accountFull) {
      ({ entry, prefix } = queueEntry(expiresAt, `${this.opts.bootId}.${++this.seq}`, carried));
    }
    this.inFlight += 1;
    this.inFlightBytes += bytes;
    const settle = (): void => {
      this.inFlight -= 1;
      this.inFlightBytes -= bytes;
    };
    this.cmd
      .ferrySigForward(peerKey(accountId, frame.to), queueKey(accountId, frame.to), ALIVE_PREFIX, CHANNEL_PREFIX, deliverNote(carried), entry, limits.maxQueuedPerPeer, listTtlMs(limits))
      .then(
        (r) => {
          settle();
          if (r === 2) {
            this.queue.push({ accountId, target: frame.to, prefix, sender: from, id: frame.id, expiresAt, dropped: false });
          } else if (r === -1 || (r === 0 && !bye)) {
            if (from.open) from.sendError('peer_unavailable', `peer ${frame.to} is not connected and its queue is full`, frame.id, frame.to);
          }
        },
        (err: unknown) => {
          settle();
          this.log.debug({ err: (err as Error).message }, 'signaling: forward failed');
          fail('peers on other nodes cannot be reached now (the fleet\'s Redis is unavailable); peers on this node still can');
        },
      );
  }

  accountClosed(accountId: string): void {
    for (const r of this.queue.dropAccount(accountId)) {
      this.cmd.ferrySigTake(queueKey(r.accountId, r.target), r.prefix).catch(() => {
        /* Redis away: the entry expires with its list */
      });
    }
  }

  /** Tells the senders of this node's queued messages that expired undelivered. */
  sweep(): void {
    const limits = this.limits;
    if (!limits || this.closed) return;
    for (const r of this.queue.expired(this.now(), SWEEP_BATCH)) {
      this.cmd.ferrySigTake(queueKey(r.accountId, r.target), r.prefix).then(
        (n) => {
          if (n === 1 && r.sender.open) r.sender.sendError('peer_unavailable', `peer ${r.target} did not connect within ${limits.queueTtlMs} ms`, r.id, r.target);
        },
        () => {
          /* Redis away: whether it was delivered is unknown; the entry expires with its list */
        },
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    const sessions = [...this.claimed];
    this.claimed.clear();
    this.queue.clear();
    if (this.cmd.status === 'ready') {
      const pending = sessions.map((s) => this.cmd.ferrySigRelease(peerKey(s.accountId, s.peerId), `${this.me}${s.connId}`));
      pending.push(this.cmd.del(`${ALIVE_PREFIX}${this.opts.nodeId}`));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(pending), new Promise((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
    }
    this.sub.disconnect();
    this.cmd.disconnect();
  }

  /**
   * Sets the alive key. Found missing (it lapsed: Redis was restarted, or this node could not
   * reach it for longer than the TTL, so other nodes dropped its entries and queue for its peers
   * instead): its peers are claimed again, which also brings what was queued for them.
   */
  private async heartbeat(): Promise<void> {
    const previous = await this.cmd.call('SET', `${ALIVE_PREFIX}${this.opts.nodeId}`, this.opts.bootId, 'PX', String(this.opts.ttlMs), 'GET');
    if (previous !== this.opts.bootId && this.started && this.claimed.size > 0 && !this.resuming) this.resume();
  }

  private subscribeAndResume(): void {
    // ioredis subscribes again on its own after a reconnect; this covers a start without Redis.
    this.sub.subscribe(channelOf(this.opts.nodeId)).then(() => this.resume(), () => {});
  }

  /** Sets the alive key and claims every peer of this node again (after an outage, and every DIRECTORY_TTL_MS/3). */
  private resume(): void {
    if (this.closed) return;
    if (this.resuming) {
      this.resumeAgain = true;
      return;
    }
    this.resuming = (async () => {
      try {
        await this.heartbeat();
        const sessions = [...this.claimed];
        for (let i = 0; i < sessions.length; i += RESUME_BATCH) {
          await Promise.all(sessions.slice(i, i + RESUME_BATCH).map((s) => this.claim(s, 'resume')));
        }
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'signaling: resume failed; retried when Redis is back');
      }
    })().finally(() => {
      this.resuming = undefined;
      if (this.resumeAgain) {
        this.resumeAgain = false;
        this.resume();
      }
    });
  }

  private async claim(session: RoutedPeer, mode: 'new' | 'resume'): Promise<void> {
    const limits = this.limits!;
    if (!this.claimed.has(session)) return;
    const value = `${this.me}${session.connId}`;
    if (!this.held.has(session)) this.held.set(session, []);
    try {
      const out = await this.cmd.ferrySigClaim(
        peerKey(session.accountId, session.peerId), queueKey(session.accountId, session.peerId),
        value, DIRECTORY_TTL_MS, mode, ALIVE_PREFIX, this.now(), listTtlMs(limits),
      );
      if (!Array.isArray(out) || out.length === 0) return;
      if (out[0] === 'lost') {
        // A newer connection of this peer id registered on a live node while Redis was away.
        this.claimed.delete(session);
        this.local?.replace(session);
        return;
      }
      const old = String(out[0]);
      if (mode === 'new' && old !== '' && !old.startsWith(`${this.opts.nodeId} `)) this.tellReplaced(session, old);
      for (let i = 1; i < out.length; i++) {
        const c = parseQueueEntry(String(out[i]), session.accountId, session.peerId);
        if (c && session.open) session.link.send(c.text);
      }
    } catch (err) {
      // Redis away: claimed again by resume() when it is back.
      this.log.debug({ err: (err as Error).message }, 'signaling: claim failed');
    } finally {
      const notes = this.held.get(session);
      this.held.delete(session);
      if (notes) for (const n of notes) this.onNote(n);
    }
  }

  /** The previous holder "<node> <boot> <conn>" of this peer id is on another node: it closes that connection. */
  private tellReplaced(session: RoutedPeer, old: string): void {
    const [node, boot, conn] = old.split(' ');
    const connId = Number(conn);
    if (!node || !boot || !Number.isSafeInteger(connId)) return;
    this.cmd.publish(channelOf(node), replacedNote(session.accountId, session.peerId, boot, connId)).catch(() => {
      /* Redis away: that node finds out when it claims its peers again (resume answers 'lost') */
    });
  }

  private onNote(text: string): void {
    if (this.closed || text.length > this.maxNoteChars) return;
    const note = parseNote(text);
    if (note === null || !this.local) return;
    if (note.kind === 'd') return this.onDeliver(note, text);
    if (note.boot !== this.opts.bootId) return; // meant for an earlier run of this node
    const session = this.local.find(note.accountId, note.peer);
    if (!session || session.connId !== note.conn || !session.open) return;
    if (note.kind === 'u') {
      session.sendError('peer_unavailable', note.message, note.id ?? undefined, note.to);
    } else {
      this.claimed.delete(session);
      this.local.replace(session);
    }
  }

  private onDeliver(note: Note & { kind: 'd' }, text: string): void {
    const limits = this.limits!;
    const target = this.local!.find(note.accountId, note.to);
    if (target) {
      const held = this.held.get(target);
      if (held && held.length < MAX_HELD_NOTES) {
        held.push(text);
        return;
      }
    }
    let why: string | undefined;
    if (!target || !target.open) {
      why = `peer ${note.to} is not connected`;
      // An entry left behind (a release while Redis was away) would keep sending its messages here.
      this.cmd.ferrySigRelease(peerKey(note.accountId, note.to), this.me, 'prefix').catch(() => {});
    } else if (target.link.bufferedAmount > limits.maxBufferedBytes) {
      why = `peer ${note.to} is not reading its connection`;
    } else {
      target.link.send(note.text);
      return;
    }
    if (note.bye) return;
    this.cmd.publish(channelOf(note.from.node), undeliverableNote(note.accountId, note.from, note.to, why)).catch(() => {});
  }
}
