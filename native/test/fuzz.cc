// The sanitizer harness of the native data plane (issue 12). Built with AddressSanitizer and
// UndefinedBehaviorSanitizer by test/system/native/sanitizer.test.ts, it
//  1. calls the parsers (packet.h) on random and mutated buffers of every length 0..600, each
//     allocated to its exact length so a read one byte past the end stops the run, and checks the
//     Data indication header writer by parsing what it wrote;
//  2. drives the real Plane with two relay threads over loopback UDP: clients with and without
//     slots and peers on IPv4 and IPv6 send random, mutated and valid datagrams while the main
//     thread changes permissions, channels, caps, the clock and the slots under them.
// Over-reads, over-writes, undefined behaviour and leaks (LeakSanitizer, after every slot closed
// and the plane is gone) end the run with the sanitizer's report; broken invariants with exit 1.
// Prints one JSON line of what it did.
//
// Usage: fuzz [seed] [rounds]
#include <errno.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "live.h"

using namespace fuzz;
using namespace ferry;

namespace {

/** Part 1: the pure functions on exact-length buffers. Returns the number of calls made. */
uint64_t pureFuzz(Rng& r, int perLength, const std::vector<PeerKey>& peers) {
  uint64_t calls = 0;
  const auto parse = [&](const Bytes& src) {
    // A heap block of exactly the datagram's length: ASan's redzone starts at its end.
    std::unique_ptr<uint8_t[]> p(new uint8_t[src.size()]);
    if (!src.empty()) std::memcpy(p.get(), src.data(), src.size());
    const size_t n = src.size();
    const ClientKind kind = classify(p.get(), n);
    check(n >= 4 || kind == ClientKind::Drop, "classify drops what is shorter than 4 bytes");
    check(n < 4 || (p[0] >= 0x80) == (kind == ClientKind::Drop), "classify drops what starts with bit 0 set");
    check(n < 4 || (p[0] >= 0x40 && p[0] < 0x80) == (kind == ClientKind::ChannelData), "classify knows ChannelData by 01");
    // Every buffer, whatever its type bytes: the worker asks only after classify, but the parser
    // must hold on its own.
    SendFields sf;
    if (parseSendIndication(p.get(), n, sf)) {
      check(sf.family == 4 || sf.family == 6, "a parsed peer is IPv4 or IPv6");
      check(sf.port != 0, "a parsed peer has a port");
      check(sf.dataAt >= 24 && sf.dataAt + sf.dataLength <= n, "a parsed DATA lies inside the datagram");
    }
    calls += 2;
  };
  for (size_t length = 0; length <= 600; length++) {
    for (int k = 0; k < perLength; k++) {
      Bytes b;
      if (r.chance(30)) {
        b.resize(length);
        r.fill(b.data(), length);
        if (length >= 2 && r.chance(50)) b[0] = 0, b[1] = 0x16;
      } else {
        b = randomSend(r, peers);
        b.resize(length, r.byte());
      }
      // A header length that matches: the parser walks the attributes.
      if (length >= 20 && r.chance(70)) put16(b, 2, static_cast<uint32_t>(length - 20));
      parse(b);
    }
  }
  // Structured ones at their own lengths (where a zero-length last attribute ends the datagram).
  for (int k = 0; k < perLength * 200; k++) parse(randomSend(r, peers));

  // The Data indication header writer: into a buffer of the 48 bytes it may use, then read back.
  const uint8_t tid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const size_t extra[] = {kMaxIndicationPayload4, kMaxIndicationPayload4 + 1, kMaxIndicationPayload6, kMaxIndicationPayload6 + 1};
  for (size_t i = 0; i < 601 + 4; i++) {
    const size_t length = i <= 600 ? i : extra[i - 601];
    const PeerKey& peer = peers[r.below(static_cast<uint32_t>(peers.size()))];
    std::unique_ptr<uint8_t[]> head(new uint8_t[kIndicationHeader6]);
    const size_t h = writeDataIndicationHeader(head.get(), peer.ip.family, peer.ip.ip, peer.port, length, tid, static_cast<uint32_t>(i));
    calls++;
    const size_t max = peer.ip.family == 6 ? kMaxIndicationPayload6 : kMaxIndicationPayload4;
    if (length > max) {
      check(h == 0, "a payload too big to frame gets no header");
      continue;
    }
    check(h == (peer.ip.family == 6 ? kIndicationHeader6 : kIndicationHeader4), "the header has its length");
    if (h == 0) continue;
    Bytes msg(head.get(), head.get() + h);
    msg.resize(h + ((length + 3) & ~static_cast<size_t>(3)), 0);
    for (size_t j = 0; j < length; j++) msg[h + j] = static_cast<uint8_t>(j * 7);
    check(get16(msg.data()) == kDataIndication && get16(msg.data() + 2) + 20u == msg.size(), "the header frames the message");
    msg[1] = 0x16;  // read it back with the Send indication parser: the same attributes
    SendFields sf;
    const bool ok = parseSendIndication(msg.data(), msg.size(), sf);
    calls++;
    check(ok && sf.port == peer.port && sf.family == peer.ip.family && std::memcmp(sf.ip, peer.ip.ip, peer.ip.family == 6 ? 16 : 4) == 0,
          "a written header names its peer");
    check(ok && sf.dataAt == h && sf.dataLength == length, "a written header frames its payload");
  }
  const uint8_t digits[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  check(crc32(digits, 9) == 0xCBF43926u, "CRC-32 of \"123456789\" is CBF43926");
  return calls;
}

uint64_t seedFrom(int argc, char** argv) {
  if (argc > 1) return std::strtoull(argv[1], nullptr, 0);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ static_cast<uint64_t>(getpid());
}

}  // namespace

int main(int argc, char** argv) {
  // A hang is a failure too, in bounded time.
  alarm(120);
  const uint64_t seed = seedFrom(argc, argv);
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 2500;
  std::fprintf(stderr, "fuzz: seed %" PRIu64 ", rounds %d\n", seed, rounds);
  const auto started = std::chrono::steady_clock::now();
  Rng r{seed};

  const uint8_t lo4[4] = {127, 0, 0, 1};
  uint8_t lo6[16] = {};
  lo6[15] = 1;
  std::vector<PeerKey> samplePeers = {makeAddr(4, lo4, 3478).key, makeAddr(6, lo6, 40000).key};
  const uint64_t pureCalls = pureFuzz(r, 400, samplePeers);

  LiveRun live(r);
  live.run(rounds);
  live.finish();
  stopWithSlotsOpen(r);

  const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  const LiveFigures& f = live.figures;
  std::printf(
      "{\"seed\":%" PRIu64 ",\"pure_calls\":%" PRIu64 ",\"rounds\":%d,\"ipv6\":%s,\"datagrams_sent\":%" PRIu64 ",\"client_datagrams\":%" PRIu64
      ",\"peer_datagrams\":%" PRIu64 ",\"relayed_to_peer\":%" PRIu64 ",\"relayed_to_client\":%" PRIu64 ",\"peer_received\":%" PRIu64
      ",\"client_received\":%" PRIu64 ",\"up\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"no_allocation\":%" PRIu64 ",\"relay_only_dropped\":%" PRIu64
      ",\"capped\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"withheld\":%" PRIu64 ",\"control_calls\":%" PRIu64 ",\"reopened\":%" PRIu64 ",\"failures\":%d,\"ms\":%lld}\n",
      seed, pureCalls, rounds, f.ipv6 ? "true" : "false", f.clientSent + f.peerSent, f.clientSent, f.peerSent, f.toPeer, f.toClient, f.peerReceived,
      f.clientReceived, f.up, f.malformed, f.noAllocation, f.relayOnlyDropped, f.capped, f.dropped, f.withheld, f.controlCalls, f.reopened, failures, ms);
  return failures == 0 ? 0 : 1;
}
