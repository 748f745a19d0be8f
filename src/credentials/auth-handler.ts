/**
 * The AuthHandler of the composition root: static users first, then TURN REST credentials.
 *
 *   - a configured static user           → that user (account = user name), key cached per realm;
 *   - else, with secrets configured, a username containing ':' → REST lookup
 *     ('malformed' if not `<digits>:<account>`, 'expired', or the account with one key per secret);
 *   - else                                → { ok: false, reason: 'unknown' }.
 *
 * `update()` swaps users and secrets atomically for config reload. Secrets never appear in errors.
 */
import type { AuthHandler, AuthLookup } from '../../turn/interfaces.js';
import { lookupRestUsername } from './rest.js';
import { createStaticUsers, type StaticUsers, type StaticUsersConfig } from './static-users.js';

export interface AuthHandlerConfig {
  readonly users?: StaticUsersConfig;
  /** REST API shared secrets; the first mints, all verify. */
  readonly secrets?: readonly string[];
}

export interface UpdatableAuthHandler extends AuthHandler {
  /** Replaces users and secrets; on an invalid config throws and keeps the previous state. */
  update(config: AuthHandlerConfig): void;
}

interface State {
  readonly users: StaticUsers;
  readonly secrets: readonly string[];
}

const UNKNOWN: AuthLookup = Object.freeze({ ok: false, reason: 'unknown' });

function buildState(config: AuthHandlerConfig): State {
  const secrets = config.secrets ?? [];
  secrets.forEach((s, i) => {
    if (typeof s !== 'string' || s.length === 0) throw new Error(`auth: secrets[${i}] must be a non-empty string`);
  });
  return { users: createStaticUsers(config.users ?? {}), secrets: Object.freeze([...secrets]) };
}

export function createAuthHandler(config: AuthHandlerConfig): UpdatableAuthHandler {
  let state = buildState(config);
  return {
    lookup(username, realm, nowMs) {
      const { users, secrets } = state;
      const key = users.key(username, realm);
      if (key !== undefined) return { ok: true, account: username, keys: [key] };
      if (secrets.length === 0 || !username.includes(':')) return UNKNOWN;
      return lookupRestUsername(username, realm, secrets, nowMs);
    },
    update(next) {
      state = buildState(next);
    },
  };
}
