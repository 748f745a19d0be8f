import {
  ATTR_NONCE,
  ATTR_PASSWORD_ALGORITHM,
  ATTR_REALM,
  ATTR_USERNAME,
  MAX_NONCE_BYTES,
  MAX_REALM_BYTES,
  MAX_USERNAME_BYTES,
  PASSWORD_ALGORITHM_MD5,
  PASSWORD_ALGORITHM_SHA256,
} from '../codec/constants.js';
import { readPasswordAlgorithm, readString } from '../codec/attributes.js';
import { checkMessageIntegrity, checkMessageIntegritySha256 } from '../codec/integrity.js';
import type { RequestContext } from './context.js';
import { challenge, failure, type Credential } from './respond.js';

export type AuthOutcome = { readonly ok: true; readonly cred: Credential } | { readonly ok: false; readonly response: Buffer };

function refuse(response: Buffer): AuthOutcome {
  return { ok: false, response };
}

/**
 * Long-term credential check of RFC 8489 §9.2.4, in its order: no integrity → 401 challenge;
 * missing USERNAME/REALM/NONCE → 400; bad or stale nonce → 438; unknown, expired or revoked
 * user, foreign realm or bad MESSAGE-INTEGRITY → 401. Every key the auth hook returns (one per
 * configured secret) is tried, each compared in constant time.
 */
export function authenticate(ctx: RequestContext): AuthOutcome {
  const { req, env, now } = ctx;
  const sha256 = req.integritySha256Index >= 0;
  if (req.integrityIndex < 0 && !sha256) return refuse(challenge(ctx, 401));
  const ui = req.index(ATTR_USERNAME);
  const ri = req.index(ATTR_REALM);
  const ni = req.index(ATTR_NONCE);
  if (ui < 0 || ri < 0 || ni < 0) return refuse(failure(ctx, 400));
  const username = readString(req, ui, MAX_USERNAME_BYTES);
  const realm = readString(req, ri, MAX_REALM_BYTES);
  const nonce = readString(req, ni, MAX_NONCE_BYTES);
  if (username === null || realm === null || nonce === null || username.length === 0) return refuse(failure(ctx, 400));
  if (env.nonces.check(nonce, ctx.client.address, now) !== 'ok') return refuse(challenge(ctx, 438));
  let algorithm = PASSWORD_ALGORITHM_MD5;
  const ai = req.index(ATTR_PASSWORD_ALGORITHM);
  if (ai >= 0) {
    const pa = readPasswordAlgorithm(req, ai);
    if (pa === null || (pa.algorithm !== PASSWORD_ALGORITHM_MD5 && pa.algorithm !== PASSWORD_ALGORITHM_SHA256)) {
      return refuse(failure(ctx, 400));
    }
    algorithm = pa.algorithm;
  }
  if (realm !== env.realm) return refuse(challenge(ctx, 401));
  const found = env.auth.lookup(username, realm, now);
  if (!found.ok) {
    env.allocations.events?.authFailure?.(found.reason);
    env.log?.debug({ client: ctx.client.address, username, reason: found.reason }, 'authentication failed');
    return refuse(challenge(ctx, 401));
  }
  for (const k of found.keys) {
    const key = algorithm === PASSWORD_ALGORITHM_SHA256 ? k.sha256 : k.md5;
    const valid = sha256 ? checkMessageIntegritySha256(req, key) : checkMessageIntegrity(req, key);
    if (valid) return { ok: true, cred: { username, account: found.account, realm, key, sha256 } };
  }
  env.allocations.events?.authFailure?.('bad-integrity');
  env.log?.debug({ client: ctx.client.address, username, reason: 'bad-integrity' }, 'authentication failed');
  return refuse(challenge(ctx, 401));
}
