// The sanitizer harness's live part (live.cc): the real Plane with two relay threads, its
// listeners, clients with and without slots, and peers, all on loopback UDP sockets.
#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "messages.h"

namespace fuzz {

/** Failed invariants so far; the harness exits 1 when there is any. */
extern int failures;
void check(bool ok, const char* what);

/** What the live run did (the JSON summary's figures). */
struct LiveFigures {
  bool ipv6 = false;
  uint64_t clientSent = 0, peerSent = 0, withheld = 0;
  uint64_t toPeer = 0, toClient = 0, peerReceived = 0, clientReceived = 0;
  uint64_t up = 0, malformed = 0, noAllocation = 0, relayOnlyDropped = 0, capped = 0, dropped = 0;
  uint64_t controlCalls = 0, reopened = 0;
};

/** The engine's side of the up queue: copies each datagram and learns each client's thread. */
class Sink : public ferry::UpSink {
 public:
  bool push(int thread, int group, const sockaddr_storage& from, const uint8_t* data, size_t length) override;
  /** The thread the kernel steered `client` to, or -1 when none of its requests came up yet. */
  int threadOf(const PeerKey& client, int group);
  /** Clients seen on one thread and later on another (the kernel's steering is per 4-tuple: 0). */
  uint64_t moved();

 private:
  struct Seen {
    PeerKey client;
    int group;
    int thread;
  };
  std::mutex mu_;
  uint64_t pushes_ = 0, moved_ = 0;
  std::vector<Seen> seen_;
  Bytes last_;
};

struct Sock {
  int fd = -1;
  Addr addr;
};

struct Client {
  Sock sock;
  int group = 0;
  int thread = -1;
  int slot = -1;
  int relay[2] = {-1, -1};
  Addr relayAddr[2];
  double last[ferry::kCounterCount] = {};
};

class LiveRun {
 public:
  explicit LiveRun(Rng& r);
  ~LiveRun();
  LiveRun(const LiveRun&) = delete;
  LiveRun& operator=(const LiveRun&) = delete;
  /** The clean flow (exact counts), then `rounds` rounds of random datagrams and control calls. */
  void run(int rounds);
  /** Closes every slot, checks the totals, stops and destroys the plane. */
  void finish();
  LiveFigures figures;

 private:
  void makeSockets();
  void learnThreads();
  void openSlot(Client& c);
  void closeSlot(Client& c);
  void earlyFlow();
  void cleanFlow(Client& c, int family);
  void clientDatagram();
  void peerDatagram();
  void control();
  void snapshotCheck();
  void drainAll();
  void settle();
  bool safeToSend(const Bytes& b) const;
  void checkToClient(const uint8_t* p, size_t n);
  PeerKey randomTarget();
  double expiry() { return r_.chance(85) ? live_ : expired_; }

  Rng& r_;
  Sink sink_;
  // The relay-only port table outlives the plane, which reads it from its threads.
  std::unique_ptr<uint8_t[]> ports_;
  std::unique_ptr<ferry::Plane> plane_;
  int table_ = -1;
  Addr listen_[2];
  int groups_[2] = {-1, -1};
  std::vector<Client> clients_;
  Client early_;
  std::vector<Sock> peers_;
  std::vector<PeerKey> peerKeys_;
  double clock0_ = 0, live_ = 0, expired_ = 0;
  double closed_[ferry::kCounterCount] = {};
  Bytes buf_;
  uint64_t markers_ = 0, markersReceived_ = 0;
  ferry::PlaneStats lastStats_{};
};

/** A second plane destroyed with slots open and datagrams in flight (the addon's stop). */
void stopWithSlotsOpen(Rng& r);

}  // namespace fuzz
