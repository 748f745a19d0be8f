#include "plane.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cmath>

#include "worker.h"

namespace ferry {

namespace {

/** Below it a bucket still lets one full-size Ethernet payload through (MIN_BURST_BYTES). */
constexpr double kMinBurst = 1500;
/** How far back the clock must go for a bucket to take it as set back rather than read late. */
constexpr double kClockStepBackMs = 1000;

size_t mix(const uint8_t* p, size_t n, size_t h) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace

size_t IpKeyHash::operator()(const IpKey& k) const { return mix(k.ip, k.family == 6 ? 16 : 4, 1469598103934665603ull ^ k.family); }
size_t PeerKeyHash::operator()(const PeerKey& k) const { return IpKeyHash()(k.ip) * 31 + k.port; }
size_t TupleKeyHash::operator()(const TupleKey& k) const { return PeerKeyHash()(k.client) * 31 + static_cast<size_t>(k.group); }

int64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void Bucket::setRate(double r, double now, bool fresh) {
  const bool wasOff = rate == 0;
  rate = r;
  capacity = r > kMinBurst ? r : kMinBurst;
  if (fresh || wasOff) {
    tokens = capacity;
    last = now;
  } else if (tokens > capacity) {
    tokens = capacity;
  }
}

bool Bucket::allows(double cost, double now) {
  const double dt = now - last;
  if (dt > 0) {
    const double t = tokens + dt * rate / 1000;
    tokens = t < capacity ? t : capacity;
    last = now;
  } else if (dt < -kClockStepBackMs) {
    // The clock really went back (set back by the engine): restart the refill from there. A few
    // ms behind is another thread's batch (an account's buckets are shared) or the coarse clock's
    // tick: moving `last` back for it would refill the same time twice.
    last = now;
  }
  return tokens >= cost;
}

const uint8_t Plane::kNoPorts[65536] = {};

Plane::Plane(int threads, UpSink* sink) : sink_(sink) {
  closedTable_.ports = kNoPorts;
  for (int i = 0; i < threads; i++) workers_.push_back(std::make_unique<Worker>(this, i));
}

Plane::~Plane() {
  stop();
  for (Slot* s : slots_) delete s;
}

int Plane::start() {
  if (started_) return 0;
  started_ = true;
  for (auto& w : workers_) {
    const int r = w->start();
    if (r < 0) return r;
  }
  return 0;
}

void Plane::stop() {
  for (uint32_t id = 0; id < slots_.size(); id++) {
    if (slots_[id] != nullptr) close(id, nullptr);
  }
  for (auto& w : workers_) w->stop();
}

PortTable* Plane::addPortTable(const uint8_t* ports, int* index) {
  tables_.push_back(std::make_unique<PortTable>());
  tables_.back()->ports = ports;
  *index = static_cast<int>(tables_.size()) - 1;
  return tables_.back().get();
}

PortTable* Plane::portTable(int index) {
  if (index >= 0 && index < static_cast<int>(tables_.size())) return tables_[index].get();
  // A 'relay-only' permission whose table the plane does not know reaches no port at all.
  return index < -1 ? &closedTable_ : nullptr;
}

Slot* Plane::find(uint32_t slot) const { return slot < slots_.size() ? slots_[slot] : nullptr; }

int Plane::open(int thread, int group, const sockaddr_storage& client, socklen_t clientLength, int relay4, int relay6) {
  if (thread < 0 || thread >= threads() || group < 0 || group >= static_cast<int>(groupFamily_.size())) return -1;
  auto* s = new Slot();
  if (!freeIds_.empty()) {
    s->id = freeIds_.back();
    freeIds_.pop_back();
  } else {
    if (slots_.size() >= 0x7fffffff) {
      delete s;
      return -1;
    }
    s->id = static_cast<uint32_t>(slots_.size());
    slots_.push_back(nullptr);
  }
  s->gen = nextGen_++;
  s->thread = thread;
  s->group = group;
  std::memcpy(&s->client, &client, clientLength);
  s->clientLength = clientLength;
  s->maxDatagram = client.ss_family == AF_INET6 ? kMaxUdpPayload6 : kMaxUdpPayload4;
  s->relayFd[0] = relay4;
  s->relayFd[1] = relay6;
  PeerKey k;
  const sockaddr_storage& c = client;
  if (c.ss_family == AF_INET) {
    k.ip.family = 4;
    std::memcpy(k.ip.ip, &reinterpret_cast<const sockaddr_in*>(&c)->sin_addr, 4);
    k.port = ntohs(reinterpret_cast<const sockaddr_in*>(&c)->sin_port);
  } else {
    k.ip.family = 6;
    std::memcpy(k.ip.ip, &reinterpret_cast<const sockaddr_in6*>(&c)->sin6_addr, 16);
    k.port = ntohs(reinterpret_cast<const sockaddr_in6*>(&c)->sin6_port);
  }
  s->tuple.group = group;
  s->tuple.client = k;
  slots_[s->id] = s;
  live_++;
  Worker& w = *workers_[thread];
  {
    std::lock_guard<std::mutex> hold(w.mu);
    if (w.watch(s)) {
      w.slots[s->id] = s;
      w.tuples[s->tuple] = s;
      return static_cast<int>(s->id);
    }
  }
  // The thread cannot watch the relayed sockets (epoll's limits): no slot.
  slots_[s->id] = nullptr;
  freeIds_.push_back(s->id);
  live_--;
  delete s;
  return -1;
}

bool Plane::close(uint32_t slot, double* out) {
  Slot* s = find(slot);
  if (s == nullptr) return false;
  Worker& w = *workers_[s->thread];
  {
    std::lock_guard<std::mutex> hold(w.mu);
    w.unwatch(s);
    w.slots.erase(s->id);
    const auto t = w.tuples.find(s->tuple);
    if (t != w.tuples.end() && t->second == s) w.tuples.erase(t);
    if (out != nullptr) {
      for (int i = 0; i < kCounterCount; i++) out[i] = static_cast<double>(s->counters[i]);
    }
  }
  slots_[slot] = nullptr;
  freeIds_.push_back(slot);
  live_--;
  delete s;
  return true;
}

bool Plane::permission(uint32_t slot, const IpKey& ip, double expiresAt, int portTable) {
  Slot* s = find(slot);
  if (s == nullptr) return false;
  PortTable* table = portTable < 0 ? nullptr : this->portTable(portTable);
  std::lock_guard<std::mutex> hold(workers_[s->thread]->mu);
  Permission& p = s->permissions[ip];
  p.expiresAt = expiresAt;
  p.relayOnly = table;
  return true;
}

bool Plane::removePermission(uint32_t slot, const IpKey& ip) {
  Slot* s = find(slot);
  if (s == nullptr) return false;
  std::lock_guard<std::mutex> hold(workers_[s->thread]->mu);
  s->permissions.erase(ip);
  return true;
}

bool Plane::channel(uint32_t slot, uint16_t number, const PeerKey& peer, double expiresAt) {
  Slot* s = find(slot);
  if (s == nullptr) return false;
  std::lock_guard<std::mutex> hold(workers_[s->thread]->mu);
  const auto old = s->channels.find(number);
  if (old != s->channels.end() && !(old->second.peer == peer)) {
    const auto o = s->channelOf.find(old->second.peer);
    if (o != s->channelOf.end() && o->second == number) s->channelOf.erase(o);
  }
  const auto stale = s->channelOf.find(peer);
  if (stale != s->channelOf.end() && stale->second != number) s->channels.erase(stale->second);
  Channel& c = s->channels[number];
  c.peer = peer;
  c.expiresAt = expiresAt;
  std::memset(&c.dest, 0, sizeof c.dest);
  if (peer.ip.family == 4) {
    auto* a = reinterpret_cast<sockaddr_in*>(&c.dest);
    a->sin_family = AF_INET;
    a->sin_port = htons(peer.port);
    std::memcpy(&a->sin_addr, peer.ip.ip, 4);
    c.destLength = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&c.dest);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(peer.port);
    std::memcpy(&a->sin6_addr, peer.ip.ip, 16);
    c.destLength = sizeof(sockaddr_in6);
  }
  s->channelOf[peer] = number;
  return true;
}

bool Plane::removeChannel(uint32_t slot, uint16_t number) {
  Slot* s = find(slot);
  if (s == nullptr) return false;
  std::lock_guard<std::mutex> hold(workers_[s->thread]->mu);
  const auto c = s->channels.find(number);
  if (c == s->channels.end()) return true;
  const auto o = s->channelOf.find(c->second.peer);
  if (o != s->channelOf.end() && o->second == number) s->channelOf.erase(o);
  s->channels.erase(c);
  return true;
}

void Plane::setClock(double ms, bool interpolate) {
  // Not a time (NaN, infinite, past what a double counts in ms exactly): ignored.
  if (!(std::fabs(ms) < 9007199254740992.0)) return;
  const int64_t t = static_cast<int64_t>(std::floor(ms));
  clockOffsetMs_.store(t - monotonicMs(), std::memory_order_relaxed);
  clockFixedMs_.store(t, std::memory_order_relaxed);
  clockInterpolate_.store(interpolate, std::memory_order_relaxed);
}

double Plane::now() const {
  if (!clockInterpolate_.load(std::memory_order_relaxed)) return static_cast<double>(clockFixedMs_.load(std::memory_order_relaxed));
  return static_cast<double>(monotonicMs() + clockOffsetMs_.load(std::memory_order_relaxed));
}

AccountBuckets* Plane::account(int key) {
  auto& a = accounts_[key];
  if (!a) a = std::make_unique<AccountBuckets>();
  return a.get();
}

bool Plane::setCaps(uint32_t slot, double bps, int accountKey) {
  Slot* s = find(slot);
  if (s == nullptr || !(bps >= 0)) return false;
  AccountBuckets* acc = accountKey < 0 ? nullptr : account(accountKey);
  const double t = now();
  std::lock_guard<std::mutex> hold(workers_[s->thread]->mu);
  if (bps == 0) {
    s->capToPeer.rate = s->capToClient.rate = 0;
  } else {
    s->capToPeer.setRate(bps, t, false);
    s->capToClient.setRate(bps, t, false);
  }
  s->account = acc;
  return true;
}

void Plane::setAccountRate(int key, double bps) {
  if (key < 0 || !(bps >= 0)) return;
  AccountBuckets* acc = account(key);
  const double t = now();
  std::lock_guard<std::mutex> hold(acc->mu);
  if (bps == 0) {
    acc->toPeer.rate = acc->toClient.rate = 0;
  } else {
    acc->toPeer.setRate(bps, t, false);
    acc->toClient.setRate(bps, t, false);
  }
}

size_t Plane::snapshot(double* out, size_t capacity) {
  const size_t needed = slots_.size();
  for (auto& w : workers_) {
    std::lock_guard<std::mutex> hold(w->mu);
    for (const auto& e : w->slots) {
      const Slot* s = e.second;
      if ((static_cast<size_t>(s->id) + 1) * kSlotStride > capacity) continue;
      double* o = out + static_cast<size_t>(s->id) * kSlotStride;
      for (int i = 0; i < kCounterCount; i++) o[i] = static_cast<double>(s->counters[i]);
    }
  }
  return needed;
}

PlaneStats Plane::stats() const {
  uint64_t relayOnly = 0;
  for (const auto& t : tables_) relayOnly += t->dropped.load(std::memory_order_relaxed);
  return {up.load(), upDropped.load(), noAllocation.load(), malformed.load(), relayOnly};
}

}  // namespace ferry
