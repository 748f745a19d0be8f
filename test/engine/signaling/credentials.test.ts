// The account API (ICE servers, signaling tokens) and how revocation and disabling reach the TURN
// auth handler, through app.inject() over an in-memory store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthHandler } from '../../../src/credentials/auth-handler.js';
import { parseIceUrl } from '../../../client/ice-url.js';
import { SECRET, TURN_PORT, errorOf, testApp, type TestApp } from '../../helpers/signaling-app.js';

interface IceServersBody {
  iceServers: Array<{ urls: string[]; username: string; credential: string }>;
  expires_at: string;
}

async function iceServers(t: TestApp, auth: string, opts: { host?: string; payload?: object } = {}) {
  return t.request({
    method: 'POST',
    url: '/v1/ice-servers',
    auth,
    ...(opts.payload ? { payload: opts.payload } : {}),
    headers: opts.host ? { host: opts.host } : {},
  });
}

async function mintToken(t: TestApp, apiKey: string): Promise<string> {
  const res = await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: apiKey });
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { token: string }).token;
}

describe('POST /v1/ice-servers', () => {
  let t: TestApp;
  let acme: { id: string; api_key: string };
  before(async () => {
    t = await testApp();
    acme = await t.createAccount('acme');
  });
  after(() => t.close());

  it('answers RTCConfiguration.iceServers for the request\'s host', async () => {
    const res = await iceServers(t, acme.api_key, { host: 'Relay.Example.org:8080' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as IceServersBody;
    assert.deepEqual(Object.keys(body).sort(), ['expires_at', 'iceServers']);
    assert.equal(body.iceServers.length, 1);
    const [server] = body.iceServers;
    assert.deepEqual(Object.keys(server).sort(), ['credential', 'urls', 'username']);
    assert.deepEqual(server.urls, [
      `stun:relay.example.org:${TURN_PORT}`,
      `turn:relay.example.org:${TURN_PORT}?transport=udp`,
      `turn:relay.example.org:${TURN_PORT}?transport=tcp`,
    ]);
    for (const url of server.urls) assert.ok(parseIceUrl(url), url);
    assert.match(server.username, new RegExp(`^\\d+:${acme.id}:\\d+$`));
    assert.equal(body.expires_at, new Date(t.clock.ms + 3600_000).toISOString(), 'default TTL 1 h');
  });

  it('brackets an IPv6 host and honours ttl', async () => {
    const res = await iceServers(t, acme.api_key, { host: '[2001:db8::1]:8080', payload: { ttl: 120 } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as IceServersBody;
    assert.equal(body.iceServers[0].urls[1], `turn:[2001:db8::1]:${TURN_PORT}?transport=udp`);
    assert.equal(body.expires_at, new Date(t.clock.ms + 120_000).toISOString());
  });

  it('accepts an empty body with a JSON content type (fetch without a body)', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/ice-servers', auth: acme.api_key, headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 200, res.body);
  });

  it('refuses a bad ttl or an unknown field with 400 naming it', async () => {
    for (const payload of [{ ttl: 'long' }, { ttl: -5 }, { ttl: 1.5 }, { ttl: 10 ** 9 }, { tll: 60 }]) {
      const res = await iceServers(t, acme.api_key, { payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(errorOf(res).message, /ttl|tll/);
    }
  });

  it('refuses a Host header that is not a host', async () => {
    const res = await iceServers(t, acme.api_key, { host: 'evil.example/path?x' });
    assert.equal(res.statusCode, 400);
    assert.equal(errorOf(res).code, 'invalid_request');
  });

  it('uses signaling.public_host and the TLS port when configured', async () => {
    const t2 = await testApp({ publicHost: 'turn.example.com', tlsPort: 5349 });
    try {
      const a = await t2.createAccount('acme');
      const res = await iceServers(t2, a.api_key, { host: '10.1.2.3:8080' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual((res.json() as IceServersBody).iceServers[0].urls, [
        `stun:turn.example.com:${TURN_PORT}`,
        `turn:turn.example.com:${TURN_PORT}?transport=udp`,
        `turn:turn.example.com:${TURN_PORT}?transport=tcp`,
        'turns:turn.example.com:5349?transport=tcp',
      ]);
    } finally {
      await t2.close();
    }
  });

  it('answers 503 when no auth_secrets are configured', async () => {
    const t2 = await testApp({ secret: null });
    try {
      const a = await t2.createAccount('acme');
      for (const url of ['/v1/ice-servers', '/v1/signal-tokens']) {
        const res = await t2.request({ method: 'POST', url, auth: a.api_key });
        assert.equal(res.statusCode, 503, url);
        assert.equal(errorOf(res).code, 'credentials_unavailable');
        assert.match(errorOf(res).message, /auth_secrets/);
      }
    } finally {
      await t2.close();
    }
  });

  it('refuses missing, unknown and malformed credentials with 401 JSON', async () => {
    for (const auth of [null, 'fk_nope', 'st_nope.nope', 'admin-token-0123456789abcdef']) {
      const res = await t.request({ method: 'POST', url: '/v1/ice-servers', auth });
      assert.equal(res.statusCode, 401, String(auth));
      assert.equal(errorOf(res).code, 'unauthorized');
    }
  });
});

describe('POST /v1/signal-tokens', () => {
  let t: TestApp;
  let acme: { id: string; api_key: string };
  before(async () => {
    t = await testApp();
    acme = await t.createAccount('acme');
  });
  after(() => t.close());

  it('mints a token that authenticates /v1/ice-servers for the same account', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: acme.api_key, payload: { ttl: 300 } });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json() as { token: string; expires_at: string };
    assert.match(body.token, /^st_/);
    assert.equal(body.expires_at, new Date(t.clock.ms + 300_000).toISOString());
    const ice = await iceServers(t, body.token);
    assert.equal(ice.statusCode, 200, ice.body);
    assert.ok((ice.json() as IceServersBody).iceServers[0].username.includes(`:${acme.id}:`));
  });

  it('needs an API key: a token cannot mint another (403)', async () => {
    const token = await mintToken(t, acme.api_key);
    const res = await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: token });
    assert.equal(res.statusCode, 403);
    assert.equal(errorOf(res).code, 'forbidden');
  });

  it('refuses an expired token and a ttl out of range', async () => {
    const token = (await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: acme.api_key, payload: { ttl: 1 } })).json() as { token: string };
    t.clock.ms += 2000;
    assert.equal((await iceServers(t, token.token)).statusCode, 401);
    for (const ttl of [0, 86_401]) {
      const res = await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: acme.api_key, payload: { ttl } });
      assert.equal(res.statusCode, 400, String(ttl));
      assert.match(errorOf(res).message, /body\.ttl/);
    }
  });
});

describe('disabling, deleting and revoking reach every credential', () => {
  let t: TestApp;
  before(async () => { t = await testApp({ closedPerCall: 3 }); });
  after(() => t.close());

  const realm = 'ferry';
  const turnAuth = () => createAuthHandler({ secrets: [SECRET], accounts: t.accounts.directory });

  async function turnCredentials(apiKey: string) {
    const res = await iceServers(t, apiKey);
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as IceServersBody).iceServers[0];
  }

  it('a disabled account\'s key and tokens get 401 until it is enabled again', async () => {
    const a = await t.createAccount('to-disable');
    const token = await mintToken(t, a.api_key);
    const patch = (disabled: boolean) => t.request({ method: 'PATCH', url: `/v1/accounts/${a.id}`, payload: { disabled } });
    assert.equal((await patch(true)).statusCode, 200);
    for (const cred of [a.api_key, token]) {
      const res = await iceServers(t, cred);
      assert.equal(res.statusCode, 401);
      assert.equal(errorOf(res).code, 'unauthorized');
    }
    const signal = await t.request({ method: 'POST', url: '/v1/signal-tokens', auth: a.api_key });
    assert.equal(signal.statusCode, 401);
    assert.equal((await patch(false)).statusCode, 200);
    assert.equal((await iceServers(t, a.api_key)).statusCode, 200);
  });

  it('a deleted account\'s key gets 401 and its TURN credentials are refused', async () => {
    const a = await t.createAccount('to-delete');
    const cred = await turnCredentials(a.api_key);
    assert.equal(turnAuth().lookup(cred.username, realm, t.clock.ms).ok, true);
    assert.equal((await t.request({ method: 'DELETE', url: `/v1/accounts/${a.id}` })).statusCode, 204);
    assert.equal((await iceServers(t, a.api_key)).statusCode, 401);
    assert.deepEqual(turnAuth().lookup(cred.username, realm, t.clock.ms), { ok: false, reason: 'revoked' });
  });

  it('revoke closes allocations and refuses earlier TURN credentials and tokens, not later ones', async () => {
    const a = await t.createAccount('to-revoke');
    const b = await t.createAccount('bystander');
    const before = await turnCredentials(a.api_key);
    const bystander = await turnCredentials(b.api_key);
    const token = await mintToken(t, a.api_key);
    const auth = turnAuth();
    assert.equal(auth.lookup(before.username, realm, t.clock.ms).ok, true);

    t.clock.ms += 1000;
    const res = await t.request({ method: 'POST', url: `/v1/accounts/${a.id}/revoke` });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { revoked: true, closed_allocations: 3 });
    assert.deepEqual(t.closeCalls.slice(-1), [a.id], 'RelayControl closed the account\'s allocations');

    assert.deepEqual(auth.lookup(before.username, realm, t.clock.ms), { ok: false, reason: 'revoked' });
    assert.equal(auth.lookup(bystander.username, realm, t.clock.ms).ok, true, 'other accounts are untouched');
    assert.equal((await iceServers(t, token)).statusCode, 401, 'earlier signaling tokens are refused');

    t.clock.ms += 1000;
    const afterRevoke = await turnCredentials(a.api_key); // API keys survive a revoke
    const lookup = auth.lookup(afterRevoke.username, realm, t.clock.ms);
    assert.equal(lookup.ok, true);
    assert.equal(lookup.ok && lookup.account, a.id);
    assert.equal((await iceServers(t, await mintToken(t, a.api_key))).statusCode, 200);
  });
});

describe('GET /v1/signal admission (wired by buildSignalingApp)', () => {
  let t: TestApp;
  let acme: { id: string; api_key: string };
  before(async () => {
    t = await testApp();
    acme = await t.createAccount('acme');
  });
  after(() => t.close());

  // Without an Upgrade header an admitted request gets 426 from the route; a refused one 401.
  const signal = (query: string, auth: string | null) => t.request({ method: 'GET', url: `/v1/signal?peer_id=p1${query}`, auth });

  it('admits an API key as bearer and a signaling token in the URL', async () => {
    assert.equal((await signal('', acme.api_key)).statusCode, 426);
    const token = await mintToken(t, acme.api_key);
    assert.equal((await signal(`&token=${token}`, null)).statusCode, 426);
    assert.equal((await signal('', token)).statusCode, 426);
  });

  it('refuses an API key in the URL, and unknown or revoked credentials', async () => {
    assert.equal((await signal(`&token=${acme.api_key}`, null)).statusCode, 401, 'API keys stay out of URLs');
    assert.equal((await signal('&token=st_forged.x', null)).statusCode, 401);
    const token = await mintToken(t, acme.api_key);
    t.clock.ms += 1000;
    assert.equal((await t.request({ method: 'POST', url: `/v1/accounts/${acme.id}/revoke` })).statusCode, 200);
    assert.equal((await signal(`&token=${token}`, null)).statusCode, 401);
  });
});
