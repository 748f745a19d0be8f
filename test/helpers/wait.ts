// Small async utilities for interop tests.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects with `what` (a function is called at the deadline) if `p` does not settle within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${typeof what === 'function' ? what() : what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Polls `check` every `everyMs` until it returns true; rejects after `ms`. */
export async function until(check: () => boolean, ms: number, what: string, everyMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(everyMs);
  }
}

/**
 * For a file's last after() hook when a third-party client may leak handles after a failure (werift
 * leaks the UDP socket of a TURN client whose Allocate failed): if something still holds the event
 * loop `graceMs` later, exit with the runner's exit code instead of hanging. Does nothing when the
 * process exits on its own.
 */
export function exitIfStuck(graceMs = 3000): void {
  setTimeout(() => process.exit(), graceMs).unref();
}
