/**
 * Account management over an AccountStore, keeping the in-memory AccountDirectory (read by the
 * TURN auth path) current and closing live allocations through the subscribed relays (RelayControl) when an account is
 * disabled, deleted or has its credentials revoked. Absence is a value (undefined / false / null);
 * invalid input throws an AccountError with code 'invalid'.
 *
 * In a fleet (an AccountChangeBus given), every change written here is announced to the other
 * nodes, and a change announced by another node is reloaded from the store and applied exactly as
 * the local change was: directory, limits, caps, closed allocations, the access-revoked listeners.
 */
import type { AccountChange, AccountChangeBus } from './change-bus.js';
import { AccountChangeQueue, type PendingChange } from './change-queue.js';
import { AccountDirectory } from './directory.js';
import { KeyCatchUp, type ApiKeysInUse } from './key-catch-up.js';
import { AccountError } from './errors.js';
import { apiKeyPrefix, hashApiKey, isApiKeyShape, newAccountId, newApiKey, newApiKeyId } from './keys.js';
import { validateAccountName, validateLimit, validateMaxBps } from './validate.js';
import type { Account, AccountState, AccountStatus, AccountStore, ApiKeyInfo, RelayControl } from './types.js';
import { remove } from '../subscriptions.js';

export { AccountError } from './errors.js';
export { MAX_NAME_LENGTH, validateAccountName, validateLimit, validateMaxBps } from './validate.js';

export interface AccountUpdate {
  readonly name?: string;
  readonly disabled?: boolean;
  /** Bytes per usage timeframe, or a size such as "10GB"; null removes the limit. */
  readonly limit?: number | string | null;
  /** Bandwidth cap in bytes per second (each way), or a size such as "1MB" per second; null removes it. */
  readonly max_bps?: number | string | null;
}

function stateOf(account: Account): AccountState {
  const status: AccountStatus = account.disabled ? 'disabled' : 'active';
  return { id: account.id, status, credentialsNotBefore: account.credentialsNotBefore };
}

/**
 * Told when access ends: with `apiKeyId` undefined the whole account lost it (disabled, deleted,
 * credentials revoked); with an id, only what was opened with that API key (the key was revoked).
 */
export type AccessRevokedListener = (accountId: string, apiKeyId?: string) => void;

export interface AccountServiceOptions {
  /** Announces this node's changes and brings the other nodes' (a fleet); absent: one node. */
  readonly bus?: AccountChangeBus;
  /** Told when applying another node's change failed (the store was unreachable), retried in `retryMs`: for a log line. */
  readonly onRemoteError?: (err: unknown, what: string, retryMs: number) => void;
  /** The periodic resync's interval in ms (a fleet; default 60 s, 0: none). */
  readonly resyncEveryMs?: number;
}

/** Local writes recorded while another node's change is read, at most (more: the resync runs again). */
const MAX_WRITTEN = 10_000;

export class AccountService {
  readonly #store: AccountStore;
  readonly #directory: AccountDirectory;
  readonly #relays: RelayControl[] = [];
  readonly #revokedListeners: AccessRevokedListener[] = [];
  readonly #now: () => number;
  /** Per-account usage limits (bytes per timeframe), kept in memory for the limiter. */
  readonly #limits = new Map<string, number>();
  /** Per-account bandwidth caps (bytes per second), read by the relay when an allocation starts. */
  readonly #maxBps = new Map<string, number>();
  readonly #bus: AccountChangeBus | undefined;
  readonly #remote: AccountChangeQueue | undefined;
  readonly #unsubscribeBus: (() => void) | undefined;
  readonly #keySources: ApiKeysInUse[] = [];
  readonly #keyCatchUp = new KeyCatchUp();
  /**
   * The accounts written here while another node's change (or a resync) is read from the store;
   * undefined when none is read. What is read is older than these writes: it must not overwrite
   * them. `#overflow`: too many to keep, the read is discarded and the resync runs again.
   */
  #written: Set<string> | undefined;
  #overflow = false;

  constructor(store: AccountStore, directory: AccountDirectory, now: () => number, options: AccountServiceOptions = {}) {
    this.#store = store;
    this.#directory = directory;
    this.#now = now;
    const { bus, onRemoteError, resyncEveryMs } = options;
    this.#bus = bus;
    if (bus !== undefined) {
      const queue = new AccountChangeQueue(
        {
          apply: (change) => this.#reading(() => this.#applyRemote(change)),
          resync: () => this.#reading(() => this.#resync()),
          failed: (err, what, retryMs) => onRemoteError?.(err, what, retryMs),
        },
        resyncEveryMs !== undefined ? { resyncEveryMs } : {},
      );
      this.#remote = queue;
      this.#unsubscribeBus = bus.subscribe({ change: (c) => queue.add(c), resync: () => queue.resync() });
    }
  }

  /** A service whose directory is warmed from `store.states()` (deleted accounts included). */
  static async open(store: AccountStore, now: () => number, options: AccountServiceOptions = {}): Promise<AccountService> {
    const directory = new AccountDirectory();
    directory.load(await store.states());
    const service = new AccountService(store, directory, now, options);
    for (const a of await store.listAccounts()) {
      if (a.limitBytes !== undefined) service.#limits.set(a.id, a.limitBytes);
      if (a.maxBps !== undefined) service.#maxBps.set(a.id, a.maxBps);
    }
    return service;
  }

  /** The directory to hand to `createAuthHandler({ accounts })` and `SignalTokens`. */
  get directory(): AccountDirectory {
    return this.#directory;
  }

  /** The live accounts' usage limits (bytes per timeframe), by account id; read by src/limits/. */
  limits(): ReadonlyMap<string, number> {
    return this.#limits;
  }

  /** The account's bandwidth cap in bytes per second (each way), 0 for none; read by the relay. */
  maxBps(accountId: string): number {
    return this.#maxBps.get(accountId) ?? 0;
  }

  /**
   * Subscribes a relay to the account changes it acts on: an account that loses access has its
   * allocations closed (revokeCredentials answers the sum of the counts), a changed bandwidth cap
   * applies to its live allocations. The relay is built after the service (its auth handler reads
   * the directory) and subscribes then; the CLI has no relay. Returns the unsubscribe.
   */
  subscribeRelay(relay: RelayControl): () => void {
    this.#relays.push(relay);
    return () => remove(this.#relays, relay);
  }

  async createAccount(name: string): Promise<{ account: Account; apiKey: string }> {
    const account: Account = {
      id: newAccountId(),
      name: validateAccountName(name),
      disabled: false,
      createdAt: this.#now(),
      // 0: nothing revoked yet, so plain `<expiry>:<account>` credentials work from the start.
      credentialsNotBefore: 0,
    };
    await this.#store.createAccount(account);
    this.#wrote(account.id);
    this.#directory.set(stateOf(account));
    this.#publish({ accountId: account.id });
    const { apiKey } = await this.#addKey(account.id);
    return { account, apiKey };
  }

  listAccounts(): Promise<Account[]> {
    return this.#store.listAccounts();
  }

  getAccount(id: string): Promise<Account | undefined> {
    return this.#store.getAccount(id);
  }

  /** undefined for an unknown or deleted account. Disabling closes the account's live allocations. */
  async updateAccount(id: string, update: AccountUpdate): Promise<Account | undefined> {
    const patch: { name?: string; disabled?: boolean; limitBytes?: number | null; maxBps?: number | null } = {};
    if (update.name !== undefined) patch.name = validateAccountName(update.name);
    if (update.disabled !== undefined) {
      if (typeof update.disabled !== 'boolean') throw new AccountError('invalid', 'disabled must be a boolean');
      patch.disabled = update.disabled;
    }
    if (update.limit !== undefined) patch.limitBytes = validateLimit(update.limit);
    if (update.max_bps !== undefined) patch.maxBps = validateMaxBps(update.max_bps);
    const account = await this.#store.updateAccount(id, patch);
    if (account === undefined) return undefined;
    this.#wrote(id);
    this.#applyAccount(account);
    if (account.disabled) this.#closeAllocations(id);
    this.#publish({ accountId: id, closed: account.disabled });
    return account;
  }

  /** Takes an account as stored into memory: limit, bandwidth cap (applied to the relays), directory. */
  #applyAccount(account: Account): void {
    const id = account.id;
    if (account.limitBytes !== undefined) this.#limits.set(id, account.limitBytes);
    else this.#limits.delete(id);
    const bps = account.maxBps ?? 0;
    if (bps !== this.maxBps(id)) {
      if (bps > 0) this.#maxBps.set(id, bps);
      else this.#maxBps.delete(id);
      for (const relay of this.#relays) relay.setAccountMaxBps(id, bps);
    }
    this.#directory.set(stateOf(account));
  }

  /** Forgets a deleted account (its state stays known as 'deleted'). */
  #applyDeleted(id: string): void {
    this.#limits.delete(id);
    this.#maxBps.delete(id);
    const previous = this.#directory.state(id);
    this.#directory.set({ id, status: 'deleted', credentialsNotBefore: previous?.credentialsNotBefore ?? 0 });
  }

  /** Soft delete; false for an unknown or already deleted account. Closes live allocations. */
  async deleteAccount(id: string): Promise<boolean> {
    const deleted = await this.#store.deleteAccount(id, this.#now());
    if (!deleted) return false;
    this.#wrote(id);
    this.#applyDeleted(id);
    this.#closeAllocations(id);
    this.#publish({ accountId: id, closed: true });
    return true;
  }

  /** A new API key (shown once; only its hash is stored); undefined for an unknown account. */
  async createApiKey(id: string): Promise<{ apiKey: string; key: ApiKeyInfo } | undefined> {
    if ((await this.#store.getAccount(id)) === undefined) return undefined;
    return this.#addKey(id);
  }

  /** undefined for an unknown account. */
  async listApiKeys(id: string): Promise<ApiKeyInfo[] | undefined> {
    if ((await this.#store.getAccount(id)) === undefined) return undefined;
    return this.#store.listApiKeys(id);
  }

  /**
   * true when the account has this key (revoking twice is true and keeps the first revokedAt).
   * The access-revoked listeners are told the key id: signaling closes the sockets opened with it.
   */
  async revokeApiKey(id: string, keyId: string): Promise<boolean> {
    if (!(await this.#store.revokeApiKey(id, keyId, this.#now()))) return false;
    this.#notifyRevoked(id, keyId);
    this.#publish({ accountId: id, apiKeyId: keyId });
    return true;
  }

  /**
   * Refuses every TURN credential and signaling token issued before now (see src/credentials/rest.ts)
   * and closes the account's live allocations. undefined for an unknown or deleted account.
   */
  async revokeCredentials(id: string): Promise<{ closed: number } | undefined> {
    const current = await this.#store.getAccount(id);
    if (current === undefined) return undefined;
    // Never move the boundary backwards (a clock step back must not un-revoke anything).
    const notBefore = Math.max(this.#now(), current.credentialsNotBefore);
    const account = await this.#store.updateAccount(id, { credentialsNotBefore: notBefore });
    if (account === undefined) return undefined;
    this.#wrote(id);
    this.#directory.set(stateOf(account));
    const closed = this.#closeAllocations(id);
    this.#publish({ accountId: id, closed: true });
    return { closed };
  }

  /** The active account of a valid, unrevoked API key; null otherwise (never throws on bad input). */
  async authenticateApiKey(key: string): Promise<Account | null> {
    return (await this.verifyApiKey(key))?.account ?? null;
  }

  /** As authenticateApiKey, with the key's id (what a connection opened with it is recorded by). */
  async verifyApiKey(key: string): Promise<{ account: Account; keyId: string } | null> {
    if (!isApiKeyShape(key)) return null;
    // Looked up by hash: comparing hashes leaks nothing useful about the key, so no timing concern.
    const info = await this.#store.findApiKey(hashApiKey(key));
    if (info === undefined || info.revokedAt !== null) return null;
    if (this.#directory.state(info.accountId)?.status !== 'active') return null;
    const account = await this.#store.getAccount(info.accountId);
    if (account === undefined || account.disabled) return null;
    return { account, keyId: info.id };
  }

  async #addKey(accountId: string): Promise<{ apiKey: string; key: ApiKeyInfo }> {
    const apiKey = newApiKey();
    const key: ApiKeyInfo = { id: newApiKeyId(), accountId, prefix: apiKeyPrefix(apiKey), createdAt: this.#now(), revokedAt: null };
    await this.#store.addApiKey(key, hashApiKey(apiKey));
    return { apiKey, key };
  }

  /**
   * Registers a listener called when an account loses access (disabled, deleted, credentials
   * revoked), after its relay allocations are closed, and when one of its API keys is revoked
   * (with the key id; relay allocations use TURN credentials, not keys, and stay): signaling closes
   * the account's sockets, or the key's. Returns the unsubscribe.
   */
  onAccessRevoked(listener: AccessRevokedListener, keysInUse?: ApiKeysInUse): () => void {
    this.#revokedListeners.push(listener);
    // What the listener holds open with API keys: a resync checks those keys (a missed revocation).
    if (keysInUse !== undefined) this.#keySources.push(keysInUse);
    return () => {
      remove(this.#revokedListeners, listener);
      if (keysInUse !== undefined) remove(this.#keySources, keysInUse);
    };
  }

  /** Stops following the other nodes' changes (the bus itself is closed by its owner). */
  close(): void {
    this.#unsubscribeBus?.();
    this.#remote?.close();
  }

  /** Resolves once the other nodes' changes received so far are applied (tests, stop). */
  async settled(): Promise<void> {
    await this.#remote?.idle();
  }

  #publish(change: AccountChange): void {
    this.#bus?.publish(change);
  }

  /** A local write of this account was applied to memory (see #written). */
  #wrote(id: string): void {
    if (this.#written === undefined) return;
    if (this.#written.size < MAX_WRITTEN) this.#written.add(id);
    else this.#overflow = true;
  }

  /** Runs a read of other nodes' changes, recording the local writes made meanwhile. */
  async #reading(f: () => Promise<void>): Promise<void> {
    this.#written = new Set();
    this.#overflow = false;
    try {
      await f();
    } finally {
      this.#written = undefined;
      // Too many local writes to tell which accounts they were: what was read is not applied; a resync follows.
      if (this.#overflow) this.#remote?.resync();
    }
  }

  /**
   * Another node changed this account: reload it from the store and do what the change did
   * there. An account the store no longer has but this node knew is deleted; an account neither
   * knows is ignored. Allocations close when the sending node closed them, or when the reload
   * shows access lost since this node last knew it (messages merged in a burst).
   */
  async #applyRemote(change: PendingChange): Promise<void> {
    const id = change.accountId;
    const previous = this.#directory.state(id);
    const account = await this.#store.getAccount(id);
    let lost = false;
    if (this.#written?.has(id) === true || this.#overflow) {
      // Written here during the read: memory holds the newer state (its own change closed what it ended).
      // (Overflow: a resync follows.)
    } else if (account === undefined) {
      if (previous === undefined) return;
      lost = previous.status !== 'deleted';
      if (lost) this.#applyDeleted(id);
    } else {
      this.#applyAccount(account);
      lost = (account.disabled && previous?.status === 'active') || account.credentialsNotBefore > (previous?.credentialsNotBefore ?? 0);
    }
    if (change.closed || lost) this.#closeAllocations(id);
    for (const keyId of change.apiKeyIds) this.#notifyRevoked(id, keyId);
  }

  /** Changes may have been missed: reload every account, acting on the ones whose access ended. */
  async #resync(): Promise<void> {
    const [states, accounts] = await Promise.all([this.#store.states(), this.#store.listAccounts()]);
    if (this.#overflow) return;
    const live = new Map(accounts.map((a) => [a.id, a]));
    for (const state of states) {
      // Written here during the reads: memory holds the newer state.
      if (this.#written?.has(state.id) === true) continue;
      const previous = this.#directory.state(state.id);
      const account = live.get(state.id);
      if (account !== undefined) this.#applyAccount(account);
      else {
        // Deleted, or made between the two reads: its state as stored, no limit or cap kept.
        this.#limits.delete(state.id);
        this.#maxBps.delete(state.id);
        this.#directory.set(state);
      }
      const lost =
        previous !== undefined &&
        ((previous.status === 'active' && state.status !== 'active') || state.credentialsNotBefore > previous.credentialsNotBefore);
      if (lost) this.#closeAllocations(state.id);
    }
    const active = (id: string) => this.#directory.state(id)?.status === 'active';
    for (const [id, keyId] of await this.#keyCatchUp.revokedInUse(this.#store, this.#keySources, active)) this.#notifyRevoked(id, keyId);
  }

  #closeAllocations(id: string): number {
    let closed = 0;
    for (const relay of this.#relays) closed += relay.closeAccountAllocations(id);
    this.#notifyRevoked(id, undefined);
    return closed;
  }

  #notifyRevoked(id: string, keyId: string | undefined): void {
    for (const listener of this.#revokedListeners) {
      try {
        listener(id, keyId);
      } catch {
        // a listener's failure must not undo the revocation
      }
    }
  }
}
