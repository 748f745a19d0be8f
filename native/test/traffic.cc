// The sanitizer harness's traffic (live.h): random, mutated and valid datagrams from clients and
// peers, the check of what clients get, and the control calls made while the threads relay.
#include <algorithm>
#include <cmath>

#include "sockets.h"

namespace fuzz {

using namespace ferry;

PeerKey LiveRun::randomTarget() {
  if (r_.chance(75)) return peerKeys_[r_.below(peerKeys_.size())];
  const bool v6 = r_.chance(40);
  return makeAddr(v6 ? 6 : 4, v6 ? kNowhere6 : kNowhere4, static_cast<uint16_t>(1 + r_.below(65535))).key;
}

// What would be relayed goes only to the harness's own peer sockets: never to another process's
// port on this shared machine, nor off it (a mutated address or port would). A Send indication
// the parser takes goes out only when it names one of the peers or an address no permission ever
// names (kNowhere4, kNowhere6); others are withheld.
bool LiveRun::safeToSend(const Bytes& b) const {
  SendFields sf;
  if (b.size() < 20 || !parseSendIndication(b.data(), b.size(), sf)) return true;
  const size_t ipLength = sf.family == 6 ? 16 : 4;
  for (const PeerKey& k : peerKeys_) {
    if (k.port == sf.port && k.ip.family == sf.family && std::memcmp(k.ip.ip, sf.ip, ipLength) == 0) return true;
  }
  return std::memcmp(sf.ip, sf.family == 6 ? kNowhere6 : kNowhere4, ipLength) == 0;
}

void LiveRun::clientDatagram() {
  Client& c = clients_[r_.below(clients_.size())];
  const bool v6 = c.group == groups_[1];
  const size_t maxUdp = v6 ? kMaxUdpPayload6 : kMaxUdpPayload4;
  Bytes b;
  const uint32_t kind = r_.below(20);
  if (kind < 5) {
    const size_t n = std::min(payloadSize(r_, maxUdp), maxUdp - 4);
    b = channelData(r_.chance(90) ? 0x4000 + r_.below(4) : 0x7ffe, n, static_cast<uint32_t>(n), r_);
  } else if (kind == 5) {
    const size_t n = r_.below(300);
    b = channelData(0x4000 + r_.below(4), n, static_cast<uint32_t>(r_.chance(50) ? n + 1 + r_.below(100) : r_.below(n + 1)), r_);
  } else if (kind == 6) {
    b = channelData(static_cast<uint16_t>(0x4000 + r_.below(0xc000)), r_.below(64), r_.below(65536), r_);
  } else if (kind < 10) {
    Bytes data(std::min(payloadSize(r_, maxUdp), maxUdp - 64));
    r_.fill(data.data(), data.size());
    b = sendIndication(randomTarget(), data.data(), data.size(), r_.chance(30), r_);
    if (r_.chance(10)) put32(b, b.size() - 4, r_.below(1u << 31));  // a FINGERPRINT (or DATA) gone wrong
  } else if (kind < 13) {
    b = randomSend(r_, peerKeys_);
  } else if (kind == 13) {
    Bytes data(r_.below(200));
    r_.fill(data.data(), data.size());
    b = sendIndication(randomTarget(), data.data(), data.size(), r_.chance(30), r_);
    mutate(b, r_);
  } else if (kind < 16) {
    b = stunLike(r_);
  } else if (kind < 18) {
    b.resize(1 + r_.below(1500));
    r_.fill(b.data(), b.size());
  } else if (kind == 18) {
    b.clear();
  } else {
    b.resize(r_.below(8));
    r_.fill(b.data(), b.size());
    if (!b.empty()) b[0] = static_cast<uint8_t>(0x40 + r_.below(0x40));
  }
  if (!safeToSend(b)) {
    figures.withheld++;
    return;
  }
  if (sendTo(c.sock.fd, b, listen_[v6 ? 1 : 0])) figures.clientSent++;
}

void LiveRun::peerDatagram() {
  Sock& p = peers_[r_.below(peers_.size())];
  const int f = p.addr.key.ip.family == 6 ? 1 : 0;
  for (int attempt = 0; attempt < 8; attempt++) {
    Client& c = clients_[r_.below(clients_.size())];
    if (c.slot < 0 || c.relay[f] < 0) continue;
    Bytes b(r_.chance(2) ? 0 : payloadSize(r_, f ? kMaxUdpPayload6 : kMaxUdpPayload4));
    r_.fill(b.data(), b.size());
    if (sendTo(p.fd, b, c.relayAddr[f])) figures.peerSent++;
    return;
  }
}

// What a client gets is a ChannelData, a Data indication from one of the peers, or the harness's
// own marker: anything else is a relay sending what it must not.
void LiveRun::checkToClient(const uint8_t* p, size_t n) {
  if (n >= 4 && p[0] >= 0x40 && p[0] < 0x80) {
    check(get16(p + 2) + 4u == n && n > 4, "a ChannelData to a client carries its payload exactly");
    figures.clientReceived++;
    return;
  }
  if (n >= 20 && get16(p) == kDataIndication) {
    Bytes copy(p, p + n);
    copy[1] = 0x16;
    SendFields sf;
    const bool ok = parseSendIndication(copy.data(), n, sf);
    check(ok && sf.dataLength > 0, "a Data indication to a client is well formed");
    bool known = false;
    for (const PeerKey& k : peerKeys_) known = known || (ok && k.port == sf.port && std::memcmp(k.ip.ip, sf.ip, sf.family == 6 ? 16 : 4) == 0);
    check(known, "a Data indication names the peer that sent it");
    figures.clientReceived++;
    return;
  }
  if (n == sizeof kMarker && std::memcmp(p, kMarker, n) == 0) {
    markersReceived_++;
    return;
  }
  check(false, "a client got a datagram no relay sends");
}

// Changes the tables under the running threads, as the engine's JS thread does.
void LiveRun::control() {
  figures.controlCalls++;
  Client& c = clients_[r_.below(clients_.size())];
  const uint32_t slot = static_cast<uint32_t>(c.slot);
  const bool open = c.slot >= 0;
  // Permissions name loopback addresses only (127.0.0.5 is one no datagram is sent to).
  const IpKey ip = r_.chance(45) ? makeAddr(4, kLo4, 0).key.ip : r_.chance(70) ? makeAddr(6, kLo6, 0).key.ip : makeAddr(4, kLo4Unused, 0).key.ip;
  static const double kRates[] = {0, 1000, 20000, 1e6, 1e9};
  switch (r_.below(12)) {
    case 0:
      check(plane_->permission(slot, ip, expiry(), r_.chance(30) ? table_ : r_.chance(10) ? 999 : -1) == open, "permission: true for an open slot only");
      break;
    case 1:
      check(plane_->removePermission(slot, ip) == open, "removePermission: true for an open slot only");
      break;
    case 2: {
      const uint16_t number = r_.chance(90) ? static_cast<uint16_t>(0x4000 + r_.below(4)) : 0x7ffe;
      check(plane_->channel(slot, number, peerKeys_[r_.below(peerKeys_.size())], expiry()) == open, "channel: true for an open slot only");
      break;
    }
    case 3:
      check(plane_->removeChannel(slot, static_cast<uint16_t>(0x4000 + r_.below(6))) == open, "removeChannel: true for an open slot only");
      break;
    case 4:
      check(plane_->setCaps(slot, kRates[r_.below(5)], static_cast<int>(r_.below(4)) - 1) == open, "setCaps: true for an open slot only");
      break;
    case 5:
      plane_->setAccountRate(static_cast<int>(r_.below(4)) - 1, r_.chance(5) ? std::nan("") : kRates[r_.below(4)]);
      break;
    case 6: {
      // Mostly the real clock; now and then a fixed one past every expiry, or one gone back.
      const double elapsed = static_cast<double>(monotonicMs() % 1000000);
      const uint32_t which = r_.below(10);
      if (which == 0) plane_->setClock(live_ + 1, false);
      else if (which == 1) plane_->setClock(clock0_ - 5000, false);
      else plane_->setClock(clock0_ + elapsed, r_.chance(80));
      break;
    }
    case 7:
      snapshotCheck();
      break;
    case 8:
      if (open) {
        // Closed and opened again at once: the id is reused, the threads' old events are stale.
        closeSlot(c);
        openSlot(c);
        figures.reopened++;
        check(c.slot == static_cast<int>(slot), "a reopened slot reuses the freed id");
      } else if (c.thread >= 0) {
        openSlot(c);
      }
      break;
    case 9: {
      double out[kCounterCount];
      check(!plane_->close(0x7fffffff, out) && !plane_->close(1u << 20, out), "close of an unknown slot is false");
      check(!plane_->permission(1u << 20, ip, live_, -1) && !plane_->setCaps(slot, -1, -1), "calls on unknown slots or with bad rates are false");
      break;
    }
    case 10:
      if (c.thread >= 0) {
        const Bytes marker(kMarker, kMarker + sizeof kMarker);
        if (plane_->send(c.thread, c.group, c.sock.addr.sa, c.sock.addr.len, marker.data(), marker.size())) markers_++;
      }
      check(!plane_->send(5, 0, c.sock.addr.sa, c.sock.addr.len, kMarker, sizeof kMarker), "send on an unknown thread is false");
      break;
    default:
      if (open) {
        // The slot's clean state again, so its traffic flows as much as it is dropped.
        plane_->permission(slot, makeAddr(4, kLo4, 0).key.ip, live_, -1);
        plane_->setClock(clock0_ + static_cast<double>(monotonicMs() % 1000000), true);
      }
      break;
  }
}

}  // namespace fuzz
