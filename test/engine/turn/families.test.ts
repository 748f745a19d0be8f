import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Fixture } from '../../helpers/turn-server.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import * as C from '../../../turn/codec/constants.js';
import { readAddressErrorCode } from '../../../turn/codec/attributes.js';
import { readXorAddress } from '../../../turn/codec/address.js';

let v4: Fixture;
let v6: Fixture;
const open: { close(): void }[] = [];

before(async () => {
  v4 = await startServer({});
  v6 = await startServer({ host: '::1', ips4: ['127.0.0.1'], ips6: ['::1'] });
});
after(async () => {
  for (const o of open) o.close();
  await v4.stop();
  await v6.stop();
});

async function client(fx: Fixture, host = '127.0.0.1'): Promise<TestTurnClient> {
  const c = await TestTurnClient.connect({ host, port: fx.udpPort, username: 'alice', password: 'alice-pass' });
  open.push(c);
  return c;
}

test('IPv6: Binding and an IPv6 relay over a ::1 listener, data both ways', async () => {
  const c = await client(v6, '::1');
  const b = await c.transact(c.build(C.METHOD_BINDING, null, false));
  assert.deepEqual(b.xorAddress(C.ATTR_XOR_MAPPED_ADDRESS), { family: 6, address: '::1', port: c.localPort });
  const r = await c.allocate((w) => w.addAddressFamily(C.ATTR_REQUESTED_ADDRESS_FAMILY, 6));
  assert.equal(r.code, 0);
  const relayed = r.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!;
  assert.equal(relayed.family, 6);
  assert.equal(relayed.address, '::1');
  const p = await UdpPeer.open('::1');
  open.push(p);
  assert.equal((await c.channelBind(0x4000, p.address)).code, 0);
  c.sendChannelData(0x4000, Buffer.from('six'));
  assert.ok(await p.waitFor(1));
  assert.equal(p.received[0].data.toString(), 'six');
  p.send(Buffer.from('back'), relayed);
  assert.deepEqual(await c.nextData(), { kind: 'channel', channel: 0x4000, data: Buffer.from('back') });
  // an IPv6 Send indication (permission found by bytes, no strings)
  const q = await UdpPeer.open('::1');
  open.push(q);
  assert.equal((await c.createPermission(q.address)).code, 0);
  c.sendIndication(q.address, Buffer.from('ind6'));
  assert.ok(await q.waitFor(1));
  assert.equal((await c.createPermission({ address: '127.0.0.1' })).code, 443);
  assert.equal((await c.refresh(0)).code, 0);
});

test('ADDITIONAL-ADDRESS-FAMILY gives a dual allocation; without IPv6 relays → ADDRESS-ERROR-CODE 440', async () => {
  const c = await client(v6, '::1');
  const r = await c.allocate((w) => w.addAddressFamily(C.ATTR_ADDITIONAL_ADDRESS_FAMILY, 6));
  assert.equal(r.code, 0);
  const fams: number[] = [];
  for (let i = 0; i < r.msg.attrTypes.length; i++) {
    if (r.msg.attrTypes[i] === C.ATTR_XOR_RELAYED_ADDRESS) fams.push(readXorAddress(r.msg, i)!.family);
  }
  assert.deepEqual(fams, [4, 6]);
  assert.equal((await c.refresh(0)).code, 0);

  const d = await client(v4);
  const r4 = await d.allocate((w) => w.addAddressFamily(C.ATTR_ADDITIONAL_ADDRESS_FAMILY, 6));
  assert.equal(r4.code, 0);
  const ae = readAddressErrorCode(r4.msg, r4.attr(C.ATTR_ADDRESS_ERROR_CODE));
  assert.equal(ae?.code, 440);
  assert.equal((await d.refresh(0)).code, 0);
});

test('REQUESTED-ADDRESS-FAMILY IPv6 without IPv6 relays → 440; bad combinations → 400', async () => {
  const c = await client(v4);
  assert.equal((await c.allocate((w) => w.addAddressFamily(C.ATTR_REQUESTED_ADDRESS_FAMILY, 6))).code, 440);
  assert.equal((await c.allocate((w) => w.addAddressFamily(C.ATTR_ADDITIONAL_ADDRESS_FAMILY, 4))).code, 400);
  assert.equal(
    (await c.allocate((w) => w.addAddressFamily(C.ATTR_REQUESTED_ADDRESS_FAMILY, 4).addAddressFamily(C.ATTR_ADDITIONAL_ADDRESS_FAMILY, 6))).code,
    400,
  );
});

test('EVEN-PORT with R reserves port+1 behind a RESERVATION-TOKEN for a second Allocate', async () => {
  const a = await client(v4);
  const r = await a.allocate((w) => w.addEvenPort(true));
  assert.equal(r.code, 0);
  const port = r.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!.port;
  assert.equal(port % 2, 0);
  const ti = r.attr(C.ATTR_RESERVATION_TOKEN);
  assert.ok(ti >= 0);
  const token = Buffer.from(r.msg.attrValue(ti));
  const b = await client(v4);
  assert.equal((await b.allocate((w) => w.addBytes(C.ATTR_RESERVATION_TOKEN, token, 0, 8).addEvenPort(false))).code, 400);
  const rb = await b.allocate((w) => w.addBytes(C.ATTR_RESERVATION_TOKEN, token, 0, 8));
  assert.equal(rb.code, 0);
  assert.equal(rb.xorAddress(C.ATTR_XOR_RELAYED_ADDRESS)!.port, port + 1);
  const c = await client(v4);
  assert.equal((await c.allocate((w) => w.addBytes(C.ATTR_RESERVATION_TOKEN, token, 0, 8))).code, 508, 'a token is used once');
  for (const x of [a, b]) assert.equal((await x.refresh(0)).code, 0);
});
