// Headless Debian Chromium through playwright-core, as ../shared/clients.md measured it: the
// flags keep it off this machine's closed network; a fresh profile per launch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export interface LaunchedChromium {
  readonly context: BrowserContext;
  /** Closes the browser and removes its profile; idempotent. */
  close(): Promise<void>;
}

/** `extraArgs` e.g. --ignore-certificate-errors for a self-signed TURN-over-TLS certificate. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<LaunchedChromium> {
  const profileDir = mkdtempSync(join(tmpdir(), 'ferry-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
  let closed = false;
  return {
    context,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
