// Relay-to-relay on the default config (issue 9): two werift peers with iceTransportPolicy "relay"
// pair through one Ferry process that has no peers.allow, relaying from 127.0.0.1. Each peer's only
// candidate is its relayed address on 127.0.0.1, so ICE succeeds only if the default peer policy lets
// an allocation reach another allocation's relayed address.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/werift-quirks.js';
import { TEST_PASSWORD, TEST_USER, startFerryProcess, type FerryProcess } from '../helpers/ferry-process.js';
import { exitIfStuck, until } from '../helpers/wait.js';
import { connectRelayPair } from '../helpers/werift-pair.js';

let ferry: FerryProcess;

before(async () => {
  ferry = await startFerryProcess(); // no `peers` key: the embedded defaults
});
after(async () => {
  await ferry?.stop();
  exitIfStuck();
});

test('two relay-only werift peers connect through Ferry with no peers.allow and exchange a message', { timeout: 60_000 }, async () => {
  assert.equal(ferry.config.peers, undefined, 'the config has no peers.allow');
  const pair = await connectRelayPair(
    { urls: `turn:127.0.0.1:${ferry.udpPort}`, username: TEST_USER, credential: TEST_PASSWORD },
    { label: 'relay-to-relay' },
  );
  try {
    for (const pc of [pair.a, pair.b]) {
      const cands = (pc.localDescription?.sdp ?? '').split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
      assert.ok(cands.length > 0, 'no candidates');
      for (const line of cands) assert.match(line, / 127\.0\.0\.1 \d+ typ relay/, line);
    }
    const received: string[] = [];
    pair.rx.onMessage.subscribe((m) => received.push(m.toString()));
    pair.tx.send('hello through two relayed addresses');
    await until(() => received.length >= 1, 20_000, 'the data-channel message');
    assert.deepEqual(received, ['hello through two relayed addresses']);
  } finally {
    await pair.close();
  }
  // The peers' permissions toward each other were relay-only: nothing was refused on the way.
  assert.doesNotMatch(ferry.logs(), /peer refused by the peer policy/);
});
