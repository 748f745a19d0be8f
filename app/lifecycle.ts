/**
 * One ordered list of components drives start, stop and the cleanup of a failed start: start in
 * list order; stop, and the cleanup, in reverse. The order is chosen in app/ferry.ts so that its
 * reverse is the shutdown Ferry guarantees.
 */
import type { Logger } from '../src/logger.js';
import type { Component } from './components/component.js';

/**
 * Stops `components` last to first, each even when an earlier one fails; rethrows the first
 * failure once all have run.
 */
export async function stopInReverse(components: readonly Component[]): Promise<void> {
  let first: unknown;
  for (const component of [...components].reverse()) {
    try {
      await component.stop();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/**
 * Starts `components` in order. When one fails, the ones started so far and the failed one (it
 * may have started in part) are stopped in reverse, and its error is thrown.
 */
export async function startInOrder(components: readonly Component[], log: Logger): Promise<void> {
  for (const [i, component] of components.entries()) {
    try {
      await component.start();
    } catch (err) {
      await stopInReverse(components.slice(0, i + 1)).catch((closeErr: unknown) => log.warn({ err: closeErr }, 'cleanup after a failed start'));
      throw err;
    }
  }
}
