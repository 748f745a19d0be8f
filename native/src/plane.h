// The native data plane's core: relay threads, their sockets and tables, and the control calls the
// engine makes on them. No Node-API here (addon.cc binds it), so the sanitizer harness links it
// alone. Ownership: each allocation (Slot) belongs to one thread, the one that serves its client's
// 5-tuple; the thread's mutex guards its tables and is held while the thread handles one batch of
// datagrams (at most kBatch), and by each control call that touches the thread's slots. The JS
// thread therefore waits at most one batch for a control call; the threads never wait for JS.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace ferry {

/** Counters of one allocation, in the order of turn/native/addon.ts's COUNTER_FIELDS. */
enum Counter : int {
  kBytesToPeer, kPacketsToPeer, kBytesToClient, kPacketsToClient,
  kCappedBytesToPeer, kCappedPacketsToPeer, kCappedBytesToClient, kCappedPacketsToClient,
  kDroppedBytesToPeer, kDroppedPacketsToPeer, kDroppedBytesToClient, kDroppedPacketsToClient,
  kCounterCount
};
constexpr int kSlotStride = 16;
/** Datagrams read by one recvmmsg, and so handled under one hold of a thread's mutex. */
constexpr int kBatch = 32;
/** Datagrams queued to the JS thread (STUN requests) and not yet taken; past it they are dropped. */
constexpr size_t kUpQueueLimit = 4096;

/** An IP address with its family (4 bytes used for IPv4). */
struct IpKey {
  uint8_t family = 0;
  uint8_t ip[16] = {};
  bool operator==(const IpKey& o) const { return family == o.family && std::memcmp(ip, o.ip, 16) == 0; }
};
struct IpKeyHash {
  size_t operator()(const IpKey& k) const;
};
/** A peer transport address: IP and port. */
struct PeerKey {
  IpKey ip;
  uint16_t port = 0;
  bool operator==(const PeerKey& o) const { return port == o.port && ip == o.ip; }
};
struct PeerKeyHash {
  size_t operator()(const PeerKey& k) const;
};
/** A client 5-tuple on one thread: listening group, client IP and port. */
struct TupleKey {
  int group = 0;
  PeerKey client;
  bool operator==(const TupleKey& o) const { return group == o.group && client == o.client; }
};
struct TupleKeyHash {
  size_t operator()(const TupleKey& k) const;
};

/** The relayed ports of one relay address (shared with the engine's binder): 1 = live. */
struct PortTable {
  const uint8_t* ports = nullptr;
  std::atomic<uint64_t> dropped{0};
};

/** A token bucket in payload bytes per second (turn/bandwidth.ts's TokenBucket); rate 0: no cap. */
struct Bucket {
  double rate = 0, capacity = 0, tokens = 0, last = 0;
  void setRate(double r, double now, bool fresh);
  bool allows(double cost, double now);
};
/** An account's two buckets, shared by its allocations on every thread. */
struct AccountBuckets {
  std::mutex mu;
  Bucket toPeer, toClient;
};

struct Permission {
  double expiresAt = 0;
  PortTable* relayOnly = nullptr;
};
struct Channel {
  PeerKey peer;
  double expiresAt = 0;
  sockaddr_storage dest{};
  socklen_t destLength = 0;
};

/** One allocation of a UDP client, served by one thread. */
struct Slot {
  uint32_t id = 0;
  uint32_t gen = 0;
  int thread = 0;
  int group = 0;
  TupleKey tuple;
  sockaddr_storage client{};
  socklen_t clientLength = 0;
  size_t maxDatagram = 0;
  int relayFd[2] = {-1, -1};  // IPv4, IPv6
  std::unordered_map<IpKey, Permission, IpKeyHash> permissions;
  std::unordered_map<uint16_t, Channel> channels;           // by number
  std::unordered_map<PeerKey, uint16_t, PeerKeyHash> channelOf;  // by peer
  Bucket capToPeer, capToClient;
  AccountBuckets* account = nullptr;
  uint64_t counters[kCounterCount] = {};
};

/** Where the threads hand the datagrams they do not relay (STUN): addon.cc queues them to JS. */
class UpSink {
 public:
  virtual ~UpSink() = default;
  /**
   * Takes a copy; false when full (the datagram is dropped). Called on a relay thread with that
   * thread's mutex held: it must not call into the Plane.
   */
  virtual bool push(int thread, int group, const sockaddr_storage& from, const uint8_t* data, size_t length) = 0;
};

struct PlaneStats {
  uint64_t up, upDropped, noAllocation, malformed, relayOnlyDropped;
};

class Worker;

class Plane {
 public:
  Plane(int threads, UpSink* sink);
  ~Plane();
  Plane(const Plane&) = delete;
  Plane& operator=(const Plane&) = delete;

  int threads() const { return static_cast<int>(workers_.size()); }
  /** Opens a listening group (a socket per thread); returns its number, or -errno. */
  int listen(int family, const char* host, int port);
  int localPort(int group) const;
  /** Starts the threads; -errno when one cannot start. */
  int start();
  void stop();
  bool send(int thread, int group, const sockaddr_storage& to, socklen_t toLength, const uint8_t* data, size_t length);
  /** A non-blocking UDP socket bound to ip:port: its fd, or -errno. */
  static int bindRelay(int family, const char* ip, int port);
  PortTable* addPortTable(const uint8_t* ports, int* index);
  PortTable* portTable(int index);
  /** A slot for the 5-tuple; its id, or -1 when an argument is out of range. */
  int open(int thread, int group, const sockaddr_storage& client, socklen_t clientLength, int relay4, int relay6);
  /** Ends a slot and copies its final counters; false for an unknown slot. */
  bool close(uint32_t slot, double* out);
  bool permission(uint32_t slot, const IpKey& ip, double expiresAt, int portTable);
  bool removePermission(uint32_t slot, const IpKey& ip);
  bool channel(uint32_t slot, uint16_t number, const PeerKey& peer, double expiresAt);
  bool removeChannel(uint32_t slot, uint16_t number);
  /**
   * The engine's clock (ms). `interpolate`: the engine's clock is the real one, and the threads add
   * the monotonic time since; otherwise (an injected clock) they read exactly the last value set.
   */
  void setClock(double ms, bool interpolate);
  /** The engine's clock now, as setClock says. */
  double now() const;
  bool setCaps(uint32_t slot, double bps, int account);
  void setAccountRate(int account, double bps);
  /** Writes open slots' counters at id * kSlotStride into out[0..capacity); returns the places needed. */
  size_t snapshot(double* out, size_t capacity);
  PlaneStats stats() const;
  size_t openSlots() const { return live_; }

  // Shared with the workers.
  UpSink* sink() const { return sink_; }
  std::atomic<uint64_t> up{0}, upDropped{0}, noAllocation{0}, malformed{0};

 private:
  int listenOn(int family, const sockaddr_storage& a, socklen_t length);
  Slot* find(uint32_t slot) const;
  AccountBuckets* account(int key);

  std::vector<std::unique_ptr<Worker>> workers_;
  UpSink* sink_;
  std::vector<int> groupFamily_;
  // The JS thread's indexes (never read by the workers).
  std::vector<Slot*> slots_;
  std::vector<uint32_t> freeIds_;
  uint32_t nextGen_ = 1;
  size_t live_ = 0;
  std::vector<std::unique_ptr<PortTable>> tables_;
  /** Every port closed: for a 'relay-only' permission given no table of the plane's (index < -1). */
  static const uint8_t kNoPorts[65536];
  PortTable closedTable_;
  std::unordered_map<int, std::unique_ptr<AccountBuckets>> accounts_;
  std::atomic<int64_t> clockOffsetMs_{0};
  std::atomic<int64_t> clockFixedMs_{0};
  std::atomic<bool> clockInterpolate_{true};
  bool started_ = false;
};

/** An IPv4 (family 4) or IPv6 (6) address text and port as a socket address; false when it is not one. */
bool parseAddress(int family, const char* host, int port, sockaddr_storage& out, socklen_t& length);

/** The monotonic clock in ms, coarse (the data path's clock is read once per batch). */
int64_t monotonicMs();

}  // namespace ferry
