// The development setup's demo URLs: the token in the fragment (never sent to the server), the
// second tab calls the first, and a browser on this machine can reach the base URL.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PEERS, DEMO_TOKEN_TTL_SECONDS, demoUrls, localBaseUrl } from '../../../../app/cli/dev-notice.js';

describe('dev notice: demo URLs', () => {
  test('two URLs: the token, me and peer swapped in the fragment; only the second auto-calls', () => {
    const [a, b] = demoUrls('http://localhost:8080', 'st_a.b+c');
    const ua = new URL(a);
    const ub = new URL(b);
    assert.equal(ua.pathname, '/demo');
    assert.equal(ua.search, '');
    const pa = new URLSearchParams(ua.hash.slice(1));
    const pb = new URLSearchParams(ub.hash.slice(1));
    assert.deepEqual([pa.get('token'), pa.get('me'), pa.get('peer'), pa.get('call')], ['st_a.b+c', 'alice', 'bob', null]);
    assert.deepEqual([pb.get('token'), pb.get('me'), pb.get('peer'), pb.get('call')], ['st_a.b+c', 'bob', 'alice', '1']);
    assert.deepEqual(DEMO_PEERS, ['alice', 'bob']);
    assert.equal(DEMO_TOKEN_TTL_SECONDS, 3600);
  });

  test('base URL: all interfaces → localhost; a specific address as it is (IPv6 in brackets)', () => {
    assert.equal(localBaseUrl('0.0.0.0', 8080), 'http://localhost:8080');
    assert.equal(localBaseUrl('::', 8080), 'http://localhost:8080');
    assert.equal(localBaseUrl('127.0.0.1', 4000), 'http://127.0.0.1:4000');
    assert.equal(localBaseUrl('::1', 4000), 'http://[::1]:4000');
  });
});
