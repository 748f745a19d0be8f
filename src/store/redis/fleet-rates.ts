/**
 * Rate limits shared by a fleet (RateCounter for src/limits/fleet-limits.ts). Events are counted
 * in Redis in fixed one-minute windows (`ferry:rate:<kind>:<window>:<key>`, INCRBY and PEXPIRE
 * in one Lua call for a whole batch), off the request path: record() only adds to a batch sent
 * within BATCH_MS. A count that reaches its limit blocks the key in this node's BlockTable until
 * the window ends, and the node that saw it cross publishes the block ({kind, key, until}) on
 * `ferry:fleet:blocks`, so every node refuses the key within one message delay. A node that missed
 * the message (reconnecting) blocks the key on its own next event of it, as Redis answers with a
 * count past the limit. Counts sent while Redis is down are dropped (the gate refuses new
 * allocations then anyway); failed authentications during an outage go uncounted.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type BlockTable, MAX_KEY_LENGTH, RATE_KINDS, type RateKind } from '../../limits/block-table.js';
import { RATE_WINDOW_MS, rateWindow, type RateCounter } from '../../limits/rate-counter.js';
import type { Logger } from '../../logger.js';
import { KEY_PREFIX } from './client.js';
import { parseJsonObject } from '../../json-message.js';

export const BLOCKS_CHANNEL = `${KEY_PREFIX}fleet:blocks`;
/** How long events wait to be sent together (the batch's part of the overshoot bound). */
export const BATCH_MS = 10;
/** The most distinct keys in one batch; more wait for the next one. */
const MAX_BATCH = 512;
const MAX_MESSAGE_BYTES = 1024;

/** INCRBY each key by its ARGV amount; a new key gets the window's expiry. Returns the counts. */
const INCR_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[i + 1])
  local c = redis.call('INCRBY', key, n)
  if c == n then redis.call('PEXPIRE', key, ARGV[1]) end
  out[i] = c
end
return out`;

interface Pending {
  readonly kind: RateKind;
  readonly key: string;
  readonly window: number;
  readonly end: number;
  limit: number;
  n: number;
}

/** A key as stored in Redis: IP texts and account ids as they are; anything odd hashed. */
function storedKey(key: string): string {
  return /^[A-Za-z0-9._:@-]{1,128}$/.test(key) ? key : `#${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

export interface FleetRatesOptions {
  readonly redis: Redis;
  readonly subscriber: Redis;
  readonly blocks: BlockTable;
  readonly now?: () => number;
  readonly log?: Logger;
}

export class RedisRateCounter implements RateCounter {
  readonly #o: FleetRatesOptions;
  readonly #now: () => number;
  #batch = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #inFlight: Promise<void> | undefined;
  readonly #detach: Array<() => void> = [];

  constructor(o: FleetRatesOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Subscribes to the fleet's blocks (autoresubscribed by ioredis after a reconnect). */
  async start(): Promise<void> {
    const { subscriber } = this.#o;
    const onMessage = (channel: string, message: string) => {
      if (channel === BLOCKS_CHANNEL) this.#onBlock(message);
    };
    subscriber.on('message', onMessage);
    this.#detach.push(() => subscriber.off('message', onMessage));
    await subscriber.subscribe(BLOCKS_CHANNEL);
  }

  /** Sends what is batched (best effort) and stops. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const d of this.#detach.splice(0)) d();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    await this.flush();
  }

  record(kind: RateKind, key: string, limit: number): void {
    if (this.#stopped || limit <= 0 || key.length > MAX_KEY_LENGTH) return;
    const w = rateWindow(this.#now());
    const id = `${kind}\n${w.index}\n${key}`;
    const p = this.#batch.get(id);
    if (p !== undefined) {
      p.n++;
      p.limit = limit;
    } else if (this.#batch.size < MAX_BATCH * 4) {
      this.#batch.set(id, { kind, key, window: w.index, end: w.end, limit, n: 1 });
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, BATCH_MS);
  }

  /** Sends the batch now; resolves when Redis answered (or failed). Never rejects. */
  async flush(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight;
    if (this.#batch.size === 0) return;
    const all = [...this.#batch.values()];
    const batch = all.slice(0, MAX_BATCH);
    this.#batch = new Map();
    for (const p of all.slice(MAX_BATCH)) this.#batch.set(`${p.kind}\n${p.window}\n${p.key}`, p);
    if (this.#batch.size > 0 && !this.#stopped) this.#timer ??= setTimeout(() => ((this.#timer = undefined), void this.flush()), BATCH_MS);
    this.#inFlight = this.#send(batch).finally(() => (this.#inFlight = undefined));
    await this.#inFlight;
  }

  async #send(batch: Pending[]): Promise<void> {
    const { redis, blocks, log } = this.#o;
    if (redis.status !== 'ready') return;
    const keys = batch.map((p) => `${KEY_PREFIX}rate:${p.kind}:${p.window}:${storedKey(p.key)}`);
    let counts: unknown;
    try {
      // A window's key lives one window past its end: late events of a node with a slow clock still count.
      counts = await redis.eval(INCR_SCRIPT, keys.length, ...keys, String(2 * RATE_WINDOW_MS), ...batch.map((p) => String(p.n)));
    } catch (err) {
      log?.debug({ err: (err as Error).message }, 'rate limits: counts not sent (Redis unavailable)');
      return;
    }
    if (!Array.isArray(counts)) return;
    const now = this.#now();
    const publish = redis.pipeline();
    let crossed = 0;
    batch.forEach((p, i) => {
      const c = Number(counts[i]);
      if (!Number.isFinite(c) || c < p.limit) return;
      blocks.block(p.kind, p.key, p.end, now);
      // The node whose events carried the count to the limit tells the others (once per crossing).
      if (c - p.n < p.limit) {
        publish.publish(BLOCKS_CHANNEL, JSON.stringify({ k: p.kind, key: p.key, u: p.end }));
        crossed++;
      }
    });
    if (crossed > 0) await publish.exec().catch((err: unknown) => log?.debug({ err: (err as Error).message }, 'rate limits: block not published'));
  }

  #onBlock(message: string): void {
    const m = parseJsonObject(message, MAX_MESSAGE_BYTES);
    if (m === undefined) return;
    const { k, key, u } = m;
    if (typeof k !== 'string' || !(RATE_KINDS as readonly string[]).includes(k)) return;
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) return;
    const now = this.#now();
    // A block lasts at most to the end of the window after the current one (clocks differ a little).
    if (typeof u !== 'number' || !Number.isFinite(u) || u > now + 2 * RATE_WINDOW_MS) return;
    this.#o.blocks.block(k as RateKind, key, u, now);
  }
}
