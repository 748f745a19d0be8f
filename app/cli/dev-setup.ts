/**
 * The development setup of `ferry start` without any config file: a random auth secret and admin
 * token kept in `./data/dev-secrets.json` (mode 0600, reused on the next start) and a `dev`
 * account created once, so the demo page and the ICE server API work at once. A convenience for
 * trying Ferry on a laptop, not a production setup (write a config with `ferry init`).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountService } from '../../src/accounts/service.js';

export const DEV_SECRETS_FILE = 'dev-secrets.json';
export const DEV_ACCOUNT_NAME = 'dev';

export interface DevSecrets {
  auth_secret: string;
  admin_token: string;
  account_id?: string;
  api_key?: string;
}

export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

function isDevSecrets(v: unknown): v is DevSecrets {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.auth_secret === 'string' && o.auth_secret.length >= 16 && typeof o.admin_token === 'string' && o.admin_token.length >= 16;
}

function save(file: string, secrets: DevSecrets): void {
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode applies only when it creates the file
}

/** The secrets in `<dataDir>/dev-secrets.json`; undefined when it is missing, unreadable, not JSON or unusable. */
export function readDevSecretsFile(dataDir: string): DevSecrets | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dataDir, DEV_SECRETS_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  return isDevSecrets(parsed) ? parsed : undefined;
}

/** Reads `<dataDir>/dev-secrets.json`, creating it (and dataDir) with fresh secrets when missing or unusable. */
export function loadDevSecrets(dataDir: string): { file: string; secrets: DevSecrets; created: boolean } {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, DEV_SECRETS_FILE);
  const existing = readDevSecretsFile(dataDir);
  if (existing !== undefined) return { file, secrets: existing, created: false };
  // Missing, unreadable or unusable: make new ones.
  const secrets: DevSecrets = { auth_secret: randomToken(), admin_token: randomToken() };
  save(file, secrets);
  return { file, secrets, created: true };
}

/**
 * The `dev` account and its API key: the one recorded in the file when the store still has it
 * active, else a new one (recorded in the file).
 */
export async function ensureDevAccount(
  accounts: AccountService,
  file: string,
  secrets: DevSecrets,
): Promise<{ accountId: string; apiKey: string; created: boolean }> {
  if (secrets.account_id !== undefined && secrets.api_key !== undefined) {
    const existing = await accounts.getAccount(secrets.account_id);
    if (existing !== undefined && !existing.disabled && (await accounts.authenticateApiKey(secrets.api_key)) !== null) {
      return { accountId: existing.id, apiKey: secrets.api_key, created: false };
    }
  }
  const { account, apiKey } = await accounts.createAccount(DEV_ACCOUNT_NAME);
  save(file, { ...secrets, account_id: account.id, api_key: apiKey });
  return { accountId: account.id, apiKey, created: true };
}
