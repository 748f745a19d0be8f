// The plane's sockets: listening groups (a socket per relay thread, SO_REUSEPORT, after a check
// that nothing else holds the port), relayed sockets, and replies sent from a thread's socket.
#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>

#include "plane.h"
#include "worker.h"

namespace ferry {

namespace {

/** Buffers of the listening sockets (as the TypeScript listener's; the kernel caps them). */
constexpr int kSocketBufferBytes = 4 << 20;
/** Buffers of the relayed sockets (the kernel caps them at net.core.[rw]mem_max). */
constexpr int kRelayBufferBytes = 1 << 20;
/** Ports the kernel chooses for a group on port 0 that another socket takes first: tries. */
constexpr int kPortZeroTries = 16;

/** A UDP socket, non-blocking and close-on-exec, IPv6 ones IPv6-only (as the engine's dgram sockets). */
int udpSocket(int family) {
  const int fd = ::socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (family == 6) {
    const int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  return fd;
}

int bindTo(int fd, const sockaddr_storage& a, socklen_t length) {
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), length) != 0) {
    const int err = -errno;
    ::close(fd);
    return err;
  }
  return fd;
}

}  // namespace

bool parseAddress(int family, const char* host, int port, sockaddr_storage& out, socklen_t& length) {
  std::memset(&out, 0, sizeof out);
  if (port < 0 || port > 65535) return false;
  if (family == 4) {
    auto* a = reinterpret_cast<sockaddr_in*>(&out);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(sockaddr_in);
    return inet_pton(AF_INET, host, &a->sin_addr) == 1;
  }
  if (family == 6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&out);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(sockaddr_in6);
    return inet_pton(AF_INET6, host, &a->sin6_addr) == 1;
  }
  return false;
}


int Plane::listen(int family, const char* host, int port) {
  if (started_) return -EBUSY;
  sockaddr_storage a;
  socklen_t length;
  if (!parseAddress(family, host, port, a, length)) return -EINVAL;
  if (port != 0) return listenOn(family, a, length);
  // Port 0: a port the kernel chooses for a socket without SO_REUSEPORT is one nobody holds (with
  // SO_REUSEPORT it could pick a port another group of the same user shares); the group then
  // takes it as a fixed port, and tries again if another socket took it in between.
  int r = -EADDRINUSE;
  for (int i = 0; i < kPortZeroTries && r == -EADDRINUSE; i++) {
    const int probe = udpSocket(family);
    if (probe < 0) return probe;
    const int bound = bindTo(probe, a, length);
    if (bound < 0) return bound;
    sockaddr_storage chosen;
    socklen_t chosenLength = sizeof chosen;
    getsockname(bound, reinterpret_cast<sockaddr*>(&chosen), &chosenLength);
    ::close(bound);
    r = listenOn(family, chosen, chosenLength);
  }
  return r;
}

int Plane::listenOn(int family, const sockaddr_storage& a, socklen_t length) {
  // SO_REUSEPORT would let this group share a port with another process's group of the same
  // user (coturn's silent second instance): check first that nothing holds the port.
  const int probe = udpSocket(family);
  if (probe < 0) return probe;
  const int bound = bindTo(probe, a, length);
  if (bound < 0) return bound;
  ::close(bound);
  std::vector<int> fds;
  for (size_t t = 0; t < workers_.size(); t++) {
    int fd = udpSocket(family);
    if (fd >= 0) {
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
      fd = bindTo(fd, a, length);
    }
    if (fd < 0) {
      for (int f : fds) ::close(f);
      return fd;
    }
    fds.push_back(fd);
  }
  for (size_t t = 0; t < workers_.size(); t++) workers_[t]->addListener(fds[t]);
  groupFamily_.push_back(family);
  return static_cast<int>(groupFamily_.size()) - 1;
}

int Plane::localPort(int group) const {
  if (workers_.empty()) return -1;
  const int fd = workers_[0]->listener(group);
  if (fd < 0) return -1;
  sockaddr_storage a;
  socklen_t length = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) != 0) return -1;
  return a.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port) : ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
}

bool Plane::send(int thread, int group, const sockaddr_storage& to, socklen_t toLength, const uint8_t* data, size_t length) {
  if (thread < 0 || thread >= threads()) return false;
  const int fd = workers_[thread]->listener(group);
  if (fd < 0) return false;
  return ::sendto(fd, data, length, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), toLength) == static_cast<ssize_t>(length);
}

int Plane::bindRelay(int family, const char* ip, int port) {
  sockaddr_storage a;
  socklen_t length;
  if (!parseAddress(family, ip, port, a, length)) return -EINVAL;
  const int fd = udpSocket(family);
  if (fd < 0) return fd;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kRelayBufferBytes, sizeof kRelayBufferBytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kRelayBufferBytes, sizeof kRelayBufferBytes);
  return bindTo(fd, a, length);
}

}  // namespace ferry
