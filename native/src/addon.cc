// Node-API binding of the native data plane (plane.h): the DataPlane class of
// turn/native/addon.ts, and the queue that carries STUN requests from the relay threads up to
// the JS thread (one wake-up per burst, bounded in datagrams and bytes).
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <deque>
#include <napi.h>

#include "plane.h"

namespace ferry {
namespace {

/** Bytes of datagrams waiting for the JS thread, at most (with kUpQueueLimit datagrams). */
constexpr size_t kUpQueueBytes = 4 << 20;

struct UpItem {
  int thread;
  int group;
  sockaddr_storage from;
  std::vector<uint8_t> data;
};

/** Datagrams handed to JS per wake-up: a flood of requests yields to timers and I/O between batches. */
constexpr size_t kDrainBatch = 256;

class UpQueue : public UpSink {
 public:
  void setFunction(Napi::ThreadSafeFunction tsfn) { tsfn_ = tsfn; }

  // Called by the relay threads with their mutex held (lock order: worker, then this queue's).
  bool push(int thread, int group, const sockaddr_storage& from, const uint8_t* data, size_t length) override {
    std::lock_guard<std::mutex> hold(mu_);
    if (closed_ || items_.size() >= kUpQueueLimit || bytes_ + length > kUpQueueBytes) return false;
    items_.push_back({thread, group, from, std::vector<uint8_t>(data, data + length)});
    bytes_ += length;
    if (!scheduled_ && !wake()) {
      items_.pop_back();
      bytes_ -= length;
      return false;
    }
    return true;
  }

  /** On the JS thread: hands up to kDrainBatch queued datagrams to the engine's handler. */
  void drain(Napi::Env env, Napi::Function fn) {
    std::deque<UpItem> items;
    {
      std::lock_guard<std::mutex> hold(mu_);
      scheduled_ = false;
      const size_t n = items_.size() < kDrainBatch ? items_.size() : kDrainBatch;
      for (size_t i = 0; i < n; i++) {
        bytes_ -= items_.front().data.size();
        items.push_back(std::move(items_.front()));
        items_.pop_front();
      }
      // More waiting: another wake-up after this batch (the loop runs its timers and I/O between).
      if (!items_.empty() && !closed_ && !wake()) {
        items_.clear();
        bytes_ = 0;
      }
    }
    for (UpItem& it : items) {
      char text[INET6_ADDRSTRLEN] = {0};
      int port = 0;
      if (it.from.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&it.from);
        inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
        port = ntohs(a->sin_port);
      } else {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&it.from);
        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
        port = ntohs(a->sin6_port);
      }
      try {
        fn.Call({Napi::Number::New(env, it.thread), Napi::Number::New(env, it.group), Napi::String::New(env, text), Napi::Number::New(env, port),
                 Napi::Buffer<uint8_t>::Copy(env, it.data.data(), it.data.size())});
      } catch (const Napi::Error&) {
        // The engine's handler catches its own; nothing a client sends may stop the queue.
      }
    }
  }

  void close() {
    std::lock_guard<std::mutex> hold(mu_);
    closed_ = true;
    items_.clear();
    bytes_ = 0;
  }

 private:
  /** With mu_ held: asks the JS thread for a drain; false when the function is closing. */
  bool wake() {
    if (tsfn_.NonBlockingCall(this, [](Napi::Env env, Napi::Function fn, UpQueue* q) { q->drain(env, fn); }) != napi_ok) return false;
    scheduled_ = true;
    return true;
  }

  Napi::ThreadSafeFunction tsfn_;
  std::mutex mu_;
  std::deque<UpItem> items_;
  size_t bytes_ = 0;
  bool scheduled_ = false;
  bool closed_ = false;
};

/**
 * What the threads and the queue's wake-ups use, shared by the DataPlane object and its
 * ThreadSafeFunction: whichever ends first (stop or collection of the object; the function's
 * finalizer at environment teardown) stops the threads, and the last one frees it.
 */
struct Core {
  UpQueue queue;
  std::unique_ptr<Plane> plane;
  std::atomic<bool> finalized{false};
  std::mutex mu;
  bool stopped = false;

  void stop() {
    std::lock_guard<std::mutex> hold(mu);
    if (stopped) return;
    stopped = true;
    plane->stop();
    queue.close();
  }
};

Napi::Error errnoError(Napi::Env env, int err, const char* syscall) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + " " + strerror(err));
  const char* code = err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : err == EINVAL ? "EINVAL" : "EIO";
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

/** An address text of either family and a port (the engine's address strings). */
bool addressOf(const std::string& text, int port, sockaddr_storage& out, socklen_t& length) {
  return parseAddress(4, text.c_str(), port, out, length) || parseAddress(6, text.c_str(), port, out, length);
}

bool ipKeyOf(const Napi::Value& familyValue, const Napi::Value& ipValue, IpKey& k) {
  if (!familyValue.IsNumber() || !ipValue.IsBuffer()) return false;
  const int family = familyValue.As<Napi::Number>().Int32Value();
  auto ip = ipValue.As<Napi::Buffer<uint8_t>>();
  const size_t want = family == 4 ? 4 : family == 6 ? 16 : 0;
  if (want == 0 || ip.Length() != want) return false;
  k.family = static_cast<uint8_t>(family);
  std::memcpy(k.ip, ip.Data(), want);
  return true;
}

class DataPlane : public Napi::ObjectWrap<DataPlane> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DataPlane",
                       {InstanceAccessor<&DataPlane::Threads>("threads"), InstanceMethod<&DataPlane::Listen>("listen"),
                        InstanceMethod<&DataPlane::LocalPort>("localPort"), InstanceMethod<&DataPlane::Start>("start"),
                        InstanceMethod<&DataPlane::Stop>("stop"), InstanceMethod<&DataPlane::Send>("send"),
                        InstanceMethod<&DataPlane::BindRelay>("bindRelay"), InstanceMethod<&DataPlane::CloseRelay>("closeRelay"),
                        InstanceMethod<&DataPlane::PortTableView>("portTable"), InstanceMethod<&DataPlane::Open>("open"),
                        InstanceMethod<&DataPlane::Close>("close"), InstanceMethod<&DataPlane::Permission>("permission"),
                        InstanceMethod<&DataPlane::RemovePermission>("removePermission"), InstanceMethod<&DataPlane::Channel>("channel"),
                        InstanceMethod<&DataPlane::RemoveChannel>("removeChannel"), InstanceMethod<&DataPlane::SetClock>("setClock"),
                        InstanceMethod<&DataPlane::SetCaps>("setCaps"), InstanceMethod<&DataPlane::SetAccountRate>("setAccountRate"),
                        InstanceMethod<&DataPlane::Snapshot>("snapshot"), InstanceMethod<&DataPlane::Stats>("stats")});
  }

  DataPlane(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DataPlane>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) throw Napi::TypeError::New(env, "DataPlane(threads, onStun)");
    const int threads = info[0].As<Napi::Number>().Int32Value();
    if (threads < 1 || threads > 1024) throw Napi::RangeError::New(env, "threads must be 1..1024");
    core_ = std::make_shared<Core>();
    core_->plane = std::make_unique<Plane>(threads, &core_->queue);
    auto* held = new std::shared_ptr<Core>(core_);
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "ferry-data-plane", 0, 1, held, [](Napi::Env, std::shared_ptr<Core>* c) {
      (*c)->finalized.store(true);
      (*c)->stop();
      delete c;
    });
    core_->queue.setFunction(tsfn_);
    tsfn_.Unref(env);
  }

  ~DataPlane() override { shutdown(); }

 private:
  void shutdown() {
    if (released_) return;
    released_ = true;
    core_->stop();
    if (!core_->finalized.load()) tsfn_.Release();
  }

  Plane& plane(Napi::Env env) {
    if (released_ || core_->stopped) throw Napi::Error::New(env, "the data plane is stopped");
    return *core_->plane;
  }

  static int int32(const Napi::CallbackInfo& info, size_t i) {
    if (i >= info.Length() || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a number");
    return info[i].As<Napi::Number>().Int32Value();
  }
  static double number(const Napi::CallbackInfo& info, size_t i) {
    if (i >= info.Length() || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a number");
    return info[i].As<Napi::Number>().DoubleValue();
  }
  static std::string text(const Napi::CallbackInfo& info, size_t i) {
    if (i >= info.Length() || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), "expected a string");
    return info[i].As<Napi::String>().Utf8Value();
  }

  Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), plane(info.Env()).threads()); }

  Napi::Value Listen(const Napi::CallbackInfo& info) {
    const int r = plane(info.Env()).listen(int32(info, 0), text(info, 1).c_str(), int32(info, 2));
    if (r < 0) throw errnoError(info.Env(), -r, "bind");
    return Napi::Number::New(info.Env(), r);
  }

  Napi::Value LocalPort(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), plane(info.Env()).localPort(int32(info, 0))); }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    const int r = plane(info.Env()).start();
    if (r < 0) throw errnoError(info.Env(), -r, "start");
    // Served sockets keep the process alive, as dgram's do.
    if (!core_->finalized.load()) tsfn_.Ref(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    shutdown();
    tables_.clear();
    return info.Env().Undefined();
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    sockaddr_storage to;
    socklen_t length;
    if (!addressOf(text(info, 2), int32(info, 3), to, length) || info.Length() < 5 || !info[4].IsBuffer()) return Napi::Boolean::New(info.Env(), false);
    auto data = info[4].As<Napi::Buffer<uint8_t>>();
    return Napi::Boolean::New(info.Env(), plane(info.Env()).send(int32(info, 0), int32(info, 1), to, length, data.Data(), data.Length()));
  }

  Napi::Value BindRelay(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Plane::bindRelay(int32(info, 0), text(info, 1).c_str(), int32(info, 2)));
  }

  Napi::Value CloseRelay(const Napi::CallbackInfo& info) {
    const int fd = int32(info, 0);
    if (fd >= 0) ::close(fd);
    return info.Env().Undefined();
  }

  Napi::Value PortTableView(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Uint8Array table = Napi::Uint8Array::New(env, 65536);
    int index = 0;
    plane(env).addPortTable(table.Data(), &index);
    // The table's memory stays where it is while referenced: the plane reads it from its threads.
    tables_.push_back(Napi::Persistent(table));
    Napi::Object out = Napi::Object::New(env);
    out.Set("index", Napi::Number::New(env, index));
    out.Set("table", table);
    return out;
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    sockaddr_storage client;
    socklen_t length;
    if (!addressOf(text(info, 2), int32(info, 3), client, length)) throw Napi::TypeError::New(info.Env(), "bad client address");
    return Napi::Number::New(info.Env(), plane(info.Env()).open(int32(info, 0), int32(info, 1), client, length, int32(info, 4), int32(info, 5)));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (info.Length() < 2 || !info[1].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "close(slot, Float64Array)");
    auto out = info[1].As<Napi::Float64Array>();
    if (out.ElementLength() < static_cast<size_t>(kCounterCount)) throw Napi::RangeError::New(info.Env(), "counters array too short");
    return Napi::Boolean::New(info.Env(), plane(info.Env()).close(static_cast<uint32_t>(int32(info, 0)), out.Data()));
  }

  Napi::Value Permission(const Napi::CallbackInfo& info) {
    IpKey k;
    if (info.Length() < 5 || !ipKeyOf(info[1], info[2], k)) throw Napi::TypeError::New(info.Env(), "bad peer address");
    return Napi::Boolean::New(info.Env(), plane(info.Env()).permission(static_cast<uint32_t>(int32(info, 0)), k, number(info, 3), int32(info, 4)));
  }

  Napi::Value RemovePermission(const Napi::CallbackInfo& info) {
    IpKey k;
    if (info.Length() < 3 || !ipKeyOf(info[1], info[2], k)) throw Napi::TypeError::New(info.Env(), "bad peer address");
    return Napi::Boolean::New(info.Env(), plane(info.Env()).removePermission(static_cast<uint32_t>(int32(info, 0)), k));
  }

  Napi::Value Channel(const Napi::CallbackInfo& info) {
    PeerKey p;
    if (info.Length() < 6 || !ipKeyOf(info[2], info[3], p.ip)) throw Napi::TypeError::New(info.Env(), "bad peer address");
    const int channelNumber = int32(info, 1);
    const int port = int32(info, 4);
    if (channelNumber < 0x4000 || channelNumber > 0x7fff || port < 1 || port > 65535) throw Napi::RangeError::New(info.Env(), "bad channel or port");
    p.port = static_cast<uint16_t>(port);
    return Napi::Boolean::New(info.Env(),
                              plane(info.Env()).channel(static_cast<uint32_t>(int32(info, 0)), static_cast<uint16_t>(channelNumber), p, number(info, 5)));
  }

  Napi::Value RemoveChannel(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), plane(info.Env()).removeChannel(static_cast<uint32_t>(int32(info, 0)), static_cast<uint16_t>(int32(info, 1))));
  }

  Napi::Value SetClock(const Napi::CallbackInfo& info) {
    plane(info.Env()).setClock(number(info, 0), info.Length() < 2 || info[1].ToBoolean().Value());
    return info.Env().Undefined();
  }

  Napi::Value SetCaps(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), plane(info.Env()).setCaps(static_cast<uint32_t>(int32(info, 0)), number(info, 1), int32(info, 2)));
  }

  Napi::Value SetAccountRate(const Napi::CallbackInfo& info) {
    plane(info.Env()).setAccountRate(int32(info, 0), number(info, 1));
    return info.Env().Undefined();
  }

  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "snapshot(Float64Array)");
    auto out = info[0].As<Napi::Float64Array>();
    return Napi::Number::New(info.Env(), static_cast<double>(plane(info.Env()).snapshot(out.Data(), out.ElementLength())));
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const PlaneStats s = plane(env).stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("up", Napi::Number::New(env, static_cast<double>(s.up)));
    o.Set("upDropped", Napi::Number::New(env, static_cast<double>(s.upDropped)));
    o.Set("noAllocation", Napi::Number::New(env, static_cast<double>(s.noAllocation)));
    o.Set("malformed", Napi::Number::New(env, static_cast<double>(s.malformed)));
    o.Set("relayOnlyDropped", Napi::Number::New(env, static_cast<double>(s.relayOnlyDropped)));
    return o;
  }

  Napi::ThreadSafeFunction tsfn_;
  std::shared_ptr<Core> core_;
  bool released_ = false;
  std::vector<Napi::Reference<Napi::Uint8Array>> tables_;
};

}  // namespace
}  // namespace ferry

static Napi::Object InitFerryNative(Napi::Env env, Napi::Object exports) {
  exports.Set("DataPlane", ferry::DataPlane::Define(env));
  return exports;
}

NODE_API_MODULE(ferry_native, InitFerryNative)
