/**
 * The synchronous in-memory view of every account's auth state, read by the TURN auth path and by
 * signaling-token verification on every request (no I/O there). The AccountService keeps it current.
 */
import type { AccountState } from './types.js';

export class AccountDirectory {
  readonly #states = new Map<string, AccountState>();

  /** The state of an account, or undefined for an id Ferry never created. */
  state(id: string): AccountState | undefined {
    return this.#states.get(id);
  }

  set(state: AccountState): void {
    this.#states.set(state.id, Object.freeze({ id: state.id, status: state.status, credentialsNotBefore: state.credentialsNotBefore }));
  }

  /** Replaces the whole view (warm-up from `AccountStore.states()`). */
  load(states: Iterable<AccountState>): void {
    this.#states.clear();
    for (const s of states) this.set(s);
  }

  get size(): number {
    return this.#states.size;
  }
}
