/**
 * Usage webhook events once per fleet. Every node's limiter adds the same fleet-wide ledger, so
 * every node sees a limit crossed, a timeframe reset and a report due; each event is sent only
 * by the node that first claims its name: (event, account, timeframe start), plus the limit for
 * usage.soft_limit and usage.hard_limit (a changed limit crossed again is a new event) and the
 * report interval's slot for usage.report. A name is claimed until past its timeframe's end (a
 * report's, two intervals). A claim that fails because storage is down is retried (every
 * RETRY_MS, at most RETRIES times) before the event is given up and logged.
 *
 * The claim is taken before the event is stored. When this node cannot store it (emit rejects:
 * its in-memory queue for an unreachable outbox is full, or it is stopping) the claim is released
 * (retried the same way) so that another node sends it: each node whose claim lost claims once
 * more RECHECK_MS later (a claim still held, the normal case, costs one SET NX). What remains: a node that dies between its claim and storing the event (or
 * while the event waits in its memory for the outbox) loses that event fleet-wide until the
 * claim expires (past the timeframe's end; two intervals for a report).
 */
import type { Logger } from '../logger.js';
import type { LimitWebhook } from './limiter.js';

/**
 * Claims `name` for `ttlMs`: for the first claim in the fleet, a release that gives the claim back
 * (another node may then claim and send the event); null when the name is claimed already.
 * Rejects while storage is down.
 */
export type Claim = (name: string, ttlMs: number) => Promise<(() => Promise<void>) | null>;

export const RETRY_MS = 1000;
export const RETRIES = 30;
/** A node whose claim lost tries once more this much later: the winner may have given it back. */
export const RECHECK_MS = 10_000;
/** How long past a timeframe's end its event names stay claimed. */
const AFTER_END_MS = 3_600_000;

/** The name an event is claimed under and for how long; null when the data is not an event's. */
export function eventClaim(type: LimitWebhook, data: unknown, now: number, reportIntervalMs: number): { name: string; ttlMs: number } | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  const account = d.account === null ? '*' : typeof d.account === 'string' ? d.account : null;
  const start = typeof d.timeframe_start === 'string' ? d.timeframe_start : null;
  const end = typeof d.timeframe_end === 'string' ? Date.parse(d.timeframe_end) : NaN;
  if (account === null || start === null || !Number.isFinite(end)) return null;
  const untilEnd = Math.max(0, end - now) + AFTER_END_MS;
  switch (type) {
    case 'usage.soft_limit':
    case 'usage.hard_limit':
      return { name: `${type}:${start}:${String(d.limit_bytes)}:${account}`, ttlMs: untilEnd };
    case 'usage.reset':
      return { name: `${type}:${start}:${account}`, ttlMs: untilEnd };
    case 'usage.report': {
      if (!(reportIntervalMs > 0)) return null;
      const slot = Math.floor(now / reportIntervalMs);
      return { name: `${type}:${start}:${slot}:${account}`, ttlMs: 2 * reportIntervalMs };
    }
  }
}

export interface OncePerFleetOptions {
  readonly claim: Claim;
  /** Stores the event for delivery; a rejection (it was not stored) gives the claim back. */
  readonly emit: (type: LimitWebhook, data: unknown) => void | Promise<unknown>;
  readonly reportIntervalMs: () => number;
  readonly now?: () => number;
  readonly log?: Logger;
  readonly retryMs?: number;
  /** After a lost claim, when it is tried once more (default RECHECK_MS). */
  readonly recheckMs?: number;
}

/** An emit for the limiter that sends each event only where its claim succeeds. */
export function oncePerFleet(o: OncePerFleetOptions): (type: LimitWebhook, data: unknown) => void {
  const now = o.now ?? Date.now;
  return (type, data) => {
    const claim = eventClaim(type, data, now(), o.reportIntervalMs());
    if (claim === null) {
      const r = o.emit(type, data);
      if (r instanceof Promise) r.catch(() => undefined);
      return;
    }
    const retry = (left: number, err: unknown, what: string, again: (left: number) => void): void => {
      if (left <= 0) return void o.log?.error({ err: (err as Error).message, event: type }, what);
      setTimeout(() => again(left - 1), o.retryMs ?? RETRY_MS).unref();
    };
    const release = (give: () => Promise<void>, left: number): void => {
      give().catch((err: unknown) => retry(left, err, 'usage webhook event claim not released: storage unavailable (it expires)', (l) => release(give, l)));
    };
    const attempt = (left: number, recheck: boolean): void => {
      o.claim(claim.name, claim.ttlMs).then(
        (give) => {
          // Claimed elsewhere: claimed once more later, in case that node gives it back.
          if (give === null) {
            if (recheck) setTimeout(() => attempt(RETRIES, false), o.recheckMs ?? RECHECK_MS).unref();
            return;
          }
          let sent: void | Promise<unknown>;
          try {
            sent = o.emit(type, data);
          } catch (err) {
            sent = Promise.reject(err);
          }
          Promise.resolve(sent).catch((err: unknown) => {
            o.log?.warn({ err: (err as Error).message, event: type }, 'usage webhook event not stored here: its claim is given back');
            release(give, RETRIES);
          });
        },
        (err: unknown) => retry(left, err, 'usage webhook event given up: storage unavailable', (l) => attempt(l, recheck)),
      );
    };
    attempt(RETRIES, true);
  };
}
