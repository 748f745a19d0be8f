// The sanitizer harness's loopback sockets (live.cc, traffic.cc): the addresses it uses and
// the few socket calls it makes.
#pragma once
#include <errno.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "live.h"

namespace fuzz {

inline const uint8_t kLo4[4] = {127, 0, 0, 1};
inline const uint8_t kLo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
/** A loopback address that permissions name but no datagram is ever relayed to. */
inline const uint8_t kLo4Unused[4] = {127, 0, 0, 5};
// Addresses no permission ever names (TEST-NET-3, the documentation prefix): never relayed to.
inline const uint8_t kNowhere4[4] = {203, 0, 113, 9};
inline const uint8_t kNowhere6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
/** The marker of the datagrams the harness sends clients itself through Plane::send. */
inline const uint8_t kMarker[8] = {0x01, 0x01, 0x00, 0x00, 'f', 'u', 'z', 'z'};

inline Sock loopbackSocket(int family) {
  Sock s;
  s.fd = ::socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return s;
  const int bytes = 1 << 20;
  setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  const Addr want = makeAddr(family, family == 6 ? kLo6 : kLo4, 0);
  if (::bind(s.fd, reinterpret_cast<const sockaddr*>(&want.sa), want.len) != 0) {
    ::close(s.fd);
    s.fd = -1;
    return s;
  }
  sockaddr_storage got;
  socklen_t length = sizeof got;
  getsockname(s.fd, reinterpret_cast<sockaddr*>(&got), &length);
  s.addr = addrOf(got);
  return s;
}

inline Addr boundAddr(int fd) {
  sockaddr_storage got{};
  socklen_t length = sizeof got;
  getsockname(fd, reinterpret_cast<sockaddr*>(&got), &length);
  return addrOf(got);
}

inline bool sendTo(int fd, const Bytes& b, const Addr& to) {
  return ::sendto(fd, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&to.sa), to.len) == static_cast<ssize_t>(b.size());
}

/** Reads every datagram waiting on fd (at most 4096), calling each(data, length, from). */
template <class F>
size_t drain(int fd, Bytes& buf, F&& each) {
  size_t count = 0;
  for (; count < 4096; count++) {
    sockaddr_storage from;
    socklen_t fromLength = sizeof from;
    const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromLength);
    if (n < 0) break;
    each(buf.data(), static_cast<size_t>(n), from);
  }
  return count;
}

inline void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace fuzz
