// The dropped counters (issue 9, finding 13: payload that could not be sent, counted apart from
// what was relayed and billed) reach every place the capped ones do: /metrics totals by transport
// and direction (no per-user label), session.closed and the sessions API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AllocationInfo } from '../../../../turn/interfaces.js';
import { FerryMetrics } from '../../../../src/metrics/index.js';
import { sessionClosedData } from '../../../../src/webhooks/index.js';
import { sessionDto } from '../../../../signaling/schemas.js';

function info(id: number, transport: 'udp' | 'tcp', dropped: [number, number, number, number]): AllocationInfo {
  return {
    id,
    account: 'acc-7f3e',
    username: 'alice',
    transport,
    clientAddress: '127.0.0.1',
    clientPort: 40000 + id,
    relayAddresses: [{ address: '127.0.0.1', port: 50000 + id, family: 4 }],
    startedAt: 0,
    bytesToPeer: 10,
    packetsToPeer: 1,
    bytesToClient: 20,
    packetsToClient: 2,
    cappedBytesToPeer: 0,
    cappedPacketsToPeer: 0,
    cappedBytesToClient: 0,
    cappedPacketsToClient: 0,
    droppedBytesToPeer: dropped[0],
    droppedPacketsToPeer: dropped[1],
    droppedBytesToClient: dropped[2],
    droppedPacketsToClient: dropped[3],
  };
}

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('ferry_dropped_bytes_total and ferry_dropped_packets_total: live and closed allocations, by transport and direction', async () => {
  const metrics = new FerryMetrics({ defaultMetrics: false });
  const live = info(1, 'udp', [65508, 1, 131000, 2]);
  metrics.observe({ sessions: () => [live] });
  metrics.turnEvents().allocationClosed?.(info(2, 'udp', [0, 3, 65505, 1]), 'expired', 1000);
  metrics.turnEvents().allocationClosed?.(info(3, 'tcp', [70000, 1, 0, 0]), 'client-closed', 1000);
  const text = (await metrics.render()).body;
  assert.equal(sample(text, 'ferry_dropped_bytes_total', 'transport="udp",direction="to_peer"'), 65508);
  assert.equal(sample(text, 'ferry_dropped_bytes_total', 'transport="udp",direction="to_client"'), 131000 + 65505);
  assert.equal(sample(text, 'ferry_dropped_packets_total', 'transport="udp",direction="to_peer"'), 4);
  assert.equal(sample(text, 'ferry_dropped_packets_total', 'transport="udp",direction="to_client"'), 3);
  assert.equal(sample(text, 'ferry_dropped_bytes_total', 'transport="tcp",direction="to_peer"'), 70000);
  assert.equal(sample(text, 'ferry_dropped_packets_total', 'transport="tls",direction="to_client"'), 0);
  assert.equal(sample(text, 'ferry_relayed_bytes_total', 'transport="udp",direction="to_peer"'), 20, 'not counted as relayed');
  const samples = text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
  assert.ok(!samples.includes('acc-7f3e') && !samples.includes('alice'), 'no account or user label');
});

test('session.closed and the sessions API carry the dropped counts', () => {
  const i = info(4, 'tcp', [5, 6, 7, 8]);
  const d = sessionClosedData(i, 'expired', 1000);
  assert.deepEqual(
    [d.dropped_bytes_to_peer, d.dropped_packets_to_peer, d.dropped_bytes_to_client, d.dropped_packets_to_client, d.bytes_to_peer],
    [5, 6, 7, 8, 10],
  );
  const s = sessionDto(i, 1000);
  assert.deepEqual(
    [s.dropped_bytes_to_peer, s.dropped_packets_to_peer, s.dropped_bytes_to_client, s.dropped_packets_to_client, s.bytes_to_client],
    [5, 6, 7, 8, 20],
  );
});
