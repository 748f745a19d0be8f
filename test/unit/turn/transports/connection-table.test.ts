// ConnectionTable: the per-client key (IPv4, IPv4-mapped, IPv6 /64), the caps, the per-client
// table's bound (no entry at 0) and the allocate deadline, with a fake clock and fake sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { clientKey, ConnectionTable, UNALLOCATED_PER_CLIENT, type ConnectionSlot } from '../../../../turn/transports/connection-table.js';

class FakeSocket {
  destroyed = false;
  constructor(readonly remoteAddress: string) {}
  destroy(): void {
    this.destroyed = true;
  }
}
const sock = (ip: string) => new FakeSocket(ip) as unknown as Socket & FakeSocket;

test('clientKey: IPv4 as is, IPv4-mapped as its IPv4, IPv6 by /64', () => {
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), clientKey('2001:db8:1:2::9'));
  assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
});

test('caps per client and in total; releasing frees the slot and empties the table', () => {
  const t = new ConnectionTable({ perIp: 2, total: 3, allocateTimeoutMs: 1000 }, () => 0);
  const a1 = t.admit(sock('10.0.0.1')) as ConnectionSlot;
  const a2 = t.admit(sock('10.0.0.1')) as ConnectionSlot;
  assert.equal(t.admit(sock('10.0.0.1')), 'per-ip');
  assert.equal(t.admit(sock('2001:db8::1')) !== 'per-ip', true);
  assert.equal(t.admit(sock('2001:db8::2')), 'total');
  assert.deepEqual([t.size, t.clients], [3, 2]);
  t.release(a1);
  t.release(a1); // idempotent
  assert.equal(t.size, 2);
  assert.equal(typeof t.admit(sock('10.0.0.1')), 'object');
  t.release(a2);
  assert.deepEqual([t.size, t.clients], [2, 2]);
});

test('the deadline: closed at allocateTimeoutMs from accept, not while allocated, again after', () => {
  let now = 0;
  const t = new ConnectionTable({ perIp: 10, total: 10, allocateTimeoutMs: 1000 }, () => now);
  const s = sock('10.0.0.1');
  const idle = sock('10.0.0.2');
  const slot = t.admit(s) as ConnectionSlot;
  t.admit(idle);
  now = 999;
  assert.equal(t.sweep(), 0);
  t.allocated(slot);
  now = 1000;
  assert.equal(t.sweep(), 1, 'the idle one');
  assert.deepEqual([s.destroyed, idle.destroyed], [false, true]);
  now = 50_000;
  assert.equal(t.sweep(), 0, 'allocated: no deadline');
  t.waitForAllocation(slot); // its allocation ended
  now = 50_999;
  assert.equal(t.sweep(), 0);
  now = 51_000;
  assert.equal(t.sweep(), 1);
  assert.equal(s.destroyed, true);
});

test('update: new limits for new connections; live deadlines stay', () => {
  let now = 0;
  const t = new ConnectionTable({ perIp: 10, total: 10, allocateTimeoutMs: 5000 }, () => now);
  const old = sock('10.0.0.1');
  t.admit(old);
  t.update({ perIp: 1, total: 10, allocateTimeoutMs: 1000 });
  assert.equal(t.admit(sock('10.0.0.1')), 'per-ip');
  const young = sock('10.0.0.2');
  t.admit(young);
  now = 1000;
  t.sweep();
  assert.deepEqual([old.destroyed, young.destroyed], [false, true]);
});

test('connections without an allocation: at most 64 per client and half the total; allocating frees the place', () => {
  const t = new ConnectionTable({ perIp: 1000, total: 1000, allocateTimeoutMs: 1000 }, () => 0);
  const first: ConnectionSlot[] = [];
  for (let i = 0; i < UNALLOCATED_PER_CLIENT; i++) first.push(t.admit(sock('10.0.0.1')) as ConnectionSlot);
  assert.equal(t.admit(sock('10.0.0.1')), 'unallocated', 'the 65th waiting connection of one client');
  t.allocated(first[0]);
  assert.equal(typeof t.admit(sock('10.0.0.1')), 'object', 'an allocation frees a waiting place');
  assert.equal(t.admit(sock('10.0.0.1')), 'unallocated');
  // Many clients: waiting connections stop at half the total (500).
  let refused = 0;
  for (let c = 2; c <= 10; c++) {
    for (let i = 0; i < UNALLOCATED_PER_CLIENT; i++) if (t.admit(sock(`10.0.0.${c}`)) === 'unallocated') refused++;
  }
  assert.equal(t.unallocated, 500);
  assert.equal(refused, 9 * UNALLOCATED_PER_CLIENT - (500 - UNALLOCATED_PER_CLIENT));
  // An allocation ending makes the connection wait again, counted again.
  t.waitForAllocation(first[0]);
  assert.equal(t.unallocated, 501);
  t.release(first[0]);
  assert.equal(t.unallocated, 500);
});
