// The notes nodes publish to each other and the queue entries, read back; what is not one of them
// (from the network: anyone with access to Redis can publish) is refused without throwing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deliverNote, parseNote, parseQueueEntry, queueEntry, replacedNote, undeliverableNote, type Carried,
} from '../../../../../src/store/redis/signal-keys.js';
import { FleetQueue, type QueuedRecord } from '../../../../../src/store/redis/signal-queue.js';

const carried: Carried = {
  accountId: 'acc_1',
  to: 'bob',
  from: { node: 'node-a', boot: 'b00t', conn: 7, peer: 'alice', id: 'm1' },
  bye: false,
  text: '{"type":"offer","from":"alice","payload":{"type":"offer","sdp":"v=0\\r\\n\\n"}}',
};

test('notes round-trip: deliver (text with newlines kept as is), undeliverable, replaced', () => {
  assert.deepEqual(parseNote(deliverNote(carried)), { kind: 'd', ...carried });
  assert.deepEqual(parseNote(deliverNote({ ...carried, bye: true, from: { ...carried.from, id: null } })), {
    kind: 'd', ...carried, bye: true, from: { ...carried.from, id: null },
  });
  assert.deepEqual(parseNote(undeliverableNote('acc_1', carried.from, 'bob', 'peer bob is not connected')), {
    kind: 'u', accountId: 'acc_1', peer: 'alice', boot: 'b00t', conn: 7, id: 'm1', to: 'bob', message: 'peer bob is not connected',
  });
  assert.deepEqual(parseNote(replacedNote('acc_1', 'bob', 'b00t', 3)), { kind: 'r', accountId: 'acc_1', peer: 'bob', boot: 'b00t', conn: 3 });
});

test('what is not a note is refused', () => {
  const bad = [
    '', 'd', 'x[]', 'd[]', 'd{}', 'dnot json', 'd["a","b","n","b",1,"p",null,0]' /* no text line */,
    'd["a","b","n","b",0,"p",null,0]\n{}' /* conn 0 */, 'd["a","b","n","b",1.5,"p",null,0]\n{}',
    `d["a","b","n","b",1,"p","${'i'.repeat(65)}",0]\n{}`, 'd["","b","n","b",1,"p",null,0]\n{}',
    'u["a","p","b",1,null,"t"]', 'u["a","p","b",1,{},"t","m"]', 'r["a","p","b"]', 'r["a","p","b","1"]',
  ];
  for (const text of bad) assert.equal(parseNote(text), null, JSON.stringify(text));
});

test('queue entries: the prefix finds the entry, the entry gives back the message', () => {
  const { entry, prefix } = queueEntry(1234, 'boot.5', carried);
  assert.ok(entry.startsWith(prefix));
  assert.equal(prefix, '1234 boot.5 ');
  assert.deepEqual(parseQueueEntry(entry, 'acc_1', 'bob'), carried);
  assert.equal(parseQueueEntry('1234 boot.5 ["n"]\n{}', 'acc_1', 'bob'), null);
  assert.equal(parseQueueEntry('garbage', 'acc_1', 'bob'), null);
});

test('FleetQueue: expiry in order, in batches; per-account counts; a dropped account is skipped', () => {
  const q = new FleetQueue();
  const sender = { connId: 1, accountId: 'a', peerId: 's', open: true, link: { send() {}, bufferedAmount: 0 }, sendError() {} };
  const rec = (accountId: string, expiresAt: number): QueuedRecord => ({ accountId, target: 't', prefix: `${expiresAt} q `, sender, id: undefined, expiresAt, dropped: false });
  for (let i = 0; i < 5; i++) q.push(rec('a', 100 + i));
  q.push(rec('b', 103));
  assert.equal(q.count, 6);
  assert.equal(q.accountCount('a'), 5);
  assert.deepEqual(q.expired(101, 1).map((r) => r.expiresAt), [100]);
  assert.deepEqual(q.expired(101, 10).map((r) => r.expiresAt), [101]);
  assert.equal(q.dropAccount('a').length, 3);
  assert.equal(q.accountCount('a'), 0);
  assert.equal(q.count, 1);
  assert.deepEqual(q.expired(1000, 10).map((r) => r.accountId), ['b']);
  assert.equal(q.count, 0);
});
