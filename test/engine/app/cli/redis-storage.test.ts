// The store-reading commands (`ferry accounts ...`, `ferry usage`, the timeframe `ferry status` shows) on a redis:// storage, without
// a running Ferry: they open the same Redis a fleet uses. And a Redis that cannot be reached is
// one clear line naming the URL without its password, exit 1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../../app/cli/main.js';
import { storedTimeframe } from '../../../../app/cli/status-usage.js';
import { openStorage } from '../../../../app/storage.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';

const TF = Date.UTC(2030, 0, 1);

async function ferry(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('ferry accounts and usage on Redis storage', () => {
  let redis: TestRedis;
  let dir: string;
  let config: string;
  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'ferry-cli-redis-'));
    config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ storage: redis.url, network_usage: { timeframe: '30d' } }));
  });
  after(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accounts create / list, then usage with names, all in Redis', async () => {
    const pid = ['--pid-file', join(dir, 'none.pid')]; // names no running Ferry: the commands use the store
    const made = await ferry(['accounts', 'create', 'Acme Corp', '--config', config, ...pid]);
    assert.equal(made.code, 0, made.stderr);
    const list = await ferry(['accounts', 'list', '--json', '--config', config, ...pid]);
    assert.equal(list.code, 0, list.stderr);
    const { accounts } = JSON.parse(list.stdout) as { accounts: { id: string; name: string }[] };
    assert.deepEqual(accounts.map((a) => a.name), ['Acme Corp']);
    const id = accounts[0].id;
    assert.equal((await ferry(['accounts', 'create', 'acme corp', '--config', config, ...pid])).code, 1, 'names are unique in Redis too');

    // What a node wrote: the account's usage in the current timeframe.
    const storage = await openStorage(redis.url);
    try {
      assert.equal((await storage.accounts.getAccount(id))?.name, 'Acme Corp', 'the account is in Redis');
      await storage.usage.setTimeframe({ start: TF, lengthMs: 30 * 86_400_000 });
      await storage.usage.record({ writer: 'node-a:1', seq: 1, hour: TF, timeframeStart: TF, deltas: [{ account: id, bytesToPeer: 1234, bytesToClient: 56, packetsToPeer: 3, packetsToClient: 2 }], sessions: [] });
    } finally {
      await storage.close();
    }
    assert.deepEqual(await storedTimeframe(redis.url), { start: TF, lengthMs: 30 * 86_400_000 }, '`ferry status` reads the timeframe from Redis');
    const usage = await ferry(['usage', '--json', '--config', config]);
    assert.equal(usage.code, 0, usage.stderr);
    assert.deepEqual(JSON.parse(usage.stdout).usage, [{ account: id, name: 'Acme Corp', bytes_to_peer: 1234, bytes_to_client: 56, packets_to_peer: 3, packets_to_client: 2 }]);
  });

  it('Redis unreachable: exit 1 and one line naming the URL without its password', async () => {
    const gone = await startRedis();
    await gone.stop();
    const deadConfig = join(dir, 'dead.json');
    writeFileSync(deadConfig, JSON.stringify({ storage: `redis://ops:hunter2@127.0.0.1:${gone.port}/0` }));
    for (const args of [['usage'], ['accounts', 'list', '--pid-file', join(dir, 'none.pid')]]) {
      const r = await ferry([...args, '--config', deadConfig]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /^ferry: storage: cannot reach Redis at redis:\/\/ops:\*\*\*@127\.0\.0\.1:\d+\/0/);
      assert.ok(!r.stderr.includes('hunter2'));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
