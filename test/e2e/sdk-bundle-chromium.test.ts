// End to end: the SDK bundle as a page loads it from Ferry. Two Chromium pages on Ferry's origin
// `import('/sdk/ferry.js')`, connect with signaling tokens, call each other with relay forced and
// exchange a message each way; both report the relayed path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium.js';
import { startSignalingFerry, type SignalingFerry } from '../helpers/sdk-ferry.js';

const TEST_TIMEOUT = 90_000;

/** What a page keeps on `window` between evaluate calls. */
interface PageState {
  exports?: string[];
  received: string[];
  path?: string;
  error?: string;
}

const stateOf = (page: Page): Promise<PageState> =>
  page.evaluate(() => (window as unknown as { ferryTest: PageState }).ferryTest);

async function waitFor(page: Page, what: string, check: (s: PageState) => boolean, ms = 30_000): Promise<PageState> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await stateOf(page);
    if (s.error) throw new Error(`${what}: the page failed: ${s.error}`);
    if (check(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; page state: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Loads the bundle in `page`, connects as `peerId` and answers calls, keeping what arrives. */
function open(page: Page, sdkUrl: string, url: string, peerId: string, token: string): Promise<string[]> {
  return page.evaluate(async (a) => {
    const w = window as unknown as Record<string, any>;
    const state: PageState = { received: [] };
    w.ferryTest = state;
    try {
      const sdk = await import(a.sdkUrl);
      state.exports = Object.keys(sdk).sort();
      w.ferryClient = await sdk.connect({ url: a.url, peerId: a.peerId, token: a.token, forceRelay: true, connectTimeoutMs: 10_000 });
      w.ferryClient.onCall((call: any) => {
        w.ferryCall = call;
        call.channel.onmessage = (e: { data: unknown }) => state.received.push(String(e.data));
        call.path().then((p: string) => { state.path = p; }, (err: Error) => { state.error = err.message; });
      });
    } catch (err) {
      state.error = (err as Error).message;
    }
    return state.exports ?? [];
  }, { sdkUrl, url, peerId, token });
}

describe('SDK bundle in Chromium: import("/sdk/ferry.js") from Ferry', () => {
  let f: SignalingFerry;
  let browser: LaunchedChromium | undefined;

  before(async () => {
    f = await startSignalingFerry();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await f?.stop();
  });

  test('two pages call each other through the relay with the bundled SDK', { timeout: TEST_TIMEOUT }, async () => {
    const [alice, bob] = [await browser!.context.newPage(), await browser!.context.newPage()];
    const pageErrors: string[] = [];
    for (const p of [alice, bob]) p.on('pageerror', (e) => pageErrors.push(e.message));
    const diag = () => `page errors: ${JSON.stringify(pageErrors)}\n--- ferry log ---\n${f.ferry.logs().slice(-3000)}`;
    try {
      // Ferry's own origin: the module import is same-origin (another origin needs CORS on /sdk/).
      for (const p of [alice, bob]) await p.goto(`${f.url}/healthz`);
      const sdkUrl = `${f.url}/sdk/ferry.js`;
      const exports = await open(alice, sdkUrl, f.url, 'bundle-alice', await f.mintToken());
      assert.ok(exports.includes('connect') && exports.includes('FerryClient'), JSON.stringify(exports));
      await open(bob, sdkUrl, f.url, 'bundle-bob', await f.mintToken());

      const called = await bob.evaluate(async () => {
        const w = window as unknown as Record<string, any>;
        const state = w.ferryTest as PageState;
        const call = await w.ferryClient.call('bundle-alice', { timeoutMs: 30_000 });
        w.ferryCall = call;
        call.channel.onmessage = (e: { data: unknown }) => state.received.push(String(e.data));
        call.channel.send('hello from bob');
        state.path = await call.path();
        return state.path;
      });
      assert.equal(called, 'relay');
      const a = await waitFor(alice, 'alice gets the message and the path', (s) => s.received.length > 0 && s.path !== undefined);
      assert.deepEqual(a.received, ['hello from bob']);
      assert.equal(a.path, 'relay');
      await alice.evaluate(() => (window as unknown as Record<string, any>).ferryCall.channel.send('hello from alice'));
      const b = await waitFor(bob, 'bob gets the answer', (s) => s.received.length > 0);
      assert.deepEqual(b.received, ['hello from alice']);
      assert.deepEqual(pageErrors, []);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diag()}`);
    } finally {
      for (const p of [alice, bob]) {
        await p.evaluate(() => (window as unknown as Record<string, any>).ferryClient?.close()).catch(() => undefined);
      }
    }
  });
});
