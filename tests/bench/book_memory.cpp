// make bench, last phase: the memory of 100,000 open RFQs in the engine's book (two legs, a
// client id and a label each, as OKX lists them), measured as the process's resident size
// before and after, and the time of one rfq.open-style query over them.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "engine/book/book.hpp"
#include "tests/bench/bench.hpp"

namespace rfq::bench {
namespace {

constexpr int kRfqs = 100'000;
constexpr std::int64_t kNowMs = 1'767'225'600'000;

// Resident set size in bytes, from /proc/self/statm (the second field, in pages).
long long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

Rfq make_rfq(int i) {
  Rfq r;
  r.venue = "okx";
  r.id = std::to_string(1'000'000'000 + i);
  r.client_id = "desk7rfq" + std::to_string(i);
  r.state = r.raw_state = "active";
  r.label = "desk7";
  r.created_ms = kNowMs - 1000;
  r.expires_ms = kNowMs + 60'000 + i * 10;  // spread over ~17 minutes
  r.legs = {{"BTC-USD-261225-100000-C", "buy", "25"}, {"BTC-USD-261225-110000-C", "sell", "25"}};
  r.confirmed = true;
  return r;
}

}  // namespace

void book_memory() {
  const long long before = resident_bytes();
  Book book;
  for (int i = 0; i < kRfqs; ++i) book.upsert(make_rfq(i));
  const long long after = resident_bytes();

  OpenQuery q;
  q.expiring_within_ms = 70'000;  // the first ~1,000 to expire
  const auto start = std::chrono::steady_clock::now();
  const auto due = book.open(q, kNowMs);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();

  std::printf("\nBook with %d open RFQs (2 legs, client id and label each)\n", kRfqs);
  std::printf("  resident memory %.1f MiB (%.0f bytes per RFQ); book size %zu\n",
              static_cast<double>(after - before) / (1 << 20),
              static_cast<double>(after - before) / kRfqs, book.size());
  std::printf("  open{ expiring_within_ms = 70000 }: %zu RFQs in %lld us\n", due.size(),
              static_cast<long long>(us));
}

}  // namespace rfq::bench
