#include "packet.h"

#include <cstring>

namespace ferry {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) | (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

struct CrcTable {
  uint32_t t[256];
  CrcTable() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
  }
};
const CrcTable kCrc;

}  // namespace

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) c = kCrc.t[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

// The attributes turn/codec/constants.ts knows (KNOWN_ATTRIBUTES): a comprehension-required one
// outside this list discards a Send indication.
bool isKnownAttribute(uint16_t type) {
  switch (type) {
    case 0x0001: case 0x0006: case 0x0008: case 0x0009: case 0x000a: case 0x000c: case 0x000d:
    case 0x0012: case 0x0013: case 0x0014: case 0x0015: case 0x0016: case 0x0017: case 0x0018:
    case 0x0019: case 0x001a: case 0x001c: case 0x001d: case 0x001e: case 0x0020: case 0x0022:
    case 0x8000: case 0x8001: case 0x8002: case 0x8003: case 0x8004: case 0x8022: case 0x8023:
    case 0x8028:
      return true;
    default:
      return false;
  }
}

ClientKind classify(const uint8_t* p, size_t n) {
  if (n < 4) return ClientKind::Drop;
  const uint8_t b0 = p[0];
  if (b0 >= 0x80) return ClientKind::Drop;
  if (b0 >= 0x40) return ClientKind::ChannelData;
  if (b0 == 0x00 && p[1] == (kSendIndication & 0xff)) return ClientKind::SendIndication;
  return ClientKind::Stun;
}

bool parseSendIndication(const uint8_t* p, size_t n, SendFields& out) {
  if (n < 20) return false;
  const size_t bodyLength = be16(p + 2);
  if ((bodyLength & 3) != 0 || bodyLength + 20 != n) return false;
  if (be32(p + 4) != kMagicCookie) return false;
  size_t at = 20;
  size_t peerAt = 0, peerLength = 0, dataAt = 0, dataLength = 0;
  bool havePeer = false, haveData = false;
  while (at + 4 <= n) {
    const uint16_t type = be16(p + at);
    const size_t length = be16(p + at + 2);
    const size_t value = at + 4;
    const size_t next = value + ((length + 3) & ~static_cast<size_t>(3));
    if (next > n) return false;
    if (type == kAttrXorPeerAddress) {
      if (!havePeer) { havePeer = true; peerAt = value; peerLength = length; }
    } else if (type == kAttrData) {
      if (!haveData) { haveData = true; dataAt = value; dataLength = length; }
    } else if (type == kAttrFingerprint) {
      if (length != 4 || next != n) return false;
      if ((crc32(p, at) ^ kFingerprintXor) != be32(p + value)) return false;
    } else if (type == kAttrDontFragment || (type < 0x8000 && !isKnownAttribute(type))) {
      return false;
    }
    at = next;
  }
  if (at != n || !havePeer || !haveData) return false;
  // The peer address needs its family byte and port before its IP; a shorter one is malformed.
  if (peerLength < 4) return false;
  const uint8_t family = p[peerAt + 1];
  const uint16_t port = be16(p + peerAt + 2) ^ static_cast<uint16_t>(kMagicCookie >> 16);
  if (port == 0) return false;
  if (family == 1) {
    if (peerLength != 8) return false;
    for (int i = 0; i < 4; i++) out.ip[i] = p[peerAt + 4 + i] ^ p[4 + i];
    out.family = 4;
  } else if (family == 2) {
    if (peerLength != 20) return false;
    for (int i = 0; i < 16; i++) out.ip[i] = p[peerAt + 4 + i] ^ p[4 + i];
    out.family = 6;
  } else {
    return false;
  }
  out.port = port;
  out.dataAt = dataAt;
  out.dataLength = dataLength;
  return true;
}

size_t writeDataIndicationHeader(uint8_t* out, uint8_t family, const uint8_t* ip, uint16_t port, size_t length, const uint8_t* tidBase,
                                 uint32_t counter) {
  const bool v6 = family == 6;
  if (length > (v6 ? kMaxIndicationPayload6 : kMaxIndicationPayload4)) return 0;
  const size_t addrLength = v6 ? 20 : 8;
  const size_t padded = (length + 3) & ~static_cast<size_t>(3);
  put16(out, kDataIndication);
  put16(out + 2, static_cast<uint16_t>(4 + addrLength + 4 + padded));
  put32(out + 4, kMagicCookie);
  std::memcpy(out + 8, tidBase, 8);
  put32(out + 16, counter);
  put16(out + 20, kAttrXorPeerAddress);
  put16(out + 22, static_cast<uint16_t>(addrLength));
  out[24] = 0;
  out[25] = v6 ? 2 : 1;
  put16(out + 26, port ^ static_cast<uint16_t>(kMagicCookie >> 16));
  const size_t ipLength = v6 ? 16 : 4;
  for (size_t i = 0; i < ipLength; i++) out[28 + i] = ip[i] ^ out[4 + i];
  const size_t d = 28 + ipLength;
  put16(out + d, kAttrData);
  put16(out + d + 2, static_cast<uint16_t>(length));
  return d + 4;
}

}  // namespace ferry
