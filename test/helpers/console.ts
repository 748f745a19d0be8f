// The operator console end to end: a real Ferry process with an admin token (and an account to
// look at), headless Chromium signed in through the console's own form, a watch on everything the
// page does that it must not (a script error, a CSP violation, a request to another origin), and
// the screenshots each page's test takes. Screenshots go to docs/console/ with
// FERRY_UPDATE_SCREENSHOTS=1, else to a temp dir, so `npm test` leaves the checkout clean.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { apiJson } from './admin-http.js';
import type { LaunchedChromium } from './chromium.js';
import { LOOPBACK_PEERS, signalingPort, startFerryProcess, type FerryProcess } from './ferry-process.js';
import { tempDir } from './temp-dir.js';
import { until } from './wait.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/helpers → root
export const SHOTS_DIR = process.env.FERRY_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'console') : tempDir('ferry-console-shots');

export const CONSOLE_ADMIN_TOKEN = 'console-test-admin-token-0123456789';

/** The two sizes every page is checked and pictured at. */
export const LAPTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export interface ConsoleFerry extends FerryProcess {
  /** http://127.0.0.1:<signaling port> */
  readonly base: string;
  /** The admin API with the admin token: apiJson(base, method, path, CONSOLE_ADMIN_TOKEN, body). */
  admin<T = Record<string, any>>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
}

/**
 * Ferry with the admin API on, loopback peers allowed (so a TURN client can relay to a local
 * echo peer), usage written every 200 ms; `overrides` go over that config.
 */
export async function startConsoleFerry(overrides: Record<string, unknown> = {}): Promise<ConsoleFerry> {
  const handle = await startFerryProcess({
    peers: LOOPBACK_PEERS,
    storage: `sqlite:${join(tempDir('ferry-console-db'), 'ferry.db')}`,
    signaling: { address: '127.0.0.1:0', admin_token: CONSOLE_ADMIN_TOKEN },
    network_usage: { write_interval: '200ms' },
    log_level: 'info',
    ...overrides,
  });
  let port = 0;
  try {
    port = await signalingPort(handle);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  const base = `http://127.0.0.1:${port}`;
  return Object.assign(handle, {
    base,
    admin: <T = Record<string, any>>(method: string, path: string, body?: unknown) => apiJson<T>(base, method, path, CONSOLE_ADMIN_TOKEN, body),
  });
}

export interface ConsolePage {
  readonly page: Page;
  /**
   * What went wrong in the page so far: script errors, CSP violations, requests to other origins,
   * files that failed to load. An error answer of the API is not one (the page shows it): see apiErrors.
   */
  problems(): string[];
  /** The API's error answers so far, in order: "<status> <METHOD> <path>". */
  apiErrors(): string[];
  /** Takes `<name>-<width>x<height>.png` into SHOTS_DIR; returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** A new tab at `viewport` on `base`/console, watched; not signed in (see signIn). */
export async function openConsole(browser: LaunchedChromium, base: string, viewport: { width: number; height: number } = LAPTOP): Promise<ConsolePage> {
  const page = await browser.context.newPage();
  await page.setViewportSize(viewport);
  const problems: string[] = [];
  const apiErrors: string[] = [];
  /** Chromium logs every error answer as a console error: one per API error answer is expected. */
  const apiErrorsBy = new Map<number, number>();
  const failedLogsBy = new Map<number, number>();
  const bump = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() < 400) return;
    const url = new URL(res.url());
    if (`${url.protocol}//${url.host}` === base && url.pathname.startsWith('/v1/')) {
      apiErrors.push(`${res.status()} ${res.request().method()} ${url.pathname}${url.search}`);
      bump(apiErrorsBy, res.status());
    } else {
      problems.push(`${res.status()} for ${res.url()}`);
    }
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(msg.text());
    if (failed) bump(failedLogsBy, Number(failed[1]));
    else problems.push(`console error: ${msg.text()}`);
  });
  /** Logged failures beyond the API's error answers (the response and the log come in either order). */
  const unexplained = (): string[] =>
    [...failedLogsBy].flatMap(([status, n]) => {
      const extra = n - (apiErrorsBy.get(status) ?? 0);
      return extra > 0 ? [`console error: ${extra} resource(s) failed to load with status ${status}`] : [];
    });
  // A CSP violation is reported to the page's own listeners too: kept where assertClean reads them.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as { __csp?: string[] };
      (w.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(`${base}/console`);
  return {
    page,
    problems: () => [...problems, ...unexplained()],
    apiErrors: () => apiErrors,
    async screenshot(name) {
      mkdirSync(SHOTS_DIR, { recursive: true });
      const size = page.viewportSize() ?? viewport;
      const file = join(SHOTS_DIR, `${name}-${size.width}x${size.height}.png`);
      await page.screenshot({ path: file, fullPage: false });
      return file;
    },
    close: () => page.close(),
  };
}

/** Signs in with `token` through the form; resolves once the console shows its navigation. */
export async function signIn(c: ConsolePage, token: string = CONSOLE_ADMIN_TOKEN): Promise<void> {
  const { page } = c;
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console pages' }).waitFor({ state: 'visible', timeout: 10_000 });
}

/** Asserts that the page did nothing it must not (script errors, CSP violations, other origins). */
export async function assertClean(c: ConsolePage): Promise<void> {
  const csp = await c.page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
  assert.deepEqual([...c.problems(), ...csp.map((v) => `CSP violation: ${v}`)], []);
}
