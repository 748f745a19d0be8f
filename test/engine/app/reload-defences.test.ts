// FerryHandle.reload (SIGHUP) applies nonce and rate_limits: a new nonce secret makes issued
// nonces 438 (the client retries with the fresh one); new budgets apply at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessFerry, type InProcessFerry } from '../../helpers/ferry-in-process.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import * as C from '../../../turn/codec/constants.js';

describe('reload: nonce and rate_limits', () => {
  let ferry: InProcessFerry;
  let port = 0;
  const clients: TestTurnClient[] = [];
  const reload = (extra: Record<string, unknown>) => ferry.reload(extra);

  before(async () => {
    ferry = await startInProcessFerry(
      { users: { alice: 'alice-password' } },
      { nonce: { secret: 'first-nonce-secret-0123' }, rate_limits: { auth_failures_per_ip: 1 } },
    );
    port = ferry.port;
  });
  after(async () => {
    for (const c of clients) c.close();
    await ferry?.stop();
  });

  const client = async (password: string) => {
    const c = await TestTurnClient.connect({ port, username: 'alice', password });
    clients.push(c);
    return c;
  };
  const signedAllocate = (c: TestTurnClient) => c.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(C.TRANSPORT_UDP), true);
  /** Whether `request` is answered: a Binding request sent after it is answered after it. */
  const answered = async (c: TestTurnClient, request: Buffer) => {
    const before = c.received;
    c.sendRaw(request);
    await c.transact(c.build(C.METHOD_BINDING, null, false));
    return c.received > before + 1;
  };

  it('a new nonce secret: the issued nonce gets 438, the retry with the fresh one succeeds', async () => {
    const c = await client('alice-password');
    assert.equal((await c.allocate()).code, 0);
    const old = c.nonce;
    assert.equal((await c.refresh()).code, 0, 'the nonce is good before');
    assert.deepEqual(reload({ nonce: { secret: 'second-nonce-secret-0123' }, rate_limits: { auth_failures_per_ip: 1 } }).live, ['nonce']);
    const r = await c.transact(c.build(C.METHOD_REFRESH, null, true));
    assert.equal(r.code, 438);
    assert.notEqual(r.string(C.ATTR_NONCE), old);
    assert.equal((await c.refresh()).code, 0, 'the client retries with the fresh nonce');
  });

  it('new budgets apply at once', async () => {
    const guesser = await client('wrong');
    assert.equal((await guesser.transact(guesser.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(C.TRANSPORT_UDP), false))).code, 401);
    const challenge = await guesser.transact(guesser.build(C.METHOD_ALLOCATE, (w) => w.addRequestedTransport(C.TRANSPORT_UDP), false));
    guesser.realm = challenge.string(C.ATTR_REALM);
    guesser.nonce = challenge.string(C.ATTR_NONCE);
    assert.equal((await guesser.transact(signedAllocate(guesser))).code, 401, 'one failure a minute');
    assert.equal(await answered(guesser, signedAllocate(guesser)), false, 'the second is not answered');
    assert.deepEqual(reload({ nonce: { secret: 'second-nonce-secret-0123' }, rate_limits: { auth_failures_per_ip: 0 } }).live, ['rate_limits']);
    assert.equal((await guesser.transact(signedAllocate(guesser))).code, 401, 'no limit after the reload');
  });
});
