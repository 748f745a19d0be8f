// ExpiryFifo (src/expiry-fifo.ts): expired items come out oldest first and only once, the ones
// still waiting stay in order through the head's compaction, and clear() empties it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpiryFifo } from '../../../src/expiry-fifo.js';

test('ExpiryFifo: oldest expired first, through compaction; waiting() in order; clear()', () => {
  const fifo = new ExpiryFifo<{ expiresAt: number; n: number }>();
  for (let n = 0; n < 3000; n++) fifo.push({ expiresAt: n, n });
  assert.equal(fifo.shiftExpired(-1), undefined, 'nothing has expired yet');
  const taken: number[] = [];
  // 2500 out: past the compaction point (over 1024 consumed and most of the array).
  for (let it = fifo.shiftExpired(2499); it !== undefined; it = fifo.shiftExpired(2499)) taken.push(it.n);
  assert.deepEqual(taken, Array.from({ length: 2500 }, (_, n) => n));
  assert.deepEqual([...fifo.waiting()].map((i) => i.n), Array.from({ length: 500 }, (_, n) => 2500 + n));
  fifo.push({ expiresAt: 5000, n: 5000 });
  assert.equal(fifo.shiftExpired(2500)?.n, 2500);
  assert.equal([...fifo.waiting()].length, 500);
  fifo.clear();
  assert.equal(fifo.shiftExpired(Number.MAX_SAFE_INTEGER), undefined);
  assert.deepEqual([...fifo.waiting()], []);
});
