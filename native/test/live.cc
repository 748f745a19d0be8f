// The sanitizer harness's live run (live.h): the plane, its sockets and slots, the flows whose
// counts are exact, the rounds of traffic (traffic.cc), and the end where every slot closes.
#include "live.h"

#include <algorithm>
#include <cstdio>

#include "sockets.h"

namespace fuzz {

using namespace ferry;

int failures = 0;
void check(bool ok, const char* what) {
  if (ok) return;
  if (++failures <= 20) std::fprintf(stderr, "FAIL: %s\n", what);
}

bool Sink::push(int thread, int group, const sockaddr_storage& from, const uint8_t* data, size_t length) {
  Bytes copy(data, data + length);  // reads every byte it was given
  std::lock_guard<std::mutex> hold(mu_);
  // Now and then full, as the addon's queue can be.
  if (++pushes_ % 97 == 0) return false;
  const Addr a = addrOf(from);
  bool known = false;
  for (const Seen& s : seen_) {
    if (s.client == a.key && s.group == group) {
      known = true;
      if (s.thread != thread) moved_++;
    }
  }
  if (!known && seen_.size() < 256) seen_.push_back({a.key, group, thread});
  last_.swap(copy);
  return true;
}

int Sink::threadOf(const PeerKey& client, int group) {
  std::lock_guard<std::mutex> hold(mu_);
  for (const Seen& s : seen_) {
    if (s.client == client && s.group == group) return s.thread;
  }
  return -1;
}

uint64_t Sink::moved() {
  std::lock_guard<std::mutex> hold(mu_);
  return moved_;
}

LiveRun::LiveRun(Rng& r) : r_(r), ports_(new uint8_t[65536]()), buf_(65536) {
  plane_ = std::make_unique<Plane>(2, &sink_);
  groups_[0] = plane_->listen(4, "127.0.0.1", 0);
  check(groups_[0] >= 0, "listen on 127.0.0.1");
  groups_[1] = plane_->listen(6, "::1", 0);
  figures.ipv6 = groups_[1] >= 0;
  plane_->addPortTable(ports_.get(), &table_);
  clock0_ = 1.7e12;
  live_ = clock0_ + 1e8;
  expired_ = clock0_ - 1;
  plane_->setClock(clock0_, true);
  makeSockets();
  // One slot opened before the threads start: its relayed socket is served once they do.
  early_.sock = loopbackSocket(4);
  early_.group = groups_[0];
  early_.thread = 0;
  early_.relay[0] = Plane::bindRelay(4, "127.0.0.1", 0);
  early_.relayAddr[0] = boundAddr(early_.relay[0]);
  early_.slot = plane_->open(0, groups_[0], early_.sock.addr.sa, early_.sock.addr.len, early_.relay[0], -1);
  check(early_.slot >= 0 && plane_->permission(early_.slot, makeAddr(4, kLo4, 0).key.ip, live_, -1), "a slot opens before start");
  check(plane_->start() == 0, "the plane starts");
  check(plane_->listen(4, "127.0.0.1", 0) == -EBUSY, "no listener after start");
  listen_[0] = makeAddr(4, kLo4, static_cast<uint16_t>(plane_->localPort(groups_[0])));
  if (figures.ipv6) listen_[1] = makeAddr(6, kLo6, static_cast<uint16_t>(plane_->localPort(groups_[1])));
  learnThreads();
  for (size_t i = 0; i < clients_.size(); i++) {
    if (i % 3 != 2 && clients_[i].thread >= 0) openSlot(clients_[i]);
  }
}

void LiveRun::makeSockets() {
  const int families = figures.ipv6 ? 2 : 1;
  for (int f = 0; f < families; f++) {
    for (int i = 0; i < (f == 0 ? 3 : 2); i++) {
      peers_.push_back(loopbackSocket(f == 0 ? 4 : 6));
      check(peers_.back().fd >= 0, "a peer socket");
      peerKeys_.push_back(peers_.back().addr.key);
      // The first peers of each family are on the relay-only table; the others are not.
      if (i < 2) ports_[peers_.back().addr.key.port] = 1;
    }
    for (int i = 0; i < (f == 0 ? 10 : 4); i++) {
      Client c;
      c.sock = loopbackSocket(f == 0 ? 4 : 6);
      c.group = groups_[f];
      check(c.sock.fd >= 0, "a client socket");
      clients_.push_back(c);
    }
  }
}

LiveRun::~LiveRun() {
  if (plane_) finish();
}

// Each client's requests come up with the thread the kernel steered its 4-tuple to: its slot goes there.
void LiveRun::learnThreads() {
  for (int attempt = 0; attempt < 100; attempt++) {
    bool all = true;
    for (Client& c : clients_) {
      c.thread = sink_.threadOf(c.sock.addr.key, c.group);
      if (c.thread >= 0) continue;
      all = false;
      sendTo(c.sock.fd, stunHeader(0x0001, r_), listen_[c.group == groups_[0] ? 0 : 1]);
    }
    if (all) return;
    sleepMs(20);
  }
  check(false, "every client's Binding request came up");
}

void LiveRun::openSlot(Client& c) {
  c.relay[0] = Plane::bindRelay(4, "127.0.0.1", 0);
  check(c.relay[0] >= 0, "bindRelay on 127.0.0.1");
  c.relay[1] = figures.ipv6 && r_.chance(60) ? Plane::bindRelay(6, "::1", 0) : -1;
  for (int f = 0; f < 2; f++) {
    if (c.relay[f] >= 0) c.relayAddr[f] = boundAddr(c.relay[f]);
  }
  c.slot = plane_->open(c.thread, c.group, c.sock.addr.sa, c.sock.addr.len, c.relay[0], c.relay[1]);
  check(c.slot >= 0, "a slot opens");
  std::fill(std::begin(c.last), std::end(c.last), 0.0);
  if (c.slot < 0) return;
  IpKey lo4 = makeAddr(4, kLo4, 0).key.ip, lo6 = makeAddr(6, kLo6, 0).key.ip;
  check(plane_->permission(c.slot, lo4, expiry(), r_.chance(30) ? table_ : -1), "permission on an open slot");
  if (r_.chance(70)) plane_->permission(c.slot, lo6, expiry(), r_.chance(30) ? table_ : -1);
  for (uint16_t k = 0; k < 4; k++) {
    if (r_.chance(80)) check(plane_->channel(c.slot, 0x4000 + k, peerKeys_[r_.below(peerKeys_.size())], expiry()), "channel on an open slot");
  }
  if (r_.chance(30)) plane_->setCaps(c.slot, r_.chance(50) ? 2000 : 200000, static_cast<int>(r_.below(4)) - 1);
}

void LiveRun::closeSlot(Client& c) {
  double out[kCounterCount];
  std::fill(std::begin(out), std::end(out), -1.0);
  check(plane_->close(c.slot, out), "close of an open slot");
  for (int i = 0; i < kCounterCount; i++) {
    check(out[i] >= c.last[i], "a slot's final counters are at least its last snapshot's");
    closed_[i] += out[i];
  }
  check(!plane_->close(c.slot, out), "a closed slot closes once");
  for (int& fd : c.relay) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  c.slot = -1;
}

// The slot opened before start: a peer's datagrams reach its client as Data indications.
void LiveRun::earlyFlow() {
  if (early_.slot < 0) return;
  const Bytes b(100, 0x5a);
  for (int i = 0; i < 20; i++) check(sendTo(peers_[2].fd, b, early_.relayAddr[0]), "a peer sends to the early slot");
  uint64_t received = 0;
  for (int wait = 0; wait < 200 && received < 20; wait++) {
    received += drain(early_.sock.fd, buf_, [&](const uint8_t* d, size_t n, const sockaddr_storage&) { checkToClient(d, n); });
    if (received < 20) sleepMs(10);
  }
  check(received == 20, "a slot opened before the plane started relays once it has");
  closeSlot(early_);
  ::close(early_.sock.fd);
  early_.sock.fd = -1;
}

// A flow nothing else touches, between client `c` and the first two peers of `family`: what the
// peer sockets and the client get equals the counters, byte for byte.
void LiveRun::cleanFlow(Client& c, int family) {
  if (c.thread < 0) return;
  if (c.slot >= 0) closeSlot(c);
  c.relay[0] = Plane::bindRelay(4, "127.0.0.1", 0);
  c.relay[1] = figures.ipv6 ? Plane::bindRelay(6, "::1", 0) : -1;
  for (int f = 0; f < 2; f++) {
    if (c.relay[f] >= 0) c.relayAddr[f] = boundAddr(c.relay[f]);
  }
  c.slot = plane_->open(c.thread, c.group, c.sock.addr.sa, c.sock.addr.len, c.relay[0], c.relay[1]);
  std::fill(std::begin(c.last), std::end(c.last), 0.0);
  check(c.slot >= 0, "a clean slot opens");
  if (c.slot < 0) return;
  const int f = family == 6 ? 1 : 0;
  Sock& peerA = peers_[f ? 3 : 0];
  Sock& peerB = peers_[f ? 4 : 1];
  const Addr& listener = listen_[c.group == groups_[1] ? 1 : 0];
  plane_->permission(c.slot, makeAddr(4, kLo4, 0).key.ip, live_, -1);
  plane_->permission(c.slot, makeAddr(6, kLo6, 0).key.ip, live_, -1);
  plane_->channel(c.slot, 0x4000, peerA.addr.key, live_);
  // In bursts of 10, each read before the next: no socket buffer fills, even on a busy machine.
  std::vector<Bytes> sent, got;
  double bytes = 0;
  const auto peersRead = [&]() {
    for (int wait = 0; wait < 300 && got.size() < sent.size(); wait++) {
      for (Sock* p : {&peerA, &peerB}) {
        drain(p->fd, buf_, [&](const uint8_t* d, size_t n, const sockaddr_storage& from) {
          check(addrOf(from).key == c.relayAddr[f].key, "a relayed datagram comes from the relayed address");
          got.emplace_back(d, d + n);
        });
      }
      if (got.size() < sent.size()) sleepMs(10);
    }
  };
  for (int i = 0; i < 200; i++) {
    const size_t n = 1 + r_.below(1200);
    Bytes b = channelData(0x4000, n, static_cast<uint32_t>(n), r_);
    sent.emplace_back(b.begin() + 4, b.end());
    // The last 50 as Send indications to the other peer, some with a FINGERPRINT.
    if (i >= 150) b = sendIndication(peerB.addr.key, sent.back().data(), n, r_.chance(50), r_);
    bytes += static_cast<double>(n);
    check(sendTo(c.sock.fd, b, listener), "the clean flow's client sends");
    if (i % 10 == 9) peersRead();
  }
  figures.peerReceived += got.size();
  std::sort(sent.begin(), sent.end());
  std::sort(got.begin(), got.end());
  check(got == sent, "the peers got exactly what the clean flow sent");
  snapshotCheck();
  check(c.last[kPacketsToPeer] == 200 && c.last[kBytesToPeer] == bytes, "packetsToPeer and bytesToPeer count the clean flow");

  // Back: 100 on the channel as ChannelData, 50 from the other peer as Data indications.
  bytes = 0;
  uint64_t received = 0;
  for (int i = 0; i < 150; i++) {
    Bytes b(1 + r_.below(1200));
    r_.fill(b.data(), b.size());
    bytes += static_cast<double>(b.size());
    check(sendTo(i < 100 ? peerA.fd : peerB.fd, b, c.relayAddr[f]), "the clean flow's peer sends");
    if (i % 10 != 9) continue;
    for (int wait = 0; wait < 300 && received < static_cast<uint64_t>(i + 1); wait++) {
      received += drain(c.sock.fd, buf_, [&](const uint8_t* d, size_t n, const sockaddr_storage&) { checkToClient(d, n); });
      if (received < static_cast<uint64_t>(i + 1)) sleepMs(10);
    }
  }
  check(received == 150, "the client got all 150 datagrams of the clean flow");
  snapshotCheck();
  check(c.last[kPacketsToClient] == 150 && c.last[kBytesToClient] == bytes, "packetsToClient and bytesToClient count the clean flow");
}

void LiveRun::drainAll() {
  for (Client& c : clients_) drain(c.sock.fd, buf_, [&](const uint8_t* d, size_t n, const sockaddr_storage&) { checkToClient(d, n); });
  for (Sock& p : peers_) figures.peerReceived += drain(p.fd, buf_, [](const uint8_t*, size_t, const sockaddr_storage&) {});
}

// Reads the counters of every open slot into a buffer of exactly the size the plane asks for.
void LiveRun::snapshotCheck() {
  const size_t needed = plane_->snapshot(nullptr, 0);
  std::unique_ptr<double[]> out(new double[needed * kSlotStride]);
  for (size_t i = 0; i < needed * kSlotStride; i++) out[i] = -1;
  check(plane_->snapshot(out.get(), needed * kSlotStride) == needed, "snapshot says the same size twice");
  // A buffer one slot short: the plane writes only what fits.
  if (needed > 0) {
    std::unique_ptr<double[]> shorter(new double[(needed - 1) * kSlotStride]);
    plane_->snapshot(shorter.get(), (needed - 1) * kSlotStride);
  }
  for (Client& c : clients_) {
    if (c.slot < 0) continue;
    check(static_cast<size_t>(c.slot) < needed, "an open slot is inside the snapshot");
    if (static_cast<size_t>(c.slot) >= needed) continue;
    const double* o = out.get() + static_cast<size_t>(c.slot) * kSlotStride;
    for (int i = 0; i < kCounterCount; i++) {
      check(o[i] >= c.last[i], "counters only grow");
      c.last[i] = o[i];
    }
  }
  const PlaneStats s = plane_->stats();
  check(s.up >= lastStats_.up && s.upDropped >= lastStats_.upDropped && s.noAllocation >= lastStats_.noAllocation && s.malformed >= lastStats_.malformed &&
            s.relayOnlyDropped >= lastStats_.relayOnlyDropped,
        "the plane's stats only grow");
  lastStats_ = s;
}

void LiveRun::run(int rounds) {
  earlyFlow();
  // Each listener, each relayed family: clients_[0] is on 127.0.0.1, clients_[10] on ::1.
  cleanFlow(clients_[0], 4);
  if (figures.ipv6) {
    cleanFlow(clients_[0], 6);
    cleanFlow(clients_[10], 6);
    cleanFlow(clients_[10], 4);
  }
  for (int round = 0; round < rounds; round++) {
    for (int i = 0; i < 60; i++) clientDatagram();
    for (int i = 0; i < 25; i++) peerDatagram();
    const uint32_t calls = 1 + r_.below(4);
    for (uint32_t k = 0; k < calls; k++) control();
    drainAll();
    if (round % 25 == 0) snapshotCheck();
  }
}

// Waits until nothing more arrives (at most 2 s), reading everything.
void LiveRun::settle() {
  int quiet = 0;
  for (int wait = 0; wait < 100 && quiet < 3; wait++) {
    const uint64_t before = figures.clientReceived + figures.peerReceived + markersReceived_;
    drainAll();
    quiet = figures.clientReceived + figures.peerReceived + markersReceived_ == before ? quiet + 1 : 0;
    sleepMs(20);
  }
}

void LiveRun::finish() {
  if (!plane_) return;
  settle();
  snapshotCheck();
  if (early_.slot >= 0) closeSlot(early_);
  if (early_.sock.fd >= 0) ::close(early_.sock.fd);
  for (Client& c : clients_) {
    if (c.slot >= 0) closeSlot(c);
  }
  check(plane_->openSlots() == 0, "no slot is open after every slot closed");
  check(plane_->snapshot(nullptr, 0) > 0, "the snapshot still spans the ids once used");
  settle();
  const PlaneStats s = plane_->stats();
  figures.up = s.up;
  figures.malformed = s.malformed;
  figures.noAllocation = s.noAllocation;
  figures.relayOnlyDropped = s.relayOnlyDropped;
  figures.toPeer = static_cast<uint64_t>(closed_[kPacketsToPeer]);
  figures.toClient = static_cast<uint64_t>(closed_[kPacketsToClient]);
  figures.capped = static_cast<uint64_t>(closed_[kCappedPacketsToPeer] + closed_[kCappedPacketsToClient]);
  figures.dropped = static_cast<uint64_t>(closed_[kDroppedPacketsToPeer] + closed_[kDroppedPacketsToClient]);
  // The kernel may drop on the way, but never adds: nothing arrives that was not counted.
  check(figures.peerReceived <= figures.toPeer, "the peers got no more than packetsToPeer");
  check(figures.clientReceived <= figures.toClient, "the clients got no more than packetsToClient");
  check(markersReceived_ <= markers_, "the clients got no more markers than were sent");
  check(sink_.moved() == 0, "each client's datagrams stay on one thread");
  plane_->stop();
  plane_.reset();
  for (Client& c : clients_) ::close(c.sock.fd);
  for (Sock& p : peers_) ::close(p.fd);
  clients_.clear();
  peers_.clear();
}

// The addon's stop with allocations still open: a plane of one thread, slots with permissions,
// channels and an account, datagrams in flight, destroyed without closing them first. Its
// destructor closes them; ASan sees any use after free, LeakSanitizer anything left behind.
void stopWithSlotsOpen(Rng& r) {
  Sink sink;
  auto plane = std::make_unique<Plane>(1, &sink);
  const int group = plane->listen(4, "127.0.0.1", 0);
  check(group >= 0 && plane->start() == 0, "a second plane starts");
  Sock peer = loopbackSocket(4), client = loopbackSocket(4);
  std::vector<int> relays;
  for (int i = 0; i < 4; i++) {
    const int fd = Plane::bindRelay(4, "127.0.0.1", 0);
    relays.push_back(fd);
    const int slot = plane->open(0, group, client.addr.sa, client.addr.len, fd, -1);
    check(slot >= 0, "a slot opens on the second plane");
    plane->permission(static_cast<uint32_t>(slot), peer.addr.key.ip, 1e18, -1);
    plane->channel(static_cast<uint32_t>(slot), 0x4000, peer.addr.key, 1e18);
    plane->setCaps(static_cast<uint32_t>(slot), 1e6, 7);
    plane->setAccountRate(7, 1e6);
    Bytes b(1 + r.below(1200));
    for (int k = 0; k < 50; k++) sendTo(peer.fd, b, boundAddr(fd));
  }
  plane.reset();
  for (int fd : relays) ::close(fd);
  ::close(peer.fd);
  ::close(client.fd);
}

}  // namespace fuzz
