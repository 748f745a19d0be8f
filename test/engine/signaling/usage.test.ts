// The usage API: admin sees every account (or one), an API key only its own; from/to/granularity
// filters; the not yet written part is included; the CSV export is admin only. Rows carry their
// bucket's start and end, the account's name and the total, in the JSON and the CSV alike.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { liveUsage } from '../../../src/metering/query.js';
import type { AccountDelta } from '../../../src/metering/types.js';
import { openSqliteStore, type SqliteAccountStore } from '../../../src/store/sqlite-account-store.js';
import { SqliteUsageStore } from '../../../src/store/sqlite-usage-store.js';
import { parseCsv } from '../../helpers/csv-parse.js';
import { errorOf, testApp, type TestApp } from '../../helpers/signaling-app.js';

const H = (day: number, hour: number) => Date.UTC(2030, 0, day, hour);
const TF = H(1, 0);
const c = (bytesToPeer: number, bytesToClient: number) => ({ bytesToPeer, bytesToClient, packetsToPeer: 1, packetsToClient: 1 });

interface Row {
  account: string;
  account_name: string | null;
  start: string;
  end: string;
  total_bytes: number;
  bytes_to_peer: number;
  bytes_to_client: number;
  packets_to_peer: number;
  packets_to_client: number;
}

describe('GET /v1/usage and /v1/usage/export.csv', () => {
  let t: TestApp;
  let db: SqliteAccountStore;
  let acme: { id: string; api_key: string };
  let beta: { id: string; api_key: string };
  let pending: AccountDelta[] = [];
  const get = (url: string, auth?: string | null) => t.request({ method: 'GET', url, ...(auth !== undefined ? { auth } : {}) });
  const rows = (res: { json(): unknown }) =>
    (res.json() as { usage: Row[] }).usage.map((r) => [r.account === acme.id ? 'acme' : r.account === beta.id ? 'beta' : r.account, r.start.slice(0, 13), r.bytes_to_peer, r.bytes_to_client] as const)
      // Account ids are random: order by bucket, then by label.
      .sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]));

  before(async () => {
    db = openSqliteStore('sqlite::memory:');
    const store = new SqliteUsageStore(db.db);
    const query = liveUsage(store, { pending: () => ({ hour: H(2, 5), timeframeStart: TF, timeframeEnd: TF + 30 * 86_400_000, deltas: pending }) });
    t = await testApp({ relay: { usage: query } });
    const create = async (name: string) => (await t.request({ method: 'POST', url: '/v1/accounts', payload: { name } })).json() as { id: string; api_key: string };
    acme = await create('acme');
    beta = await create('beta');
    await store.setTimeframe({ start: TF, lengthMs: 30 * 86_400_000 });
    await store.record({ writer: 'test', seq: 1, hour: H(1, 10), timeframeStart: TF, deltas: [{ account: acme.id, ...c(100, 10) }, { account: beta.id, ...c(5, 5) }], sessions: [] });
    await store.record({ writer: 'test', seq: 2, hour: H(1, 11), timeframeStart: TF, deltas: [{ account: acme.id, ...c(200, 20) }], sessions: [] });
    await store.record({ writer: 'test', seq: 3, hour: H(2, 5), timeframeStart: TF, deltas: [{ account: acme.id, ...c(1000, 0) }], sessions: [] });
  });
  after(async () => {
    await t.close();
    await db.close();
  });

  it('admin: every account per hour, then one account, then per day and per timeframe', async () => {
    const all = await get('/v1/usage');
    assert.equal(all.statusCode, 200);
    assert.equal((all.json() as { granularity: string }).granularity, 'hour');
    assert.deepEqual(rows(all), [
      ['acme', '2030-01-01T10', 100, 10],
      ['beta', '2030-01-01T10', 5, 5],
      ['acme', '2030-01-01T11', 200, 20],
      ['acme', '2030-01-02T05', 1000, 0],
    ]);
    assert.deepEqual(rows(await get(`/v1/usage?account=${beta.id}`)), [['beta', '2030-01-01T10', 5, 5]]);
    assert.deepEqual(rows(await get('/v1/usage?granularity=day')), [
      ['acme', '2030-01-01T00', 300, 30],
      ['beta', '2030-01-01T00', 5, 5],
      ['acme', '2030-01-02T00', 1000, 0],
    ]);
    assert.deepEqual(rows(await get('/v1/usage?granularity=timeframe')), [
      ['acme', '2030-01-01T00', 1300, 30],
      ['beta', '2030-01-01T00', 5, 5],
    ]);
  });

  it('from and to select buckets by their start', async () => {
    const res = await get('/v1/usage?from=2030-01-01T11:00:00Z&to=2030-01-02T00:00:00Z');
    assert.deepEqual(rows(res), [['acme', '2030-01-01T11', 200, 20]]);
    // Per day: whole days starting within the range.
    assert.deepEqual(rows(await get('/v1/usage?granularity=day&from=2030-01-01T11:00:00Z')), [['acme', '2030-01-02T00', 1000, 0]]);
    assert.deepEqual(rows(await get('/v1/usage?granularity=day&to=2030-01-01T00:00:01Z')).length, 2);
    const bad = await get('/v1/usage?from=yesterday');
    assert.equal(bad.statusCode, 400);
    assert.equal((await get('/v1/usage?granularity=week')).statusCode, 400);
  });

  it('includes the counted but not yet written part', async () => {
    pending = [{ account: acme.id, ...c(7, 3) }, { account: 'static-user', ...c(1, 1) }];
    try {
      assert.deepEqual(rows(await get(`/v1/usage?account=${acme.id}&granularity=timeframe`)), [['acme', '2030-01-01T00', 1307, 33]]);
      const hours = rows(await get('/v1/usage?from=2030-01-02T00:00:00Z'));
      assert.deepEqual(hours, [
        ['acme', '2030-01-02T05', 1007, 3],
        ['static-user', '2030-01-02T05', 1, 1],
      ]);
      // Outside the range: not added.
      assert.deepEqual(rows(await get('/v1/usage?to=2030-01-02T00:00:00Z&granularity=day')).length, 2);
    } finally {
      pending = [];
    }
  });

  it('an API key sees its own account only; no or a bad credential is 401', async () => {
    assert.deepEqual(rows(await get('/v1/usage?granularity=timeframe', acme.api_key)), [['acme', '2030-01-01T00', 1300, 30]]);
    assert.deepEqual(rows(await get(`/v1/usage?granularity=timeframe&account=${beta.id}`, beta.api_key)), [['beta', '2030-01-01T00', 5, 5]]);
    const other = await get(`/v1/usage?account=${beta.id}`, acme.api_key);
    assert.equal(other.statusCode, 403);
    assert.equal(errorOf(other).code, 'forbidden');
    assert.equal((await get('/v1/usage', null)).statusCode, 401);
    assert.equal((await get('/v1/usage', 'fk_not-a-real-key-000000000000')).statusCode, 401);
    const st = await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: acme.api_key });
    const token = (st.json() as { token: string }).token;
    assert.equal((await get('/v1/usage', token)).statusCode, 401, 'a signaling token is not enough');
  });

  it('rows: start and end of the bucket (ISO 8601 UTC), the account\'s id and name, bytes each way and their total', async () => {
    const pick = (r: Row) => [r.start, r.end, r.account_name, r.bytes_to_peer, r.bytes_to_client, r.total_bytes];
    const hour = (await get(`/v1/usage?account=${acme.id}`)).json() as { usage: Row[] };
    assert.deepEqual(hour.usage.map(pick)[0], ['2030-01-01T10:00:00.000Z', '2030-01-01T11:00:00.000Z', 'acme', 100, 10, 110]);
    const day = (await get(`/v1/usage?account=${acme.id}&granularity=day`)).json() as { usage: Row[] };
    assert.deepEqual(day.usage.map(pick), [
      ['2030-01-01T00:00:00.000Z', '2030-01-02T00:00:00.000Z', 'acme', 300, 30, 330],
      ['2030-01-02T00:00:00.000Z', '2030-01-03T00:00:00.000Z', 'acme', 1000, 0, 1000],
    ]);
    const tf = (await get('/v1/usage?granularity=timeframe', beta.api_key)).json() as { usage: Row[] };
    assert.deepEqual(tf.usage.map(pick), [['2030-01-01T00:00:00.000Z', '2030-01-31T00:00:00.000Z', 'beta', 5, 5, 10]], 'the stored timeframe\'s end');
    assert.deepEqual(Object.keys(tf.usage[0]), ['start', 'end', 'account', 'account_name', 'bytes_to_peer', 'bytes_to_client', 'total_bytes', 'packets_to_peer', 'packets_to_client']);
    pending = [{ account: 'static-user', ...c(1, 2) }];
    try {
      const live = (await get('/v1/usage?granularity=timeframe&account=static-user')).json() as { usage: Row[] };
      assert.deepEqual(live.usage.map(pick), [['2030-01-01T00:00:00.000Z', '2030-01-31T00:00:00.000Z', null, 1, 2, 3]], 'not an account: no name');
    } finally {
      pending = [];
    }
  });

  it('CSV export: admin only, a header row and one row per account per bucket', async () => {
    const res = await get('/v1/usage/export.csv?granularity=day');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.equal(
      res.body,
      [
        'start,end,account,account_name,bytes_to_peer,bytes_to_client,total_bytes,packets_to_peer,packets_to_client',
        ...[
          `2030-01-01T00:00:00.000Z,2030-01-02T00:00:00.000Z,${acme.id},acme,300,30,330,2,2`,
          `2030-01-01T00:00:00.000Z,2030-01-02T00:00:00.000Z,${beta.id},beta,5,5,10,1,1`,
        ].sort(),
        `2030-01-02T00:00:00.000Z,2030-01-03T00:00:00.000Z,${acme.id},acme,1000,0,1000,1,1`,
        '',
      ].join('\r\n'),
    );
    const one = await get(`/v1/usage/export.csv?granularity=timeframe&account=${beta.id}`);
    assert.equal(one.body.split('\r\n')[1], `2030-01-01T00:00:00.000Z,2030-01-31T00:00:00.000Z,${beta.id},beta,5,5,10,1,1`);
    assert.equal((await get('/v1/usage/export.csv', acme.api_key)).statusCode, 401);
    assert.equal((await get('/v1/usage/export.csv', null)).statusCode, 401);
  });

  it('CSV export: account and name cells a spreadsheet would run as formulas are neutralised; the file parses back', async () => {
    // Usage rows are keyed by account id, static user or REST credential name: the latter is any
    // text, and so is an account's name.
    const names = ['=HYPERLINK("http://x")', '@SUM(1)', '-2+3', 'plain-name'];
    const evil = (await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: '+cmd|\' /C calc\'!A0' } })).json() as { id: string };
    pending = [...names.map((account) => ({ account, ...c(7, 3) })), { account: evil.id, ...c(1, 1) }];
    try {
      const res = await get('/v1/usage/export.csv?granularity=timeframe');
      assert.equal(res.statusCode, 200);
      const table = parseCsv(res.body);
      assert.deepEqual(table[0], ['start', 'end', 'account', 'account_name', 'bytes_to_peer', 'bytes_to_client', 'total_bytes', 'packets_to_peer', 'packets_to_client']);
      const byAccount = new Map(table.slice(1).map((r) => [r[2], [...r.slice(0, 2), ...r.slice(3)]]));
      for (const [cell, name] of [["'=HYPERLINK(\"http://x\")", names[0]], ["'@SUM(1)", names[1]], ["'-2+3", names[2]], ['plain-name', names[3]]]) {
        assert.deepEqual(byAccount.get(cell), ['2030-01-01T00:00:00.000Z', '2030-01-31T00:00:00.000Z', '', '7', '3', '10', '1', '1'], `${name} → ${cell}`);
      }
      assert.deepEqual(byAccount.get(evil.id)?.[2], "'+cmd|' /C calc'!A0", 'the account name is neutralised too');
      assert.ok(res.body.includes(`,${evil.id},"'+cmd|' /C calc'!A0",`), res.body);
      assert.ok(res.body.includes(',"\'=HYPERLINK(""http://x"")",,'), res.body);
      assert.ok(res.body.includes(',plain-name,,'), 'an ordinary name is written as it is');
      for (const line of res.body.split('\r\n')) for (const cell of parseCsv(line)[0] ?? []) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, line);
    } finally {
      pending = [];
      await t.request({ method: 'DELETE', url: `/v1/accounts/${evil.id}` });
    }
  });

  it('has no usage routes without a usage ledger (404)', async () => {
    const bare = await testApp();
    try {
      for (const url of ['/v1/usage', '/v1/usage/export.csv']) {
        const res = await bare.request({ method: 'GET', url });
        assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
        assert.equal(errorOf(res).code, 'not_found');
      }
    } finally {
      await bare.close();
    }
  });
});
