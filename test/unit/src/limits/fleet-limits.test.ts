// The allocation gate's decisions under a fake clock, without Redis: the order of its refusals,
// allocations_per_user with other nodes' counts, the rates from the engine's events (one node:
// exact, no overshoot), failed authentications only counted in a fleet, the bandwidth share.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlockTable } from '../../../../src/limits/block-table.js';
import { FleetLimits, type FleetLimitSettings } from '../../../../src/limits/fleet-limits.js';
import { MemoryRateCounter, RATE_WINDOW_MS } from '../../../../src/limits/rate-counter.js';
import { RemoteCounts } from '../../../../src/limits/remote-counts.js';
import type { AllocationInfo, AllocationRefusal } from '../../../../turn/index.js';

const T0 = Date.UTC(2030, 0, 1, 10, 15);
const SETTINGS: FleetLimitSettings = { allocationsPerUser: 3, allocationsPerAccount: 4, allocationsPerIp: 2, authFailuresPerIp: 2 };
const info = (account: string, clientAddress: string) => ({ account, clientAddress }) as AllocationInfo;

function setup(o: { fleet?: boolean; limited?: Set<string>; available?: () => boolean } = {}) {
  const clock = { ms: T0 };
  const blocks = new BlockTable();
  const remote = new RemoteCounts();
  const published: [string, number][] = [];
  const refused: AllocationRefusal[] = [];
  const limits = new FleetLimits({
    settings: SETTINGS,
    usage: { limited: (a) => o.limited?.has(a) === true },
    blocks,
    rates: new MemoryRateCounter(blocks, () => clock.ms),
    ...(o.fleet ? { remote, link: { publishCount: (a: string, c: number) => void published.push([a, c]), available: o.available ?? (() => true) } } : {}),
    now: () => clock.ms,
    refused: (r) => refused.push(r),
  });
  return { clock, limits, remote, published, refused, events: limits.turnEvents() };
}

describe('FleetLimits', () => {
  it('refuses in order: usage limit, storage unavailable, quota, account rate, IP rate', () => {
    let up = false;
    const s = setup({ fleet: true, limited: new Set(['over']), available: () => up });
    assert.equal(s.limits.mayAllocate('over', '192.0.2.1', 1), 'usage-limit');
    assert.equal(s.limits.mayAllocate('acme', '192.0.2.1', 1), 'unavailable');
    up = true;
    s.remote.set('node-b', 'acme', 2);
    assert.equal(s.limits.mayAllocate('acme', '192.0.2.1', 1), 'ok', '1 here + 2 there = 3 of 3');
    assert.equal(s.limits.mayAllocate('acme', '192.0.2.1', 2), 'quota', '2 here + 2 there');
    assert.deepEqual(s.refused, ['usage-limit', 'unavailable', 'quota']);
  });

  it('counts new allocations per account and per IP (IPv6 per /64) from the engine\'s events, exactly on one node', () => {
    const s = setup();
    s.events.allocationCreated?.(info('acme', '2001:db8:0:1::1'));
    assert.equal(s.limits.mayAllocate('acme', '2001:db8:0:1::2', 1), 'ok');
    s.events.allocationCreated?.(info('acme', '2001:db8:0:1::2'));
    assert.equal(s.limits.mayAllocate('acme', '2001:db8:0:1:ffff::', 1), 'rate-ip', '2 of 2 from this /64');
    assert.equal(s.limits.mayAllocate('acme', '2001:db8:0:2::1', 1), 'ok', 'another /64');
    s.events.allocationCreated?.(info('acme', '192.0.2.1'));
    s.events.allocationCreated?.(info('acme', '192.0.2.2'));
    assert.equal(s.limits.mayAllocate('acme', '192.0.2.9', 1), 'rate-account', '4 of 4 for the account');
    assert.equal(s.limits.accountRateLimited('acme'), true);
    assert.equal(s.limits.retryAfterSeconds('acme'), RATE_WINDOW_MS / 1000);
    s.clock.ms += RATE_WINDOW_MS;
    assert.equal(s.limits.mayAllocate('acme', '192.0.2.9', 1), 'ok', 'the next minute');
  });

  it('publishes this node\'s count on every allocate and close; shares the bandwidth cap by node', () => {
    const s = setup({ fleet: true });
    s.events.allocationCreated?.(info('acme', '192.0.2.1'));
    s.events.allocationCreated?.(info('acme', '192.0.2.2'));
    s.events.allocationClosed?.(info('acme', '192.0.2.1'), 'client-closed', T0);
    assert.deepEqual(s.published, [['acme', 1], ['acme', 2], ['acme', 1]]);
    assert.equal(s.limits.localCount('acme'), 1);
    assert.equal(s.limits.shareBps('acme', 90_000), 90_000);
    s.remote.set('node-b', 'acme', 5);
    s.remote.set('node-c', 'acme', 1);
    assert.equal(s.limits.shareBps('acme', 90_000), 30_000, 'three nodes relay acme');
    assert.equal(s.limits.shareBps('acme', 0), 0, 'no cap stays no cap');
  });

  it('counts failed authentications per IP only in a fleet (one node: the engine\'s own budget)', () => {
    const one = setup();
    for (let i = 0; i < 3; i++) one.events.authFailure?.('bad-integrity', '192.0.2.7');
    assert.equal(one.limits.authBlocked('192.0.2.7'), false);
    const fleet = setup({ fleet: true });
    fleet.events.authFailure?.('unknown', '192.0.2.7');
    assert.equal(fleet.limits.authBlocked('192.0.2.7'), false);
    fleet.events.authFailure?.('unknown', '192.0.2.7');
    assert.equal(fleet.limits.authBlocked('192.0.2.7'), true, '2 of 2');
    assert.equal(fleet.limits.authBlocked('192.0.2.8'), false);
  });
});
