/**
 * Whether the nodes of a fleet share auth_secrets: a credential one node mints must be accepted
 * by the node it points at. Each node publishes, in its registry entry, the password its minting
 * secret gives a fixed username, and every node checks the others' against its own secrets. The
 * username expired in 1970 (`0:...`), so the published password authenticates nothing; and it
 * says no more about the secret than any credential a client is handed.
 */
import { timingSafeEqual } from 'node:crypto';
import { restPassword } from '../credentials/rest.js';

export const CHECK_USERNAME = '0:ferry-fleet-secret-check';

/** What a node publishes for its minting secret. */
export function secretCheck(secret: string): string {
  return restPassword(secret, CHECK_USERNAME);
}

/** True when one of `secrets` gives `check`: this node accepts what that node mints. */
export function acceptsCheck(secrets: readonly string[], check: string): boolean {
  const theirs = Buffer.from(check);
  return secrets.some((s) => {
    const mine = Buffer.from(secretCheck(s));
    return mine.length === theirs.length && timingSafeEqual(mine, theirs);
  });
}
