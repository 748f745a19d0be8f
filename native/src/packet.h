// The wire formats of the native data path (RFC 8656 §11, §12): ChannelData, Send indications
// parsed in place, Data indication headers written into a scratch buffer. Pure functions over
// byte ranges: no allocation, no system call, so the sanitizer harness drives them directly.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ferry {

constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr uint16_t kSendIndication = 0x0016;
constexpr uint16_t kDataIndication = 0x0017;
constexpr uint16_t kAttrXorPeerAddress = 0x0012;
constexpr uint16_t kAttrData = 0x0013;
constexpr uint16_t kAttrDontFragment = 0x001a;
constexpr uint16_t kAttrFingerprint = 0x8028;
constexpr uint32_t kFingerprintXor = 0x5354554e;
/** The largest UDP payload of one datagram: IPv4 (65,535 - 20 - 8), IPv6 (65,535 - 8). */
constexpr size_t kMaxUdpPayload4 = 65507;
constexpr size_t kMaxUdpPayload6 = 65527;
/** The largest payload a Data indication can frame (its 16-bit length counts the attributes). */
constexpr size_t kMaxIndicationPayload4 = 65516;
constexpr size_t kMaxIndicationPayload6 = 65504;
/** A Data indication's header: STUN header, XOR-PEER-ADDRESS, DATA's type and length. */
constexpr size_t kIndicationHeader4 = 36;
constexpr size_t kIndicationHeader6 = 48;

/** What arrived on a client 5-tuple, by its first bytes (the TypeScript path's isClientData). */
enum class ClientKind { ChannelData, SendIndication, Stun, Drop };

ClientKind classify(const uint8_t* p, size_t n);

/** One Send indication's peer and data, found in place. */
struct SendFields {
  uint8_t family;      // 4 or 6
  uint8_t ip[16];      // the peer address (4 bytes used for IPv4)
  uint16_t port;
  size_t dataAt;       // offset of the DATA value in the message
  size_t dataLength;
};

/**
 * Parses a Send indication the way turn/data-path.ts's relaySendIndication does: the length must
 * match the datagram, XOR-PEER-ADDRESS and DATA are required (the first of each counts), a
 * FINGERPRINT must be last and right, DONT-FRAGMENT and unknown comprehension-required attributes
 * discard it. Returns false when it is to be dropped.
 */
bool parseSendIndication(const uint8_t* p, size_t n, SendFields& out);

/**
 * Writes a Data indication's header for a payload of `length` bytes from peer ip:port into `out`
 * (at least 48 bytes); returns the header length (36 or 48), or 0 when the payload is too big to
 * frame. The transaction id is 8 fixed random bytes and a counter the caller keeps.
 */
size_t writeDataIndicationHeader(uint8_t* out, uint8_t family, const uint8_t* ip, uint16_t port, size_t length, const uint8_t* tidBase,
                                 uint32_t counter);

uint32_t crc32(const uint8_t* p, size_t n);

bool isKnownAttribute(uint16_t type);

}  // namespace ferry
