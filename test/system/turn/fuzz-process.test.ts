// The bounded slice of the fuzz harness (bench/fuzz.ts runs 1,000,000 inputs): 20,000 random and
// mutated datagrams, ChannelData, requests signed with live allocations' keys (IPv4 and IPv6), peer
// datagrams up to UDP's maximum size and TCP streams, against a real Ferry process. It must stay
// up, print no exception, answer no garbage, and still answer a Binding and a fresh Allocate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFerryProcess, TEST_PASSWORD, TEST_USER, type FerryProcess } from '../../helpers/ferry-process.js';
import { runFuzz } from '../../../bench/lib/fuzz-run.js';
import { liftPerIpLimits } from '../../../bench/lib/per-ip-limits.js';

let ferry: FerryProcess | undefined;
after(async () => {
  await ferry?.stop();
});

test('20,000 fuzz inputs against a Ferry process: no crash, no answer to garbage, still serving', { timeout: 240_000 }, async () => {
  ferry = await startFerryProcess({
    log_level: 'warn',
    // FerryConfig types relay_ip as one IP; the schema also takes a list (IPv4 and IPv6 relaying).
    relay_ip: ['127.0.0.1', '::1'] as unknown as string,
    peers: { allow: ['127.77.0.1/32', '::1/128'] },
    ...liftPerIpLimits(), // every input comes from 127.0.0.1
  });
  const f = ferry;
  const report = await runFuzz(
    {
      host: '127.0.0.1',
      port: f.udpPort,
      username: TEST_USER,
      password: TEST_PASSWORD,
      peerHost: '127.77.0.1',
      peerHost6: '::1',
      alive: () => f.running(),
      rssKb: () => null,
      output: () => f.logs(),
    },
    { inputs: 20_000, seconds: 150, seed: 0xf022, allocations: 8 },
  );
  const summary = JSON.stringify({ ...report, by_kind: undefined }, null, 1);
  assert.ok(report.alive, `Ferry exited during the fuzz:\n${report.output.examples.join('\n')}`);
  assert.equal(report.output.exception_lines, 0, `Ferry printed an exception:\n${report.output.examples.join('\n')}`);
  assert.equal(report.answers_to_garbage, 0, summary);
  assert.ok(report.binding_ok, summary);
  assert.ok(report.fresh_allocate_ok, summary);
  // The run did what it says: every kind of input was sent, garbage included, and the inputs ran out before the time.
  assert.equal(report.stopped_by, 'inputs', summary);
  for (const [kind, n] of Object.entries(report.by_kind)) assert.ok(n > 0, `no ${kind} input was sent`);
  assert.ok(report.garbage_sent > 5000, summary);
});
