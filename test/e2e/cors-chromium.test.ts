// End to end in headless Chromium: an app served from another origin (its own little HTTP server
// on another loopback port) uses Ferry cross-origin, as signaling.cors_origins allows. Two pages of
// the listed origin load the SDK from Ferry (/sdk/ferry.js), mint ICE servers and a signaling token
// with an API key, open the WebSocket and call each other through the relay with a data channel
// message; a page of an unlisted origin cannot load the SDK, its fetch fails with a CORS error
// (the preflight gets no CORS answer) and its WebSocket is refused (403).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium.js';
import { ADMIN_TOKEN, startSignalingFerry, type SignalingFerry } from '../helpers/sdk-ferry.js';
import { until } from '../helpers/wait.js';

const TEST_TIMEOUT = 60_000;
/** The SDK entry Ferry serves (the browser ES modules of dist/client). */
const SDK_PATH = '/sdk/ferry.js';

/** A page server on its own loopback port: one blank HTML page for every path. */
async function startPageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><html><head><meta charset="utf-8"><title>app</title></head><body><p>an app</p></body></html>');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (typeof addr !== 'object' || addr === null) throw new Error('no address');
  return {
    origin: `http://127.0.0.1:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What the pages keep on `window` (set up by the page functions below). */
interface AppWindow {
  received: string[];
  path: string | null;
  error: string | null;
}

/** In the page: loads the SDK from Ferry, connects with the API key, answers calls and keeps their messages. */
async function connectPage(page: Page, ferry: string, apiKey: string, me: string): Promise<void> {
  await page.evaluate(
    async ({ ferry, sdkPath, apiKey, me }) => {
      const w = window as unknown as AppWindow & Record<string, unknown>;
      w.received = [];
      w.path = null;
      w.error = null;
      const sdk = await import(`${ferry}${sdkPath}`);
      const client = await sdk.connect({ url: ferry, peerId: me, apiKey, forceRelay: true, callTimeoutMs: 20_000 });
      w.client = client;
      client.onCall((call: { channel: { onmessage: unknown; send(t: string): void }; path(): Promise<string> }) => {
        w.call = call;
        call.channel.onmessage = (ev: { data: unknown }) => w.received.push(String(ev.data));
        call.path().then((p) => (w.path = p), (e: Error) => (w.error = e.message));
      });
    },
    { ferry, sdkPath: SDK_PATH, apiKey, me },
  );
}

describe('a cross-origin app in Chromium (signaling.cors_origins)', () => {
  let f: SignalingFerry;
  let browser: LaunchedChromium | undefined;
  let app: Awaited<ReturnType<typeof startPageServer>> | undefined;
  let foreign: Awaited<ReturnType<typeof startPageServer>> | undefined;

  before(async () => {
    app = await startPageServer();
    foreign = await startPageServer();
    f = await startSignalingFerry({ signaling: { cors_origins: [app.origin] } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await f?.stop();
    await app?.close();
    await foreign?.close();
  });

  test('two pages of the listed origin call each other through Ferry', { timeout: TEST_TIMEOUT }, async () => {
    const context = browser!.context;
    const [alice, bob] = [await context.newPage(), await context.newPage()];
    const pageErrors: string[] = [];
    for (const p of [alice, bob]) p.on('pageerror', (e) => pageErrors.push(e.message));
    const diag = () => `page errors: ${JSON.stringify(pageErrors)}\n--- ferry log ---\n${f.ferry.logs().slice(-3000)}`;
    try {
      await alice.goto(`${app!.origin}/alice`);
      await bob.goto(`${app!.origin}/bob`);
      assert.equal(await alice.evaluate(() => location.origin), app!.origin);
      await connectPage(alice, f.url, f.apiKey, 'alice').catch((err: Error) => assert.fail(`alice: ${err.message}\n${diag()}`));
      await connectPage(bob, f.url, f.apiKey, 'bob').catch((err: Error) => assert.fail(`bob: ${err.message}\n${diag()}`));

      const bobSide = await bob.evaluate(async () => {
        const w = window as unknown as AppWindow & { client: { call(peer: string): Promise<{ channel: { onmessage: unknown; send(t: string): void }; path(): Promise<string> }> } };
        const call = await w.client.call('alice');
        call.channel.onmessage = (ev: { data: unknown }) => w.received.push(String(ev.data));
        (w as unknown as Record<string, unknown>).call = call;
        call.channel.send('hello alice');
        return { path: await call.path() };
      }).catch((err: Error) => assert.fail(`bob's call: ${err.message}\n${diag()}`));
      assert.equal(bobSide.path, 'relay');

      await alice.waitForFunction(() => (window as unknown as AppWindow).received.includes('hello alice'), undefined, { timeout: 15_000 });
      await alice.evaluate(() => (window as unknown as { call: { channel: { send(t: string): void } } }).call.channel.send('hello bob'));
      await bob.waitForFunction(() => (window as unknown as AppWindow).received.includes('hello bob'), undefined, { timeout: 15_000 });
      await alice.waitForFunction(() => (window as unknown as AppWindow).path !== null || (window as unknown as AppWindow).error !== null, undefined, { timeout: 10_000 });
      assert.deepEqual(await alice.evaluate(() => ({ path: (window as unknown as AppWindow).path, error: (window as unknown as AppWindow).error })), { path: 'relay', error: null });

      // The requests went cross-origin: preflights answered, the socket opened with the page's Origin.
      const logs = f.ferry.logs();
      assert.match(logs, /"method":"OPTIONS","path":"\/v1\/ice-servers","status":204/);
      assert.match(logs, /"method":"OPTIONS","path":"\/v1\/signal-tokens","status":204/);
      // Even from a listed origin, the admin API gives the page nothing.
      const admin = await alice.evaluate(async ({ url, token }) => {
        try {
          await fetch(`${url}/v1/accounts`, { headers: { authorization: `Bearer ${token}` } });
          return 'read';
        } catch (err) {
          return `${(err as Error).name}: ${(err as Error).message}`;
        }
      }, { url: f.url, token: ADMIN_TOKEN });
      assert.equal(admin, 'TypeError: Failed to fetch');
      assert.deepEqual(pageErrors, []);
    } finally {
      await alice.close().catch(() => undefined);
      await bob.close().catch(() => undefined);
    }
  });

  test('a page of an unlisted origin is refused: no SDK, fetch fails with a CORS error, the WebSocket gets 403', { timeout: TEST_TIMEOUT }, async () => {
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${foreign!.origin}/mallory`);
      const token = await f.mintToken(); // a valid token: what is refused is the origin
      const logsBefore = f.ferry.logs().length;
      const result = await page.evaluate(async ({ url, sdkPath, apiKey, token }) => {
        const explain = (err: unknown) => `${(err as Error).name}: ${(err as Error).message}`;
        let sdk = 'loaded';
        try {
          await import(`${url}${sdkPath}`);
        } catch (err) {
          sdk = explain(err);
        }
        let ice = 'read';
        try {
          await fetch(`${url}/v1/ice-servers`, {
            method: 'POST',
            headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
            body: '{}',
          });
        } catch (err) {
          ice = explain(err);
        }
        const socket = await new Promise<string>((resolve) => {
          const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/signal?peer_id=mallory&token=${encodeURIComponent(token)}`);
          const timer = setTimeout(() => resolve('no answer'), 10_000);
          ws.onopen = () => {
            clearTimeout(timer);
            ws.close();
            resolve('open');
          };
          ws.onclose = (ev) => {
            clearTimeout(timer);
            resolve(`closed ${ev.code}`);
          };
        });
        return { sdk, ice, socket };
      }, { url: f.url, sdkPath: SDK_PATH, apiKey: f.apiKey, token });
      assert.match(result.sdk, /^TypeError: Failed to fetch dynamically imported module/);
      assert.equal(result.ice, 'TypeError: Failed to fetch');
      assert.equal(result.socket, 'closed 1006', 'the upgrade is refused, the socket never opens');
      // Ferry answered: the preflight without CORS headers (so the browser kept the POST back), the upgrade with 403.
      await until(() => /"path":"\/v1\/signal","status":403/.test(f.ferry.logs().slice(logsBefore)), 5000, 'the refused upgrade in the log');
      const logs = f.ferry.logs().slice(logsBefore);
      assert.match(logs, /"method":"OPTIONS","path":"\/v1\/ice-servers","status":404/);
      assert.doesNotMatch(logs, /"method":"POST","path":"\/v1\/ice-servers"/);
    } finally {
      await page.close().catch(() => undefined);
    }
  });
});
