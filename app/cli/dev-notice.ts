/**
 * The notice `ferry start` prints (on stderr, not in the JSON log) in the development setup: where
 * the dev secrets are, two ready-to-open demo URLs that connect a call between two tabs, and a curl
 * command for the ICE server API.
 *
 * The demo URLs carry a signaling token of the dev account, minted at start for DEMO_TOKEN_TTL_SECONDS
 * (never the admin token or an API key). It goes in the URL fragment (#…), which browsers do not
 * send to the server, so it stays out of access logs and Referer headers.
 */
import { isUnspecifiedIp, formatHostPort } from '../../src/config/net.js';
import { SignalTokens } from '../../src/credentials/signal-token.js';
import type { Logger } from '../../src/logger.js';
import type { FerryHandle } from '../ferry.js';
import type { CliIo } from './common.js';
import { ensureDevAccount, type loadDevSecrets } from './dev-setup.js';

/** One hour: long enough to try the demo, short enough that a leaked URL is soon worthless. */
export const DEMO_TOKEN_TTL_SECONDS = 3600;
/** The peer ids of the two demo URLs; the second calls the first. */
export const DEMO_PEERS = ['alice', 'bob'] as const;

export interface DevNoticeOptions {
  readonly handle: FerryHandle;
  readonly dev: ReturnType<typeof loadDevSecrets>;
  /** The config file with --dev; undefined on the embedded defaults (whose secrets are in dev.file). */
  readonly configFile: string | undefined;
  /** The secret that signs signaling tokens (the first of auth_secrets); undefined: none configured. */
  readonly signingSecret: string | undefined;
  readonly io: CliIo;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** The HTTP base URL a browser on this machine reaches signaling at (0.0.0.0 or :: → localhost). */
export function localBaseUrl(address: string, port: number): string {
  return `http://${isUnspecifiedIp(address) ? `localhost:${port}` : formatHostPort(address, port)}`;
}

/**
 * The two demo URLs: the first waits for the call, the second places it (call=1) and keeps trying
 * until the first is open, so they can be opened in either order.
 */
export function demoUrls(base: string, token: string): [string, string] {
  const [a, b] = DEMO_PEERS;
  const url = (me: string, peer: string, call: boolean) =>
    `${base}/demo#${new URLSearchParams({ token, me, peer, ...(call ? { call: '1' } : {}) }).toString()}`;
  return [url(a, b, false), url(b, a, true)];
}

export async function announceDevSetup(o: DevNoticeOptions): Promise<void> {
  const { handle, dev, io, logger } = o;
  let accountId: string;
  let apiKey: string;
  try {
    ({ accountId, apiKey } = await ensureDevAccount(handle.accounts, dev.file, dev.secrets));
  } catch (err) {
    logger.error({ err }, 'development setup: cannot create the dev account');
    return;
  }
  const { address, port } = handle.signalingAddress();
  const base = localBaseUrl(address, port);
  const lines =
    o.configFile === undefined
      ? [
          'ferry: no config file, so this is a development setup (a convenience for trying Ferry, not for production;',
          '       write a real config with "ferry init"). This notice goes to stderr, not to the JSON log.',
          `  secrets, admin token and the dev account's API key: ${dev.file} (reused on the next start)`,
        ]
      : [
          `ferry: --dev: development setup on ${o.configFile} (a "dev" account for trying Ferry; not for production).`,
          '       This notice goes to stderr, not to the JSON log.',
          `  the dev account's API key: ${dev.file} (reused on the next start)`,
        ];
  lines.push('', ...demoLines(o, accountId, base), '', '  ICE servers for the dev account:',
    `    curl -s -X POST ${base}/v1/ice-servers -H 'Authorization: Bearer ${apiKey}'`,
    '', `  operator console: ${base}/console (sign in with the admin token: ${o.configFile === undefined ? `"admin_token" in ${dev.file}` : `signaling.admin_token in ${o.configFile}`})`);
  io.stderr(`\n${lines.join('\n')}\n\n`);
}

function demoLines(o: DevNoticeOptions, accountId: string, base: string): string[] {
  const secret = o.signingSecret;
  if (secret === undefined) {
    return [`  demo page: ${base}/demo (no demo URLs: signaling tokens need auth_secrets in the config)`];
  }
  const now = o.now ?? Date.now;
  const tokens = new SignalTokens({ secret: () => secret, directory: o.handle.accounts.directory, now });
  // One token for both tabs: it names the account, not the peer (the peer id is chosen at connect).
  const minted = tokens.mint(accountId, DEMO_TOKEN_TTL_SECONDS);
  const [a, b] = demoUrls(base, minted.token);
  const until = minted.expires_at.replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ');
  const hours = DEMO_TOKEN_TTL_SECONDS / 3600;
  return [
    `  demo: open these two URLs in two browser tabs; "${DEMO_PEERS[1]}" calls "${DEMO_PEERS[0]}" as soon as both are open:`,
    `    ${a}`,
    `    ${b}`,
    '  add &relay=1 to both for a call through the TURN relay only (iceTransportPolicy "relay").',
    `  the signaling token in them is for the dev account only and expires in ${hours} hour${hours === 1 ? '' : 's'} (${until});`,
    '  restart Ferry for fresh ones.',
  ];
}
