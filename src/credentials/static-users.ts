/**
 * Static long-term users from config (`users: { "name": "password" }`): the account is the user name.
 * Keys depend on the realm, so each (realm, user) key is derived once and cached.
 */
import { deriveLongTermKey, type LongTermKey } from '../../turn/index.js';

export type StaticUsersConfig = Readonly<Record<string, string>>;

export interface StaticUsers {
  has(username: string): boolean;
  /** The key for a configured user in `realm`, or undefined for an unknown user. */
  key(username: string, realm: string): LongTermKey | undefined;
  readonly size: number;
}

export function createStaticUsers(users: StaticUsersConfig = {}): StaticUsers {
  // A Map, not the config object: "__proto__" or "constructor" must not resolve to anything.
  const passwords = new Map<string, string>();
  for (const name of Object.keys(users)) {
    const password = users[name];
    if (name.length === 0) throw new Error('users: a user name must be non-empty');
    if (typeof password !== 'string' || password.length === 0) {
      throw new Error(`users: the password of user ${JSON.stringify(name)} must be a non-empty string`);
    }
    passwords.set(name, password);
  }
  // realm → username → key; bounded by (configured users × realms the server uses).
  const cache = new Map<string, Map<string, LongTermKey>>();

  return {
    size: passwords.size,
    has: (username) => passwords.has(username),
    key(username, realm) {
      const password = passwords.get(username);
      if (password === undefined) return undefined;
      let byUser = cache.get(realm);
      if (byUser === undefined) {
        byUser = new Map();
        cache.set(realm, byUser);
      }
      let key = byUser.get(username);
      if (key === undefined) {
        key = deriveLongTermKey(username, realm, password);
        byUser.set(username, key);
      }
      return key;
    },
  };
}
