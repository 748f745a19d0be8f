// The accounts table is bounded: with more accounts than MAX_ROWS it shows the first MAX_ROWS and
// says so, and the search still finds an account beyond them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ROWS } from '../../../console/pages/accounts.js';
import { launchChromium, type LaunchedChromium } from '../../helpers/chromium.js';
import { assertClean, openConsole, signIn, startConsoleFerry, type ConsoleFerry } from '../../helpers/console.js';

const ACCOUNTS = MAX_ROWS + 5;

describe('console: a long list of accounts', () => {
  let ferry: ConsoleFerry;
  let browser: LaunchedChromium;

  before(async () => {
    ferry = await startConsoleFerry();
    browser = await launchChromium();
    for (let i = 0; i < ACCOUNTS; i += 50) {
      const batch = Array.from({ length: Math.min(50, ACCOUNTS - i) }, (_, j) => ferry.admin('POST', '/v1/accounts', { name: `acct-${String(i + j).padStart(4, '0')}` }));
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
    await c.page.evaluate(() => { location.hash = '#/accounts'; });
    const rows = c.page.locator('#accounts-table tbody tr');
    await c.page.locator('#account-count').waitFor();
    assert.equal(await rows.count(), MAX_ROWS);
    assert.match((await c.page.locator('#account-count').textContent()) ?? '', new RegExp(`${ACCOUNTS} accounts; the first ${MAX_ROWS} are shown`));
    await c.page.getByLabel('Search by name or id').fill(`acct-${String(ACCOUNTS - 1).padStart(4, '0')}`);
    assert.equal(await rows.count(), 1);
    assert.match((await rows.first().textContent()) ?? '', new RegExp(`acct-${String(ACCOUNTS - 1).padStart(4, '0')}`));
    await assertClean(c);
    await c.close();
  });
});
