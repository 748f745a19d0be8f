#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <random>

namespace ferry {

namespace {

constexpr uint64_t kWakeTag = 1ull << 62;
constexpr uint64_t kRelayTag = 1ull << 63;
constexpr size_t kRecvSize = 65536;
/** What each relayed packet costs a bucket at least (turn/bandwidth.ts MIN_PACKET_COST_BYTES). */
constexpr double kMinPacketCost = 64;
const uint8_t kPad[4] = {0, 0, 0, 0};

uint64_t relayTag(const Slot* s, int family6) {
  return kRelayTag | (static_cast<uint64_t>(s->gen & 0x7fffffff) << 32) | (static_cast<uint64_t>(family6) << 31) | s->id;
}

/** The peer or client address of a datagram as a table key; false for a family we do not serve. */
bool keyOf(const sockaddr_storage& a, PeerKey& k) {
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    k.ip.family = 4;
    std::memcpy(k.ip.ip, &v4->sin_addr, 4);
    k.port = ntohs(v4->sin_port);
    return true;
  }
  if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    k.ip.family = 6;
    std::memcpy(k.ip.ip, &v6->sin6_addr, 16);
    k.port = ntohs(v6->sin6_port);
    return true;
  }
  return false;
}

socklen_t sockaddrOf(const IpKey& ip, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (ip.family == 4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    std::memcpy(&v4->sin_addr, ip.ip, 4);
    return sizeof(sockaddr_in);
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(port);
  std::memcpy(&v6->sin6_addr, ip.ip, 16);
  return sizeof(sockaddr_in6);
}

}  // namespace

Worker::Worker(Plane* plane, int index) : plane_(plane), index_(index), recvData_(kBatch * kRecvSize) {
  std::random_device rd;
  for (auto& b : tidBase_) b = static_cast<uint8_t>(rd());
  for (int i = 0; i < kBatch; i++) {
    recvIov_[i] = {recvData_.data() + i * kRecvSize, kRecvSize};
    std::memset(&recvMsgs_[i], 0, sizeof(mmsghdr));
  }
}

Worker::~Worker() { stop(); }

int Worker::start() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return -errno;
  wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_ < 0) return -errno;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_, &ev) != 0) return -errno;
  for (size_t g = 0; g < listeners_.size(); g++) {
    ev.data.u64 = g;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, listeners_[g], &ev) != 0) return -errno;
  }
  {
    // Slots opened before start (watch() had no epoll set yet) are served from now on too.
    std::lock_guard<std::mutex> hold(mu);
    for (const auto& e : slots) watch(e.second);
  }
  thread_ = std::thread([this] { run(); });
  return 0;
}

void Worker::stop() {
  if (thread_.joinable()) {
    stopping_.store(true);
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_, &one, sizeof one);
    (void)ignored;
    thread_.join();
  }
  if (wake_ >= 0) ::close(wake_);
  if (epfd_ >= 0) ::close(epfd_);
  wake_ = epfd_ = -1;
  // The port is free once stop returns (a restart in the same process binds it again).
  for (int fd : listeners_) ::close(fd);
  listeners_.clear();
}

bool Worker::watch(Slot* s) {
  if (epfd_ < 0) return true;  // start() watches the slots it finds
  for (int f = 0; f < 2; f++) {
    if (s->relayFd[f] < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = relayTag(s, f);
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, s->relayFd[f], &ev) != 0) {
      if (f == 1 && s->relayFd[0] >= 0) epoll_ctl(epfd_, EPOLL_CTL_DEL, s->relayFd[0], nullptr);
      return false;
    }
  }
  return true;
}

void Worker::unwatch(Slot* s) {
  if (epfd_ < 0) return;
  for (int f = 0; f < 2; f++) {
    if (s->relayFd[f] >= 0) epoll_ctl(epfd_, EPOLL_CTL_DEL, s->relayFd[f], nullptr);
  }
}

void Worker::run() {
  epoll_event events[64];
  while (!stopping_.load(std::memory_order_relaxed)) {
    const int n = epoll_wait(epfd_, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    const double now = plane_->now();
    for (int i = 0; i < n; i++) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kWakeTag) continue;
      if (tag & kRelayTag) {
        onRelay(tag, now);
      } else {
        const int group = static_cast<int>(tag);
        onListener(group, listeners_[group], now);
      }
    }
  }
}

void Worker::onListener(int group, int fd, double now) {
  for (int i = 0; i < kBatch; i++) {
    recvMsgs_[i].msg_hdr.msg_name = &recvFrom_[i];
    recvMsgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    recvMsgs_[i].msg_hdr.msg_iov = &recvIov_[i];
    recvMsgs_[i].msg_hdr.msg_iovlen = 1;
  }
  const int n = recvmmsg(fd, recvMsgs_, kBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return;
  std::lock_guard<std::mutex> hold(mu);
  for (int i = 0; i < n; i++) {
    if (recvMsgs_[i].msg_hdr.msg_flags & MSG_TRUNC) {
      plane_->malformed.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    fromClient(group, static_cast<const uint8_t*>(recvIov_[i].iov_base), recvMsgs_[i].msg_len, recvFrom_[i], now);
  }
  flush();
}

void Worker::fromClient(int group, const uint8_t* p, size_t n, const sockaddr_storage& from, double now) {
  const ClientKind kind = classify(p, n);
  if (kind == ClientKind::Drop) {
    plane_->malformed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (kind == ClientKind::Stun) {
    // Requests go up without the lock's help: the sink copies under its own.
    if (plane_->sink()->push(index_, group, from, p, n)) plane_->up.fetch_add(1, std::memory_order_relaxed);
    else plane_->upDropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  TupleKey key;
  key.group = group;
  if (!keyOf(from, key.client)) return;
  const auto it = tuples.find(key);
  if (it == tuples.end()) {
    plane_->noAllocation.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (kind == ClientKind::ChannelData) channelData(it->second, p, n, now);
  else sendIndication(it->second, p, n, now);
}

// Client → peer ChannelData (RFC 8656 §12.6), as turn/data-path.ts's relayChannelDataToPeer.
void Worker::channelData(Slot* s, const uint8_t* p, size_t n, double now) {
  const uint16_t number = static_cast<uint16_t>((p[0] << 8) | p[1]);
  const size_t length = static_cast<size_t>((p[2] << 8) | p[3]);
  if (length + 4 > n) return;
  const auto ch = s->channels.find(number);
  if (ch == s->channels.end() || ch->second.expiresAt <= now) return;
  const auto perm = s->permissions.find(ch->second.peer.ip);
  if (perm == s->permissions.end() || perm->second.expiresAt <= now) return;
  const int f = ch->second.peer.ip.family == 6 ? 1 : 0;
  const int fd = s->relayFd[f];
  if (fd < 0) return;
  if (length == 0 || length > (f ? kMaxUdpPayload6 : kMaxUdpPayload4)) {
    s->counters[kDroppedBytesToPeer] += length;
    s->counters[kDroppedPacketsToPeer]++;
    return;
  }
  PortTable* rp = perm->second.relayOnly;
  if (rp != nullptr && rp->ports[ch->second.peer.port] != 1) {
    rp->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!admit(s, true, length, now)) return;
  queue(fd, s, true, ch->second.dest, ch->second.destLength, nullptr, 0, p + 4, length, 0);
}

// Client → peer Send indication (RFC 8656 §11.2), as relaySendIndication.
void Worker::sendIndication(Slot* s, const uint8_t* p, size_t n, double now) {
  SendFields sf;
  if (!parseSendIndication(p, n, sf)) return;
  IpKey ip;
  ip.family = sf.family;
  std::memcpy(ip.ip, sf.ip, sf.family == 6 ? 16 : 4);
  const auto perm = s->permissions.find(ip);
  if (perm == s->permissions.end() || perm->second.expiresAt <= now) return;
  const int f = sf.family == 6 ? 1 : 0;
  const int fd = s->relayFd[f];
  if (fd < 0) return;
  if (sf.dataLength == 0 || sf.dataLength > (f ? kMaxUdpPayload6 : kMaxUdpPayload4)) {
    s->counters[kDroppedBytesToPeer] += sf.dataLength;
    s->counters[kDroppedPacketsToPeer]++;
    return;
  }
  PortTable* rp = perm->second.relayOnly;
  if (rp != nullptr && rp->ports[sf.port] != 1) {
    rp->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!admit(s, true, sf.dataLength, now)) return;
  sockaddr_storage to;
  const socklen_t toLength = sockaddrOf(ip, sf.port, to);
  queue(fd, s, true, to, toLength, nullptr, 0, p + sf.dataAt, sf.dataLength, 0);
}

void Worker::onRelay(uint64_t tag, double now) {
  const uint32_t id = static_cast<uint32_t>(tag & 0x7fffffff);
  const uint32_t gen = static_cast<uint32_t>((tag >> 32) & 0x7fffffff);
  const int f = static_cast<int>((tag >> 31) & 1);
  std::lock_guard<std::mutex> hold(mu);
  const auto it = slots.find(id);
  // An event read before the slot closed (its id may be reused since): nothing to do.
  if (it == slots.end() || (it->second->gen & 0x7fffffff) != gen) return;
  Slot* s = it->second;
  const int fd = s->relayFd[f];
  for (int i = 0; i < kBatch; i++) {
    recvMsgs_[i].msg_hdr.msg_name = &recvFrom_[i];
    recvMsgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    recvMsgs_[i].msg_hdr.msg_iov = &recvIov_[i];
    recvMsgs_[i].msg_hdr.msg_iovlen = 1;
  }
  const int n = recvmmsg(fd, recvMsgs_, kBatch, MSG_DONTWAIT, nullptr);
  for (int i = 0; i < n; i++) {
    if (recvMsgs_[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
    fromPeer(s, static_cast<const uint8_t*>(recvIov_[i].iov_base), recvMsgs_[i].msg_len, recvFrom_[i], now);
  }
  flush();
}

// Peer → client (RFC 8656 §11.3, §12.7), as relayFromPeer.
void Worker::fromPeer(Slot* s, const uint8_t* p, size_t n, const sockaddr_storage& from, double now) {
  PeerKey peer;
  if (!keyOf(from, peer)) return;
  const auto perm = s->permissions.find(peer.ip);
  if (perm == s->permissions.end() || perm->second.expiresAt <= now) return;
  if (n == 0) {
    s->counters[kDroppedPacketsToClient]++;
    return;
  }
  if (!admit(s, false, n, now)) return;
  const int fd = listener(s->group);
  const auto byPeer = s->channelOf.find(peer);
  if (byPeer != s->channelOf.end()) {
    const auto ch = s->channels.find(byPeer->second);
    if (ch != s->channels.end() && ch->second.expiresAt > now) {
      if (4 + n > s->maxDatagram) {
        s->counters[kDroppedBytesToClient] += n;
        s->counters[kDroppedPacketsToClient]++;
        return;
      }
      const uint8_t head[4] = {static_cast<uint8_t>(byPeer->second >> 8), static_cast<uint8_t>(byPeer->second), static_cast<uint8_t>(n >> 8),
                               static_cast<uint8_t>(n)};
      queue(fd, s, false, s->client, s->clientLength, head, 4, p, n, 0);
      return;
    }
  }
  const size_t headLength = peer.ip.family == 6 ? kIndicationHeader6 : kIndicationHeader4;
  const size_t pad = (4 - (n & 3)) & 3;
  if (headLength + n + pad > s->maxDatagram) {
    s->counters[kDroppedBytesToClient] += n;
    s->counters[kDroppedPacketsToClient]++;
    return;
  }
  uint8_t head[kIndicationHeader6];
  if (writeDataIndicationHeader(head, peer.ip.family, peer.ip.ip, peer.port, n, tidBase_, ++tidCounter_) == 0) {
    s->counters[kDroppedBytesToClient] += n;
    s->counters[kDroppedPacketsToClient]++;
    return;
  }
  queue(fd, s, false, s->client, s->clientLength, head, headLength, p, n, pad);
}

// Bandwidth caps (turn/bandwidth.ts): the packet passes when its own bucket and its account's
// have the tokens, and takes them from both; otherwise it is dropped and counted as capped.
bool Worker::admit(Slot* s, bool toPeer, size_t n, double now) {
  Bucket& own = toPeer ? s->capToPeer : s->capToClient;
  AccountBuckets* acc = s->account;
  if (own.rate == 0 && (acc == nullptr)) return true;
  const double cost = n > kMinPacketCost ? static_cast<double>(n) : kMinPacketCost;
  bool ok = own.rate == 0 || own.allows(cost, now);
  if (ok && acc != nullptr) {
    std::lock_guard<std::mutex> hold(acc->mu);
    Bucket& shared = toPeer ? acc->toPeer : acc->toClient;
    ok = shared.rate == 0 || shared.allows(cost, now);
    if (ok && shared.rate != 0) shared.tokens -= cost;
  }
  if (ok) {
    if (own.rate != 0) own.tokens -= cost;
    return true;
  }
  s->counters[toPeer ? kCappedBytesToPeer : kCappedBytesToClient] += n;
  s->counters[toPeer ? kCappedPacketsToPeer : kCappedPacketsToClient]++;
  return false;
}

void Worker::queue(int fd, Slot* s, bool toPeer, const sockaddr_storage& to, socklen_t toLength, const uint8_t* head, size_t headLength,
                   const uint8_t* payload, size_t length, size_t pad) {
  if (outCount_ == kBatch || (outCount_ > 0 && fd != outFd_)) flush();
  outFd_ = fd;
  const int i = outCount_++;
  int iovs = 0;
  if (headLength > 0) {
    std::memcpy(outHead_[i], head, headLength);
    outIov_[i][iovs++] = {outHead_[i], headLength};
  }
  outIov_[i][iovs++] = {const_cast<uint8_t*>(payload), length};
  if (pad > 0) outIov_[i][iovs++] = {const_cast<uint8_t*>(kPad), pad};
  std::memcpy(&outTo_[i], &to, toLength);
  std::memset(&outMsgs_[i], 0, sizeof(mmsghdr));
  outMsgs_[i].msg_hdr.msg_name = &outTo_[i];
  outMsgs_[i].msg_hdr.msg_namelen = toLength;
  outMsgs_[i].msg_hdr.msg_iov = outIov_[i];
  outMsgs_[i].msg_hdr.msg_iovlen = iovs;
  out_[i] = {s, toPeer, static_cast<uint32_t>(length)};
}

// Sends the batch; each datagram is counted after the kernel took it (relayed) or refused it
// (dropped: a full send buffer, a route the kernel refuses), never before.
void Worker::flush() {
  int i = 0;
  while (i < outCount_) {
    const int r = sendmmsg(outFd_, outMsgs_ + i, outCount_ - i, MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      for (int k = i; k < i + r; k++) {
        Slot* s = out_[k].slot;
        if (out_[k].toPeer) {
          s->counters[kBytesToPeer] += out_[k].bytes;
          s->counters[kPacketsToPeer]++;
        } else {
          s->counters[kBytesToClient] += out_[k].bytes;
          s->counters[kPacketsToClient]++;
        }
      }
      i += r;
      continue;
    }
    // The datagram at i failed; a full buffer fails the rest too.
    const int last = (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ? outCount_ : i + 1;
    for (int k = i; k < last; k++) {
      Slot* s = out_[k].slot;
      s->counters[out_[k].toPeer ? kDroppedBytesToPeer : kDroppedBytesToClient] += out_[k].bytes;
      s->counters[out_[k].toPeer ? kDroppedPacketsToPeer : kDroppedPacketsToClient]++;
    }
    i = last;
  }
  outCount_ = 0;
  outFd_ = -1;
}

}  // namespace ferry
