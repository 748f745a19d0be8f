// Usage webhook events once per fleet: the claim names, and the emit that sends an event only
// where its claim succeeds (retried while storage is down).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventClaim, oncePerFleet } from '../../../../src/limits/once-per-fleet.js';
import { sleep } from '../../../helpers/wait.js';

const NOW = Date.UTC(2030, 0, 1, 10);
const tf = { timeframe_start: '2030-01-01T00:00:00.000Z', timeframe_end: '2030-01-02T00:00:00.000Z' };

describe('eventClaim', () => {
  it('names an event by type, timeframe, limit and account; lasts past the timeframe', () => {
    const soft = eventClaim('usage.soft_limit', { account: 'acme', usage_bytes: 600, limit_bytes: 1000, ...tf }, NOW, 0);
    assert.equal(soft?.name, 'usage.soft_limit:2030-01-01T00:00:00.000Z:1000:acme');
    assert.ok(soft !== null && soft.ttlMs > 14 * 3_600_000, 'until past the end (14 h away)');
    const global = eventClaim('usage.hard_limit', { account: null, limit_bytes: 5, ...tf }, NOW, 0);
    assert.equal(global?.name, 'usage.hard_limit:2030-01-01T00:00:00.000Z:5:*');
    assert.equal(eventClaim('usage.reset', { account: 'acme', ...tf }, NOW, 0)?.name, 'usage.reset:2030-01-01T00:00:00.000Z:acme');
    const report = eventClaim('usage.report', { account: 'acme', ...tf }, NOW, 60_000);
    assert.equal(report?.name, `usage.report:2030-01-01T00:00:00.000Z:${NOW / 60_000}:acme`);
    assert.equal(report?.ttlMs, 120_000);
    assert.equal(eventClaim('usage.soft_limit', 'nonsense', NOW, 0), null);
  });
});

describe('oncePerFleet', () => {
  it('sends where the claim is first, skips elsewhere, retries while storage is down', async () => {
    const claimed = new Set<string>();
    let down = 2;
    const claim = async (name: string) => {
      if (down > 0) {
        down--;
        throw new Error('storage unavailable');
      }
      if (claimed.has(name)) return null;
      claimed.add(name);
      return async () => void claimed.delete(name);
    };
    const sent: string[] = [];
    const nodeA = oncePerFleet({ claim, emit: (t) => void sent.push(`a:${t}`), reportIntervalMs: () => 0, now: () => NOW, retryMs: 5 });
    const nodeB = oncePerFleet({ claim, emit: (t) => void sent.push(`b:${t}`), reportIntervalMs: () => 0, now: () => NOW, retryMs: 5 });
    const data = { account: 'acme', usage_bytes: 600, limit_bytes: 1000, ...tf };
    nodeA('usage.soft_limit', data);
    await sleep(50);
    nodeB('usage.soft_limit', data);
    await sleep(20);
    assert.deepEqual(sent, ['a:usage.soft_limit'], 'one event for the fleet, after two failed claims');
  });
});
