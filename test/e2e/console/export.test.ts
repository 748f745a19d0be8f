// The console's usage export end to end: a real Ferry process, real relayed traffic (a TURN client
// with an account's credentials from POST /v1/ice-servers, an echoing UDP peer), headless Chromium
// signed in through the console's form. The CSV the Export page downloads is the API's answer for
// the same range, byte for byte, and its rows are GET /v1/usage's and what was relayed. Also the
// sign-in: a wrong token is refused and kept nowhere, the token never travels in a URL, signing out
// forgets it and stops the API calls, a token the server stops accepting brings the form back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Download, Page, Request } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../../helpers/chromium.js';
import { assertClean, CONSOLE_ADMIN_TOKEN, LAPTOP, openConsole, PHONE, signIn, startConsoleFerry, type ConsoleFerry, type ConsolePage } from '../../helpers/console.js';
import { parseCsv } from '../../helpers/csv-parse.js';
import { restCredentials, TEST_SECRET } from '../../helpers/ferry-process.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { sleep } from '../../helpers/wait.js';
import { fileStamp } from '../../../console/pages/export-range.js';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const TOKEN_KEY = 'ferry.console.admin_token';
/** A name a spreadsheet would run as a formula, with a comma and quotes: the CSV must carry it safely. */
const TRICKY_NAME = '=Bee, "Corp"';

interface Relayed {
  readonly toPeer: number;
  readonly toClient: number;
}

interface UsageRow {
  start: string;
  end: string;
  account: string;
  account_name: string | null;
  bytes_to_peer: number;
  bytes_to_client: number;
  total_bytes: number;
  packets_to_peer: number;
  packets_to_client: number;
}

/**
 * assertClean, but for the `count` refusals with `status` the test caused: Chromium logs each
 * refused fetch as a console error. Anything else (a script error, a CSP violation, another
 * origin, another failed request) still fails.
 */
/** assertClean, after exactly `count` error answers of the API with `status` (and no other). */
async function assertCleanBut(c: ConsolePage, status: number, count: number): Promise<void> {
  assert.deepEqual(c.apiErrors().map((e) => Number(e.split(' ')[0])), Array.from({ length: count }, () => status), c.apiErrors().join('\n'));
  await assertClean(c);
}

describe('console: usage export', { timeout: 90_000 }, () => {
  let ferry: ConsoleFerry;
  let browser: LaunchedChromium;
  let peer: UdpPeer;
  const clients: TestTurnClient[] = [];
  let acme: { id: string; api_key: string };
  let bee: { id: string; api_key: string };
  const relayed = new Map<string, Relayed>();

  /** Relays `n` datagrams of `size` bytes to the echo peer and back with these credentials. */
  async function relay(cred: { username: string; password: string }, n: number, size: number, port = ferry.udpPort): Promise<Relayed> {
    const client = await TestTurnClient.connect({ port, ...cred });
    clients.push(client);
    const alloc = await client.allocate();
    assert.equal(alloc.code, 0, 'allocate');
    assert.equal((await client.channelBind(0x4000, peer.address)).code, 0, 'channel bind');
    const before = peer.received.length;
    let back = 0;
    for (let i = 0; i < n; i++) {
      client.sendChannelData(0x4000, Buffer.alloc(size, i + 1));
      // Paced: one datagram in flight at a time, so loopback drops nothing and the counts are exact.
      const got = await client.nextData(2000);
      assert.equal(got?.data.length, size, `echo ${i + 1} of ${n}`);
      back++;
    }
    assert.equal(peer.received.length - before, n, 'the peer got every datagram');
    assert.equal((await client.refresh(0)).code, 0, 'the allocation ends');
    return { toPeer: n * size, toClient: back * size };
  }

  async function iceCredentials(apiKey: string, base = ferry.base): Promise<{ username: string; password: string }> {
    const res = await fetch(`${base}/v1/ice-servers`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);
    const ice = (await res.json()) as { iceServers: { username: string; credential: string }[] };
    return { username: ice.iceServers[0].username, password: ice.iceServers[0].credential };
  }

  async function usage(query: string): Promise<UsageRow[]> {
    const res = await ferry.admin<{ usage: UsageRow[] }>('GET', `/v1/usage?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json.usage;
  }

  async function apiCsv(query: string): Promise<string> {
    const res = await fetch(`${ferry.base}/v1/usage/export.csv?${query}`, { headers: { authorization: `Bearer ${CONSOLE_ADMIN_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
    return res.text();
  }

  before(async () => {
    ferry = await startConsoleFerry();
    peer = await UdpPeer.open('127.0.0.1', true);
    const create = async (name: string) => {
      const res = await ferry.admin<{ id: string; api_key: string }>('POST', '/v1/accounts', { name });
      assert.equal(res.status, 201);
      return res.json;
    };
    acme = await create('Acme Video');
    bee = await create(TRICKY_NAME);
    relayed.set(acme.id, await relay(await iceCredentials(acme.api_key), 12, 700));
    relayed.set(bee.id, await relay(await iceCredentials(bee.api_key), 5, 300));
    // Usage billed to a REST credential's name, which is no account: its row has no account name.
    relayed.set('walk-in', await relay(restCredentials(TEST_SECRET, 'walk-in'), 3, 100));
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of clients) c.close();
    peer?.close();
    await browser?.close();
    await ferry?.stop();
  });

  /** Opens the console signed in on the Export page, once the current timeframe is known to it. */
  async function exportPage(viewport: { width: number; height: number } = LAPTOP): Promise<ConsolePage> {
    const c = await openConsole(browser, ferry.base, viewport);
    await signIn(c);
    await c.page.getByRole('link', { name: 'Usage export' }).click();
    await c.page.getByRole('heading', { level: 1, name: 'Usage export' }).waitFor();
    await c.page.waitForFunction(() => document.querySelector('#export-account-list option:nth-child(2)') !== null, undefined, { timeout: 10_000 });
    await c.page.getByRole('button', { name: 'This timeframe' }).and(c.page.locator('[aria-pressed="true"]')).waitFor({ timeout: 10_000 });
    return c;
  }

  async function downloadCsv(page: Page): Promise<{ download: Download; text: string; request: Request }> {
    const [download, request] = await Promise.all([
      page.waitForEvent('download', { timeout: 10_000 }),
      page.waitForRequest(/\/v1\/usage\/export\.csv\?/, { timeout: 10_000 }),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const file = await download.path();
    return { download, text: readFileSync(file, 'utf8'), request };
  }

  test('the downloaded CSV is the API\'s for the same range: the rows of GET /v1/usage, the bytes relayed', async () => {
    const c = await exportPage();
    const { page } = c;
    try {
      // The billing period first: the overview's timeframe.
      const overview = await ferry.admin<{ timeframe: { start: string; end: string } }>('GET', '/v1/overview');
      assert.equal(await page.getByLabel('From').inputValue(), day(Date.parse(overview.json.timeframe.start)));
      assert.equal(await page.getByLabel('To (not included)').inputValue(), day(Date.parse(overview.json.timeframe.end)));

      // The other quick choices, as UTC days.
      const now = Date.now();
      const d = new Date(now);
      const today = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      const choices: [string, number, number][] = [
        ['Last 7 days', today - 6 * DAY, today + DAY],
        ['This month', Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)],
        ['Last month', Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1), Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)],
      ];
      for (const [name, from, to] of choices) {
        await page.getByRole('button', { name }).click();
        assert.equal(await page.getByRole('button', { name }).getAttribute('aria-pressed'), 'true', name);
        assert.equal(await page.getByLabel('From').inputValue(), day(from), name);
        assert.equal(await page.getByLabel('To (not included)').inputValue(), day(to), name);
      }

      // An empty range is refused in the page: nothing is asked.
      const asked: string[] = [];
      page.on('request', (r) => { if (r.url().includes('/export.csv')) asked.push(r.url()); });
      await page.getByLabel('From').fill(day(today + DAY));
      await page.getByLabel('To (not included)').fill(day(today));
      await page.getByRole('button', { name: 'Download CSV' }).click();
      await page.getByRole('alert').filter({ hasText: 'From must be before To' }).waitFor({ timeout: 5000 });
      assert.deepEqual(asked, []);

      // Yesterday to tomorrow, per hour, every account.
      const from = day(today - DAY);
      const to = day(today + DAY);
      await page.getByLabel('From').fill(from);
      await page.getByLabel('To (not included)').fill(to);
      await page.getByLabel('Rows per').selectOption('hour');
      // Which object URLs the page makes and gives back: the file's must not outlive its download.
      await page.evaluate(() => {
        const blobs = { created: [] as string[], revoked: [] as string[] };
        (window as unknown as { __blobs: typeof blobs }).__blobs = blobs;
        const create = URL.createObjectURL.bind(URL);
        const revoke = URL.revokeObjectURL.bind(URL);
        URL.createObjectURL = (o: Blob | MediaSource) => { const u = create(o); blobs.created.push(u); return u; };
        URL.revokeObjectURL = (u: string) => { blobs.revoked.push(u); revoke(u); };
      });
      const { download, text, request } = await downloadCsv(page);
      assert.equal(download.suggestedFilename(), `ferry-usage-${from}-${to}.csv`);
      assert.match(download.url(), /^blob:/);
      assert.deepEqual(await page.evaluate(() => (window as unknown as { __blobs: { created: string[] } }).__blobs.created), [download.url()]);
      await page.waitForFunction((u) => (window as unknown as { __blobs: { revoked: string[] } }).__blobs.revoked.includes(u), download.url(), { timeout: 5000 });
      assert.equal(await request.headerValue('authorization'), `Bearer ${CONSOLE_ADMIN_TOKEN}`);
      const params = new URL(request.url()).searchParams;
      assert.deepEqual(Object.fromEntries(params), { from: `${from}T00:00:00.000Z`, to: `${to}T00:00:00.000Z`, granularity: 'hour' });
      const query = params.toString();
      assert.equal(text, await apiCsv(query), 'the file is the API\'s CSV');

      const [header, ...cells] = parseCsv(text);
      assert.deepEqual(header, ['start', 'end', 'account', 'account_name', 'bytes_to_peer', 'bytes_to_client', 'total_bytes', 'packets_to_peer', 'packets_to_client']);
      const rows = cells.map((r) => Object.fromEntries(header.map((k, i) => [k, r[i]])));
      const json = await usage(query);
      assert.equal(rows.length, json.length);
      assert.ok(rows.length >= 3, `a row for each of the three who relayed: ${text}`);
      json.forEach((j, i) => {
        assert.deepEqual(rows[i], {
          start: j.start,
          end: j.end,
          account: j.account,
          // The formula-like name is neutralised with a leading '.
          account_name: j.account_name === null ? '' : j.account_name.startsWith('=') ? `'${j.account_name}` : j.account_name,
          bytes_to_peer: String(j.bytes_to_peer),
          bytes_to_client: String(j.bytes_to_client),
          total_bytes: String(j.total_bytes),
          packets_to_peer: String(j.packets_to_peer),
          packets_to_client: String(j.packets_to_client),
        });
      });
      // Each one's bytes are what was relayed for it, each way.
      for (const [who, r] of relayed) {
        const mine = rows.filter((row) => row.account === who);
        assert.ok(mine.length >= 1, who);
        assert.equal(mine.reduce((s, row) => s + Number(row.bytes_to_peer), 0), r.toPeer, `${who} to peer`);
        assert.equal(mine.reduce((s, row) => s + Number(row.bytes_to_client), 0), r.toClient, `${who} to client`);
      }
      assert.equal(rows.find((r) => r.account === bee.id)?.account_name, `'${TRICKY_NAME}`);
      assert.equal(rows.find((r) => r.account === 'walk-in')?.account_name, '');

      // The preview: the count and the first rows, the name as it is.
      await page.locator('#export-count').waitFor();
      assert.equal(await page.locator('#export-count').textContent(), `${rows.length} rows in ferry-usage-${from}-${to}.csv.`);
      const previewRows = page.locator('table.export-rows tbody tr');
      assert.equal(await previewRows.count(), Math.min(rows.length, 10));
      const texts = await previewRows.allTextContents();
      const beeAt = rows.findIndex((r) => r.account === bee.id);
      assert.ok(beeAt >= 0 && beeAt < 10, `${TRICKY_NAME} is previewed`);
      assert.match(texts[beeAt], new RegExp(`^.*UTC${TRICKY_NAME.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')} ${bee.id}`));
      const first = rows[0];
      assert.ok(texts[0].includes(Number(first.total_bytes).toLocaleString('en-US')), texts[0]);
      await c.screenshot('export');

      // An account that does not exist is refused in the page, said next to the field: nothing asked.
      const askedBefore = asked.length;
      await page.getByLabel('Account').fill('Nobody Ltd');
      await page.getByRole('button', { name: 'Download CSV' }).click();
      await page.locator('#export-account-error').filter({ hasText: 'No account has the name or id “Nobody Ltd”' }).waitFor({ timeout: 5000 });
      assert.equal(await page.getByLabel('Account').getAttribute('aria-invalid'), 'true');
      assert.equal(asked.length, askedBefore);

      // The suggestions narrow as the operator types: a name, its id as the value.
      await page.getByLabel('Account').fill('acme');
      await page.waitForFunction(() => document.querySelectorAll('#export-account-list option').length === 1, undefined, { timeout: 5000 });
      assert.equal(await page.locator('#export-account-list option').getAttribute('value'), acme.id);
      assert.equal(await page.locator('#export-account-list option').getAttribute('label'), 'Acme Video');

      // One account by its name, per timeframe: only its rows.
      await page.getByLabel('Account').fill('Acme Video');
      await page.getByLabel('Rows per').selectOption('timeframe');
      const one = await downloadCsv(page);
      const oneQuery = new URL(one.request.url()).searchParams;
      assert.equal(oneQuery.get('account'), acme.id);
      assert.equal(oneQuery.get('granularity'), 'timeframe');
      assert.equal(one.text, await apiCsv(oneQuery.toString()));
      const [, ...oneRows] = parseCsv(one.text);
      assert.ok(oneRows.length >= 1 && oneRows.every((r) => r[2] === acme.id), one.text);
      assert.equal(oneRows.reduce((s, r) => s + Number(r[4]), 0), relayed.get(acme.id)!.toPeer);
      assert.equal(oneRows.reduce((s, r) => s + Number(r[5]), 0), relayed.get(acme.id)!.toClient);
      await assertClean(c);
    } finally {
      await c.close();
    }
  });

  test('a wrong token is refused: said so, no data shown, nothing stored', async () => {
    const c = await openConsole(browser, ferry.base, LAPTOP);
    const { page } = c;
    try {
      await page.getByLabel('Admin token').fill('not-the-admin-token-0123456789');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'This token is not the admin token: refused.' }).waitFor({ timeout: 10_000 });
      assert.equal(await page.getByRole('navigation', { name: 'Console pages' }).isVisible(), false);
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false);
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      assert.equal(await page.locator('main table, main h1:not(#sign-in-title)').count(), 0);
      assert.equal(await page.getByLabel('Admin token').isVisible(), true);
      await assertCleanBut(c, 401, 1);
    } finally {
      await c.close();
    }
  });

  test('the token never in a URL; sign-out forgets it and stops the calls; a refused token brings the form back', async () => {
    const c = await openConsole(browser, ferry.base, LAPTOP);
    const { page } = c;
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));
    try {
      await c.screenshot('sign-in');
      await signIn(c);
      assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY), CONSOLE_ADMIN_TOKEN);
      await page.getByRole('link', { name: 'Usage export' }).click();
      await page.waitForFunction(() => document.querySelector('#export-account-list option:nth-child(2)') !== null, undefined, { timeout: 10_000 });
      await downloadCsv(page);

      const api = requests.filter((r) => new URL(r.url()).pathname.startsWith('/v1/'));
      assert.ok(api.length >= 3, api.map((r) => r.url()).join(' '));
      for (const r of requests) assert.ok(!r.url().includes(CONSOLE_ADMIN_TOKEN), `token in ${r.url()}`);
      for (const r of api) assert.equal(await r.headerValue('authorization'), `Bearer ${CONSOLE_ADMIN_TOKEN}`, r.url());
      assert.ok(!page.url().includes(CONSOLE_ADMIN_TOKEN), page.url());

      // Sign out from the overview (the page that polls): the token goes, and so do the calls.
      await page.getByRole('link', { name: 'Overview' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      const calls = requests.filter((r) => r.url().includes('/v1/')).length;
      await sleep(2_500); // longer than the console's polling interval (2 s)
      assert.equal(requests.filter((r) => r.url().includes('/v1/')).length, calls, 'no API call after signing out');
      assert.equal(await page.getByRole('navigation', { name: 'Console pages' }).isVisible(), false);

      // Signed in again; then the server no longer accepts the stored token (as after a change of
      // signaling.admin_token): the next page's call is refused and the form is back, token gone.
      await signIn(c);
      await page.evaluate((k) => sessionStorage.setItem(k, 'an-old-admin-token-0123456789'), TOKEN_KEY);
      await page.getByRole('link', { name: 'Usage export' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 10_000 });
      await page.getByRole('alert').filter({ hasText: /^Signed out: invalid admin token\.$/ }).waitFor({ timeout: 5000 });
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      assert.equal(await page.getByRole('navigation', { name: 'Console pages' }).isVisible(), false);
      for (const r of requests) assert.ok(!r.url().includes('an-old-admin-token'), r.url());
      // The account list and the timeframe, both refused.
      await assertCleanBut(c, 401, 2);
    } finally {
      await c.close();
    }
  });

  test('at phone width: no sideways scroll, on the sign-in form and the export with its preview', async () => {
    const c = await openConsole(browser, ferry.base, PHONE);
    const { page } = c;
    const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    try {
      await page.getByLabel('Admin token').waitFor();
      assert.ok((await sideways()) <= 0, 'sign-in scrolls sideways');
      await c.screenshot('sign-in');
      await c.close();
      const e = await exportPage(PHONE);
      try {
        const d = new Date();
        const today = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
        await e.page.getByLabel('From').fill(day(today - DAY));
        await e.page.getByLabel('To (not included)').fill(day(today + DAY));
        await downloadCsv(e.page);
        await e.page.locator('table.export-rows').waitFor();
        assert.ok((await e.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0, 'the export page scrolls sideways');
        await e.screenshot('export');
        await assertClean(e);
      } finally {
        await e.close();
      }
    } finally {
      await c.close().catch(() => undefined);
    }
  });

  test('this timeframe, when it does not start at midnight: its first day or hour is exported whole, with the traffic in it, and said', async () => {
    // Fixed one-hour windows from the moment metering started: neither end is on an hour, let
    // alone a midnight. The API keeps the buckets that START in the range, so an export from the
    // timeframe's exact start per day or per hour would drop the one bucket holding the traffic.
    const hourly = await startConsoleFerry({ network_usage: { write_interval: '200ms', timeframe: '1h' } });
    const c = await openConsole(browser, hourly.base, LAPTOP);
    try {
      const made = await hourly.admin<{ id: string; api_key: string }>('POST', '/v1/accounts', { name: 'Early Bird' });
      assert.equal(made.status, 201);
      const sent = await relay(await iceCredentials(made.json.api_key, hourly.base), 6, 500, hourly.udpPort);
      await signIn(c);
      const { page } = c;
      await page.getByRole('link', { name: 'Usage export' }).click();
      await page.getByRole('button', { name: 'This timeframe' }).and(page.locator('[aria-pressed="true"]')).waitFor({ timeout: 10_000 });
      const tf = (await hourly.admin<{ timeframe: { start: string; end: string } }>('GET', '/v1/overview')).json.timeframe;
      const [start, end] = [Date.parse(tf.start), Date.parse(tf.end)];
      assert.equal(end - start, 3_600_000);
      assert.notEqual(start % 3_600_000, 0, 'a window that starts inside an hour');
      assert.equal(await page.getByLabel('From').inputValue(), day(start));
      assert.equal(await page.getByLabel('To (not included)').inputValue(), day(end));
      assert.equal(await page.getByLabel('Rows per').inputValue(), 'day', 'rows per day by default');
      const hm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
      const iso = (ms: number) => new Date(ms).toISOString();
      const help = async () => String(await page.locator('#export-range-help').textContent());

      /** The default export's file for `granularity`: the range asked for, its account's bytes. */
      const check = async (granularity: string, from: number, to: number, name: string) => {
        const { download, text, request } = await downloadCsv(page);
        const params = new URL(request.url()).searchParams;
        assert.deepEqual(Object.fromEntries(params), { from: iso(from), to: iso(to), granularity }, granularity);
        assert.equal(download.suggestedFilename(), name);
        const [header, ...rows] = parseCsv(text);
        const mine = rows.filter((r) => r[header.indexOf('account')] === made.json.id);
        assert.ok(mine.length >= 1, `${granularity}: the account's row is in the file: ${JSON.stringify(text)}`);
        assert.equal(mine.reduce((n, r) => n + Number(r[header.indexOf('bytes_to_peer')]), 0), sent.toPeer, `${granularity} to peer`);
        assert.equal(mine.reduce((n, r) => n + Number(r[header.indexOf('bytes_to_client')]), 0), sent.toClient, `${granularity} to client`);
        await page.locator('#export-count').filter({ hasText: new RegExp(`^${rows.length} rows? in ${name.replace(/\./g, '\\.')}\\.$`) }).waitFor({ timeout: 5000 });
        assert.equal(await page.locator('table.export-rows tbody tr').count(), rows.length);
      };

      // Per day (the default): whole UTC days, from the midnight before the timeframe's start.
      const [dayFrom, dayTo] = [Math.floor(start / DAY) * DAY, Math.ceil(end / DAY) * DAY];
      assert.match(await help(), new RegExp(`^Whole days: from ${day(dayFrom)} 00:00 UTC up to, not including, ${day(dayTo)} 00:00 UTC \\(the current timeframe starts ${hm(start)} and ends ${day(end)} ${hm(end)} UTC\\)\\.$`));
      await check('day', dayFrom, dayTo, `ferry-usage-${day(dayFrom)}-${day(dayTo)}.csv`);

      // Per hour: whole hours, from the start of the hour the timeframe starts in.
      const HOUR = 3_600_000;
      const [hourFrom, hourTo] = [Math.floor(start / HOUR) * HOUR, Math.ceil(end / HOUR) * HOUR];
      await page.getByLabel('Rows per').selectOption('hour');
      assert.match(await help(), new RegExp(`^Whole hours: from ${day(hourFrom)} ${hm(hourFrom)} UTC up to, not including, ${day(hourTo)} ${hm(hourTo)} UTC \\(the current timeframe starts ${hm(start)}`));
      // As the page names files: the day alone at a midnight (the hour before or after one is).
      const stamp = fileStamp;
      await check('hour', hourFrom, hourTo, `ferry-usage-${stamp(hourFrom)}-${stamp(hourTo)}.csv`);

      // Per timeframe: its row starts at the exact start, which is the range asked for.
      await page.getByLabel('Rows per').selectOption('timeframe');
      assert.match(await help(), new RegExp(`^Exactly ${day(start)} ${hm(start)} UTC to ${day(end)} ${hm(end)} UTC`));
      await check('timeframe', start, end, `ferry-usage-${stamp(start)}-${stamp(end)}.csv`);

      // Editing a day leaves the exact instants: whole days again.
      await page.getByLabel('From').fill(day(start - DAY));
      assert.equal(await page.getByRole('button', { name: 'This timeframe' }).getAttribute('aria-pressed'), 'false');
      assert.match(await help(), /^Buckets starting from \d{4}-\d{2}-\d{2} 00:00 UTC/);
      await assertClean(c);
    } finally {
      await c.close();
      await hourly.stop();
    }
  });

  // Last: it spends this address's budget of failed admin tokens, refusing the right one too for a minute.
  test('an error of the API is shown in the alert region, as the API said it', async () => {
    const c = await exportPage();
    const { page } = c;
    try {
      for (let i = 0; i < 12; i++) {
        const res = await fetch(`${ferry.base}/v1/accounts`, { headers: { authorization: 'Bearer a-guess-at-the-admin-token-0123' }, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status === 429) break;
      }
      await page.getByRole('button', { name: 'Download CSV' }).click();
      const alert = page.locator('#export-error');
      await alert.filter({ hasText: 'too many invalid admin tokens' }).waitFor({ timeout: 10_000 });
      assert.equal(await alert.getAttribute('role'), 'alert');
      assert.match(String(await alert.textContent()), /^The export failed: too many invalid admin tokens from this address .*\(429 [a-z_]+\)$/);
      // Refused for now is not signed out: the form and the token stay.
      assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY), CONSOLE_ADMIN_TOKEN);
      assert.equal(await page.getByRole('button', { name: 'Download CSV' }).isEnabled(), true);
      await assertCleanBut(c, 429, 1);
    } finally {
      await c.close();
    }
  });
});
