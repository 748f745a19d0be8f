/**
 * Account changes across the fleet over Redis pub/sub (channel `ferry:accounts`). A message only
 * names the account (and whether access ended, or which API key was revoked); receivers reload
 * it from the store. Pub/sub may lose messages while a node is disconnected, so after every
 * (re)connect the subscriber first subscribes, then asks for a full resync: nothing written
 * before the subscription took effect is missed. A publish that fails (Redis away) is kept,
 * bounded, and sent again RESEND_DELAY_MS after the connection is back.
 *
 * Incoming messages are external input: over MAX_MESSAGE_BYTES, not JSON, or with fields out of
 * shape, they are ignored. A node ignores its own messages (it applied the change already).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AccountChange, AccountChangeBus, AccountChangeListener } from '../../accounts/change-bus.js';
import type { Logger } from '../../logger.js';
import { remove } from '../../subscriptions.js';
import { createRedis, KEY_PREFIX } from './client.js';

export const ACCOUNTS_CHANNEL = `${KEY_PREFIX}accounts`;
export const MAX_MESSAGE_BYTES = 512;
/** Failed publishes kept for a resend (more: the oldest are dropped; the others' resync covers them). */
const MAX_UNSENT = 1000;
/**
 * How long after its reconnect a node resends what it could not publish: the other nodes'
 * subscribers, cut by the same outage, are subscribed again by then (pub/sub keeps nothing for a
 * node that is not subscribed). What they still miss of account state, their resync covers.
 */
export const RESEND_DELAY_MS = 1000;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The change in `text`, and who sent it; null when it is not a well-formed message. */
export function decodeChange(text: string): { from: string; change: AccountChange } | null {
  if (text.length > MAX_MESSAGE_BYTES) return null;
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const { v, from, account, closed, key } = m as Record<string, unknown>;
  if (v !== 1 || typeof from !== 'string' || !ID.test(from) || typeof account !== 'string' || !ID.test(account)) return null;
  if (closed !== undefined && typeof closed !== 'boolean') return null;
  if (key !== undefined && (typeof key !== 'string' || !ID.test(key))) return null;
  return { from, change: { accountId: account, ...(closed === true ? { closed } : {}), ...(key !== undefined ? { apiKeyId: key } : {}) } };
}

export interface RedisAccountBusOptions {
  readonly url: string;
  readonly log?: Logger;
  /** false: publish only (the CLI writing to the store of a running fleet). Default true. */
  readonly subscribe?: boolean;
}

export class RedisAccountBus implements AccountChangeBus {
  readonly #pub: Redis;
  readonly #sub: Redis | undefined;
  readonly #log: Logger | undefined;
  /** This instance's id: its own messages come back on the channel and are skipped. */
  readonly #origin = randomBytes(8).toString('hex');
  readonly #listeners: AccountChangeListener[] = [];
  readonly #unsent: string[] = [];
  #closed = false;

  constructor(options: RedisAccountBusOptions) {
    this.#log = options.log;
    this.#pub = createRedis(options.url, { role: 'accounts-pub' });
    // ioredis needs an 'error' listener; the reconnects are its own.
    this.#pub.on('error', () => {});
    this.#pub.on('ready', () => {
      if (this.#unsent.length > 0) setTimeout(() => this.#resend(), RESEND_DELAY_MS).unref();
    });
    if (options.subscribe === false) return;
    const sub = createRedis(options.url, { role: 'accounts-sub' });
    this.#sub = sub;
    // Subscribed by hand on every 'ready', so the resync can follow the subscription.
    sub.options.autoResubscribe = false;
    sub.on('error', () => {});
    sub.on('ready', () => void this.#subscribe(sub));
    sub.on('message', (channel: string, message: string) => {
      if (channel === ACCOUNTS_CHANNEL) this.#receive(message);
    });
  }

  #clients(): Redis[] {
    return this.#sub === undefined ? [this.#pub] : [this.#pub, this.#sub];
  }

  /** Connects both connections; without Redis they keep reconnecting in the background. */
  async start(): Promise<void> {
    await Promise.all(
      this.#clients().map((r) =>
        r.connect().catch((err: unknown) => this.#log?.warn({ err: (err as Error).message }, 'account changes: Redis not reachable yet; reconnecting')),
      ),
    );
  }

  publish(change: AccountChange): void {
    const message = JSON.stringify({
      v: 1,
      from: this.#origin,
      account: change.accountId,
      ...(change.closed === true ? { closed: true } : {}),
      ...(change.apiKeyId !== undefined ? { key: change.apiKeyId } : {}),
    });
    this.#send(message);
  }

  subscribe(listener: AccountChangeListener): () => void {
    this.#listeners.push(listener);
    return () => remove(this.#listeners, listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // QUIT goes after the PUBLISHes already sent on the connection: they are delivered first.
    await Promise.all(this.#clients().map((r) => r.quit().catch(() => r.disconnect())));
  }

  #send(message: string): void {
    if (this.#closed) return;
    this.#pub.publish(ACCOUNTS_CHANNEL, message).catch(() => {
      this.#unsent.push(message);
      if (this.#unsent.length > MAX_UNSENT) this.#unsent.shift();
    });
  }

  #resend(): void {
    for (const message of this.#unsent.splice(0)) this.#send(message);
  }

  async #subscribe(sub: Redis): Promise<void> {
    try {
      await sub.subscribe(ACCOUNTS_CHANNEL);
    } catch (err) {
      // The connection dropped again: the next 'ready' subscribes.
      this.#log?.warn({ err: (err as Error).message }, 'account changes: subscribe failed; retried on reconnect');
      return;
    }
    for (const l of [...this.#listeners]) {
      try {
        l.resync();
      } catch {
        // a listener's failure is its own
      }
    }
  }

  #receive(message: string): void {
    const decoded = decodeChange(message);
    if (decoded === null || decoded.from === this.#origin) return;
    for (const l of [...this.#listeners]) {
      try {
        l.change(decoded.change);
      } catch {
        // never let a listener's failure escape the socket callback
      }
    }
  }
}
