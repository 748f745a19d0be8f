// A publish on the account change bus that fails while its connection stays up (here: Redis
// refuses it, NOPERM for a user without channel rights; a "Command timed out" is the same case)
// gets no 'ready' to resend it: it is sent again on a timer until it goes through. flush() says
// whether the publishes made so far went out (the CLI reports it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccountChange } from '../../../../../src/accounts/change-bus.js';
import { createLogger } from '../../../../../src/logger.js';
import { RedisAccountBus } from '../../../../../src/store/redis/account-bus.js';
import { startRedis, type TestRedis } from '../../../../helpers/redis.js';
import { sleep, until } from '../../../../helpers/wait.js';

const log = createLogger('silent');

describe('account change bus: resend on a timer', () => {
  let redis: TestRedis;
  const buses: RedisAccountBus[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const b of buses.splice(0)) await b.close();
    await redis.stop();
  });

  it('a publish refused on a live connection reaches the other nodes once Redis accepts it', async () => {
    const admin = await redis.client();
    await admin.call('ACL', 'SETUSER', 'nopub', 'on', '>secret-pw', '~*', 'resetchannels', '+@all');
    const a = new RedisAccountBus({ url: `redis://nopub:secret-pw@127.0.0.1:${redis.port}/0`, log, subscribe: false });
    const b = new RedisAccountBus({ url: redis.url, log });
    buses.push(a, b);
    const got: AccountChange[] = [];
    b.subscribe({ change: (c) => got.push(c), resync: () => {} });
    await Promise.all([a.start(), b.start()]);
    await sleep(100);

    a.publish({ accountId: 'acct-1', closed: true });
    const failed = await a.flush();
    assert.match(failed ?? '', /NOPERM/, 'flush says why the publish failed');
    await sleep(300);
    assert.deepEqual(got, []);

    // The connection never dropped: no 'ready' comes. The timer sends it again.
    await admin.call('ACL', 'SETUSER', 'nopub', 'allchannels');
    await until(() => got.length > 0, 5000, 'B got the change sent again');
    assert.deepEqual(got, [{ accountId: 'acct-1', closed: true }]);
    assert.equal(await a.flush(), null, 'nothing left unsent');
  });
});
