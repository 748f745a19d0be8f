/**
 * STUN (RFC 8489) and TURN (RFC 8656) protocol numbers, as registered in the IANA
 * "STUN Parameters" registry, and the message-type bit layout of RFC 8489 §5.
 */

export const MAGIC_COOKIE = 0x2112a442;
/** Size of the fixed STUN header: type, length, cookie, 96-bit transaction id. */
export const HEADER_LENGTH = 20;
/** Upper bound on attributes walked per message; more makes the message invalid. */
export const MAX_ATTRIBUTES = 64;

// ---- Methods (12 bits) ----
export const METHOD_BINDING = 0x001;
export const METHOD_ALLOCATE = 0x003;
export const METHOD_REFRESH = 0x004;
export const METHOD_SEND = 0x006;
export const METHOD_DATA = 0x007;
export const METHOD_CREATE_PERMISSION = 0x008;
export const METHOD_CHANNEL_BIND = 0x009;

// ---- Classes (2 bits) ----
export const CLASS_REQUEST = 0;
export const CLASS_INDICATION = 1;
export const CLASS_SUCCESS = 2;
export const CLASS_ERROR = 3;

/**
 * Builds the 14-bit message type from a 12-bit method and a 2-bit class. RFC 8489 §5 interleaves
 * them: M11..M7 in bits 13..9, C1 in bit 8, M6..M4 in bits 7..5, C0 in bit 4, M3..M0 in bits 3..0.
 */
export function messageType(method: number, cls: number): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((cls & 1) << 4) |
    ((cls & 2) << 7)
  );
}

/** The 12-bit method of a message type. */
export function methodOf(type: number): number {
  return (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
}

/** The 2-bit class of a message type (CLASS_*). */
export function classOf(type: number): number {
  return ((type >> 4) & 1) | ((type >> 7) & 2);
}

// ---- Attributes: RFC 8489 §18.3 ----
export const ATTR_MAPPED_ADDRESS = 0x0001;
export const ATTR_USERNAME = 0x0006;
export const ATTR_MESSAGE_INTEGRITY = 0x0008;
export const ATTR_ERROR_CODE = 0x0009;
export const ATTR_UNKNOWN_ATTRIBUTES = 0x000a;
export const ATTR_REALM = 0x0014;
export const ATTR_NONCE = 0x0015;
export const ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001c;
export const ATTR_PASSWORD_ALGORITHM = 0x001d;
export const ATTR_USERHASH = 0x001e;
export const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
export const ATTR_PASSWORD_ALGORITHMS = 0x8002;
export const ATTR_ALTERNATE_DOMAIN = 0x8003;
export const ATTR_SOFTWARE = 0x8022;
export const ATTR_ALTERNATE_SERVER = 0x8023;
export const ATTR_FINGERPRINT = 0x8028;

// ---- Attributes: RFC 8656 §18 ----
export const ATTR_CHANNEL_NUMBER = 0x000c;
export const ATTR_LIFETIME = 0x000d;
export const ATTR_XOR_PEER_ADDRESS = 0x0012;
export const ATTR_DATA = 0x0013;
export const ATTR_XOR_RELAYED_ADDRESS = 0x0016;
export const ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017;
export const ATTR_EVEN_PORT = 0x0018;
export const ATTR_REQUESTED_TRANSPORT = 0x0019;
export const ATTR_DONT_FRAGMENT = 0x001a;
export const ATTR_RESERVATION_TOKEN = 0x0022;
export const ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000;
export const ATTR_ADDRESS_ERROR_CODE = 0x8001;
export const ATTR_ICMP = 0x8004;

/** Every attribute this codec understands (RFC 8489 + RFC 8656). */
export const KNOWN_ATTRIBUTES: ReadonlySet<number> = new Set([
  ATTR_MAPPED_ADDRESS,
  ATTR_USERNAME,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_ERROR_CODE,
  ATTR_UNKNOWN_ATTRIBUTES,
  ATTR_REALM,
  ATTR_NONCE,
  ATTR_MESSAGE_INTEGRITY_SHA256,
  ATTR_PASSWORD_ALGORITHM,
  ATTR_USERHASH,
  ATTR_XOR_MAPPED_ADDRESS,
  ATTR_PASSWORD_ALGORITHMS,
  ATTR_ALTERNATE_DOMAIN,
  ATTR_SOFTWARE,
  ATTR_ALTERNATE_SERVER,
  ATTR_FINGERPRINT,
  ATTR_CHANNEL_NUMBER,
  ATTR_LIFETIME,
  ATTR_XOR_PEER_ADDRESS,
  ATTR_DATA,
  ATTR_XOR_RELAYED_ADDRESS,
  ATTR_REQUESTED_ADDRESS_FAMILY,
  ATTR_EVEN_PORT,
  ATTR_REQUESTED_TRANSPORT,
  ATTR_DONT_FRAGMENT,
  ATTR_RESERVATION_TOKEN,
  ATTR_ADDITIONAL_ADDRESS_FAMILY,
  ATTR_ADDRESS_ERROR_CODE,
  ATTR_ICMP,
]);

export function isKnownAttribute(type: number): boolean {
  return KNOWN_ATTRIBUTES.has(type);
}

/** RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required, 0x8000-0xFFFF optional. */
export function isComprehensionRequired(type: number): boolean {
  return type < 0x8000;
}

// ---- Password algorithms: RFC 8489 §18.5 ----
export const PASSWORD_ALGORITHM_MD5 = 0x0001;
export const PASSWORD_ALGORITHM_SHA256 = 0x0002;

// ---- Address family wire values (MAPPED-ADDRESS family byte, REQUESTED-ADDRESS-FAMILY) ----
export const FAMILY_IPV4 = 0x01;
export const FAMILY_IPV6 = 0x02;

// ---- Transport protocol numbers for REQUESTED-TRANSPORT (IANA protocol numbers) ----
export const TRANSPORT_UDP = 17;

// ---- Size limits for readString (inclusive byte counts) ----
/** USERNAME: "fewer than 513 bytes" (RFC 5389; RFC 8489 tightened this to fewer than 509). */
export const MAX_USERNAME_BYTES = 512;
/** REALM, NONCE, SOFTWARE, reason phrases: fewer than 128 characters, at most 763 bytes. */
export const MAX_REALM_BYTES = 763;
export const MAX_NONCE_BYTES = 763;
export const MAX_SOFTWARE_BYTES = 763;
export const MAX_REASON_BYTES = 763;
