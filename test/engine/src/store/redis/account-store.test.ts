// RedisAccountStore against a real redis-server: the AccountStore contract the SQLite store passes
// too, then what only Redis has: its outages (a call fails with StorageUnavailableError and works
// again once Redis is back) and its keys (all under "ferry:", API keys only as hashes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { openStorage } from '../../../../../app/storage.js';
import type { Storage } from '../../../../../src/store/storage.js';
import { StorageUnavailableError } from '../../../../../src/store/redis/client.js';
import { accountStoreContract } from '../../../../helpers/account-store-contract.js';
import { captureLog } from '../../../../helpers/log-capture.js';
import { startRedis, type TestRedis } from '../../../../helpers/redis.js';

let redis: TestRedis;
let plain: Redis;
const opened: Storage[] = [];

before(async () => {
  redis = await startRedis();
  plain = await redis.client();
});
after(async () => {
  for (const s of opened) await s.close();
  await redis.stop();
});

/** A store over a new connection to an emptied database. */
async function fresh(): Promise<Storage> {
  await plain.flushdb();
  const s = await openStorage(redis.url);
  opened.push(s);
  return s;
}

describe('RedisAccountStore: the AccountStore contract', () => {
  accountStoreContract(async () => (await fresh()).accounts);
});

describe('RedisAccountStore on Redis', () => {
  it('keys live under "ferry:" and hold the API key only as its hash', async () => {
    const s = (await fresh()).accounts;
    await s.createAccount({ id: 'acc_k', name: 'keys', disabled: false, createdAt: 1, credentialsNotBefore: 0 });
    await s.addApiKey({ id: 'key_k', accountId: 'acc_k', prefix: 'fk_Ab', createdAt: 2, revokedAt: null }, 'ab'.repeat(32));
    const keys = (await plain.keys('*')).filter((k) => k !== 'ferry:layout');
    assert.ok(keys.length > 0);
    for (const k of keys) assert.ok(k.startsWith('ferry:'), k);
    assert.ok(keys.includes(`ferry:apikey:${'ab'.repeat(32)}`));
  });

  it('while Redis is down a call rejects with StorageUnavailableError; it works again after the restart', async (t) => {
    const persisted = await startRedis({ persist: true });
    t.after(() => persisted.stop());
    // A password in the URL (this server takes none, and ioredis goes on without it): never logged.
    const log = captureLog('debug');
    const storage = await openStorage(persisted.url.replace('redis://', 'redis://:hunter2@'), { log: log.logger });
    t.after(() => storage.close());
    const s = storage.accounts;
    await s.createAccount({ id: 'acc_p', name: 'kept', disabled: false, createdAt: 1, credentialsNotBefore: 0 });

    await persisted.down();
    const started = Date.now();
    await assert.rejects(s.getAccount('acc_p'), (e: unknown) => e instanceof StorageUnavailableError && /storage unavailable: read account/.test(e.message));
    await assert.rejects(s.listAccounts(), StorageUnavailableError);
    await assert.rejects(s.createAccount({ id: 'acc_q', name: 'q', disabled: false, createdAt: 2, credentialsNotBefore: 0 }), StorageUnavailableError);
    assert.ok(Date.now() - started < 5000, 'fails at once, not after queueing');

    await persisted.start();
    const deadline = Date.now() + 10_000;
    let got;
    for (;;) {
      try {
        got = await s.getAccount('acc_p');
        break;
      } catch (err) {
        assert.ok(err instanceof StorageUnavailableError, String(err));
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(got?.name, 'kept', 'the persisted account is back');
    const said = log.lines.map((l) => [l.level, l.msg]);
    assert.deepEqual(said, [
      [30, 'storage: Redis connected'],
      [40, 'storage: lost the Redis connection; calls that need it fail until it is back'],
      [30, 'storage: Redis connected'],
    ], 'the loss and the return once each, however many reconnect attempts failed between');
    assert.ok(!JSON.stringify(log.lines).includes('hunter2'));
    assert.match(String(log.lines[1].storage), /^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0$/);
    await s.createAccount({ id: 'acc_q', name: 'q', disabled: false, createdAt: 2, credentialsNotBefore: 0 });
    assert.deepEqual((await s.listAccounts()).map((a) => a.id), ['acc_p', 'acc_q']);
  });

  it('openStorage sets the layout version on an empty Redis and refuses a newer one', async () => {
    await plain.flushdb();
    await (await fresh()).accounts.listAccounts();
    assert.equal(await plain.get('ferry:layout'), '1');
    await plain.set('ferry:layout', '2');
    await assert.rejects(openStorage(redis.url), /^Error: storage: the Redis data is of layout version 2, newer than this Ferry supports \(1\)/);
    await plain.set('ferry:layout', 'junk');
    await assert.rejects(openStorage(redis.url), /not a layout version/);
    await plain.flushdb();
  });

  it('openStorage rejects at once when Redis is not reachable, naming the URL without its password', async () => {
    // A port with nothing listening: a throw-away server's, after it stopped.
    const gone = await startRedis();
    await gone.stop();
    const deadUrl = `redis://user:hunter2@127.0.0.1:${gone.port}/0`;
    await assert.rejects(openStorage(deadUrl), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /^storage: cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/0/);
      assert.ok(!e.message.includes('hunter2'));
      return true;
    });
  });
});
