/**
 * Live allocation counts shared by a fleet (FleetLink for src/limits/fleet-limits.ts). Each node
 * keeps its own live allocations per account in a hash `ferry:fleet:allocs:<node>` that expires
 * with the node's TTL (cluster.ttl): rewritten whole every heartbeat (cluster.heartbeat), and
 * changed field by field on every allocate and close, together with a message on
 * `ferry:fleet:allocs` carrying the new count (a count, not a delta: a repeated or reordered
 * message is corrected by the next one, and every heartbeat re-reads every node's hash). Each
 * node keeps the other live nodes' counts in memory (RemoteCounts) for the gate to read
 * synchronously. A node that stops heartbeating drops out with its hash, within the TTL.
 *
 * While the command or the subscriber connection is down, available() is false (the gate refuses
 * new allocations with 'unavailable'); after a reconnect it turns true once the node has written
 * its own hash again and read everyone else's.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { FleetLink } from '../../limits/fleet-limits.js';
import { MAX_ACCOUNTS_PER_NODE, MAX_NODES, type RemoteCounts } from '../../limits/remote-counts.js';
import { KEY_PREFIX } from './client.js';
import { parseJsonObject } from '../../json-message.js';

export const ALLOCS_CHANNEL = `${KEY_PREFIX}fleet:allocs`;
const NODES_KEY = `${KEY_PREFIX}fleet:alloc-nodes`;
const hashKey = (node: string) => `${KEY_PREFIX}fleet:allocs:${node}`;
/** The largest count message taken (an account id is at most 256 characters). */
const MAX_MESSAGE_BYTES = 1024;
const MAX_ACCOUNT_LENGTH = 256;

export interface FleetCountsOptions {
  /** Commands (not subscribed). */
  readonly redis: Redis;
  /** A connection of its own for SUBSCRIBE. */
  readonly subscriber: Redis;
  readonly nodeId: string;
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  readonly remote: RemoteCounts;
  /** This node's live allocations per account, read in full every heartbeat. */
  readonly local: () => Iterable<readonly [string, number]>;
  readonly log?: Logger;
  readonly now?: () => number;
}

type Sub = 'down' | 'subscribing' | 'up';

export class RedisFleetCounts implements FleetLink {
  readonly #o: FleetCountsOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #sub: Sub = 'down';
  /** A heartbeat (write + read) succeeded since the connections last came up. */
  #synced = false;
  #beating: Promise<void> | undefined;
  /** The last heartbeat failed (logged once per outage). */
  #failing = false;
  #stopped = false;
  readonly #detach: Array<() => void> = [];

  constructor(o: FleetCountsOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  available(): boolean {
    return !this.#stopped && this.#synced && this.#sub === 'up' && this.#o.redis.status === 'ready' && this.#o.subscriber.status === 'ready';
  }

  /** Subscribes, writes and reads once, then every heartbeat. Rejects when Redis cannot be reached. */
  async start(): Promise<void> {
    const { redis, subscriber } = this.#o;
    const onMessage = (channel: string, message: string) => {
      if (channel === ALLOCS_CHANNEL) this.#onMessage(message);
    };
    // A reconnect needs a resync: counts changed meanwhile went unseen.
    const onDown = () => {
      this.#synced = false;
      this.#sub = 'down';
    };
    const onCmdDown = () => (this.#synced = false);
    const onReady = () => void this.#subscribe();
    const onCmdReady = () => void this.beat();
    subscriber.on('message', onMessage);
    subscriber.on('close', onDown);
    subscriber.on('ready', onReady);
    redis.on('close', onCmdDown);
    redis.on('ready', onCmdReady);
    this.#detach.push(
      () => subscriber.off('message', onMessage),
      () => subscriber.off('close', onDown),
      () => subscriber.off('ready', onReady),
      () => redis.off('close', onCmdDown),
      () => redis.off('ready', onCmdReady),
    );
    await this.#subscribe();
    if (this.#sub !== 'up') throw new Error('fleet counts: cannot subscribe to Redis');
    await this.beat();
    if (!this.#synced) throw new Error('fleet counts: cannot write this node\'s counts to Redis');
    this.#timer = setInterval(() => void this.beat(), this.#o.heartbeatMs);
    this.#timer.unref();
  }

  /** Stops the heartbeat and removes this node's counts (its allocations are closed by then). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const d of this.#detach.splice(0)) d();
    await this.#beating?.catch(() => {});
    const { redis, nodeId } = this.#o;
    if (redis.status === 'ready') await redis.multi().del(hashKey(nodeId)).zrem(NODES_KEY, nodeId).exec().catch(() => {});
  }

  publishCount(account: string, count: number): void {
    if (this.#stopped || this.#o.redis.status !== 'ready' || account.length > MAX_ACCOUNT_LENGTH) return;
    const { redis, nodeId, ttlMs } = this.#o;
    const key = hashKey(nodeId);
    const m = redis.multi();
    if (count > 0) m.hset(key, account, String(count));
    else m.hdel(key, account);
    m.pexpire(key, ttlMs).publish(ALLOCS_CHANNEL, JSON.stringify({ n: nodeId, a: account, c: count }));
    // Fire and forget: a lost update is rewritten by the next heartbeat.
    m.exec().catch((err: unknown) => this.#o.log?.debug({ err: (err as Error).message }, 'fleet counts: update not written; the next heartbeat rewrites it'));
  }

  /** One heartbeat: rewrite this node's hash, then read every live node's. Never rejects. */
  beat(): Promise<void> {
    this.#beating ??= this.#beat()
      .catch((err: unknown) => {
        // Logged once per outage: the heartbeat fails every beat until Redis is back.
        if (this.#synced || !this.#failing) this.#o.log?.warn({ err: (err as Error).message }, 'fleet counts: heartbeat failed; new allocations are refused until Redis answers again');
        this.#synced = false;
        this.#failing = true;
      })
      .finally(() => (this.#beating = undefined));
    return this.#beating;
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return;
    const { redis, nodeId, ttlMs } = this.#o;
    const key = hashKey(nodeId);
    const now = this.#now();
    const fields: string[] = [];
    for (const [account, count] of this.#o.local()) if (count > 0 && account.length <= MAX_ACCOUNT_LENGTH) fields.push(account, String(count));
    const m = redis.multi().del(key);
    if (fields.length > 0) m.hset(key, ...fields).pexpire(key, ttlMs);
    // The node list only finds the hashes: a hash that expired is a node that is gone. Entries
    // far older than the TTL are dropped (scored by the writer's clock, hence the margin).
    m.zadd(NODES_KEY, now, nodeId).zremrangebyscore(NODES_KEY, '-inf', now - 10 * ttlMs);
    const wrote = await m.exec();
    if (wrote === null || wrote.some(([err]) => err !== null)) throw new Error('fleet counts: heartbeat transaction failed');
    const nodes = (await redis.zrange(NODES_KEY, 0, MAX_NODES - 1)).filter((n) => n !== nodeId);
    const read = redis.pipeline();
    for (const n of nodes) read.hgetall(hashKey(n));
    const hashes = nodes.length > 0 ? await read.exec() : [];
    const all = new Map<string, Map<string, number>>();
    nodes.forEach((n, i) => {
      const [err, h] = hashes?.[i] ?? [null, null];
      if (err !== null || h === null || typeof h !== 'object') return;
      const counts = new Map<string, number>();
      for (const [account, v] of Object.entries(h as Record<string, string>)) {
        if (counts.size >= MAX_ACCOUNTS_PER_NODE) break;
        const c = Number(v);
        if (Number.isSafeInteger(c) && c > 0) counts.set(account, c);
      }
      if (counts.size > 0) all.set(n, counts);
    });
    if (this.#stopped) return;
    this.#o.remote.replace(all);
    if (this.#failing) this.#o.log?.info('fleet counts: Redis answers again; new allocations admitted');
    this.#failing = false;
    this.#synced = true;
  }

  async #subscribe(): Promise<void> {
    if (this.#stopped || this.#sub !== 'down') return;
    this.#sub = 'subscribing';
    try {
      await this.#o.subscriber.subscribe(ALLOCS_CHANNEL);
      this.#sub = 'up';
      // Whatever was published while unsubscribed is read back by a heartbeat now.
      if (this.#o.redis.status === 'ready') void this.beat();
    } catch (err) {
      this.#sub = 'down';
      this.#o.log?.warn({ err: (err as Error).message }, 'fleet counts: cannot subscribe; retried when Redis is back');
    }
  }

  #onMessage(message: string): void {
    const m = parseJsonObject(message, MAX_MESSAGE_BYTES);
    if (m === undefined) return;
    const { n, a, c } = m;
    if (typeof n !== 'string' || n === this.#o.nodeId || n.length > 63) return;
    if (typeof a !== 'string' || a.length === 0 || a.length > MAX_ACCOUNT_LENGTH) return;
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) return;
    this.#o.remote.set(n, a, c);
  }
}
