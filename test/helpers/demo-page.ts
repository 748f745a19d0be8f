// Reading the /demo page's state (window.ferryDemo.state, signaling/demo/page.ts) from a Chromium test.
import type { Page } from 'playwright-core';
import type { DemoState } from '../../signaling/demo/page.js';

export const demoState = (page: Page): Promise<DemoState> =>
  page.evaluate(() => (window as unknown as { ferryDemo: { state: DemoState } }).ferryDemo.state);

/** Polls the page's state until `check` holds; throws after `ms` with the last state seen. */
export async function waitForState(page: Page, what: string, check: (s: DemoState) => boolean, ms = 30_000): Promise<DemoState> {
  const end = Date.now() + ms;
  let s: DemoState | undefined;
  for (;;) {
    try { s = await demoState(page); } catch { s = undefined; } // the page script may not have run yet
    if (s && check(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; page state: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
