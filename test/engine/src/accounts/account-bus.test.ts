// Account changes across a fleet (src/accounts/service.ts over src/store/redis/account-bus.ts):
// two AccountService instances, as on two nodes, share one store (a SQLite file, each with its own
// connection) and one real redis-server (each with its own bus connections). A change made on
// one reaches the other, which reloads the account and acts on it as on a local change: its
// directory, its relay (closing allocations, applying caps) and its access-revoked listeners.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AccountService } from '../../../../src/accounts/service.js';
import type { AccountStore, RelayControl } from '../../../../src/accounts/types.js';
import { createLogger } from '../../../../src/logger.js';
import { ACCOUNTS_CHANNEL, RedisAccountBus, RESEND_DELAY_MS } from '../../../../src/store/redis/account-bus.js';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { sleep, until } from '../../../helpers/wait.js';

const log = createLogger('silent');

class FakeRelay implements RelayControl {
  readonly closed: string[] = [];
  readonly caps: [string, number][] = [];
  closeAccountAllocations(accountId: string): number {
    this.closed.push(accountId);
    return 1;
  }
  setAccountMaxBps(accountId: string, bps: number): void {
    this.caps.push([accountId, bps]);
  }
}

/** A store whose getAccount calls are counted (to see bursts coalesced). */
function counting(store: AccountStore): { store: AccountStore; gets: () => number } {
  let gets = 0;
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'getAccount') return (...args: unknown[]) => ((gets += 1), (v as (...a: unknown[]) => unknown).apply(target, args));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { store: wrapped, gets: () => gets };
}

let redis: TestRedis;
const closers: (() => Promise<void> | void)[] = [];

async function nodePair() {
  const file = `sqlite:${join(tempDir('ferry-bus'), 'ferry.db')}`;
  const nodes = [];
  for (const name of ['A', 'B']) {
    const raw = openSqliteStore(file);
    const { store, gets } = counting(raw);
    const bus = new RedisAccountBus({ url: redis.url, log });
    await bus.start();
    const accounts = await AccountService.open(store, Date.now, { bus });
    const relay = new FakeRelay();
    accounts.subscribeRelay(relay);
    const revoked: [string, string | undefined][] = [];
    accounts.onAccessRevoked((id, key) => revoked.push([id, key]));
    closers.push(async () => {
      accounts.close();
      await bus.close();
      await raw.close();
    });
    nodes.push({ name, raw, accounts, relay, revoked, gets, bus });
  }
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  // Both subscribed (each one's first resync has run).
  await sleep(100);
  await a.accounts.settled();
  await b.accounts.settled();
  return { a, b };
}

describe('account changes across nodes over Redis pub/sub', () => {
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of closers.splice(0)) await c();
    await redis.stop();
  });

  it('create, cap, limit, disable, revoke and delete on A act on B as they did on A', async () => {
    const { a, b } = await nodePair();
    const { account } = await a.accounts.createAccount('fleet');
    const id = account.id;
    await until(() => b.accounts.directory.state(id)?.status === 'active', 2000, 'B knows the new account');

    await a.accounts.updateAccount(id, { max_bps: 125_000, limit: '1GB' });
    await until(() => b.accounts.maxBps(id) === 125_000, 2000, 'B has the cap');
    assert.deepEqual(b.relay.caps, [[id, 125_000]], 'B\'s relay applied it to live allocations');
    assert.equal(b.accounts.limits().get(id), 1_000_000_000, 'B\'s limiter reads the limit');

    await a.accounts.updateAccount(id, { disabled: true });
    await until(() => b.accounts.directory.state(id)?.status === 'disabled', 2000, 'B sees it disabled');
    await b.accounts.settled();
    assert.deepEqual(b.relay.closed, [id], 'B closed its allocations');
    assert.deepEqual(b.revoked, [[id, undefined]], 'B\'s signaling closes its sockets');
    assert.deepEqual(a.relay.closed, [id], 'A closed its own, once (its own message is not applied again)');

    await a.accounts.updateAccount(id, { disabled: false });
    await until(() => b.accounts.directory.state(id)?.status === 'active', 2000, 'enabled again on B');

    const before = b.accounts.directory.state(id)!.credentialsNotBefore;
    await sleep(5);
    await a.accounts.revokeCredentials(id);
    await until(() => b.accounts.directory.state(id)!.credentialsNotBefore > before, 2000, 'B refuses older credentials');
    await b.accounts.settled();
    assert.deepEqual(b.relay.closed, [id, id]);

    const key = await a.accounts.createApiKey(id);
    await a.accounts.revokeApiKey(id, key!.key.id);
    await until(() => b.revoked.some(([, k]) => k === key!.key.id), 2000, 'B closes the key\'s sockets');

    await a.accounts.deleteAccount(id);
    await until(() => b.accounts.directory.state(id)?.status === 'deleted', 2000, 'B sees it deleted');
    await b.accounts.settled();
    assert.equal(b.relay.closed.length, 3);
    assert.equal(b.accounts.maxBps(id), 0);
    assert.equal(b.accounts.limits().has(id), false);
  });

  it('malformed messages are ignored; a burst about one account costs a few reloads', async () => {
    const { a, b } = await nodePair();
    const { account } = await a.accounts.createAccount('burst');
    await until(() => b.accounts.directory.state(account.id) !== undefined, 2000, 'B knows it');
    await b.accounts.settled();
    const pub = await redis.client();
    for (const junk of ['', 'not json', '[]', 'null', '{"v":2}', JSON.stringify({ v: 1, from: 'x', account: 'bad id!' }), JSON.stringify({ v: 1, from: 'x', account: account.id, closed: 'yes' }), 'x'.repeat(10_000)]) {
      await pub.publish(ACCOUNTS_CHANNEL, junk);
    }
    await sleep(100);
    await b.accounts.settled();
    assert.deepEqual(b.relay.closed, [], 'nothing acted on');

    const gets = b.gets();
    const message = JSON.stringify({ v: 1, from: 'someone-else', account: account.id });
    await Promise.all(Array.from({ length: 1000 }, () => pub.publish(ACCOUNTS_CHANNEL, message)));
    await sleep(200);
    await b.accounts.settled();
    const reloads = b.gets() - gets;
    assert.ok(reloads >= 1 && reloads <= 50, `1000 messages, ${reloads} reloads`);
    // The queue still works after the burst.
    await a.accounts.updateAccount(account.id, { disabled: true });
    await until(() => b.relay.closed.includes(account.id), 2000, 'B acts on the next change');
  });

  it('changes missed while Redis was away are caught up by a resync after the reconnect', async () => {
    const { a, b } = await nodePair();
    const { account } = await a.accounts.createAccount('outage');
    await until(() => b.accounts.directory.state(account.id)?.status === 'active', 2000, 'B knows it');
    await b.accounts.settled();
    await redis.down();
    // Written straight to the shared store, as by a node whose message was lost.
    await a.raw.updateAccount(account.id, { disabled: true, maxBps: 64_000 });
    await redis.start();
    await until(() => b.accounts.directory.state(account.id)?.status === 'disabled', 5000, 'B resynced after the reconnect');
    await b.accounts.settled();
    assert.deepEqual(b.relay.closed, [account.id], 'and closed the allocations of the account that lost access');
    assert.equal(b.accounts.maxBps(account.id), 64_000);
    assert.deepEqual(b.relay.caps, [[account.id, 64_000]]);
  });

  it('a change published while Redis is away is sent once it is back', async () => {
    const { a, b } = await nodePair();
    const { account } = await a.accounts.createAccount('resend');
    const key = await a.accounts.createApiKey(account.id);
    await until(() => b.accounts.directory.state(account.id)?.status === 'active', 2000, 'B knows it');
    await b.accounts.settled();
    await redis.down();
    // A key revocation: no resync can tell B about it (it closes the sockets opened with the key).
    assert.equal(await a.accounts.revokeApiKey(account.id, key!.key.id), true);
    await redis.start();
    await until(() => b.revoked.some(([id, k]) => id === account.id && k === key!.key.id), RESEND_DELAY_MS + 4000, 'B got the revocation once Redis was back');
  });
});
