/**
 * The store: the SQLite database holding accounts, usage and the webhook outbox. Opened when
 * built, as the components built after it read it (the accounts are loaded from it); closed last.
 * `storage` needs a restart.
 */
import { openSqliteStore, type SqliteAccountStore } from '../../src/store/sqlite-account-store.js';
import type { Component } from './component.js';

export class StoreComponent implements Component {
  readonly name = 'store';
  readonly store: SqliteAccountStore;

  constructor(storageUrl: string) {
    this.store = openSqliteStore(storageUrl);
  }

  async start(): Promise<void> {}

  stop(): Promise<void> {
    return this.store.close();
  }
}
