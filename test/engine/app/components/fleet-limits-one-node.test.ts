// The rate limits on one node (SQLite storage: counted in memory) through a real Ferry in this
// process: Allocate over real UDP sockets gets 486 past rate_limits.allocations_per_ip and
// allocations_per_account (exactly at the limit: one node has no overshoot), POST
// /v1/ice-servers answers 429 rate_limited with Retry-After for the account, and /metrics counts
// both in ferry_rate_limited_total.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rateWindow } from '../../../../src/limits/rate-counter.js';
import { apiRequest } from '../../../helpers/admin-http.js';
import { startInProcessFerry, type InProcessFerry } from '../../../helpers/ferry-in-process.js';
import { TestTurnClient } from '../../../helpers/turn-client.js';
import { sleep } from '../../../helpers/wait.js';

const ADMIN = 'admin-token-0123456789abcdef';
const SECRET = 'rest-secret-0123456789abcdef';

describe('rate limits on one node', () => {
  let ferry: InProcessFerry;
  const clients: TestTurnClient[] = [];

  before(async () => {
    // The counts of this test must fall in one one-minute window.
    const left = rateWindow(Date.now()).end - Date.now();
    if (left < 5000) await sleep(left + 50);
    ferry = await startInProcessFerry({
      auth_secrets: [SECRET],
      signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
      rate_limits: { allocations_per_account: 3, allocations_per_ip: 2 },
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await ferry?.stop();
  });

  const base = () => `http://127.0.0.1:${ferry.handle.signalingAddress().port}`;
  const metric = async (kind: string) => {
    const text = await (await apiRequest(base(), 'GET', '/metrics')).text();
    const line = text.split('\n').find((l) => l.startsWith(`ferry_rate_limited_total{kind="${kind}"}`));
    return Number(line?.split(' ').at(-1));
  };

  it('refuses Allocate with 486 past the per-IP and per-account rates, and /v1/ice-servers with 429', async () => {
    const created = await apiRequest(base(), 'POST', '/v1/accounts', ADMIN, { name: 'rates' });
    assert.equal(created.status, 201);
    const account = (await created.json()) as { id: string; api_key: string };
    const ice = await apiRequest(base(), 'POST', '/v1/ice-servers', account.api_key);
    assert.equal(ice.status, 200);
    const [server] = ((await ice.json()) as { iceServers: { username: string; credential: string }[] }).iceServers;
    const allocate = async (localAddress: string) => {
      const c = await TestTurnClient.connect({ port: ferry.port, username: server.username, password: server.credential, localAddress });
      clients.push(c);
      return (await c.allocate()).code;
    };

    assert.equal(await allocate('127.0.0.61'), 0);
    assert.equal(await allocate('127.0.0.61'), 0, '2 of 2 from this IP');
    assert.equal(await allocate('127.0.0.61'), 486, 'the IP is over rate_limits.allocations_per_ip');
    assert.equal(await metric('allocations-ip'), 1);
    assert.equal(await allocate('127.0.0.62'), 0, '3 of 3 for the account');
    assert.equal(await allocate('127.0.0.63'), 486, 'the account is over rate_limits.allocations_per_account');
    assert.equal(await metric('allocations-account'), 1);

    const refused = await apiRequest(base(), 'POST', '/v1/ice-servers', account.api_key);
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'rate_limited');
    assert.match(body.error.message, /allocations_per_account/);
    assert.equal(await metric('allocations-account'), 2, 'the 429 is counted too');
  });
});
