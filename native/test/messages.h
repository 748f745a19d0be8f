// The sanitizer harness's inputs (fuzz.cc): a seeded PRNG, addresses, and builders of the
// datagrams a client or a peer may send a relay: valid ChannelData and Send indications, and
// structured, mutated and plain random ones. Header-only so the harness stays one compile unit.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "../src/packet.h"
#include "../src/plane.h"

namespace fuzz {

using ferry::PeerKey;
using Bytes = std::vector<uint8_t>;

/** splitmix64: one 64-bit seed reproduces a whole run. */
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(next() % n); }
  bool chance(uint32_t percent) { return below(100) < percent; }
  uint8_t byte() { return static_cast<uint8_t>(next()); }
  void fill(uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = byte();
  }
};

inline void put16(Bytes& b, size_t at, uint32_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
inline void put32(Bytes& b, size_t at, uint32_t v) {
  put16(b, at, v >> 16);
  put16(b, at + 2, v & 0xffff);
}
inline uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

/** A transport address as the plane's tables key it and as a socket address. */
struct Addr {
  PeerKey key;
  sockaddr_storage sa{};
  socklen_t len = 0;
};

inline Addr makeAddr(int family, const uint8_t* ip, uint16_t port) {
  Addr a;
  a.key.ip.family = static_cast<uint8_t>(family);
  std::memcpy(a.key.ip.ip, ip, family == 6 ? 16 : 4);
  a.key.port = port;
  if (family == 4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.sa);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    std::memcpy(&v4->sin_addr, ip, 4);
    a.len = sizeof(sockaddr_in);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.sa);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    std::memcpy(&v6->sin6_addr, ip, 16);
    a.len = sizeof(sockaddr_in6);
  }
  return a;
}

inline Addr addrOf(const sockaddr_storage& sa) {
  if (sa.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&sa);
    return makeAddr(4, reinterpret_cast<const uint8_t*>(&v4->sin_addr), ntohs(v4->sin_port));
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&sa);
  return makeAddr(6, reinterpret_cast<const uint8_t*>(&v6->sin6_addr), ntohs(v6->sin6_port));
}

/** A STUN header of `type` with the magic cookie, a random transaction id, length 0. */
inline Bytes stunHeader(uint16_t type, Rng& r) {
  Bytes b(20);
  put16(b, 0, type);
  put32(b, 4, ferry::kMagicCookie);
  r.fill(&b[8], 12);
  return b;
}

/** Sets the header's length to what follows it. */
inline void seal(Bytes& b) { put16(b, 2, static_cast<uint32_t>(b.size() - 20)); }

inline void appendAttr(Bytes& b, uint16_t type, const uint8_t* v, size_t n) {
  const size_t at = b.size();
  b.resize(at + 4 + ((n + 3) & ~static_cast<size_t>(3)), 0);
  put16(b, at, type);
  put16(b, at + 2, static_cast<uint32_t>(n));
  if (n > 0) std::memcpy(&b[at + 4], v, n);
}

/** XOR-PEER-ADDRESS of `peer`, XORed with the header already in `b`. */
inline void appendXorPeer(Bytes& b, const PeerKey& peer) {
  uint8_t v[20] = {};
  const size_t ipLength = peer.ip.family == 6 ? 16 : 4;
  v[1] = peer.ip.family == 6 ? 2 : 1;
  const uint16_t port = peer.port ^ 0x2112;
  v[2] = static_cast<uint8_t>(port >> 8);
  v[3] = static_cast<uint8_t>(port);
  for (size_t i = 0; i < ipLength; i++) v[4 + i] = peer.ip.ip[i] ^ b[4 + i];
  appendAttr(b, ferry::kAttrXorPeerAddress, v, 4 + ipLength);
}

/** FINGERPRINT as the last attribute (the header's length counts it), right or off by one bit. */
inline void appendFingerprint(Bytes& b, bool right) {
  const size_t at = b.size();
  b.resize(at + 8);
  put16(b, at, ferry::kAttrFingerprint);
  put16(b, at + 2, 4);
  seal(b);
  put32(b, at + 4, (ferry::crc32(b.data(), at) ^ ferry::kFingerprintXor) ^ (right ? 0 : 1));
}

inline Bytes sendIndication(const PeerKey& peer, const uint8_t* data, size_t n, bool fingerprint, Rng& r) {
  Bytes b = stunHeader(ferry::kSendIndication, r);
  appendXorPeer(b, peer);
  appendAttr(b, ferry::kAttrData, data, n);
  seal(b);
  if (fingerprint) appendFingerprint(b, true);
  return b;
}

inline Bytes channelData(uint16_t number, size_t n, uint32_t lengthField, Rng& r) {
  Bytes b(4 + n);
  put16(b, 0, number);
  put16(b, 2, lengthField);
  r.fill(b.data() + 4, n);
  return b;
}

/** A payload size: mostly small, now and then up to `max` (UDP's largest for the family). */
inline size_t payloadSize(Rng& r, size_t max) {
  if (r.chance(1)) return max - r.below(64);
  if (r.chance(3)) return r.below(static_cast<uint32_t>(max));
  return r.below(1201);
}

/** Changes 1..4 things in `b`: a byte, its length, its header's length field. */
inline void mutate(Bytes& b, Rng& r) {
  const uint32_t ops = 1 + r.below(4);
  for (uint32_t k = 0; k < ops; k++) {
    switch (r.below(5)) {
      case 0:
        if (!b.empty()) b[r.below(static_cast<uint32_t>(b.size()))] ^= static_cast<uint8_t>(1 + r.below(255));
        break;
      case 1:
        b.resize(r.below(static_cast<uint32_t>(b.size() + 1)));
        break;
      case 2: {
        const size_t n = 1 + r.below(16);
        for (size_t i = 0; i < n; i++) b.push_back(r.byte());
        break;
      }
      case 3:
        if (b.size() >= 4) put16(b, 2, r.chance(50) ? r.below(65536) : static_cast<uint32_t>(b.size() >= 20 ? b.size() - 20 : 0));
        break;
      default:
        // An attribute's length field, where one would be.
        if (b.size() >= 24) put16(b, 20 + 4 * r.below(static_cast<uint32_t>((b.size() - 20) / 4)) + 2, r.below(70));
        break;
    }
  }
}

/**
 * A Send indication of random attributes: peer addresses of either family with right and wrong
 * lengths (0 included), DATA, DONT-FRAGMENT, known, unknown and optional attributes, FINGERPRINT
 * right, wrong or not last, and attributes whose length runs past the end. `peers` gives the
 * addresses it may name.
 */
inline Bytes randomSend(Rng& r, const std::vector<PeerKey>& peers) {
  Bytes b = stunHeader(ferry::kSendIndication, r);
  const uint32_t count = r.below(7);
  uint8_t v[96];
  for (uint32_t i = 0; i < count; i++) {
    switch (r.below(10)) {
      case 0:
      case 1:
        if (!peers.empty()) appendXorPeer(b, peers[r.below(static_cast<uint32_t>(peers.size()))]);
        break;
      case 2: {
        const size_t n = r.below(25);
        r.fill(v, n);
        v[1] = static_cast<uint8_t>(r.below(4));
        appendAttr(b, ferry::kAttrXorPeerAddress, v, n);
        break;
      }
      case 3:
      case 4: {
        const size_t n = r.below(97);
        r.fill(v, n);
        appendAttr(b, ferry::kAttrData, v, n);
        break;
      }
      case 5:
        appendAttr(b, ferry::kAttrDontFragment, v, 0);
        break;
      case 6: {
        const size_t n = r.below(33);
        r.fill(v, n);
        appendAttr(b, static_cast<uint16_t>(r.chance(50) ? r.below(0x8000) : 0x8000 + r.below(0x8000)), v, n);
        break;
      }
      case 7:
        appendFingerprint(b, r.chance(50));
        break;
      case 8: {
        // A length past the end: the header says more than there is.
        const size_t at = b.size();
        b.resize(at + 4);
        put16(b, at, r.chance(50) ? ferry::kAttrData : ferry::kAttrXorPeerAddress);
        put16(b, at + 2, 4 + r.below(65532));
        break;
      }
      default:
        appendAttr(b, 0x0006, v, r.below(20));  // USERNAME: known, ignored
        break;
    }
  }
  if (r.chance(85)) seal(b);
  if (r.chance(30)) appendFingerprint(b, r.chance(70));
  if (r.chance(30)) mutate(b, r);
  return b;
}

/** Something that looks like a STUN request (first two bits 0, not a Send indication): goes up. */
inline Bytes stunLike(Rng& r) {
  uint16_t type = static_cast<uint16_t>(r.below(0x4000));
  if ((type & 0xff) == 0x16 && (type >> 8) == 0) type = 0x0001;
  Bytes b = stunHeader(type, r);
  const uint32_t count = r.below(4);
  uint8_t v[40];
  for (uint32_t i = 0; i < count; i++) {
    const size_t n = r.below(41);
    r.fill(v, n);
    appendAttr(b, static_cast<uint16_t>(r.next()), v, n);
  }
  seal(b);
  if (r.chance(20)) mutate(b, r);
  if (b.size() < 4) b.resize(4, 0);
  // mutate may have turned it into something else; keep it a request's first byte.
  b[0] &= 0x3f;
  if (b[0] == 0 && b[1] == 0x16) b[1] = 0x01;
  return b;
}

}  // namespace fuzz
