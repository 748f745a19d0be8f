// FerryHandle.reload (what SIGHUP applies), in process: peers, quotas, realm and log level change
// for new requests while live allocations stay; restart-only keys are reported and left alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { startFerry, type FerryHandle } from '../../src/main.js';
import { freePort, reservePortRange, type PortRange } from '../helpers/ports.js';
import { TestTurnClient } from '../helpers/turn-client.js';

describe('FerryHandle.reload', () => {
  let handle: FerryHandle;
  let range: PortRange;
  let port = 0;
  const clients: TestTurnClient[] = [];
  const logger = createLogger('info', { write: () => {} });
  let base: Record<string, unknown> = {};

  const client = async (username = 'alice', password = 'alice-password') => {
    const c = await TestTurnClient.connect({ port, username, password });
    clients.push(c);
    return c;
  };

  before(async () => {
    port = await freePort();
    range = await reservePortRange();
    base = {
      address: `127.0.0.1:${port}`,
      relay_ip: '127.0.0.1',
      relay_ports: `${range.lo}-${range.hi}`,
      realm: 'one',
      users: { alice: 'alice-password' },
      quotas: { allocations_per_user: 1 },
      signaling: { address: '127.0.0.1:0' },
      storage: 'sqlite::memory:',
    };
    handle = await startFerry(parseConfig(base, '/nonexistent/config.json'), logger);
  });

  after(async () => {
    for (const c of clients) c.close();
    await handle?.stop();
    range?.release();
  });

  it('applies peers, quotas, realm and log_level to new requests and keeps live allocations', async () => {
    const a = await client();
    assert.equal((await a.allocate()).code, 0);
    assert.equal(a.realm, 'one');
    assert.equal((await a.createPermission({ address: '127.0.0.1' })).code, 403, 'loopback peers refused at first');
    assert.equal((await (await client()).allocate()).code, 486, 'one allocation per user');

    const diff = handle.reload(parseConfig({
      ...base,
      address: `127.0.0.1:${port + 1}`,
      realm: 'two',
      peers: { allow: ['127.0.0.0/8'] },
      quotas: { allocations_per_user: 5 },
      log_level: 'debug',
    }, '/nonexistent/config.json'));
    assert.deepEqual(diff, { live: ['peers', 'quotas', 'realm', 'log_level'], restart: ['address'] });

    assert.equal((await a.createPermission({ address: '127.0.0.1' })).code, 0, 'the live allocation is kept and the new policy applies');
    const b = await client();
    assert.equal((await b.allocate()).code, 0, 'the new quota applies');
    assert.equal(b.realm, 'two');
    assert.equal(logger.level, 'debug');
    assert.ok(handle.listening().every((l) => l.port === port), 'the address needs a restart');
  });

  it('applies users and refuses removed ones', async () => {
    handle.reload(parseConfig({ ...base, users: { bob: 'bob-password' }, quotas: { allocations_per_user: 5 } }, '/nonexistent/config.json'));
    assert.equal((await (await client('bob', 'bob-password')).allocate()).code, 0);
    assert.equal((await (await client()).allocate()).code, 401);
  });
});
