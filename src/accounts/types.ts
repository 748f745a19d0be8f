/**
 * Accounts: who a relayed byte is billed to. The store is asynchronous so that a Redis-backed
 * implementation can replace SQLite without touching routes; the TURN auth path reads the
 * synchronous AccountDirectory (an in-memory view kept current by the AccountService).
 */

export type AccountStatus = 'active' | 'disabled' | 'deleted';

export interface Account {
  /** Opaque id, `acc_` + 16 base32 characters; never contains ':'. */
  readonly id: string;
  readonly name: string;
  readonly disabled: boolean;
  /** ms since the epoch. */
  readonly createdAt: number;
  /** TURN credentials and signaling tokens issued before this time (ms) are refused (revocation). */
  readonly credentialsNotBefore: number;
  /** Relayed bytes allowed per usage timeframe; absent: no per-account limit. */
  readonly limitBytes?: number;
  /** Bandwidth cap shared by the account's allocations on a relay, payload bytes per second each way; absent: none. */
  readonly maxBps?: number;
}

export interface ApiKeyInfo {
  /** `key_` + 12 base32 characters. */
  readonly id: string;
  readonly accountId: string;
  /** The first characters of the key, for operators to recognise it (`fk_AbCd…`). */
  readonly prefix: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** What the auth path needs about an account, kept in memory. */
export interface AccountState {
  readonly id: string;
  readonly status: AccountStatus;
  readonly credentialsNotBefore: number;
}

export interface AccountPatch {
  readonly name?: string;
  readonly disabled?: boolean;
  readonly credentialsNotBefore?: number;
  /** null removes the limit. */
  readonly limitBytes?: number | null;
  /** null removes the cap. */
  readonly maxBps?: number | null;
}

/** Persistence of accounts and API keys. API keys are stored only as SHA-256 hashes. */
export interface AccountStore {
  createAccount(account: Account): Promise<void>;
  getAccount(id: string): Promise<Account | undefined>;
  /** Live (not deleted) accounts, oldest first. */
  listAccounts(): Promise<Account[]>;
  updateAccount(id: string, patch: AccountPatch): Promise<Account | undefined>;
  /** Soft delete: the account disappears from get/list but stays known as 'deleted' in states(). */
  deleteAccount(id: string, at: number): Promise<boolean>;
  /** Every account ever created, deleted ones included (to warm the AccountDirectory). */
  states(): Promise<AccountState[]>;
  addApiKey(key: ApiKeyInfo, hash: string): Promise<void>;
  /** The key with this SHA-256 hex hash, revoked or not. */
  findApiKey(hash: string): Promise<ApiKeyInfo | undefined>;
  listApiKeys(accountId: string): Promise<ApiKeyInfo[]>;
  revokeApiKey(accountId: string, keyId: string, at: number): Promise<boolean>;
  close(): Promise<void>;
}

/** What a relay does on account changes; the TURN component implements it over TurnServer and subscribes (AccountService.subscribeRelay). */
export interface RelayControl {
  /** Closes every live allocation of the account; returns how many. */
  closeAccountAllocations(accountId: string): number;
  /** Applies a changed bandwidth cap (bytes/s each way, 0: none) to the account's live allocations. */
  setAccountMaxBps(accountId: string, bps: number): void;
}
