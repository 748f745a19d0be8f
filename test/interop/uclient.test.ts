// Interop: coturn's turnutils_uclient through Ferry (UDP/TCP, ChannelData/Send, static/REST creds).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LOOPBACK_PEERS, TEST_PASSWORD, TEST_SECRET, TEST_USER, startFerryProcess, type FerryProcess,
} from '../helpers/ferry-process.js';
import { describeRun, runUclient, startEchoPeer, type EchoPeer, type UclientOptions } from '../helpers/coturn-tools.js';
import { stunPing } from '../helpers/stun-ping.js';

const TEST_TIMEOUT = 60_000;

describe('turnutils_uclient through Ferry', () => {
  let ferry: FerryProcess;
  let peer: EchoPeer;

  before(async () => {
    ferry = await startFerryProcess({ peers: LOOPBACK_PEERS });
    peer = await startEchoPeer();
  });
  after(async () => {
    await peer?.stop();
    await ferry?.stop();
  });

  const matrix: Array<{ creds: 'static' | 'rest'; tcp: boolean; send: boolean; noRtcp: boolean }> = [];
  for (const creds of ['static', 'rest'] as const) {
    for (const tcp of [false, true]) {
      for (const send of [false, true]) {
        for (const noRtcp of [true, false]) matrix.push({ creds, tcp, send, noRtcp });
      }
    }
  }

  for (const m of matrix) {
    const name = `${m.creds} creds, ${m.tcp ? 'TCP' : 'UDP'}, ${m.send ? 'Send indications' : 'ChannelData'}, ` +
      `${m.noRtcp ? 'one allocation (-c)' : 'two allocations'}`;
    test(name, { timeout: TEST_TIMEOUT }, async () => {
      const opts: UclientOptions = {
        serverPort: ferry.udpPort,
        peerPort: peer.port,
        ...(m.creds === 'static' ? { user: TEST_USER, password: TEST_PASSWORD } : { user: 'bob', restSecret: TEST_SECRET }),
        tcp: m.tcp,
        sendIndications: m.send,
        noRtcp: m.noRtcp,
        clients: 5,
        messages: 50,
        length: 100,
        intervalMs: 5,
        timeoutMs: 45_000,
      };
      const r = await runUclient(opts);
      const info = describeRun(r) + `\n--- ferry log (tail) ---\n${ferry.logs().slice(-3000)}`;
      assert.equal(r.timedOut, false, info);
      assert.equal(r.exitCode, 0, info);
      assert.ok(r.totSend !== undefined && r.totSend > 0, info);
      assert.equal(r.totRecv, r.totSend, info);
      assert.equal(r.lostPackets, 0, info);
    });
  }

  test('wrong password: uclient cannot allocate (401), Ferry keeps serving', { timeout: TEST_TIMEOUT }, async () => {
    const r = await runUclient({
      serverPort: ferry.udpPort, peerPort: peer.port, user: TEST_USER, password: 'not-the-password',
      noRtcp: true, clients: 1, messages: 5, timeoutMs: 20_000,
    });
    const info = describeRun(r) + `\n--- ferry log (tail) ---\n${ferry.logs().slice(-3000)}`;
    // uclient retries the 401 challenge, never shows the code, and gives up with exit status 255.
    assert.equal(r.timedOut, false, info);
    assert.notEqual(r.exitCode, 0, info);
    assert.match(r.output, /Cannot complete Allocation/, info);
    assert.ok(!r.totRecv, info);
    assert.ok(ferry.running(), 'Ferry exited after a failed authentication');
    assert.ok(await stunPing(ferry.udpPort), 'Ferry stopped answering Binding after a failed authentication');
    // Ferry still relays for a correct client afterwards.
    const ok = await runUclient({
      serverPort: ferry.udpPort, peerPort: peer.port, user: TEST_USER, password: TEST_PASSWORD,
      noRtcp: true, clients: 1, messages: 10, timeoutMs: 20_000,
    });
    assert.equal(ok.totRecv, ok.totSend, describeRun(ok));
    assert.equal(ok.lostPackets, 0, describeRun(ok));
  });
});

describe('uclient against a default Ferry (loopback peers not allowed; the relay address is relay-only)', () => {
  let ferry: FerryProcess;
  let peer: EchoPeer;

  before(async () => {
    ferry = await startFerryProcess({});
    peer = await startEchoPeer();
  });
  after(async () => {
    await peer?.stop();
    await ferry?.stop();
  });

  for (const send of [false, true]) {
    const what = send ? 'CreatePermission (Send indications)' : 'ChannelBind';
    test(`a loopback echo peer on the relay address is unreachable through ${what}`, { timeout: TEST_TIMEOUT }, async () => {
      const r = await runUclient({
        serverPort: ferry.udpPort, peerPort: peer.port, user: TEST_USER, password: TEST_PASSWORD,
        sendIndications: send, noRtcp: true, clients: 1, messages: 5, timeoutMs: 30_000,
      });
      const info = describeRun(r) + `\n--- ferry log (tail) ---\n${ferry.logs().slice(-3000)}`;
      assert.equal(r.timedOut, false, info);
      if (send) {
        // 127.0.0.1 is Ferry's relay address: the permission is granted (relay-only), but the echo
        // peer's port is no allocation's relayed port, so every Send indication is dropped.
        assert.equal(r.totSend, 5, info);
        assert.equal(r.lostPercent, 100, info);
      } else {
        // uclient prints "channel bind: error 403 (...)" and exits 255.
        assert.match(r.output, /channel bind: error 403/, info);
        assert.notEqual(r.exitCode, 0, info);
      }
      assert.ok(!r.totRecv, info);
      assert.ok(await stunPing(ferry.udpPort), 'Ferry stopped answering Binding');
    });
  }
});
