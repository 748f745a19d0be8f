// End to end: two Chromium pages open Ferry's /demo (which loads the SDK from /sdk/ferry.js), connect
// with signaling tokens from the URL hash, call each other with relay forced, show 'relay' as the
// path and exchange chat messages, typed into the page and through its test hook.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { startSignalingFerry, type SignalingFerry } from '../helpers/sdk-ferry.js';

import { launchChromium, type LaunchedChromium } from '../helpers/chromium.js';
import { demoState, waitForState } from '../helpers/demo-page.js';

const TEST_TIMEOUT = 90_000;
const N = 50;

describe('SDK in Chromium: the /demo page through Ferry', () => {
  let f: SignalingFerry;
  let context: BrowserContext | undefined;
  let browser: LaunchedChromium | undefined;

  before(async () => {
    f = await startSignalingFerry();
    browser = await launchChromium();
    context = browser.context;
  });
  after(async () => {
    await browser?.close();
    await f?.stop();
  });

  test('two tabs, relay forced: both show relay and exchange messages', { timeout: TEST_TIMEOUT }, async () => {
    const [alice, bob] = [await context!.newPage(), await context!.newPage()];
    const pageErrors: string[] = [];
    for (const p of [alice, bob]) p.on('pageerror', (e) => pageErrors.push(e.message));
    const diag = async () =>
      `page errors: ${JSON.stringify(pageErrors)}\nalice: ${JSON.stringify(await demoState(alice).catch(() => null))}` +
      `\nbob: ${JSON.stringify(await demoState(bob).catch(() => null))}\n--- ferry log ---\n${f.ferry.logs().slice(-3000)}`;
    try {
      // Each tab gets its own token; the tokens travel in the hash, which never reaches the server.
      await alice.goto(`${f.url}/demo#token=${await f.mintToken()}&me=alice&peer=bob&relay=1`);
      await waitForState(alice, 'alice connected', (s) => s.status === 'connected as alice');
      await bob.goto(`${f.url}/demo#token=${await f.mintToken()}&me=bob&peer=alice&relay=1&call=1`);

      const [sa, sb] = await Promise.all([
        // The page learns the path from getStats() as the connection comes up, and the peer when the
        // SDK hands over the opened call: wait for both.
        waitForState(alice, 'alice path and peer', (s) => (s.path !== null && s.peer !== null) || s.error !== null),
        waitForState(bob, 'bob path and peer', (s) => (s.path !== null && s.peer !== null) || s.error !== null),
      ]).catch(async (err: Error) => { throw new Error(`${err.message}\n${await diag()}`); });
      assert.equal(sa.error, null, await diag());
      assert.equal(sb.error, null, await diag());
      assert.equal(sa.path, 'relay');
      assert.equal(sb.path, 'relay');
      assert.equal(sa.peer, 'bob');
      assert.equal(sb.peer, 'alice');
      assert.equal((await alice.textContent('#path'))?.trim(), 'relay');
      assert.equal((await bob.textContent('#path'))?.trim(), 'relay');

      // Typed into the chat form like a person would.
      await alice.fill('#msg', 'hello bob');
      await alice.press('#msg', 'Enter');
      await bob.fill('#msg', 'hello alice');
      await bob.click('#send');
      await waitForState(bob, 'bob receives the typed message', (s) => s.received.includes('hello bob'));
      await waitForState(alice, 'alice receives the typed message', (s) => s.received.includes('hello alice'));
      assert.match(await bob.textContent('#log') ?? '', /alice: hello bob/);

      // Then N more each way through the page's hook, checked for order.
      const burst = (page: Page, from: string) =>
        page.evaluate(async ({ from, n }) => {
          const demo = (window as unknown as { ferryDemo: { send(t: string): boolean } }).ferryDemo;
          for (let i = 0; i < n; i++) {
            if (!demo.send(`${from}-${i}`)) throw new Error(`send ${i} refused`);
            if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1));
          }
        }, { from, n: N });
      await Promise.all([burst(alice, 'alice'), burst(bob, 'bob')]);
      const fromAlice = Array.from({ length: N }, (_, i) => `alice-${i}`);
      const fromBob = Array.from({ length: N }, (_, i) => `bob-${i}`);
      const rb = await waitForState(bob, `bob receives ${N}`, (s) => s.received.length >= N + 1, 20_000);
      const ra = await waitForState(alice, `alice receives ${N}`, (s) => s.received.length >= N + 1, 20_000);
      assert.deepEqual(rb.received, ['hello bob', ...fromAlice]);
      assert.deepEqual(ra.received, ['hello alice', ...fromBob]);

      // Hang up: the other tab sees the call end.
      await alice.click('#hangup');
      await waitForState(bob, 'bob sees the call end', (s) => s.status.startsWith('call ended'), 10_000);
      assert.deepEqual(pageErrors, []);
    } finally {
      await alice.close().catch(() => undefined);
      await bob.close().catch(() => undefined);
    }
  });
});
