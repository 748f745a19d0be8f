// The fleet's auth_secrets check (src/cluster/secret-check.ts): a node accepts another's check
// exactly when one of its secrets is that node's minting secret, and the published check is no
// credential a relay accepts (its username expired in 1970).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsCheck, CHECK_USERNAME, secretCheck } from '../../../../src/cluster/secret-check.js';
import { createAuthHandler } from '../../../../src/credentials/auth-handler.js';

describe('secret check', () => {
  it('accepted by a node that has the secret among its auth_secrets, refused otherwise', () => {
    const check = secretCheck('shared-secret-0123456789');
    assert.equal(acceptsCheck(['old-secret', 'shared-secret-0123456789'], check), true);
    assert.equal(acceptsCheck(['other-secret-0123456789'], check), false);
    assert.equal(acceptsCheck([], check), false);
    assert.equal(acceptsCheck(['shared-secret-0123456789'], 'not-a-check'), false);
    assert.ok(!check.includes('shared-secret'));
  });

  it('the published check authenticates nothing: its username has expired', () => {
    const secret = 'shared-secret-0123456789';
    const auth = createAuthHandler({ secrets: [secret] });
    const found = auth.lookup(CHECK_USERNAME, 'ferry.test', Date.now());
    assert.equal(found.ok, false);
    assert.equal(!found.ok && found.reason, 'expired');
  });
});
