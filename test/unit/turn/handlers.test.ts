// Request handling without sockets: a fake client endpoint, a fake relay binder, a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { handleStun } from '../../../turn/dispatch.js';
import { AllocationManager } from '../../../turn/allocation-manager.js';
import { NonceManager } from '../../../turn/nonce.js';
import { RequestRateLimits } from '../../../turn/rate-limit.js';
import type { HandlerEnv, ClientEndpoint } from '../../../turn/handlers/context.js';
import type { BindRequest, BindResult, RelayBinder } from '../../../turn/relay-binder.js';
import type { RelayEndpoint } from '../../../turn/allocation.js';
import type { Allocation } from '../../../turn/allocation.js';
import type { ClientLink } from '../../../turn/client-link.js';
import { createAuthHandler } from '../../../src/credentials/auth-handler.js';
import { createPeerPolicy } from '../../../turn/peer-policy.js';
import { StunWriter } from '../../../turn/codec/writer.js';
import { decodeMessage } from '../../../turn/codec/message.js';
import { readErrorCode, readString } from '../../../turn/codec/attributes.js';
import { deriveLongTermKey } from '../../../turn/long-term-key.js';
import { readXorAddress } from '../../../turn/codec/address.js';
import * as C from '../../../turn/codec/constants.js';

class FakeBinder implements RelayBinder {
  calls: BindRequest[] = [];
  result: 'ok' | 508 = 'ok';
  bind(req: BindRequest): BindResult {
    this.calls.push(req);
    if (this.result !== 'ok') return { ok: false, code: this.result };
    // a real (unbound) socket object stands in; the handler never touches it
    const socket = createSocket('udp4');
    const ep: RelayEndpoint = { socket, fd: -1, family: req.family, boundAddress: '192.0.2.1', port: 50000, advertisedAddress: '203.0.113.9' };
    return { ok: true, endpoint: ep };
  }
  release(): void {}
  reservationsOf(): number {
    return 0;
  }
  readonly reservationCount = 0;
  cancelReservation(): void {}
  sweep(): void {}
  close(): void {}
  relayPorts(): null {
    return null;
  }
  relayOnlyDrops(): number {
    return 0;
  }
}

function setup() {
  let now = 1_700_000_000_000;
  const binder = new FakeBinder();
  const clock = { ms: now };
  const env: HandlerEnv = {
    realm: 'r',
    auth: createAuthHandler({ users: { u: 'p' } }),
    peerPolicy: createPeerPolicy({ allow: [], deny: [], serverAddresses: [] }),
    quotas: { allocationsPerUser: 5, totalAllocations: 5, permissionsPerAllocation: 5, channelsPerAllocation: 5 },
    nonces: new NonceManager(60_000, Buffer.alloc(32, 7)),
    rateLimits: new RequestRateLimits(),
    allocations: new AllocationManager(binder, clock),
    binder,
    defaultLifetimeMs: 600_000,
    maxLifetimeMs: 3_600_000,
    families: { v4: true, v6: false },
  };
  const sent: Buffer[] = [];
  let alloc: Allocation | undefined;
  const link: ClientLink = {
    transport: 'udp',
    address: '198.51.100.7',
    port: 40000,
    sendChannelData: () => true,
    sendDataIndication: () => true,
    detach: () => (alloc = undefined),
    close: () => {},
  };
  const client: ClientEndpoint = {
    transport: 'udp',
    address: '198.51.100.7',
    port: 40000,
    family: 4,
    allocation: () => alloc,
    createLink: () => link,
    setAllocation: (a) => (alloc = a),
    reply: (m) => sent.push(m),
  };
  const send = (method: number, add: (w: StunWriter) => void, nonce?: string) => {
    const out = Buffer.alloc(1024);
    const w = new StunWriter(out).begin(C.messageType(method, C.CLASS_REQUEST), randomBytes(12), 0);
    add(w);
    if (nonce !== undefined) {
      w.addString(C.ATTR_USERNAME, 'u').addString(C.ATTR_REALM, 'r').addString(C.ATTR_NONCE, nonce);
      w.addMessageIntegrity(deriveLongTermKey('u', 'r', 'p').md5);
    }
    const b = out.subarray(0, w.finish());
    handleStun(env, client, b, 0, b.length, now);
    const res = decodeMessage(sent.at(-1)!)!;
    const ei = res.index(C.ATTR_ERROR_CODE);
    return { res, code: ei >= 0 ? readErrorCode(res, ei)!.code : 0 };
  };
  return { env, binder, client, send, advance: (ms: number) => (now += ms), alloc: () => alloc };
}

test('Allocate through the handlers alone: challenge, success with the advertised address, binder 508', () => {
  const t = setup();
  const rt = (w: StunWriter) => w.addRequestedTransport(17);
  const first = t.send(C.METHOD_ALLOCATE, rt);
  assert.equal(first.code, 401);
  const nonce = readString(first.res, first.res.index(C.ATTR_NONCE), 763)!;
  t.binder.result = 508;
  assert.equal(t.send(C.METHOD_ALLOCATE, rt, nonce).code, 508);
  t.binder.result = 'ok';
  const ok = t.send(C.METHOD_ALLOCATE, rt, nonce);
  assert.equal(ok.code, 0);
  assert.deepEqual(t.binder.calls.at(-1), { account: 'u', family: 4, evenPort: false, reserveNext: false, reservationToken: undefined });
  assert.deepEqual(readXorAddress(ok.res, ok.res.index(C.ATTR_XOR_RELAYED_ADDRESS)), { family: 4, address: '203.0.113.9', port: 50000 });
  assert.equal(t.alloc()?.account, 'u');
  // the default peer policy refuses private space, and the nonce goes stale on the fake clock
  assert.equal(t.send(C.METHOD_CREATE_PERMISSION, (w) => w.addXorAddressString(C.ATTR_XOR_PEER_ADDRESS, 4, '10.1.2.3', 1), nonce).code, 403);
  assert.equal(t.send(C.METHOD_CREATE_PERMISSION, (w) => w.addXorAddressString(C.ATTR_XOR_PEER_ADDRESS, 4, '8.8.8.8', 1), nonce).code, 0);
  t.advance(61_000);
  assert.equal(t.send(C.METHOD_REFRESH, () => {}, nonce).code, 438);
  t.alloc()?.relay4?.socket?.close();
});
