import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AccountDirectory } from '../../../../src/accounts/directory.js';
import { hashApiKey } from '../../../../src/accounts/keys.js';
import { AccountError, AccountService } from '../../../../src/accounts/service.js';
import type { RelayControl } from '../../../../src/accounts/types.js';
import { createAuthHandler } from '../../../../src/credentials/auth-handler.js';
import { mintRestCredential } from '../../../../src/credentials/rest.js';
import { SqliteAccountStore } from '../../../../src/store/sqlite-account-store.js';

const SECRET = 'a-rest-secret-of-some-length';
const REALM = 'ferry.test';
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

class FakeRelay implements RelayControl {
  readonly calls: string[] = [];
  readonly maxBpsCalls: [string, number][] = [];
  live = new Map<string, number>();
  setAccountMaxBps(accountId: string, bps: number): void {
    this.maxBpsCalls.push([accountId, bps]);
  }
  closeAccountAllocations(accountId: string): number {
    this.calls.push(accountId);
    const n = this.live.get(accountId) ?? 0;
    this.live.delete(accountId);
    return n;
  }
}

async function setup() {
  const clock = { t: T0 };
  const now = () => clock.t;
  const store = new SqliteAccountStore(':memory:');
  const relay = new FakeRelay();
  const service = await AccountService.open(store, now);
  service.subscribeRelay(relay);
  const auth = createAuthHandler({ secrets: [SECRET], accounts: service.directory });
  const turn = (username: string) => auth.lookup(username, REALM, clock.t);
  return { clock, store, relay, service, auth, turn };
}

describe('AccountService', () => {
  it('create: key shown once, only its hash stored; auth by key', async () => {
    const { service, store } = await setup();
    const { account, apiKey } = await service.createAccount('  Acme Corp  ');
    assert.equal(account.name, 'Acme Corp');
    assert.match(account.id, /^acc_/);
    assert.deepEqual({ disabled: account.disabled, createdAt: account.createdAt, cnb: account.credentialsNotBefore }, { disabled: false, createdAt: T0, cnb: 0 });
    assert.deepEqual(service.directory.state(account.id), { id: account.id, status: 'active', credentialsNotBefore: 0 });

    const rows = store.db.prepare('SELECT * FROM api_keys').all() as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0].hash, hashApiKey(apiKey));
    assert.ok(!JSON.stringify(rows).includes(apiKey.slice(3)), 'the key itself is not stored');
    assert.equal(rows[0].prefix, apiKey.slice(0, 7));

    assert.deepEqual(await service.authenticateApiKey(apiKey), account);
    const keys = await service.listApiKeys(account.id);
    assert.equal(keys?.length, 1);
    assert.ok(!JSON.stringify(keys).includes(apiKey));
    assert.deepEqual(await service.getAccount(account.id), account);
    assert.deepEqual(await service.listAccounts(), [account]);
  });

  it('authenticateApiKey: null for malformed, unknown and revoked keys', async () => {
    const { service } = await setup();
    const { account, apiKey } = await service.createAccount('a');
    const second = await service.createApiKey(account.id);
    assert.ok(second);
    assert.equal(second.key.accountId, account.id);
    assert.equal(await service.revokeApiKey(account.id, second.key.id), true);
    assert.equal(await service.revokeApiKey(account.id, 'key_nope'), false);
    const cases: [string, boolean][] = [
      [apiKey, true],
      [second.apiKey, false],
      ['fk_' + 'A'.repeat(43), false],
      ['', false],
      ['fk_short', false],
      [apiKey + ' ', false],
      [undefined as unknown as string, false],
    ];
    for (const [k, ok] of cases) assert.equal((await service.authenticateApiKey(k)) !== null, ok, String(k));
    assert.equal((await service.listApiKeys(account.id))?.find((k) => k.id === second.key.id)?.revokedAt, T0);
  });

  it('revokeApiKey tells the access-revoked listeners the key id; the relay is not asked to close anything', async () => {
    const { service, relay } = await setup();
    const { account, apiKey } = await service.createAccount('a');
    const second = await service.createApiKey(account.id);
    assert.ok(second);
    const verified = await service.verifyApiKey(apiKey);
    assert.equal(verified?.account.id, account.id);
    const firstId = verified?.keyId;
    assert.ok(firstId !== undefined && firstId !== second.key.id);
    assert.equal((await service.verifyApiKey(second.apiKey))?.keyId, second.key.id);
    const told: [string, string | undefined][] = [];
    service.onAccessRevoked((id, keyId) => void told.push([id, keyId]));
    service.onAccessRevoked(() => {
      throw new Error('a failing listener changes nothing');
    });
    assert.equal(await service.revokeApiKey(account.id, firstId), true);
    assert.equal(await service.revokeApiKey(account.id, 'key_nope'), false);
    assert.equal(await service.revokeApiKey('acc_nope', second.key.id), false);
    assert.deepEqual(told, [[account.id, firstId]]);
    assert.deepEqual(relay.calls, []);
    assert.equal(await service.verifyApiKey(apiKey), null);
    // Account-wide loss of access is told without a key id.
    await service.revokeCredentials(account.id);
    assert.deepEqual(told.at(-1), [account.id, undefined]);
  });

  it('names are validated and trimmed (AccountError invalid)', async () => {
    const { service } = await setup();
    const bad: unknown[] = ['', '   ', 'x'.repeat(101), 'tab\there', 42, null];
    for (const name of bad) {
      await assert.rejects(service.createAccount(name as string), (e: unknown) => e instanceof AccountError && e.code === 'invalid' && e.name === 'AccountError', String(name));
    }
    assert.equal((await service.createAccount('é'.repeat(100))).account.name.length, 100);
    const { account } = await service.createAccount('ok');
    await assert.rejects(service.updateAccount(account.id, { name: ' ' }), (e: unknown) => e instanceof AccountError && e.code === 'invalid');
    await assert.rejects(service.updateAccount(account.id, { disabled: 'yes' as unknown as boolean }), /disabled/);
  });

  it('unknown accounts: undefined / false', async () => {
    const { service } = await setup();
    assert.equal(await service.getAccount('acc_nope'), undefined);
    assert.equal(await service.updateAccount('acc_nope', { name: 'x' }), undefined);
    assert.equal(await service.deleteAccount('acc_nope'), false);
    assert.equal(await service.createApiKey('acc_nope'), undefined);
    assert.equal(await service.listApiKeys('acc_nope'), undefined);
    assert.equal(await service.revokeApiKey('acc_nope', 'key_x'), false);
    assert.equal(await service.revokeCredentials('acc_nope'), undefined);
    assert.equal(service.directory.state('acc_nope'), undefined);
  });

  it('disable: key auth and TURN credentials refused, live allocations closed; enable restores', async () => {
    const { service, relay, turn, clock } = await setup();
    const { account, apiKey } = await service.createAccount('a');
    const cred = mintRestCredential(SECRET, account.id, 600, clock.t, { issuedAt: true });
    assert.equal(turn(cred.username).ok, true);

    const disabled = await service.updateAccount(account.id, { disabled: true });
    assert.equal(disabled?.disabled, true);
    assert.deepEqual(relay.calls, [account.id]);
    assert.equal(service.directory.state(account.id)?.status, 'disabled');
    assert.equal(await service.authenticateApiKey(apiKey), null);
    assert.deepEqual(turn(cred.username), { ok: false, reason: 'revoked' });

    await service.updateAccount(account.id, { name: 'renamed' });
    assert.deepEqual(relay.calls, [account.id, account.id], 'still disabled: closing again is harmless');
    await service.updateAccount(account.id, { disabled: false });
    assert.equal(relay.calls.length, 2, 'enabling closes nothing');
    assert.equal((await service.authenticateApiKey(apiKey))?.name, 'renamed');
    assert.equal(turn(cred.username).ok, true);
  });

  it('revokeCredentials: minted before refused, after accepted; closes allocations', async () => {
    const { service, relay, turn, clock } = await setup();
    const { account, apiKey } = await service.createAccount('a');
    const before = mintRestCredential(SECRET, account.id, 3600, clock.t, { issuedAt: true });
    clock.t += 1000;
    relay.live.set(account.id, 3);
    assert.deepEqual(await service.revokeCredentials(account.id), { closed: 3 });
    const R = clock.t;
    assert.equal(service.directory.state(account.id)?.credentialsNotBefore, R);
    assert.equal((await service.getAccount(account.id))?.credentialsNotBefore, R);
    assert.deepEqual(turn(before.username), { ok: false, reason: 'revoked' });
    assert.equal(turn(mintRestCredential(SECRET, account.id, 3600, R, { issuedAt: true }).username).ok, true, 'minted at R');
    assert.equal(turn(mintRestCredential(SECRET, account.id, 3600, R - 1, { issuedAt: true }).username).ok, false, 'minted 1 ms before R');
    assert.notEqual(await service.authenticateApiKey(apiKey), null, 'API keys are not credentials');

    // A clock stepping back never moves the boundary back.
    clock.t = R - 5000;
    await service.revokeCredentials(account.id);
    assert.equal(service.directory.state(account.id)?.credentialsNotBefore, R);
  });

  it('plain <expiry>:<account> credentials around a revocation follow the maxTtl rule', async () => {
    const { service, turn, clock } = await setup();
    const { account } = await service.createAccount('a');
    const plain = (ttl: number, at: number) => mintRestCredential(SECRET, account.id, ttl, at).username;
    assert.equal(turn(plain(3600, T0)).ok, true, 'nothing revoked yet: short plain credentials work');
    clock.t = T0 + 10_000;
    await service.revokeCredentials(account.id);
    const R = clock.t;
    // [label, ttl seconds, minted at, accepted]; each is presented right after it was minted (or at R).
    const cases: [string, number, number, boolean][] = [
      ['minted before R, 1 h', 3600, T0, false],
      ['minted before R, 1 day', 86_400, T0, false],
      ['minted at R, 1 day: expires exactly maxTtl after R', 86_400, R, true],
      ['minted at R, 1 h: expires before R + maxTtl', 3600, R, false],
      ['minted R + 23 h, 1 h', 3600, R + 23 * 3600_000, true],
      ['minted R + 22 h, 1 h', 3600, R + 22 * 3600_000, false],
    ];
    for (const [label, ttl, mintedAt, ok] of cases) {
      clock.t = Math.max(R, mintedAt);
      assert.deepEqual(turn(plain(ttl, mintedAt)).ok, ok, label);
      if (!ok) assert.deepEqual(turn(plain(ttl, mintedAt)), { ok: false, reason: 'revoked' }, label);
    }
    clock.t = R + DAY + 1;
    assert.equal(turn(plain(60, clock.t)).ok, true, 'a day after R everything minted now works');
  });

  it('delete: key and credentials refused, allocations closed, stays deleted after reopening', async () => {
    const { service, store, relay, turn, clock } = await setup();
    const { account, apiKey } = await service.createAccount('a');
    const cred = mintRestCredential(SECRET, account.id, 600, clock.t, { issuedAt: true });
    relay.live.set(account.id, 2);
    assert.equal(await service.deleteAccount(account.id), true);
    assert.equal(await service.deleteAccount(account.id), false);
    assert.deepEqual(relay.calls, [account.id]);
    assert.equal(service.directory.state(account.id)?.status, 'deleted');
    assert.equal(await service.authenticateApiKey(apiKey), null);
    assert.deepEqual(turn(cred.username), { ok: false, reason: 'revoked' });
    assert.deepEqual(turn(mintRestCredential(SECRET, account.id, 86_400, clock.t + DAY).username), { ok: false, reason: 'revoked' });
    assert.equal(await service.getAccount(account.id), undefined);
    assert.equal(await service.createApiKey(account.id), undefined);

    const reopened = await AccountService.open(store, () => clock.t);
    assert.equal(reopened.directory.state(account.id)?.status, 'deleted', 'warmed from states()');
    assert.equal(await reopened.revokeCredentials(account.id), undefined);
  });

  it('external accounts (never created) are not subject to revocation; static users unaffected', async () => {
    const { service, clock } = await setup();
    const auth = createAuthHandler({ users: { alice: 'pw' }, secrets: [SECRET], accounts: service.directory });
    assert.equal(auth.lookup(mintRestCredential(SECRET, 'someone-else', 60, clock.t).username, REALM, clock.t).ok, true);
    assert.equal(auth.lookup('alice', REALM, clock.t).ok, true);
  });

  it('open() warms the directory; subscribeRelay() adds a relay; no relay is fine', async () => {
    const { service, store } = await setup();
    const { account } = await service.createAccount('a');
    await service.updateAccount(account.id, { disabled: false });
    const other = await AccountService.open(store, () => T0);
    assert.equal(other.directory.state(account.id)?.status, 'active');
    assert.equal((await other.revokeCredentials(account.id))?.closed, 0);
    const relay = new FakeRelay();
    relay.live.set(account.id, 4);
    other.subscribeRelay(relay);
    assert.deepEqual(await other.revokeCredentials(account.id), { closed: 4 });
    // Each subscribed relay closes its own allocations; the answer is their sum.
    const second = new FakeRelay();
    second.live.set(account.id, 2);
    relay.live.set(account.id, 1);
    other.subscribeRelay(second);
    assert.deepEqual(await other.revokeCredentials(account.id), { closed: 3 });
    const direct = new AccountService(store, new AccountDirectory(), () => T0);
    assert.equal(direct.directory.state(account.id), undefined, 'the constructor does not warm');
  });
});
