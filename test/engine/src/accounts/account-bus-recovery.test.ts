// Account changes across a fleet when things go wrong (src/accounts/change-queue.ts and the
// service's resync): a store that fails a reload or a resync (not ready yet after a reconnect),
// a message lost without a reconnect to tell, a local write made while a resync reads, and an
// API key revocation missed by a node with sockets open with that key. Two AccountService
// instances, as on two nodes, share one SQLite store and one real redis-server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AccountService, type AccountServiceOptions } from '../../../../src/accounts/service.js';
import type { AccountStore, RelayControl } from '../../../../src/accounts/types.js';
import { createLogger } from '../../../../src/logger.js';
import { StorageUnavailableError } from '../../../../src/storage-unavailable.js';
import { RedisAccountBus } from '../../../../src/store/redis/account-bus.js';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { sleep, until } from '../../../helpers/wait.js';

const log = createLogger('silent');

class FakeRelay implements RelayControl {
  readonly closed: string[] = [];
  closeAccountAllocations(accountId: string): number {
    this.closed.push(accountId);
    return 1;
  }
  setAccountMaxBps(): void {}
}

type Hook = (name: string, call: () => Promise<unknown>) => Promise<unknown>;

/** The store with every method call passed through `hook` (to fail or hold one). */
function hooked(store: AccountStore, hook: Hook): AccountStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => hook(String(prop), () => (v as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  }) as AccountStore;
}

let redis: TestRedis;
const closers: (() => Promise<void> | void)[] = [];

/**
 * A node on the shared store `file`: once opened, its store calls go through `hook`; not
 * connected to the bus until `connect()`.
 */
async function node(file: string, hook: Hook = (_, call) => call(), options: AccountServiceOptions = {}) {
  const raw = openSqliteStore(file);
  const bus = new RedisAccountBus({ url: redis.url, log });
  const errors: [string, number][] = [];
  let opened = false;
  const accounts = await AccountService.open(hooked(raw, (name, call) => (opened ? hook(name, call) : call())), Date.now, {
    bus,
    onRemoteError: (_err, what, retryMs) => errors.push([what, retryMs]),
    ...options,
  });
  opened = true;
  const relay = new FakeRelay();
  accounts.subscribeRelay(relay);
  const revoked: [string, string | undefined][] = [];
  const keysInUse = new Map<string, Set<string>>();
  // As the signaling hub: a revoked key's sockets close, so it is no longer in use.
  accounts.onAccessRevoked(
    (id, key) => {
      revoked.push([id, key]);
      if (key !== undefined) keysInUse.get(id)?.delete(key);
    },
    () => keysInUse,
  );
  closers.push(async () => {
    accounts.close();
    await bus.close();
    await raw.close();
  });
  return { raw, accounts, relay, revoked, errors, keysInUse, connect: () => bus.start() };
}

const fresh = () => `sqlite:${join(tempDir('ferry-bus-recovery'), 'ferry.db')}`;

describe('account changes across nodes: recovery', () => {
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of closers.splice(0)) await c();
    await redis.stop();
  });

  it('a resync that fails (store not ready) is retried until it succeeds', async () => {
    const file = fresh();
    const a = await node(file);
    await a.connect();
    const { account } = await a.accounts.createAccount('late store');
    let failures = 0;
    const b = await node(file, (name, call) => {
      // The first resync's reads fail, as when the store's connection is not ready yet.
      if (name === 'states' && failures === 0) {
        failures += 1;
        return Promise.reject(new StorageUnavailableError('storage: Redis not ready'));
      }
      return call();
    });
    assert.equal(b.accounts.directory.state(account.id)?.status, 'active');
    // Disabled while B was not subscribed: only B's resync can tell it.
    await a.raw.updateAccount(account.id, { disabled: true });
    await b.connect();
    await until(() => b.accounts.directory.state(account.id)?.status === 'disabled', 5000, 'B converges after its failed resync');
    assert.equal(failures, 1);
    assert.deepEqual(b.errors, [['resync', 1000]], 'the failure is reported with its retry delay');
    await b.accounts.settled();
    assert.deepEqual(b.relay.closed, [account.id], 'B closed the allocations of the account that lost access');
    assert.deepEqual(b.revoked, [[account.id, undefined]]);
  });

  it('a change whose reload fails is applied at the retry', async () => {
    const file = fresh();
    const a = await node(file);
    await a.connect();
    const { account } = await a.accounts.createAccount('flaky reload');
    let failing = false;
    const b = await node(file, (name, call) => (failing && name !== 'states' && name !== 'listAccounts' ? Promise.reject(new StorageUnavailableError('storage: Command timed out')) : call()));
    await b.connect();
    await sleep(100);
    await b.accounts.settled();
    failing = true;
    await a.accounts.updateAccount(account.id, { disabled: true });
    await until(() => b.errors.length > 0, 2000, 'B failed to reload the account');
    failing = false;
    await until(() => b.accounts.directory.state(account.id)?.status === 'disabled', 5000, 'B applies the change at the retry');
    await b.accounts.settled();
    assert.deepEqual(b.relay.closed, [account.id]);
  });

  it('a message lost without a reconnect is caught up by the periodic resync', async () => {
    const file = fresh();
    const a = await node(file);
    await a.connect();
    const { account } = await a.accounts.createAccount('lost message');
    const b = await node(file, undefined, { resyncEveryMs: 300 });
    await b.connect();
    await sleep(100);
    await b.accounts.settled();
    // Written to the shared store with no message at all, as when the message was lost.
    await a.raw.updateAccount(account.id, { disabled: true });
    await until(() => b.accounts.directory.state(account.id)?.status === 'disabled', 3000, 'the periodic resync found it');
    await b.accounts.settled();
    assert.deepEqual(b.relay.closed, [account.id]);
  });

  it('a local write made while a resync reads is not overwritten by what the resync read', async () => {
    const file = fresh();
    const a = await node(file);
    await a.connect();
    const { account } = await a.accounts.createAccount('race');
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let held = 0;
    const b = await node(file, async (name, call) => {
      // The first resync reads the accounts (still active), then waits before it applies them.
      if ((name === 'states' || name === 'listAccounts') && held < 2) {
        held += 1;
        const read = await call();
        await gate;
        return read;
      }
      return call();
    });
    await b.connect();
    await until(() => held === 2, 3000, 'B\'s resync has read');
    await b.accounts.updateAccount(account.id, { disabled: true, limit: 5000 });
    assert.equal(b.accounts.directory.state(account.id)?.status, 'disabled');
    release();
    await sleep(50);
    await b.accounts.settled();
    assert.equal(b.accounts.directory.state(account.id)?.status, 'disabled', 'the stale read did not enable it again');
    assert.equal(b.accounts.limits().get(account.id), 5000, 'nor drop its new limit');
  });

  it('an API key revocation a node missed closes the sockets opened with the key at the next resync', async () => {
    const file = fresh();
    const a = await node(file);
    await a.connect();
    const { account } = await a.accounts.createAccount('keys');
    const used = await a.accounts.createApiKey(account.id);
    const unused = await a.accounts.createApiKey(account.id);
    const b = await node(file, undefined, { resyncEveryMs: 300 });
    await b.connect();
    await sleep(100);
    await b.accounts.settled();
    // B has a socket open with `used`; both keys are revoked with no message B gets.
    b.keysInUse.set(account.id, new Set([used!.key.id]));
    await a.raw.revokeApiKey(account.id, used!.key.id, Date.now());
    await a.raw.revokeApiKey(account.id, unused!.key.id, Date.now());
    await until(() => b.revoked.length > 0, 3000, 'B caught up the revocation');
    await b.accounts.settled();
    assert.deepEqual(b.revoked, [[account.id, used!.key.id]], 'only the key in use here is acted on');
    assert.equal(b.accounts.directory.state(account.id)?.status, 'active', 'the account keeps its access');
  });
});
