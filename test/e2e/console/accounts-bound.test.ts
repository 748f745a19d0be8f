// The accounts table is bounded: with more accounts than MAX_ROWS it shows the first MAX_ROWS and
// says so, builds no row it does not show, and the search still finds an account beyond them. The
// export's account field is bounded the same way: at most MAX_SUGGESTIONS suggestions, narrowed
// as the operator types, an account beyond them chosen by its name.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ROWS } from '../../../console/pages/accounts.js';
import { MAX_SUGGESTIONS } from '../../../console/pages/export-account.js';
import { launchChromium, type LaunchedChromium } from '../../helpers/chromium.js';
import { assertClean, openConsole, signIn, startConsoleFerry, type ConsoleFerry } from '../../helpers/console.js';

const ACCOUNTS = Math.max(MAX_ROWS, MAX_SUGGESTIONS) + 5;
const nameOf = (i: number) => `acct-${String(i).padStart(4, '0')}`;

describe('console: a long list of accounts', () => {
  let ferry: ConsoleFerry;
  let browser: LaunchedChromium;

  before(async () => {
    ferry = await startConsoleFerry();
    browser = await launchChromium();
    for (let i = 0; i < ACCOUNTS; i += 50) {
      const batch = Array.from({ length: Math.min(50, ACCOUNTS - i) }, (_, j) => ferry.admin('POST', '/v1/accounts', { name: nameOf(i + j) }));
      for (const r of await Promise.all(batch)) assert.equal(r.status, 201);
    }
  });
  after(async () => {
    await browser?.close();
    await ferry?.stop();
  });

  it(`shows the first ${MAX_ROWS} rows, says so, and the search reaches the rest`, async () => {
    const c = await openConsole(browser, ferry.base);
    await signIn(c);
    // Counts the table rows the page builds: only those it shows (and the header's).
    await c.page.evaluate(() => {
      const w = window as unknown as { __rowsBuilt: number };
      w.__rowsBuilt = 0;
      const create = document.createElement.bind(document);
      document.createElement = ((tag: string, options?: ElementCreationOptions) => {
        if (tag.toLowerCase() === 'tr') w.__rowsBuilt++;
        return create(tag, options);
      }) as typeof document.createElement;
    });
    await c.page.evaluate(() => { location.hash = '#/accounts'; });
    const rows = c.page.locator('#accounts-table tbody tr');
    await c.page.locator('#account-count').waitFor();
    assert.equal(await rows.count(), MAX_ROWS);
    assert.match((await c.page.locator('#account-count').textContent()) ?? '', new RegExp(`${ACCOUNTS} accounts; the first ${MAX_ROWS} are shown`));
    const built = () => c.page.evaluate(() => (window as unknown as { __rowsBuilt: number }).__rowsBuilt);
    assert.equal(await built(), MAX_ROWS + 1, 'the rows shown and the header row, no more');
    await c.page.getByLabel('Search by name or id').fill(`acct-${String(ACCOUNTS - 1).padStart(4, '0')}`);
    assert.equal(await rows.count(), 1);
    assert.match((await rows.first().textContent()) ?? '', new RegExp(`acct-${String(ACCOUNTS - 1).padStart(4, '0')}`));
    assert.equal(await built(), MAX_ROWS + 2, 'the one found is built when shown');
    // Back to all: the rows built before are shown again, none built twice.
    await c.page.getByLabel('Search by name or id').fill('');
    assert.equal(await rows.count(), MAX_ROWS);
    assert.equal(await built(), MAX_ROWS + 2);
    await assertClean(c);
    await c.close();
  });

  it(`the export's account field suggests at most ${MAX_SUGGESTIONS} accounts and takes one beyond them by name`, async () => {
    const c = await openConsole(browser, ferry.base);
    await signIn(c);
    const { page } = c;
    await page.evaluate(() => { location.hash = '#/export'; });
    const suggestions = page.locator('#export-account-list option');
    await page.waitForFunction(() => document.querySelectorAll('#export-account-list option').length > 0, undefined, { timeout: 10_000 });
    assert.equal(await suggestions.count(), MAX_SUGGESTIONS);
    assert.equal(await page.locator('option').count(), MAX_SUGGESTIONS + 3, 'no option per account beyond them (3: rows per)');
    const last = nameOf(ACCOUNTS - 1);
    const { accounts } = (await ferry.admin<{ accounts: { id: string; name: string }[] }>('GET', '/v1/accounts')).json;
    const id = accounts.find((a) => a.name === last)?.id;
    assert.ok(id !== undefined);
    await page.getByLabel('Account').fill(last);
    await page.waitForFunction(() => document.querySelectorAll('#export-account-list option').length === 1, undefined, { timeout: 5000 });
    assert.equal(await suggestions.getAttribute('value'), id);
    const [request] = await Promise.all([
      page.waitForRequest(/\/v1\/usage\/export\.csv\?/, { timeout: 10_000 }),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    assert.equal(new URL(request.url()).searchParams.get('account'), id);
    await page.locator('#export-count').waitFor({ timeout: 10_000 });
    await assertClean(c);
    await c.close();
  });
});
