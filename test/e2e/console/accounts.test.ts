// The console's Accounts pages end to end: a real Ferry process, headless Chromium signed in through
// the console, and an account relaying real traffic (a TURN client on TURN credentials minted with
// the account's API key, a UDP echo peer). The list finds the account by search; its page's gauge
// and hourly figures grow with the traffic; the limit changed in the console is what the API then
// answers (and a wrong one shows the API's message); a key created in the console works and stops
// working once revoked there; disable, enable, closing sessions and revoking credentials do what
// they say, seen from the API and from the relay.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { apiJson } from '../../helpers/admin-http.js';
import { launchChromium, type LaunchedChromium } from '../../helpers/chromium.js';
import { assertClean, CONSOLE_ADMIN_TOKEN, type ConsoleFerry, type ConsolePage, LAPTOP, openConsole, PHONE, signIn, startConsoleFerry } from '../../helpers/console.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { sleep } from '../../helpers/wait.js';
import { Cleanups } from '../../helpers/cleanups.js';

const CHANNEL = 0x4000;
const XOR_RELAYED_ADDRESS = 0x0016;

/** `check` until it returns true, at most `ms`; the last value in the failure. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(100);
  }
}

/** POST /v1/ice-servers with an API key: the status, and the first entry's credentials on 200. */
async function iceServers(ferry: ConsoleFerry, apiKey: string): Promise<{ status: number; username?: string; credential?: string }> {
  const r = await apiJson(ferry.base, 'POST', '/v1/ice-servers', apiKey);
  const entry = r.status === 200 ? (r.json.iceServers[0] as { username: string; credential: string }) : undefined;
  return { status: r.status, username: entry?.username, credential: entry?.credential };
}

const gaugeNow = (page: Page) => page.locator('#usage-gauge').getAttribute('aria-valuenow').then(Number);
/** The accessible table's total (both ways) over the chart's range, in bytes. */
const tableTotal = (page: Page) =>
  page.locator('#usage-table tfoot td').last().textContent().then((t) => Number((t ?? '').replace(/,/g, '')));

/**
 * Chromium logs every answered fetch with a 4xx as a console error. Takes the one that the step
 * just provoked on purpose (the API refusing a wrong limit, no such account) out of the page's
 * problems, so assertClean still sees any other.
 */
/** The page got exactly one more error answer of the API, with `status`, since the last look. */
function expectApiError(c: ConsolePage, status: 400 | 404, seen: { n: number }): void {
  const fresh = c.apiErrors().slice(seen.n);
  seen.n = c.apiErrors().length;
  assert.deepEqual(fresh.map((e) => Number(e.split(' ')[0])), [status], `the API answered ${status} once: ${JSON.stringify(fresh)}`);
}

async function noSidewaysScroll(page: Page, what: string): Promise<void> {
  const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  assert.ok(scroll <= inner, `${what} scrolls sideways at phone width: ${scroll} > ${inner}`);
}

describe('console: accounts', () => {
  const cleanups = new Cleanups();
  after(async () => {
    await cleanups.run();
  });

  it('finds an account, shows its usage moving, edits it, and manages its keys and credentials', async () => {
    const ferry = await startConsoleFerry();
    cleanups.push(() => ferry.stop());
    const browser: LaunchedChromium = await launchChromium();
    cleanups.push(() => browser.close());

    // Two accounts, so the search has something to leave out; a limit so the gauge has a maximum.
    const made = await ferry.admin<{ id: string; api_key: string }>('POST', '/v1/accounts', { name: 'Acme Video' });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const { id, api_key: apiKey } = made.json;
    assert.equal((await ferry.admin('POST', '/v1/accounts', { name: 'Other Co' })).status, 201);
    assert.equal((await ferry.admin('PATCH', `/v1/accounts/${id}`, { limit: '20MB' })).status, 200);

    // A TURN client on the account's credentials, relaying to a UDP echo peer: each datagram is
    // billed once to the peer and once back to the client.
    const ice = await iceServers(ferry, apiKey);
    assert.equal(ice.status, 200);
    const peer = await UdpPeer.open('127.0.0.1', true);
    cleanups.push(() => peer.close());
    const client = await TestTurnClient.connect({ port: ferry.udpPort, username: ice.username, password: ice.credential });
    cleanups.push(() => client.close());
    assert.equal((await client.allocate()).code, 0, 'Allocate');
    assert.equal((await client.channelBind(CHANNEL, peer.address)).code, 0, 'ChannelBind');
    /** `n` datagrams of 1000 bytes out and their echoes back; returns how many came back. */
    const traffic = async (n: number): Promise<number> => {
      let back = 0;
      for (let i = 0; i < n; i++) {
        client.sendChannelData(CHANNEL, Buffer.alloc(1000, i));
        if ((await client.nextData(2000)) !== null) back++;
      }
      return back;
    };
    assert.ok((await traffic(50)) >= 45, 'the echo peer answered through the relay');

    const c: ConsolePage = await openConsole(browser, ferry.base, LAPTOP);
    const seen = { n: 0 };
    const { page } = c;
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      d.accept().catch(() => undefined);
    });
    await signIn(c);

    // The list, searched by name and by id.
    await page.getByRole('navigation', { name: 'Console pages' }).getByRole('link', { name: 'Accounts' }).click();
    const search = page.getByLabel('Search by name or id');
    await search.waitFor();
    assert.equal(await page.locator('#accounts-table tbody tr').count(), 2);
    // Its usage this timeframe in the list (the cell's title has the exact count).
    const listed = Number(((await page.locator(`#accounts-table tr[data-account="${id}"] td`).nth(5).getAttribute('title')) ?? '').replace(/[, a-z]/g, ''));
    assert.ok(listed >= 90_000, `the list shows the account's usage: ${listed}`);
    await search.fill('acme');
    await page.locator('#accounts-table tbody tr').nth(1).waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(await page.locator(`#accounts-table tbody tr[data-account="${id}"]`).count(), 1);
    assert.match((await page.locator('#account-count').textContent()) ?? '', /^1 of 2 accounts match/);
    await search.fill(id.slice(4, 12));
    assert.equal(await page.locator('#accounts-table tbody tr').count(), 1);
    assert.equal(await page.locator(`#accounts-table tbody tr[data-account="${id}"]`).count(), 1);
    await search.fill('');
    await page.locator('#accounts-table tbody tr').nth(1).waitFor({ timeout: 5000 });
    await c.screenshot('accounts');
    await page.setViewportSize(PHONE);
    await noSidewaysScroll(page, 'the accounts list');
    await c.screenshot('accounts');
    await page.setViewportSize(LAPTOP);

    // The account's page: the gauge against the 20 MB limit, and both grow with the traffic.
    await search.fill('Acme');
    await page.getByRole('link', { name: 'Acme Video' }).click();
    await page.getByRole('heading', { level: 1, name: 'Acme Video' }).waitFor({ timeout: 5000 });
    const meter = page.getByRole('meter', { name: 'Usage this timeframe' });
    await meter.waitFor();
    await eventually(async () => (await meter.getAttribute('aria-valuemax')) === '20000000', 5000, 'gauge max = the 20 MB limit');
    await eventually(async () => (await gaugeNow(page)) >= 90_000, 5000, 'the gauge shows the first traffic');
    await eventually(async () => (await tableTotal(page)) >= 90_000, 5000, 'the hourly figures show the first traffic');
    const gaugeBefore = await gaugeNow(page);
    const tableBefore = await tableTotal(page);
    assert.ok((await traffic(100)) >= 90);
    await eventually(async () => (await gaugeNow(page)) >= gaugeBefore + 180_000, 8000, 'the gauge grows with the traffic');
    await eventually(async () => (await tableTotal(page)) >= tableBefore + 180_000, 8000, 'the hourly figures grow with the traffic');
    const hourRows = await page.locator('#usage-table tbody tr').count();
    assert.ok(hourRows >= 1 && hourRows <= 2, `one or two hours with traffic: ${hourRows}`);
    // Per day: the same total, a day's row.
    await page.getByLabel('Per day (31 days)').check();
    await eventually(async () => /per day/.test((await page.locator('#usage-table caption').textContent()) ?? '') && (await tableTotal(page)) >= tableBefore + 180_000, 5000, 'the daily figures');
    await page.getByLabel('Per hour (48 h)').check();
    await eventually(async () => /per hour/.test((await page.locator('#usage-table caption').textContent()) ?? '') && (await tableTotal(page)) > 0, 5000, 'back to hours');
    await c.screenshot('account');
    await page.setViewportSize(PHONE);
    await sleep(300); // the chart follows its container's width
    await noSidewaysScroll(page, 'the account page');
    await c.screenshot('account');
    await page.setViewportSize(LAPTOP);

    // Close its live sessions: the relay ends the allocation (the client's Refresh is refused).
    await page.getByRole('button', { name: 'Close live sessions' }).click();
    await eventually(async () => /^1 live session closed\.$/.test((await page.locator('#account-action-result').textContent()) ?? ''), 5000, 'sessions closed, said');
    assert.equal((await client.refresh()).code, 437, 'the allocation is gone');

    // The limit from the console: the API answers it, the gauge follows.
    const limitForm = page.getByRole('form', { name: 'Usage limit' });
    await limitForm.getByLabel('Usage limit').fill('50MB');
    await limitForm.getByRole('button', { name: 'Save' }).click();
    await eventually(async () => (await ferry.admin('GET', `/v1/accounts/${id}`)).json.limit === 50_000_000, 5000, 'GET /v1/accounts/:id shows the 50 MB limit');
    await eventually(async () => (await meter.getAttribute('aria-valuemax')) === '50000000', 5000, 'the gauge max follows the limit');
    // A wrong limit: the API's own message next to the field, the limit unchanged.
    const wrong = await ferry.admin('PATCH', `/v1/accounts/${id}`, { limit: 'plenty' });
    assert.equal(wrong.status, 400);
    await limitForm.getByLabel('Usage limit').fill('plenty');
    await limitForm.getByRole('button', { name: 'Save' }).click();
    await eventually(async () => (await page.locator('#setting-limit-error').textContent()) === wrong.json.error.message, 5000, `the API's message: ${wrong.json.error.message}`);
    assert.equal(await limitForm.getByLabel('Usage limit').getAttribute('aria-invalid'), 'true');
    assert.equal((await ferry.admin('GET', `/v1/accounts/${id}`)).json.limit, 50_000_000);
    expectApiError(c, 400, seen);

    // A key created in the console works; revoked there, it is refused.
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ferry.base });
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = page.locator('[data-secret="api-key"]');
    await shown.waitFor({ timeout: 5000 });
    const newKey = ((await shown.textContent()) ?? '').trim();
    assert.notEqual(newKey, '');
    assert.notEqual(newKey, apiKey);
    assert.match((await page.getByRole('region', { name: 'New API key' }).textContent()) ?? '', /will not be shown again/);
    await page.getByRole('region', { name: 'New API key' }).getByRole('button', { name: 'Copy' }).click();
    await eventually(async () => (await page.evaluate(() => navigator.clipboard.readText())) === newKey, 5000, 'the key copied to the clipboard');
    assert.equal((await iceServers(ferry, newKey)).status, 200, 'the new key mints TURN credentials');
    const keys = (await ferry.admin<{ keys: { id: string; prefix: string; revoked_at: string | null }[] }>('GET', `/v1/accounts/${id}/keys`)).json.keys;
    const mine = keys.find((k) => newKey.startsWith(k.prefix) && !apiKey.startsWith(k.prefix));
    assert.ok(mine !== undefined, `the new key is listed: ${JSON.stringify(keys)}`);
    await page.getByRole('button', { name: `Revoke key ${mine.prefix}` }).click();
    await eventually(async () => (await iceServers(ferry, newKey)).status === 401, 5000, 'the revoked key is refused');
    await page.locator(`#keys-table tr[data-key="${mine.id}"]`).getByText('revoked').waitFor({ timeout: 5000 });
    assert.equal((await iceServers(ferry, apiKey)).status, 200, 'the first key still works');

    // Disable: the account's key is refused; enable: accepted again.
    await page.getByRole('button', { name: 'Disable account' }).click();
    await page.getByRole('button', { name: 'Enable account' }).waitFor({ timeout: 5000 });
    assert.equal((await iceServers(ferry, apiKey)).status, 401, 'disabled: refused');
    assert.equal((await ferry.admin('GET', `/v1/accounts/${id}`)).json.disabled, true);
    await page.getByRole('button', { name: 'Enable account' }).click();
    await page.getByRole('button', { name: 'Disable account' }).waitFor({ timeout: 5000 });
    assert.equal((await iceServers(ferry, apiKey)).status, 200, 'enabled: accepted');

    // Revoke credentials: TURN credentials issued before are refused by the relay afterwards.
    const before = await iceServers(ferry, apiKey);
    await sleep(20); // issued strictly before the revocation (both in ms)
    await page.getByRole('button', { name: 'Revoke credentials' }).click();
    await eventually(async () => /^Credentials revoked; \d+ live sessions? closed\.$/.test((await page.locator('#account-action-result').textContent()) ?? ''), 5000, 'revocation said');
    const late = await TestTurnClient.connect({ port: ferry.udpPort, username: before.username, password: before.credential });
    cleanups.push(() => late.close());
    assert.equal((await late.allocate()).code, 401, 'a TURN credential issued before the revocation is refused');
    assert.deepEqual(dialogs.length, 4, `confirmations asked: ${JSON.stringify(dialogs)}`);

    // An account deleted while its page is shown: said, with the way back, and no more asking.
    const doomed = await ferry.admin<{ id: string }>('POST', '/v1/accounts', { name: 'Short Lived' });
    assert.equal(doomed.status, 201);
    await page.evaluate((h) => { location.hash = h; }, `#/accounts/${doomed.json.id}`);
    await page.getByRole('heading', { level: 1, name: 'Short Lived' }).waitFor({ timeout: 5000 });
    const asks: string[] = [];
    page.on('request', (r) => { if (r.url().includes(doomed.json.id)) asks.push(r.url()); });
    const gone = await fetch(`${ferry.base}/v1/accounts/${doomed.json.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${CONSOLE_ADMIN_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
    assert.equal(gone.status, 204, 'deleted');
    await page.getByRole('heading', { level: 1, name: 'No such account' }).waitFor({ timeout: 5000 });
    await page.getByRole('link', { name: 'Back to the accounts' }).waitFor();
    const asked = asks.length;
    await sleep(4_500); // two polling intervals (2 s) and more
    assert.equal(asks.length, asked, `no more requests for the deleted account: ${asks.slice(asked).join(' ')}`);
    expectApiError(c, 404, seen);

    // No such account: said, with the way back.
    await page.goto(`${ferry.base}/console#/accounts/acc_doesnotexist00000`);
    await page.getByRole('heading', { level: 1, name: 'No such account' }).waitFor({ timeout: 5000 });
    await page.getByRole('link', { name: 'Back to the accounts' }).waitFor();
    expectApiError(c, 404, seen);

    await assertClean(c);
    await c.close();
  });
});
