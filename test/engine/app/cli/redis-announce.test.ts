// The CLI writing accounts straight to a fleet's Redis announces each change to the running
// nodes. When that announcement fails (here: Redis refuses the PUBLISH, the user has no channel
// rights), the command says the change is stored but the nodes were not told, and exits 1; the
// one-time API key of a new account is shown all the same.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../../app/cli/main.js';
import { openStorage } from '../../../../app/storage.js';
import { startRedis, type TestRedis } from '../../../helpers/redis.js';
import { tempDir } from '../../../helpers/temp-dir.js';

async function ferry(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('ferry accounts on a fleet\'s Redis: the announcement to the running nodes', () => {
  let redis: TestRedis;
  let dir: string;
  before(async () => {
    redis = await startRedis();
    dir = tempDir('ferry-cli-announce');
  });
  after(async () => {
    await redis.stop();
  });

  it('a change the nodes were not told of: exit 1, the change stored, the reason given', async () => {
    const admin = await redis.client();
    await admin.call('ACL', 'SETUSER', 'nopub', 'on', '>hunter2', '~*', 'resetchannels', '+@all');
    const config = join(dir, 'nopub.json');
    writeFileSync(config, JSON.stringify({ storage: `redis://nopub:hunter2@127.0.0.1:${redis.port}/0` }));
    const pid = ['--pid-file', join(dir, 'none.pid')];

    const made = await ferry(['accounts', 'create', 'Quiet', '--config', config, ...pid]);
    assert.equal(made.code, 1, made.stderr);
    const out = JSON.parse(made.stdout) as { id: string; api_key: string };
    assert.match(out.api_key, /\S{20,}/, 'the one-time API key is shown');
    assert.match(made.stderr, /^ferry: storage: the change is stored, but the running nodes of the fleet were not told \(publish failed: NOPERM[^)]*\); they apply it at their next periodic resync, within 60 s\n$/);
    assert.ok(!made.stderr.includes('hunter2'));

    const disabled = await ferry(['accounts', 'disable', out.id, '--config', config, ...pid]);
    assert.equal(disabled.code, 1);
    assert.match(disabled.stderr, /the change is stored, but the running nodes of the fleet were not told/);
    const storage = await openStorage(redis.url);
    try {
      assert.equal((await storage.accounts.getAccount(out.id))?.disabled, true, 'the change is in Redis');
    } finally {
      await storage.close();
    }

    // With channel rights the same command announces and succeeds.
    await admin.call('ACL', 'SETUSER', 'nopub', 'allchannels');
    const enabled = await ferry(['accounts', 'enable', out.id, '--config', config, ...pid]);
    assert.equal(enabled.code, 0, enabled.stderr);
  });
});
