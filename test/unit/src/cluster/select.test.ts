// Relay selection (src/cluster/select.ts): the power of two random choices over live, non-draining
// relays, the requested region first. The sampler's randomness is injected, so every pair of
// samples can be driven, and a seeded generator measures the spread over many picks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pickRelays } from '../../../../src/cluster/select.js';
import type { RelayEntry, RelayState } from '../../../../src/cluster/types.js';
import { prng } from '../../../helpers/bytes.js';

function relay(nodeId: string, allocations: number, opts: { region?: string; state?: RelayState; bps?: number } = {}): RelayEntry {
  return {
    nodeId,
    publicHost: `${nodeId}.test`,
    transports: ['udp', 'tcp'],
    ports: { udp: 3478, tcp: 3478 },
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    load: { allocations, bps: opts.bps ?? 0 },
    state: opts.state ?? 'active',
    startedAt: 0,
    version: 'test',
  };
}

/** random() answers that make the sampler draw indexes i then j (of n, then of n-1 without i). */
function drawing(pairs: [number, number, number][]): () => number {
  const values: number[] = [];
  for (const [n, i, j] of pairs) values.push((i + 0.5) / n, ((j > i ? j - 1 : j) + 0.5) / (n - 1));
  return () => {
    const v = values.shift();
    if (v === undefined) throw new Error('drawing: more samples than planned');
    return v;
  };
}

describe('pickRelays', () => {
  it('never takes the more loaded of the two sampled relays, for every pair', () => {
    const relays = [relay('a', 5), relay('b', 1), relay('c', 9), relay('d', 3)];
    for (let i = 0; i < relays.length; i++) {
      for (let j = 0; j < relays.length; j++) {
        if (i === j) continue;
        const [picked] = pickRelays(relays, { count: 1, random: drawing([[4, i, j]]) });
        const lighter = relays[i]!.load.allocations <= relays[j]!.load.allocations ? relays[i]! : relays[j]!;
        assert.equal(picked?.nodeId, lighter.nodeId, `sampled ${relays[i]!.nodeId} and ${relays[j]!.nodeId}`);
      }
    }
  });

  it('breaks an allocation tie by relayed bytes per second', () => {
    const relays = [relay('a', 2, { bps: 900 }), relay('b', 2, { bps: 100 })];
    assert.equal(pickRelays(relays, { count: 1, random: drawing([[2, 0, 1]]) })[0]?.nodeId, 'b');
    assert.equal(pickRelays(relays, { count: 1, random: drawing([[2, 1, 0]]) })[0]?.nodeId, 'b');
  });

  it('over many picks the lighter relays get most, the heaviest none', () => {
    const relays = [relay('r0', 0), relay('r1', 10), relay('r2', 20), relay('r3', 30), relay('r4', 40)];
    const counts = new Map<string, number>(relays.map((r) => [r.nodeId, 0]));
    const random = prng(42);
    const N = 20_000;
    for (let k = 0; k < N; k++) {
      const [p] = pickRelays(relays, { count: 1, random });
      counts.set(p!.nodeId, counts.get(p!.nodeId)! + 1);
    }
    const c = relays.map((r) => counts.get(r.nodeId)!);
    // Two choices among 5: the k-th lightest wins with probability 2(4-k)/20: 40%, 30%, 20%, 10%, 0%.
    assert.equal(c[4], 0, `the heaviest is never picked: ${c.join(', ')}`);
    for (let k = 0; k < 4; k++) assert.ok(c[k]! > c[k + 1]!, `lighter picked more often: ${c.join(', ')}`);
    assert.ok(Math.abs(c[0]! / N - 0.4) < 0.02, `lightest about 40%: ${c[0]! / N}`);
    assert.ok(c[0]! + c[1]! > N / 2, `the two lightest get most: ${c.join(', ')}`);
  });

  it('two distinct relays when two are live; one when one is; none from draining relays', () => {
    const random = prng(7);
    for (let k = 0; k < 200; k++) {
      const two = pickRelays([relay('a', 1), relay('b', 2), relay('c', 3, { state: 'draining' })], { count: 2, random });
      assert.equal(two.length, 2);
      assert.notEqual(two[0]!.nodeId, two[1]!.nodeId);
      assert.ok(two.every((r) => r.nodeId !== 'c'), 'draining relay never picked');
    }
    assert.deepEqual(pickRelays([relay('a', 1), relay('b', 0, { state: 'draining' })], { count: 2 }).map((r) => r.nodeId), ['a']);
    assert.deepEqual(pickRelays([relay('b', 0, { state: 'draining' })], { count: 2 }), []);
    assert.deepEqual(pickRelays([], { count: 2 }), []);
  });

  it('prefers the requested region, even when more loaded, and fills up from others', () => {
    const relays = [relay('eu1', 50, { region: 'eu' }), relay('eu2', 60, { region: 'eu' }), relay('us1', 0, { region: 'us' }), relay('x', 0)];
    const random = prng(3);
    for (let k = 0; k < 200; k++) {
      const both = pickRelays(relays, { count: 2, region: 'eu', random }).map((r) => r.nodeId).sort();
      assert.deepEqual(both, ['eu1', 'eu2']);
    }
    const oneInRegion = [relay('eu1', 50, { region: 'eu' }), relay('us1', 0, { region: 'us' }), relay('us2', 9, { region: 'us' })];
    for (let k = 0; k < 200; k++) {
      const picked = pickRelays(oneInRegion, { count: 2, region: 'eu', random });
      assert.equal(picked[0]!.nodeId, 'eu1', 'the region first');
      assert.ok(picked[1]!.nodeId.startsWith('us'));
    }
    // An unknown region is no preference at all.
    const any = pickRelays(relays, { count: 2, region: 'ap', random: drawing([[4, 0, 1], [3, 1, 2]]) }).map((r) => r.nodeId);
    assert.equal(any.length, 2);
    // A draining relay of the region is not preferred over a live one elsewhere.
    const drained = pickRelays([relay('eu1', 0, { region: 'eu', state: 'draining' }), relay('us1', 5, { region: 'us' })], { count: 2, region: 'eu' });
    assert.deepEqual(drained.map((r) => r.nodeId), ['us1']);
  });
});
