/**
 * WebhookOutbox in Redis, shared by the nodes of a fleet. Per receiver (webhook URL; <h> is the
 * first 32 hex digits of its SHA-256):
 *
 *   ferry:webhook:<h>:events  a stream, one entry per undelivered event (XADD on enqueue; the
 *                             head is XRANGE - + COUNT 1; delivered = XDEL), in enqueue order
 *   ferry:webhook:<h>:retry   hash: event id -> "<attempts> <next attempt ms> <last error>", for
 *                             entries that failed at least once
 *   ferry:webhook:<h>:lease   the delivery lease: "<node id>/<random>" of the node delivering
 *                             this receiver, with a TTL (SET NX PX, renewed while held)
 *   ferry:webhook:ids         hash: event id -> "<h> <stream id>" (marks name an entry by id;
 *                             also what refuses a duplicate id)
 *
 * Every node enqueues; the node holding a receiver's lease delivers it. The lease is renewed
 * every leaseMs/3 while held and released when the dispatcher stops or the URL is removed; a node
 * that dies keeps it until it expires (leaseMs), then another node's worker takes it at its next
 * look (pollMs). delivered() and failed() check the lease token in the same Lua script that
 * changes the entry, so a node whose lease another node took changes nothing
 * (WebhookLeaseLostError): it can neither reorder a receiver's entries nor mark one twice.
 *
 * Nothing is trimmed: an undelivered event stays until its receiver takes it (no MAXLEN), so a
 * receiver that is down for long costs Redis memory: about the body (≈ 1 KB for session.closed)
 * plus ≈ 150 bytes per entry and receiver (ferry_webhook_backlog shows it). What one enqueue may
 * write is bounded instead: MAX_ENQUEUE_ENTRIES entries of at most MAX_BODY_BYTES each and
 * MAX_ENQUEUE_BYTES in all; a larger enqueue is refused (RangeError), stores nothing.
 */
import { randomBytes, createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { WebhookLeaseLostError, type OutboxEntry, type OutboxEvent, type WebhookOutbox } from '../../webhooks/outbox.js';
import { KEY_PREFIX, StorageUnavailableError, redisCall } from './client.js';
import { CLAIM, ENQUEUE, HEAD, MARK, RELEASE } from './webhook-outbox-scripts.js';
import { execAll } from './script.js';

/** Entries (events × receivers) one enqueue may write. */
export const MAX_ENQUEUE_ENTRIES = 256;
/** One event's body, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;
/** All bodies of one enqueue, in bytes. */
export const MAX_ENQUEUE_BYTES = 1024 * 1024;
/** An event id, a type, a webhook URL: lengths accepted (written and read back). */
const MAX_ID = 128;
const MAX_TYPE = 64;
const MAX_URL = 2048;
/** The last error kept beside a failed entry, for a person reading Redis. */
const MAX_ERROR_LENGTH = 500;

export interface RedisWebhookOutboxOptions {
  /** Shown in the lease value (who delivers a receiver). */
  readonly nodeId: string;
  /** How long a lease lasts unrenewed: a dead node's receivers are taken over within leaseMs + pollMs. Default 10 s. */
  readonly leaseMs?: number;
  /** How often an idle worker (or one without the lease) looks again. Default 1 s. */
  readonly pollMs?: number;
}

interface Held {
  /** performance.now() until which the lease is ours for sure (measured from before the claim was sent). */
  validUntil: number;
}

const IDS_KEY = `${KEY_PREFIX}webhook:ids`;
const receiverHash = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 32);
const keys = (h: string) => ({ events: `${KEY_PREFIX}webhook:${h}:events`, retry: `${KEY_PREFIX}webhook:${h}:retry`, lease: `${KEY_PREFIX}webhook:${h}:lease` });

/** Redis refusing writes for a while (out of memory, loading, a replica): as good as unreachable, worth trying again. */
const TRANSIENT_REPLY = /^(OOM|LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;

async function call<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await redisCall(what, f);
  } catch (err) {
    if (err instanceof Error && !(err instanceof StorageUnavailableError) && TRANSIENT_REPLY.test(err.message)) {
      throw new StorageUnavailableError(`storage unavailable: ${what}: Redis refuses writes for now (${err.message.split(' ')[0]})`, { cause: err });
    }
    throw err;
  }
}

export class RedisWebhookOutbox implements WebhookOutbox {
  readonly pollMs: number;
  readonly #redis: Redis;
  readonly #token: string;
  readonly #leaseMs: number;
  readonly #held = new Map<string, Held>();
  readonly #releasing = new Map<string, Promise<void>>();
  /** Releases per receiver: a claim answered after a later release does not count as held. */
  readonly #releases = new Map<string, number>();
  #renewTimer: NodeJS.Timeout | undefined;

  /** `redis`: a client made by createRedis (never queues offline), connected; not closed here. */
  constructor(redis: Redis, opts: RedisWebhookOutboxOptions) {
    const leaseMs = opts.leaseMs ?? 10_000;
    const pollMs = opts.pollMs ?? 1000;
    if (!Number.isInteger(leaseMs) || leaseMs < 100) throw new RangeError('webhook outbox: leaseMs must be an integer of at least 100');
    if (!Number.isInteger(pollMs) || pollMs < 10) throw new RangeError('webhook outbox: pollMs must be an integer of at least 10');
    this.#redis = redis;
    this.#leaseMs = leaseMs;
    this.pollMs = pollMs;
    this.#token = `${opts.nodeId}/${randomBytes(8).toString('hex')}`;
  }

  /** The lease value this outbox writes ("<node id>/<random>"): what GET ferry:webhook:<h>:lease shows while it delivers. */
  get token(): string {
    return this.#token;
  }

  async enqueue(events: readonly OutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (events.length > MAX_ENQUEUE_ENTRIES) throw new RangeError(`webhook outbox: ${events.length} entries in one enqueue (at most ${MAX_ENQUEUE_ENTRIES})`);
    let total = 0;
    const args: (string | number)[] = [];
    const streams: string[] = [];
    for (const e of events) {
      const bytes = Buffer.byteLength(e.body);
      if (bytes > MAX_BODY_BYTES) throw new RangeError(`webhook outbox: event ${e.id} has a ${bytes}-byte body (at most ${MAX_BODY_BYTES})`);
      if (e.id.length === 0 || e.id.length > MAX_ID || e.type.length > MAX_TYPE || e.webhook.length > MAX_URL || !Number.isSafeInteger(e.createdAt)) {
        throw new RangeError(`webhook outbox: event ${e.id.slice(0, MAX_ID)} is malformed (id, type, URL or time)`);
      }
      total += bytes;
      const h = receiverHash(e.webhook);
      streams.push(keys(h).events);
      args.push(e.id, h, e.webhook, e.type, e.body, e.createdAt);
    }
    if (total > MAX_ENQUEUE_BYTES) throw new RangeError(`webhook outbox: ${total} bytes of bodies in one enqueue (at most ${MAX_ENQUEUE_BYTES})`);
    await call('webhook enqueue', () => ENQUEUE.run(this.#redis, [IDS_KEY, ...streams], args));
  }

  async head(webhook: string): Promise<OutboxEntry | undefined> {
    const k = keys(receiverHash(webhook));
    const r = await call('webhook head', () => HEAD.run(this.#redis, [k.events, k.retry], []));
    if (r === null) return undefined;
    return parseHead(r, webhook, k.events);
  }

  async delivered(id: string): Promise<void> {
    await this.#mark(id, 'delivered', 0, '');
  }

  async failed(id: string, nextAttemptAt: number, error: string): Promise<void> {
    await this.#mark(id, 'failed', Math.round(nextAttemptAt), error.slice(0, MAX_ERROR_LENGTH));
  }

  async #mark(id: string, op: 'delivered' | 'failed', next: number, error: string): Promise<void> {
    if (id.length === 0 || id.length > MAX_ID) return;
    const where = await call('webhook mark', () => this.#redis.hget(IDS_KEY, id));
    if (where === null) return; // gone: a repeated or late mark
    const m = /^([0-9a-f]{32}) (\d+-\d+)$/.exec(where);
    if (m === null) throw new Error(`webhook outbox: malformed index entry for ${id} in ${IDS_KEY}`);
    const k = keys(m[1]);
    const r = await call('webhook mark', () => MARK.run(this.#redis, [IDS_KEY, k.events, k.retry, k.lease], [id, where, m[2], this.#token, op, next, error, this.#leaseMs]));
    if (r === -1) {
      this.#held.delete(m[1]);
      throw new WebhookLeaseLostError(`webhook outbox: ${op} of ${id} refused: this node no longer holds the receiver's lease`);
    }
  }

  async backlog(webhooks: readonly string[]): Promise<number> {
    const urls = [...new Set(webhooks)];
    if (urls.length === 0) return 0;
    // Within call(): a pipeline reports a lost connection per command, in its results.
    return call('webhook backlog', async () => {
      const p = this.#redis.pipeline();
      for (const url of urls) p.xlen(keys(receiverHash(url)).events);
      return (await execAll<number>(p)).reduce((n, len) => n + Number(len), 0);
    });
  }

  async claim(webhook: string): Promise<boolean> {
    const h = receiverHash(webhook);
    // A release of this receiver still on its way must land first (it would delete the lease claimed now).
    await this.#releasing.get(h);
    const held = this.#held.get(h);
    if (held !== undefined && held.validUntil - performance.now() > this.#leaseMs / 2) return true;
    return this.#claim(h);
  }

  async #claim(h: string): Promise<boolean> {
    const sent = performance.now();
    const epoch = this.#releases.get(h) ?? 0;
    const r = await call('webhook claim', () => CLAIM.run(this.#redis, [keys(h).lease], [this.#token, this.#leaseMs]));
    // Released meanwhile (a renewal crossing a release): Redis ran the release after this claim.
    if ((this.#releases.get(h) ?? 0) !== epoch) return false;
    if (r === 1) {
      this.#held.set(h, { validUntil: sent + this.#leaseMs });
      this.#arm();
      return true;
    }
    this.#held.delete(h);
    return false;
  }

  async release(webhook: string): Promise<void> {
    const h = receiverHash(webhook);
    this.#releases.set(h, (this.#releases.get(h) ?? 0) + 1);
    this.#held.delete(h);
    if (this.#held.size === 0) this.#disarm();
    const p = call('webhook release', () => RELEASE.run(this.#redis, [keys(h).lease], [this.#token])).then(() => undefined);
    const settled = p.catch(() => undefined);
    this.#releasing.set(h, settled);
    void settled.then(() => {
      if (this.#releasing.get(h) === settled) this.#releasing.delete(h);
    });
    await p;
  }

  /** Stops renewing leases (they expire by themselves); the connection is the caller's to close. */
  close(): void {
    this.#held.clear();
    this.#disarm();
  }

  /** Renews the leases held every leaseMs/3 while any is held. */
  #arm(): void {
    if (this.#renewTimer !== undefined) return;
    this.#renewTimer = setInterval(() => {
      for (const h of [...this.#held.keys()]) {
        // A failed renewal (Redis away) keeps the lease's local end: claim() tries again once it nears.
        this.#claim(h).catch(() => undefined);
      }
      if (this.#held.size === 0) this.#disarm();
    }, Math.max(10, Math.floor(this.#leaseMs / 3)));
    this.#renewTimer.unref();
  }

  #disarm(): void {
    clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
  }
}

/** The head script's answer as an entry, checked field by field (what Redis holds is input too). */
function parseHead(r: unknown, webhook: string, key: string): OutboxEntry {
  const bad = (why: string) => new Error(`webhook outbox: malformed entry in ${key}: ${why}`);
  if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'string' || !Array.isArray(r[1]) || typeof r[2] !== 'string') throw bad('shape');
  const [sid, flat, retry] = r as [string, unknown[], string];
  if (flat.length > 20) throw bad(`${sid}: ${flat.length} fields`);
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) if (typeof flat[i] === 'string' && typeof flat[i + 1] === 'string') f.set(flat[i] as string, flat[i + 1] as string);
  const id = f.get('id') ?? '';
  const type = f.get('type') ?? '';
  const body = f.get('body');
  const created = Number(f.get('created'));
  if (id.length === 0 || id.length > MAX_ID || type.length === 0 || type.length > MAX_TYPE || body === undefined || Buffer.byteLength(body) > MAX_BODY_BYTES || !Number.isSafeInteger(created)) {
    throw bad(`${sid}: id, type, body or created`);
  }
  // A different URL hashing alike is not ours to deliver (a 128-bit collision: never in practice).
  if (f.get('webhook') !== webhook) throw bad(`${sid}: it names another webhook`);
  let attempts = 0;
  let nextAttemptAt = created;
  if (retry !== '') {
    const m = /^(\d{1,9}) (-?\d{1,16}) ?/.exec(retry);
    if (m === null) throw bad(`${sid}: retry state`);
    attempts = Number(m[1]);
    nextAttemptAt = Number(m[2]);
  }
  return { id, webhook, type, body, createdAt: created, attempts, nextAttemptAt };
}
