import {
  ATTR_ADDITIONAL_ADDRESS_FAMILY,
  ATTR_DONT_FRAGMENT,
  ATTR_EVEN_PORT,
  ATTR_LIFETIME,
  ATTR_REQUESTED_ADDRESS_FAMILY,
  ATTR_REQUESTED_TRANSPORT,
  ATTR_RESERVATION_TOKEN,
  ATTR_XOR_MAPPED_ADDRESS,
  ATTR_XOR_RELAYED_ADDRESS,
  TRANSPORT_UDP,
} from '../codec/constants.js';
import { readAddressFamily, readEvenPort, readRequestedTransport } from '../codec/attributes.js';
import {
  ERROR_ADDRESS_FAMILY_NOT_SUPPORTED,
  ERROR_ALLOCATION_MISMATCH,
  ERROR_ALLOCATION_QUOTA_REACHED,
  ERROR_BAD_REQUEST,
  ERROR_INSUFFICIENT_CAPACITY,
  ERROR_SERVER_ERROR,
  ERROR_UNKNOWN_ATTRIBUTE,
  ERROR_UNSUPPORTED_TRANSPORT_PROTOCOL,
} from '../codec/error-codes.js';
import type { StunWriter } from '../codec/writer.js';
import type { IpFamily } from '../interfaces.js';
import { Allocation, type RelayEndpoint } from '../allocation.js';
import type { BindRefusal } from '../relay-binder.js';
import type { RequestContext } from './context.js';
import { authenticate } from './authenticate.js';
import { desiredLifetimeMs } from './lifetime.js';
import { failure, success } from './respond.js';

/**
 * An XOR address from IP text, parsed straight into the response; the text decides the family
 * (IPv6 text has a colon, IPv4 text none). Text that is no IP at all is written as 0.0.0.0 when
 * `family` is 4, and omitted otherwise.
 */
function writeAddress(w: StunWriter, attr: number, family: IpFamily, address: string, port: number): void {
  if (w.addXorAddressString(attr, address.includes(':') ? 6 : 4, address, port)) return;
  if (family === 4) w.addXorAddress(attr, 4, Buffer.alloc(4), port);
}

/**
 * The reason phrase of a 500 for a gate that cannot reach its shared state: a temporary error
 * (RFC 8489 §14.8, "try again"), not 508, which would claim this relay is out of capacity.
 */
const STORAGE_UNAVAILABLE = 'Server Error: storage unavailable';

/** Allocate (RFC 8656 §7.2). */
export function handleAllocate(ctx: RequestContext): Buffer | null {
  const { req, env, client, now } = ctx;
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const cred = auth.cred;

  const existing = client.allocation();
  if (existing !== undefined) {
    const tid = req.transactionId();
    if (existing.allocateTransactionId !== null && existing.allocateResponse !== null && tid.equals(existing.allocateTransactionId)) {
      return existing.allocateResponse; // a retransmission: the same answer again
    }
    return failure(ctx, ERROR_ALLOCATION_MISMATCH, cred);
  }

  const ti = req.index(ATTR_REQUESTED_TRANSPORT);
  if (ti < 0) return failure(ctx, ERROR_BAD_REQUEST, cred);
  const proto = readRequestedTransport(req, ti);
  if (proto === null) return failure(ctx, ERROR_BAD_REQUEST, cred);
  if (proto !== TRANSPORT_UDP) return failure(ctx, ERROR_UNSUPPORTED_TRANSPORT_PROTOCOL, cred);
  if (req.has(ATTR_DONT_FRAGMENT)) {
    // Ferry cannot set DF on relayed datagrams: treat it as unknown (RFC 8656 §7.2).
    return failure(ctx, ERROR_UNKNOWN_ATTRIBUTE, cred, (w) => w.addUnknownAttributes([ATTR_DONT_FRAGMENT]));
  }

  const tokenIdx = req.index(ATTR_RESERVATION_TOKEN);
  const evenIdx = req.index(ATTR_EVEN_PORT);
  const rafIdx = req.index(ATTR_REQUESTED_ADDRESS_FAMILY);
  const aafIdx = req.index(ATTR_ADDITIONAL_ADDRESS_FAMILY);
  if (tokenIdx >= 0 && (evenIdx >= 0 || rafIdx >= 0 || aafIdx >= 0)) return failure(ctx, ERROR_BAD_REQUEST, cred);
  if (rafIdx >= 0 && aafIdx >= 0) return failure(ctx, ERROR_BAD_REQUEST, cred);

  let family: IpFamily = 4;
  if (rafIdx >= 0) {
    const f = readAddressFamily(req, rafIdx);
    if (f === null) return failure(ctx, ERROR_BAD_REQUEST, cred);
    if (f === 0) return failure(ctx, ERROR_ADDRESS_FAMILY_NOT_SUPPORTED, cred);
    family = f;
  }
  let wantV6Too = false;
  if (aafIdx >= 0) {
    const f = readAddressFamily(req, aafIdx);
    if (f !== 6) return failure(ctx, ERROR_BAD_REQUEST, cred); // only IPv6 may be "additional"
    wantV6Too = true;
  }
  let evenPort = false;
  let reserveNext = false;
  if (evenIdx >= 0) {
    const e = readEvenPort(req, evenIdx);
    if (e === null) return failure(ctx, ERROR_BAD_REQUEST, cred);
    evenPort = true;
    reserveNext = e.reserve;
  }
  let token: Buffer | undefined;
  if (tokenIdx >= 0) {
    if (req.attrLengths[tokenIdx] !== 8) return failure(ctx, ERROR_BAD_REQUEST, cred);
    token = req.attrValue(tokenIdx);
  }
  if (token === undefined && !(family === 4 ? env.families.v4 : env.families.v6)) return failure(ctx, ERROR_ADDRESS_FAMILY_NOT_SUPPORTED, cred);

  // A reservation holds a port like an allocation and counts like one: R=1 takes two places, and
  // redeeming a token takes none (its reservation, already counted, becomes the allocation; a
  // token that is not the account's own fails in bind() below).
  const places = token !== undefined ? 0 : reserveNext ? 2 : 1;
  const held = env.allocations.countFor(cred.account) + env.binder.reservationsOf(cred.account);
  if (held + places > env.quotas.allocationsPerUser) return failure(ctx, ERROR_ALLOCATION_QUOTA_REACHED, cred);
  if (env.gate !== undefined) {
    const admission = env.gate.mayAllocate(cred.account, client.address, held + places);
    if (admission === 'unavailable') return failure(ctx, ERROR_SERVER_ERROR, cred, undefined, STORAGE_UNAVAILABLE);
    if (admission !== 'ok') return failure(ctx, ERROR_ALLOCATION_QUOTA_REACHED, cred);
  }
  if (env.allocations.size + env.binder.reservationCount + places > env.quotas.totalAllocations) return failure(ctx, ERROR_INSUFFICIENT_CAPACITY, cred);

  const lifetimeMs = desiredLifetimeMs(ctx);
  if (lifetimeMs === null) return failure(ctx, ERROR_BAD_REQUEST, cred);
  const lifetime = lifetimeMs === 0 ? env.defaultLifetimeMs : lifetimeMs;

  // A client of the native data plane gets relayed sockets the native threads serve.
  const native = client.nativeRelay === true ? { native: true } : {};
  const primary = env.binder.bind({ account: cred.account, family, evenPort, reserveNext, reservationToken: token, ...native }, now);
  if (!primary.ok) return failure(ctx, primary.code, cred);
  let secondary: RelayEndpoint | null = null;
  let secondaryError: BindRefusal | null = null;
  if (wantV6Too) {
    if (!env.families.v6) secondaryError = ERROR_ADDRESS_FAMILY_NOT_SUPPORTED;
    else {
      const r = env.binder.bind({ account: cred.account, family: 6, ...native }, now);
      if (r.ok) secondary = r.endpoint;
      else secondaryError = r.code;
    }
  }

  const alloc = new Allocation(env.allocations.newId(), cred, client.createLink(), now, lifetime);
  for (const ep of [primary.endpoint, secondary]) {
    if (ep === null) continue;
    if (ep.family === 4) alloc.relay4 = ep;
    else alloc.relay6 = ep;
  }
  const response = success(
    ctx,
    (w) => {
      for (const ep of [primary.endpoint, secondary]) {
        if (ep !== null) writeAddress(w, ATTR_XOR_RELAYED_ADDRESS, ep.family, ep.advertisedAddress, ep.port);
      }
      if (secondaryError !== null) w.addAddressErrorCode(6, secondaryError);
      w.addUint32(ATTR_LIFETIME, Math.floor(lifetime / 1000));
      if (primary.reservationToken !== undefined) w.addBytes(ATTR_RESERVATION_TOKEN, primary.reservationToken, 0, 8);
      writeAddress(w, ATTR_XOR_MAPPED_ADDRESS, client.family, client.address, client.port);
    },
    cred,
  );
  if (primary.reservationToken !== undefined) alloc.reservationToken = primary.reservationToken;
  alloc.allocateTransactionId = Buffer.from(req.transactionId());
  alloc.allocateResponse = response;
  client.setAllocation(alloc);
  env.allocations.add(alloc);
  return response;
}
