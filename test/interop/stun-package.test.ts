// Interop: the npm `stun` package (2.x, a third-party STUN client) sends Binding requests to a real
// Ferry process over UDP and over TCP; the XOR-MAPPED-ADDRESS it decodes must be the address and
// port of the socket it sent from. Its ERROR-CODE decoding is wrong (401 reads as 404), so nothing
// here relies on it (test/helpers/stun-package.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { Socket as TcpSocket } from 'node:net';
import { startFerryProcess, type FerryProcess } from '../helpers/ferry-process.js';
import { openTcp } from '../helpers/tcp-socket.js';
import { bindingOverTcp, bindingOverUdp, bindingRequest, stun, type StunMessage } from '../helpers/stun-package.js';

const TEST_TIMEOUT = 20_000;

async function udpSocket(address: string): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  return s;
}

function assertMapped(res: StunMessage, sent: { transactionId: Buffer }, local: { address: string; port: number }): void {
  assert.equal(res.type, stun.constants.STUN_BINDING_RESPONSE, `a Binding success response (type 0x${res.type.toString(16)})`);
  assert.ok(res.transactionId.equals(sent.transactionId), 'the request\'s transaction id');
  const mapped = res.getXorAddress();
  assert.ok(mapped, 'the response carries XOR-MAPPED-ADDRESS');
  assert.deepEqual({ address: mapped.address, port: mapped.port }, { address: local.address, port: local.port });
}

describe('the npm stun package (2.x) as a STUN client of Ferry', () => {
  let ferry: FerryProcess;
  const udp: UdpSocket[] = [];
  const tcp: TcpSocket[] = [];

  before(async () => {
    ferry = await startFerryProcess();
  });
  after(async () => {
    for (const s of udp) s.close();
    for (const s of tcp) s.destroy();
    await ferry?.stop();
  });

  test('Binding over UDP: XOR-MAPPED-ADDRESS is the client socket, from two local addresses', { timeout: TEST_TIMEOUT }, async () => {
    for (const address of ['127.0.0.1', '127.0.0.2']) {
      const s = await udpSocket(address);
      udp.push(s);
      const req = bindingRequest();
      const res = await bindingOverUdp(s, '127.0.0.1', ferry.udpPort, req);
      assertMapped(res, req, { address, port: s.address().port });
    }
  });

  test('Binding over UDP with SOFTWARE and FINGERPRINT: answered, and the answer\'s FINGERPRINT checks out', { timeout: TEST_TIMEOUT }, async () => {
    const s = await udpSocket('127.0.0.1');
    udp.push(s);
    const req = bindingRequest({ fingerprint: true });
    const res = await bindingOverUdp(s, '127.0.0.1', ferry.udpPort, req);
    assertMapped(res, req, { address: '127.0.0.1', port: s.address().port });
    assert.ok(res.getAttribute(stun.constants.STUN_ATTR_FINGERPRINT), 'a request with FINGERPRINT gets one back');
    assert.equal(stun.validateFingerprint(res), true, 'the package verifies Ferry\'s FINGERPRINT');
  });

  test('Binding over UDP with a corrupted FINGERPRINT: no answer (the package times out)', { timeout: TEST_TIMEOUT }, async () => {
    // The control for the test above: Ferry checks the package's FINGERPRINT rather than ignoring it.
    const s = await udpSocket('127.0.0.1');
    udp.push(s);
    const req = bindingRequest({ fingerprint: true });
    const bytes = req.toBuffer();
    bytes[bytes.length - 1] ^= 0x01;
    const corrupted = Object.assign(Object.create(Object.getPrototypeOf(req) as object) as typeof req, req, { toBuffer: () => bytes });
    await assert.rejects(bindingOverUdp(s, '127.0.0.1', ferry.udpPort, corrupted, 100, 2), /timeout/);
  });

  test('Binding over TCP: XOR-MAPPED-ADDRESS is the connection\'s local address and port', { timeout: TEST_TIMEOUT }, async () => {
    for (const [address, fingerprint] of [['127.0.0.1', false], ['127.0.0.3', true]] as const) {
      const s = await openTcp(ferry.tcpPort, address);
      tcp.push(s);
      // Two requests on one connection: each gets its own answer.
      for (let i = 0; i < 2; i++) {
        const req = bindingRequest({ fingerprint });
        const res = await bindingOverTcp(s, req, 5000);
        assertMapped(res, req, { address, port: s.localPort! });
        if (fingerprint) assert.equal(stun.validateFingerprint(res), true);
      }
    }
  });
});
