// The relay binder's per-IP port tables as 'relay-only' permissions see them: live relayed ports
// only (not EVEN-PORT placeholders, not released ports); external_ip reaches its family's relay IP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpRelayBinder } from '../../../turn/relay-binder.js';
import { PORT_LIVE, PORT_RESERVED } from '../../../turn/permission.js';
import { reservePortRange } from '../../helpers/ports.js';

test('relayPorts: bound relay IPs (any text form) and external_ip map to one table; other addresses to none', async () => {
  const range = await reservePortRange();
  const binder = new UdpRelayBinder({
    ips4: ['127.0.0.1'],
    ips6: ['0:0:0:0:0:0:0:1'],
    portMin: range.lo,
    portMax: range.hi,
    externalIp4: '203.0.113.5',
    externalIp6: '2001:DB8::5',
  });
  try {
    const v4 = binder.relayPorts('127.0.0.1', 4);
    assert.ok(v4 !== null);
    assert.equal(binder.relayPorts('203.0.113.5', 4), v4, 'external_ip: the relay IP\'s table');
    const v6 = binder.relayPorts('::1', 6);
    assert.ok(v6 !== null && v6 !== v4);
    assert.equal(binder.relayPorts('2001:db8::5', 6), v6);
    for (const [a, f] of [['127.0.0.2', 4], ['0.0.0.0', 4], ['::ffff:127.0.0.1', 6], ['127.0.0.1', 6], ['::1', 4], ['8.8.8.8', 4]] as const) {
      assert.equal(binder.relayPorts(a, f), null, `${a}/${f}`);
    }

    const now = 1_000_000;
    const plain = binder.bind({ account: 'a', family: 4 }, now);
    assert.ok(plain.ok);
    assert.equal(v4.table[plain.endpoint.port], PORT_LIVE);
    const even = binder.bind({ account: 'a', family: 4, evenPort: true, reserveNext: true }, now);
    assert.ok(even.ok && even.reservationToken !== undefined);
    const reserved = even.endpoint.port + 1;
    assert.equal(v4.table[even.endpoint.port], PORT_LIVE);
    assert.equal(v4.table[reserved], PORT_RESERVED, 'a placeholder is not a live relayed port');
    const taken = binder.bind({ account: 'a', family: 4, reservationToken: even.reservationToken }, now + 1000);
    assert.ok(taken.ok);
    assert.equal(taken.endpoint.port, reserved);
    assert.equal(v4.table[reserved], PORT_LIVE, 'live once an allocation binds it');

    binder.release(plain.endpoint);
    assert.equal(v4.table[plain.endpoint.port], 0, 'released: unreachable at once');
    binder.release(even.endpoint);
    binder.release(taken.endpoint);

    const again = binder.bind({ account: 'a', family: 4, evenPort: true, reserveNext: true }, now);
    assert.ok(again.ok);
    binder.sweep(now + 60_000);
    assert.equal(v4.table[again.endpoint.port + 1], 0, 'an expired reservation frees its port');
    binder.release(again.endpoint);
    assert.equal(binder.relayOnlyDrops(), 0);
    v4.dropped += 2;
    v6.dropped += 1;
    assert.equal(binder.relayOnlyDrops(), 3);
  } finally {
    binder.close();
    range.release();
  }
});
