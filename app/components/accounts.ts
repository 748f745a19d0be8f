/**
 * The account service: accounts, API keys, per-account limits and caps, over the store. Loaded
 * from the store when built (the relay's auth handler reads its directory); the relay subscribes
 * to its account changes when it is built (AccountService.subscribeRelay). Nothing to start.
 */
import { AccountService } from '../../src/accounts/service.js';
import type { AccountStore } from '../../src/accounts/types.js';
import type { Component } from './component.js';

export class AccountsComponent implements Component {
  readonly name = 'accounts';
  readonly accounts: AccountService;

  private constructor(accounts: AccountService) {
    this.accounts = accounts;
  }

  static async open(store: AccountStore): Promise<AccountsComponent> {
    return new AccountsComponent(await AccountService.open(store, Date.now));
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
