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
import { ERROR_BAD_REQUEST, ERROR_STALE_NONCE, ERROR_UNAUTHENTICATED } from '../codec/error-codes.js';
import type { RequestContext } from './context.js';
import { fromOwnAllocation } from './own-allocation.js';
import { challenge, failure, type Credential } from './respond.js';

/** `response` null: no answer at all (the client's IP is over a rate limit). */
export type AuthOutcome = { readonly ok: true; readonly cred: Credential } | { readonly ok: false; readonly response: Buffer | null };

function refuse(response: Buffer | null): AuthOutcome {
  return { ok: false, response };
}

/**
 * A key no password derives to in practice: an unknown user's request is checked against it, so
 * it costs the same HMAC as a known user's with a wrong password (no timing difference to tell
 * "no such user" from "wrong password").
 */
const NO_KEY = Buffer.alloc(16);

/**
 * Long-term credential check of RFC 8489 §9.2.4, in its order: no integrity → 401 challenge;
 * missing USERNAME/REALM/NONCE → 400; bad or stale nonce → 438; unknown, expired or revoked
 * user, foreign realm or bad MESSAGE-INTEGRITY → 401. Every key the auth hook returns (one per
 * configured secret) is tried, each compared in constant time.
 *
 * Every credential failure looks the same from outside (one 401, one metric reason); the detail
 * goes to the debug log only. A source IP past its budget of failures
 * (rate_limits.auth_failures_per_ip) gets no answer to a signed request, which is not even
 * verified, until the budget refills: passwords cannot be guessed at line rate. Exempt: a request
 * from a 5-tuple holding an allocation, naming that allocation's user (fromOwnAllocation); it is
 * verified as usual and a failure still takes a token.
 */
export function authenticate(ctx: RequestContext): AuthOutcome {
  const { req, env, now } = ctx;
  const sha256 = req.integritySha256Index >= 0;
  if (req.integrityIndex < 0 && !sha256) return refuse(challenge(ctx, ERROR_UNAUTHENTICATED));
  const failures = env.rateLimits.authFailures;
  const slot = failures.enabled ? failures.slotOf(ctx.client.address) : -1;
  // The request can only prove the password of the user already authenticated on this 5-tuple:
  // it gives a guesser nothing, and users sharing the IP must not cost it its allocation.
  // A budget spent elsewhere (env.gate.authBlocked: a fleet's shared one) gets the same treatment.
  const blocked = (slot >= 0 && !failures.available(slot, now)) || env.gate?.authBlocked?.(ctx.client.address) === true;
  if (blocked && !fromOwnAllocation(ctx)) {
    env.allocations.events?.rateLimited?.('auth-failure');
    return refuse(null);
  }
  const ui = req.index(ATTR_USERNAME);
  const ri = req.index(ATTR_REALM);
  const ni = req.index(ATTR_NONCE);
  if (ui < 0 || ri < 0 || ni < 0) return refuse(failure(ctx, ERROR_BAD_REQUEST));
  const username = readString(req, ui, MAX_USERNAME_BYTES);
  const realm = readString(req, ri, MAX_REALM_BYTES);
  const nonce = readString(req, ni, MAX_NONCE_BYTES);
  if (username === null || realm === null || nonce === null || username.length === 0) return refuse(failure(ctx, ERROR_BAD_REQUEST));
  if (env.nonces.check(nonce, ctx.client.address, ctx.client.port, now) !== 'ok') return refuse(challenge(ctx, ERROR_STALE_NONCE));
  let algorithm = PASSWORD_ALGORITHM_MD5;
  const ai = req.index(ATTR_PASSWORD_ALGORITHM);
  if (ai >= 0) {
    const pa = readPasswordAlgorithm(req, ai);
    if (pa === null || (pa.algorithm !== PASSWORD_ALGORITHM_MD5 && pa.algorithm !== PASSWORD_ALGORITHM_SHA256)) {
      return refuse(failure(ctx, ERROR_BAD_REQUEST));
    }
    algorithm = pa.algorithm;
  }
  if (realm !== env.realm) return refuse(challenge(ctx, ERROR_UNAUTHENTICATED));
  const found = env.auth.lookup(username, realm, now);
  let reason: string = 'bad-integrity';
  if (found.ok) {
    for (const k of found.keys) {
      const key = algorithm === PASSWORD_ALGORITHM_SHA256 ? k.sha256 : k.md5;
      const valid = sha256 ? checkMessageIntegritySha256(req, key) : checkMessageIntegrity(req, key);
      if (valid) return { ok: true, cred: { username, account: found.account, realm, key, sha256 } };
    }
  } else {
    reason = found.reason;
    if (sha256) checkMessageIntegritySha256(req, NO_KEY);
    else checkMessageIntegrity(req, NO_KEY);
  }
  if (slot >= 0) failures.take(slot);
  env.allocations.events?.authFailure?.(reason, ctx.client.address);
  env.log?.debug({ client: ctx.client.address, username, reason }, 'authentication failed');
  return refuse(challenge(ctx, ERROR_UNAUTHENTICATED));
}
