// `ferry usage`: the current timeframe's usage per account (names beside ids) from the store, as a
// table or JSON, without a running Ferry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../../app/cli/main.js';
import { AccountService } from '../../../../src/accounts/service.js';
import { openSqliteStore } from '../../../../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../../../../src/store/sqlite-usage-store.js';

const TF = Date.UTC(2030, 0, 1);
const c = (bytesToPeer: number, bytesToClient: number, packets: number) => ({ bytesToPeer, bytesToClient, packetsToPeer: packets, packetsToClient: packets });

async function ferry(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('ferry usage', () => {
  let dir: string;
  let config: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-cli-usage-'));
    config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ storage: 'sqlite:ferry.db', network_usage: { timeframe: '30d' } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('says when nothing was ever metered', async () => {
    const r = await ferry(['usage', '--config', config]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /no usage recorded yet/);
    const j = await ferry(['usage', '--json', '--config', config]);
    assert.deepEqual(JSON.parse(j.stdout), { timeframe: null, usage: [] });
  });

  it('prints the current timeframe per account with its name (an older timeframe left out), as a table or JSON', async () => {
    const store = openSqliteStore(`sqlite:${join(dir, 'ferry.db')}`);
    const { account } = await (await AccountService.open(store, Date.now)).createAccount('Acme Corp');
    const id = account.id;
    const usage = new SqliteUsageStore(store.db);
    const old = TF - 30 * 86_400_000;
    await usage.setTimeframe({ start: TF, lengthMs: 30 * 86_400_000 });
    await usage.record({ writer: 'test', seq: 1, hour: old, timeframeStart: old, deltas: [{ account: id, ...c(999, 999, 9) }], sessions: [] });
    await usage.record({ writer: 'test', seq: 2, hour: TF, timeframeStart: TF, deltas: [{ account: id, ...c(1234, 56, 3) }, { account: 'a-much-longer-static-user', ...c(7, 8, 1) }], sessions: [] });
    await store.close();

    const r = await ferry(['usage', '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    const pad = (a: string) => a.padEnd('a-much-longer-static-user'.length);
    assert.equal(
      r.stdout,
      [
        'timeframe 2030-01-01T00:00:00.000Z .. 2030-01-31T00:00:00.000Z',
        `${pad('ACCOUNT')}  NAME       BYTES_TO_PEER  BYTES_TO_CLIENT  PACKETS_TO_PEER  PACKETS_TO_CLIENT`,
        `${pad('a-much-longer-static-user')}  -                      7                8                1                  1`,
        `${pad(id)}  Acme Corp           1234               56                3                  3`,
        '',
      ].join('\n'),
    );
    const expected = {
      timeframe: { start: '2030-01-01T00:00:00.000Z', end: '2030-01-31T00:00:00.000Z' },
      usage: [{ account: id, name: 'Acme Corp', bytes_to_peer: 1234, bytes_to_client: 56, packets_to_peer: 3, packets_to_client: 3 }],
    };
    // --account takes the id or the name (ignoring ASCII case).
    for (const a of [id, 'Acme Corp', 'acme corp']) {
      const j = await ferry(['usage', '--json', '--account', a, '--config', config]);
      assert.deepEqual(JSON.parse(j.stdout), expected, a);
    }
    const other = await ferry(['usage', '--json', '--account', 'a-much-longer-static-user', '--config', config]);
    assert.deepEqual((JSON.parse(other.stdout) as { usage: Array<{ name: unknown }> }).usage.map((u) => u.name), [null]);
  });

  it('--help and usage errors', async () => {
    assert.match((await ferry(['usage', '--help'])).stdout, /^Usage: ferry usage/);
    assert.equal((await ferry(['usage', '--bogus'])).code, 2);
    assert.match((await ferry(['--help'])).stdout, /usage \[--account A\] \[--json\]/);
  });
});
