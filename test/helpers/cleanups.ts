// What a test started, to stop whatever happens: run() calls the cleanups newest first, each
// awaited, a failing one not stopping the rest, and forgets them (a second run() does nothing).
export class Cleanups {
  readonly #fns: Array<() => unknown> = [];

  push(fn: () => unknown): void {
    this.#fns.push(fn);
  }

  async run(): Promise<void> {
    for (const fn of this.#fns.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // keep cleaning up
      }
    }
  }
}
