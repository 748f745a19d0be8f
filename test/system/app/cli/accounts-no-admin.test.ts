// The account commands while Ferry runs WITHOUT signaling.admin_token: they cannot use its admin
// API, so they change the store directly and say that the running Ferry sees the change only after
// a restart (which is true: the live relay keeps accepting a disabled account); API keys added on
// the store work at once (keys are looked up in the store per request). Sessions need the admin
// API: exit 1 with the reason. A real `ferry start --fg` on free loopback ports, stopped in after().
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiRequest } from '../../../helpers/admin-http.js';
import { ferryCli, startCliFerry, type CliFerry } from '../../../helpers/ferry-cli.js';
import { restCredentials } from '../../../helpers/ferry-process.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { exitIfStuck } from '../../../helpers/wait.js';

const SECRET = 'no-admin-cli-rest-secret-0123456789';

describe('account commands while Ferry runs without an admin token', () => {
  const dir = tempDir('ferry-cli-no-admin');
  let f: CliFerry | undefined;

  async function allocate(account: string): Promise<number> {
    const { username, password } = restCredentials(SECRET, account);
    const c = await TestTurnClient.connect({ port: f!.turnPort, username, password });
    try {
      return (await c.allocate()).code;
    } finally {
      c.close();
    }
  }

  before(async () => {
    f = await startCliFerry(dir, { auth_secrets: [SECRET] });
  });

  after(async () => {
    await f?.stop();
    exitIfStuck();
  });

  test('changes go to the store with a note; the live relay sees them only after a restart', { timeout: 180_000 }, async () => {
    const created = await ferryCli(['accounts', 'create', 'acme'], dir);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /^ferry: note: Ferry runs \(pid \d+\) without signaling\.admin_token: it accepts this account's API key only after a restart\n$/);
    const { id } = JSON.parse(created.stdout) as { id: string };

    const disabled = await ferryCli(['accounts', 'disable', 'acme'], dir);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /disabled account acc_\w+ \(acme\) in the store/);
    assert.match(disabled.stderr, /without signaling\.admin_token: it sees this change only after a restart/);
    // The account is unknown to the live relay's directory (created on the store): accepted as
    // an external account, disabled or not. This is what the note warns about.
    assert.equal(await allocate(id), 0);
    const listed = JSON.parse((await ferryCli(['accounts', 'list', '--json'], dir)).stdout) as { accounts: Array<{ disabled: boolean }> };
    assert.deepEqual(listed.accounts.map((a) => a.disabled), [true], 'the store has it');
  });

  test('sessions need the admin API: exit 1 naming signaling.admin_token', { timeout: 60_000 }, async () => {
    for (const args of [['sessions'], ['sessions', 'kill', '1']]) {
      const r = await ferryCli(args, dir);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /Ferry runs \(pid \d+\) but signaling\.admin_token is not set in the config: sessions need its admin API/);
    }
    // And the admin API indeed refuses without a token configured.
    assert.equal((await apiRequest(f!.base, 'GET', '/v1/sessions', 'anything')).status, 503);
  });
});
