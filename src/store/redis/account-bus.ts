/**
 * Account changes across the fleet over Redis pub/sub (channel `ferry:accounts`). A message only
 * names the account (and whether access ended, or which API key was revoked); receivers reload
 * it from the store. Pub/sub may lose messages while a node is disconnected, so after every
 * (re)connect the subscriber first subscribes, then asks for a full resync: nothing written
 * before the subscription took effect is missed. A publish that fails (Redis away, or a command
 * timing out or refused on a connection that stays up) is kept, bounded, and sent again:
 * RESEND_DELAY_MS after the connection is back, and on a timer (RESEND_DELAY_MS doubling up to
 * RESEND_MAX_MS) until it goes through. What is still lost, the receivers' periodic resync covers.
 * A publish-only bus (the CLI) awaits its publishes with flush() to say when they failed.
 *
 * Incoming messages are external input: over MAX_MESSAGE_BYTES, not JSON, or with fields out of
 * shape, they are ignored. A node ignores its own messages (it applied the change already).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AccountChange, AccountChangeBus, AccountChangeListener } from '../../accounts/change-bus.js';
import type { Logger } from '../../logger.js';
import { remove } from '../../subscriptions.js';
import { parseJsonObject } from '../../json-message.js';
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
export const RESEND_MAX_MS = 10_000;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The change in `text`, and who sent it; null when it is not a well-formed message. */
export function decodeChange(text: string): { from: string; change: AccountChange } | null {
  const m = parseJsonObject(text, MAX_MESSAGE_BYTES);
  if (m === undefined) return null;
  const { v, from, account, closed, key } = m;
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
  readonly #inflight = new Set<Promise<void>>();
  #lastError = '';
  #resendTimer: NodeJS.Timeout | undefined;
  /** The delay of the next timed resend; 0 until a publish fails. */
  #resendDelay = 0;
  #closed = false;

  constructor(options: RedisAccountBusOptions) {
    this.#log = options.log;
    this.#pub = createRedis(options.url, { role: 'accounts-pub' });
    // ioredis needs an 'error' listener; the reconnects are its own.
    this.#pub.on('error', () => {});
    this.#pub.on('ready', () => {
      // Back: the timed resend starts over at RESEND_DELAY_MS.
      clearTimeout(this.#resendTimer);
      this.#resendTimer = undefined;
      this.#resendDelay = 0;
      this.#scheduleResend();
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

  /**
   * Waits for the publishes made so far (those that failed are tried once more now); null when all
   * went out, else why not (the last error). For a publish-only bus that exits after its change.
   */
  async flush(): Promise<string | null> {
    await Promise.allSettled([...this.#inflight]);
    if (this.#unsent.length > 0 && !this.#closed) {
      clearTimeout(this.#resendTimer);
      this.#resendTimer = undefined;
      this.#resend();
      await Promise.allSettled([...this.#inflight]);
    }
    return this.#unsent.length === 0 ? null : this.#lastError;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#resendTimer);
    // QUIT goes after the PUBLISHes already sent on the connection: they are delivered first.
    await Promise.all(this.#clients().map((r) => r.quit().catch(() => r.disconnect())));
  }

  #send(message: string): void {
    if (this.#closed) return;
    const sent = this.#pub.publish(ACCOUNTS_CHANNEL, message).then(
      () => {
        this.#resendDelay = 0;
      },
      (err: unknown) => {
        this.#lastError = err instanceof Error ? err.message : String(err);
        this.#unsent.push(message);
        if (this.#unsent.length > MAX_UNSENT) this.#unsent.shift();
        this.#scheduleResend();
      },
    );
    this.#inflight.add(sent);
    void sent.finally(() => this.#inflight.delete(sent));
  }

  /** A resend on a timer (not only on 'ready': a publish may fail on a connection that stays up). */
  #scheduleResend(): void {
    if (this.#closed || this.#resendTimer !== undefined || this.#unsent.length === 0) return;
    // One line per streak of failures, not one per try.
    if (this.#resendDelay === 0) this.#log?.warn({ err: this.#lastError, unsent: this.#unsent.length }, 'account changes: publish failed; sent again on a timer');
    const delay = this.#resendDelay === 0 ? RESEND_DELAY_MS : Math.min(this.#resendDelay * 2, RESEND_MAX_MS);
    this.#resendDelay = delay;
    this.#resendTimer = setTimeout(() => {
      this.#resendTimer = undefined;
      this.#resend();
    }, delay);
    this.#resendTimer.unref();
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
