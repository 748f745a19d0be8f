// Every page of the console, at a laptop's and a phone's width, against axe-core's WCAG 2.1 A and
// AA rules (labels, names, roles, contrast, headings, landmarks, ...), with content on it: an
// account with a limit and usage, a live session. Also: the skip link is the first stop of the
// keyboard and leads to the content, and no page scrolls sideways on a phone. A deliberately
// broken control is reported, so the check is known to look.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityViolations, describeViolations } from '../../helpers/axe.js';
import { launchChromium, type LaunchedChromium } from '../../helpers/chromium.js';
import { assertClean, LAPTOP, openConsole, PHONE, signIn, startConsoleFerry, type ConsoleFerry, type ConsolePage } from '../../helpers/console.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { sleep } from '../../helpers/wait.js';

/** How long a page gets to show its data before it is checked. */
const SETTLE_MS = 1_500;

describe('the console is accessible at laptop and phone widths', () => {
  let ferry: ConsoleFerry;
  let browser: LaunchedChromium;
  let accountId: string;
  let turn: TestTurnClient | undefined;

  before(async () => {
    ferry = await startConsoleFerry();
    browser = await launchChromium();
    const made = await ferry.admin<{ id: string; api_key: string }>('POST', '/v1/accounts', { name: 'acme' });
    assert.equal(made.status, 201);
    accountId = made.json.id;
    assert.equal((await ferry.admin('PATCH', `/v1/accounts/${accountId}`, { limit: '10MB' })).status, 200);
    const ice = await fetch(`${ferry.base}/v1/ice-servers`, { method: 'POST', headers: { authorization: `Bearer ${made.json.api_key}` } });
    const server = ((await ice.json()) as { iceServers: Array<{ username: string; credential: string }> }).iceServers[0]!;
    turn = await TestTurnClient.connect({ port: ferry.udpPort, username: server.username, password: server.credential });
    assert.equal((await turn.allocate()).code, 0, 'a live session for the sessions page');
  });

  after(async () => {
    turn?.close();
    await browser?.close();
    await ferry?.stop();
  });

  async function check(c: ConsolePage, where: string): Promise<void> {
    await sleep(SETTLE_MS);
    const violations = await accessibilityViolations(c.page);
    assert.equal(violations.length, 0, `${where}:\n${describeViolations(violations)}`);
    const { scroll, width } = await c.page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    assert.ok(scroll <= width, `${where}: the page scrolls sideways (${scroll} > ${width})`);
  }

  for (const viewport of [LAPTOP, PHONE]) {
    it(`has no WCAG A/AA violation on any page at ${viewport.width}×${viewport.height}`, async () => {
      const c = await openConsole(browser, ferry.base, viewport);
      try {
        await c.page.getByLabel('Admin token').waitFor();
        await check(c, 'sign-in');
        await signIn(c);
        // On a page loaded afresh (the token stays in the tab), the keyboard's first stop is the
        // skip link; following it puts the focus on the content and leaves the route alone.
        await c.page.reload();
        await c.page.locator('main h1').first().waitFor({ timeout: 5000 });
        await c.page.keyboard.press('Tab');
        assert.equal(await c.page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
        await c.page.keyboard.press('Enter');
        assert.equal(await c.page.evaluate(() => document.activeElement?.id), 'main');
        assert.equal(await c.page.evaluate(() => location.hash), '#/overview');
        for (const hash of ['#/overview', '#/accounts', `#/accounts/${accountId}`, '#/sessions', '#/export']) {
          await c.page.evaluate((h) => { location.hash = h; }, hash);
          await c.page.locator('main h1').first().waitFor({ timeout: 5000 });
          await check(c, `${hash} at ${viewport.width}px`);
        }
        await assertClean(c);
      } finally {
        await c.close();
      }
    });
  }

  it('reports a control without a label (the check looks)', async () => {
    const c = await openConsole(browser, ferry.base);
    try {
      await c.page.getByLabel('Admin token').waitFor();
      await c.page.evaluate(() => document.querySelector('main')!.appendChild(document.createElement('input')));
      const violations = await accessibilityViolations(c.page);
      assert.ok(violations.some((v) => v.id === 'label'), describeViolations(violations));
    } finally {
      await c.close();
    }
  });
});
