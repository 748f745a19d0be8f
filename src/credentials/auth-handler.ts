/**
 * The AuthHandler of the composition root: static users first, then TURN REST credentials.
 *
 *   - a configured static user           → that user (account = user name), key cached per realm;
 *   - else, with secrets configured, a username containing ':' → REST lookup
 *     ('malformed' if not of the REST shape, 'expired', 'revoked' when `accounts` is given and the
 *     revocation rule of ./rest.ts refuses it, or the account with one key per secret);
 *   - else                                → { ok: false, reason: 'unknown' }.
 *
 * `update()` swaps users and secrets atomically for config reload; `accounts` and `maxTtlSeconds`
 * are kept unless the update names them. Secrets never appear in errors. Synchronous, no I/O.
 */
import type { AuthHandler, AuthLookup } from '../../turn/index.js';
import type { AccountDirectory } from '../accounts/directory.js';
import { DEFAULT_MAX_TTL_SECONDS, lookupRestUsername, type RevocationPolicy } from './rest.js';
import { createStaticUsers, type StaticUsers, type StaticUsersConfig } from './static-users.js';

export interface AuthHandlerConfig {
  readonly users?: StaticUsersConfig;
  /** REST API shared secrets; the first mints, all verify. */
  readonly secrets?: readonly string[];
  /** Accounts subject to revocation (see ./rest.ts); without it no REST credential is revoked. */
  readonly accounts?: AccountDirectory;
  /** The longest TTL credentials are minted with; dates plain `<expiry>:<account>` credentials. Default 86400. */
  readonly maxTtlSeconds?: number;
}

export interface UpdatableAuthHandler extends AuthHandler {
  /** Replaces users and secrets; on an invalid config throws and keeps the previous state. */
  update(config: AuthHandlerConfig): void;
}

interface State {
  readonly users: StaticUsers;
  readonly secrets: readonly string[];
  readonly accounts: AccountDirectory | undefined;
  readonly maxTtlSeconds: number;
  readonly revocation: RevocationPolicy | undefined;
}

const UNKNOWN: AuthLookup = Object.freeze({ ok: false, reason: 'unknown' });

function buildState(config: AuthHandlerConfig, previous?: State): State {
  const secrets = config.secrets ?? [];
  secrets.forEach((s, i) => {
    if (typeof s !== 'string' || s.length === 0) throw new Error(`auth: secrets[${i}] must be a non-empty string`);
  });
  const maxTtlSeconds = config.maxTtlSeconds ?? previous?.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  if (!Number.isSafeInteger(maxTtlSeconds) || maxTtlSeconds <= 0) throw new Error('auth: maxTtlSeconds must be a positive integer');
  const accounts = config.accounts ?? previous?.accounts;
  return {
    users: createStaticUsers(config.users ?? {}),
    secrets: Object.freeze([...secrets]),
    accounts,
    maxTtlSeconds,
    revocation: accounts === undefined ? undefined : Object.freeze({ accounts, maxTtlSeconds }),
  };
}

export function createAuthHandler(config: AuthHandlerConfig): UpdatableAuthHandler {
  let state = buildState(config);
  return {
    lookup(username, realm, nowMs) {
      const { users, secrets, revocation } = state;
      const key = users.key(username, realm);
      if (key !== undefined) return { ok: true, account: username, keys: [key] };
      if (secrets.length === 0 || !username.includes(':')) return UNKNOWN;
      return lookupRestUsername(username, realm, secrets, nowMs, revocation);
    },
    update(next) {
      state = buildState(next, state);
    },
  };
}
