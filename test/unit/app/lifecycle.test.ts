// One ordered list of components (app/lifecycle.ts): started in order, stopped in reverse; a
// failed start stops what started, and the failed component, in reverse, and rethrows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../../src/logger.js';
import type { Component } from '../../../app/components/component.js';
import { startInOrder, stopInReverse } from '../../../app/lifecycle.js';

function fake(name: string, calls: string[], fail: { start?: boolean; stop?: boolean } = {}): Component {
  return {
    name,
    async start() {
      calls.push(`start ${name}`);
      if (fail.start) throw new Error(`${name} cannot start`);
    },
    async stop() {
      calls.push(`stop ${name}`);
      if (fail.stop) throw new Error(`${name} cannot stop`);
    },
  };
}

describe('lifecycle', () => {
  const log = createLogger('silent');

  it('starts in list order and stops in reverse', async () => {
    const calls: string[] = [];
    const list = ['store', 'webhooks', 'signaling', 'metering', 'limits', 'turn'].map((n) => fake(n, calls));
    await startInOrder(list, log);
    await stopInReverse(list);
    assert.deepEqual(calls, [
      'start store', 'start webhooks', 'start signaling', 'start metering', 'start limits', 'start turn',
      'stop turn', 'stop limits', 'stop metering', 'stop signaling', 'stop webhooks', 'stop store',
    ]);
  });

  it('a failed start stops the started prefix and the failed one in reverse, then rethrows; the rest never start', async () => {
    const calls: string[] = [];
    const list = [fake('store', calls), fake('signaling', calls), fake('turn', calls, { start: true }), fake('never', calls)];
    await assert.rejects(startInOrder(list, log), /^Error: turn cannot start$/);
    assert.deepEqual(calls, ['start store', 'start signaling', 'start turn', 'stop turn', 'stop signaling', 'stop store']);
  });

  it('stop runs every step when one fails and rethrows the first failure', async () => {
    const calls: string[] = [];
    const list = [fake('store', calls), fake('metering', calls, { stop: true }), fake('turn', calls, { stop: true })];
    await assert.rejects(stopInReverse(list), /^Error: turn cannot stop$/);
    assert.deepEqual(calls, ['stop turn', 'stop metering', 'stop store']);
  });
});
