/**
 * Items that all wait the same time, so the order they arrive in is the order they expire in: one
 * array swept from its head, O(1) per item. The array is compacted once the consumed head is
 * both long (over 1024) and most of it, so it never holds more than about twice what waits.
 */
export class ExpiryFifo<T extends { readonly expiresAt: number }> {
  #items: (T | undefined)[] = [];
  #head = 0;

  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the oldest item when it has expired (expiresAt <= now); else undefined. */
  shiftExpired(now: number): T | undefined {
    const items = this.#items;
    if (this.#head >= items.length) return undefined;
    const item = items[this.#head]!;
    if (item.expiresAt > now) return undefined;
    items[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The items still waiting, oldest first. */
  *waiting(): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i]!;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
