// Other nodes' allocation counts: messages set a node's count, a heartbeat's full read replaces
// everything (a node absent from it is gone), listeners hear of accounts whose node count changed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteCounts } from '../../../../src/limits/remote-counts.js';

describe('RemoteCounts', () => {
  it('sums counts and nodes per account from messages', () => {
    const r = new RemoteCounts();
    const changed: string[] = [];
    r.onNodesChanged((a) => changed.push(a));
    r.set('b', 'acme', 2);
    r.set('c', 'acme', 1);
    r.set('c', 'acme', 3); // a new count, not a delta
    assert.equal(r.count('acme'), 5);
    assert.equal(r.nodes('acme'), 2);
    r.set('b', 'acme', 0);
    assert.equal(r.count('acme'), 3);
    assert.equal(r.nodes('acme'), 1);
    assert.deepEqual(changed, ['acme', 'acme', 'acme'], 'node count 1, 2, then 1');
    r.set('c', 'acme', 0);
    assert.equal(r.accounts, 0, 'nothing kept for an account with no allocations');
  });

  it('a full read replaces everything: a node gone takes its counts along', () => {
    const r = new RemoteCounts();
    r.set('b', 'acme', 2);
    r.set('c', 'acme', 1);
    r.set('c', 'zeta', 1);
    const changed = r.replace(new Map([['b', new Map([['acme', 4], ['new', 1]])]]));
    assert.equal(r.count('acme'), 4);
    assert.equal(r.nodes('acme'), 1);
    assert.equal(r.count('zeta'), 0);
    assert.deepEqual([...changed].sort(), ['acme', 'new', 'zeta']);
  });

  it('a listener that throws does not stop the update', () => {
    const r = new RemoteCounts();
    r.onNodesChanged(() => {
      throw new Error('boom');
    });
    r.set('b', 'acme', 1);
    assert.equal(r.count('acme'), 1);
  });
});
