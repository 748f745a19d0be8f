/**
 * What a console page gets and gives back. A page is mounted into `main` when its route is shown
 * and unmounted when the operator leaves it: it stops its timers and charts there, so only the
 * page on screen polls the API.
 */
import type { Api } from './api.js';

export interface PageContext {
  readonly api: Api;
  /** The page's container (emptied before the page is mounted). */
  readonly main: HTMLElement;
  /** The route's parameters after the page's name, decoded: #/accounts/acc_1 → ['acc_1']. */
  readonly params: readonly string[];
  /** Goes to another route, e.g. navigate('#/accounts/acc_1'). */
  navigate(hash: string): void;
  /** Says `message` to screen readers (a polite live region). */
  announce(message: string): void;
  /** Runs `fn` now and every `ms` while the page is shown; a run waits for the previous one. */
  every(ms: number, fn: () => Promise<void>): void;
  /** Called when the page is left (after its timers stop). */
  onLeave(fn: () => void): void;
}

export type Page = (ctx: PageContext) => void | Promise<void>;

/** How often live pages ask again: the relay registry's heartbeat (cluster.heartbeat) is 2 s. */
export const POLL_MS = 2_000;
