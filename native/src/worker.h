// One relay thread: an epoll loop over its listening sockets (one per group, SO_REUSEPORT) and the
// relayed sockets of the allocations whose clients the kernel steers to it. Reads with recvmmsg,
// relays ChannelData and Send/Data indications, writes with sendmmsg, and counts each datagram
// once, after the kernel took it.
#pragma once
#include <sys/socket.h>

#include "packet.h"
#include "plane.h"

namespace ferry {

class Worker {
 public:
  Worker(Plane* plane, int index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /** Before start: one listening socket per group, in group order. */
  void addListener(int fd) { listeners_.push_back(fd); }
  int listener(int group) const { return group >= 0 && group < static_cast<int>(listeners_.size()) ? listeners_[group] : -1; }
  int start();
  void stop();
  /** With mu held: serve a slot's relayed sockets from this thread, or stop. */
  bool watch(Slot* slot);
  void unwatch(Slot* slot);

  /** Guards the tables below and every Slot of this thread. */
  std::mutex mu;
  std::unordered_map<TupleKey, Slot*, TupleKeyHash> tuples;
  std::unordered_map<uint32_t, Slot*> slots;

 private:
  struct Out {
    Slot* slot;
    bool toPeer;
    uint32_t bytes;
  };
  void run();
  void onListener(int group, int fd, double now);
  void onRelay(uint64_t tag, double now);
  void fromClient(int group, const uint8_t* p, size_t n, const sockaddr_storage& from, double now);
  void channelData(Slot* s, const uint8_t* p, size_t n, double now);
  void sendIndication(Slot* s, const uint8_t* p, size_t n, double now);
  void fromPeer(Slot* s, const uint8_t* p, size_t n, const sockaddr_storage& from, double now);
  bool admit(Slot* s, bool toPeer, size_t n, double now);
  void queue(int fd, Slot* s, bool toPeer, const sockaddr_storage& to, socklen_t toLength, const uint8_t* head, size_t headLength,
             const uint8_t* payload, size_t length, size_t pad);
  void flush();

  Plane* plane_;
  int index_;
  int epfd_ = -1;
  int wake_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::vector<int> listeners_;

  // Receive batch: kBatch buffers of the largest datagram.
  std::vector<uint8_t> recvData_;
  mmsghdr recvMsgs_[kBatch];
  iovec recvIov_[kBatch];
  sockaddr_storage recvFrom_[kBatch];

  // Send batch: datagrams to one fd, sent together by flush().
  int outFd_ = -1;
  int outCount_ = 0;
  mmsghdr outMsgs_[kBatch];
  iovec outIov_[kBatch][3];
  sockaddr_storage outTo_[kBatch];
  uint8_t outHead_[kBatch][kIndicationHeader6];
  Out out_[kBatch];

  uint8_t tidBase_[8];
  uint32_t tidCounter_ = 0;
};

}  // namespace ferry
