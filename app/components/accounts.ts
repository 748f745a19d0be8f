/**
 * The account service: accounts, API keys, per-account limits and caps, over the store. Loaded
 * from the store when built (the relay's auth handler reads its directory); the relay subscribes
 * to its account changes when it is built (AccountService.subscribeRelay). In a fleet it also
 * owns the account change bus (Redis pub/sub): started with the service, it announces this
 * node's changes and applies the other nodes'; closed on stop.
 */
import { AccountService } from '../../src/accounts/service.js';
import type { AccountStore } from '../../src/accounts/types.js';
import type { Logger } from '../../src/logger.js';
import { RedisAccountBus } from '../../src/store/redis/account-bus.js';
import type { ClusterIdentity } from '../cluster/identity.js';
import type { Component } from './component.js';

export class AccountsComponent implements Component {
  readonly name = 'accounts';
  readonly accounts: AccountService;
  readonly #bus: RedisAccountBus | undefined;

  private constructor(accounts: AccountService, bus: RedisAccountBus | undefined) {
    this.accounts = accounts;
    this.#bus = bus;
  }

  /** `identity` null: one node, no bus. */
  static async open(store: AccountStore, identity: ClusterIdentity | null = null, log?: Logger): Promise<AccountsComponent> {
    const bus = identity === null || log === undefined ? undefined : new RedisAccountBus({ url: identity.redisUrl, log: log.child({ component: 'account-bus' }) });
    const accounts = await AccountService.open(store, Date.now, {
      ...(bus !== undefined ? { bus } : {}),
      ...(log !== undefined
        ? {
            onRemoteError: (err: unknown, what: string, retryMs: number) =>
              log.warn({ err: err instanceof Error ? err.message : String(err), retry_ms: retryMs }, `account changes from other nodes: ${what} failed; retried with a full resync in ${retryMs} ms`),
          }
        : {}),
    });
    return new AccountsComponent(accounts, bus);
  }

  /** Connects the bus: from the subscription on, other nodes' changes apply here (after a full resync). */
  async start(): Promise<void> {
    await this.#bus?.start();
  }

  async stop(): Promise<void> {
    this.accounts.close();
    await this.#bus?.close();
  }
}
