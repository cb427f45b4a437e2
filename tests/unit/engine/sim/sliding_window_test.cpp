// SlidingWindow: the "N requests per window" rule OKX documents, in steady time.

#include "engine/sim/sliding_window.hpp"

#include <catch2/catch.hpp>

using rfq::SteadyTime;
using rfq::sim::SlidingWindow;
using std::chrono::milliseconds;

TEST_CASE("sliding window: at most limit acquisitions in any window", "[sim][limits]") {
  SlidingWindow window(2, milliseconds(2000));
  const SteadyTime t0{};
  CHECK(window.try_acquire(t0));
  CHECK(window.try_acquire(t0 + milliseconds(500)));
  CHECK_FALSE(window.try_acquire(t0 + milliseconds(1999)));
  CHECK(window.in_window(t0 + milliseconds(1999)) == 2);
  // The first stamp leaves exactly one window after it was taken.
  CHECK(window.try_acquire(t0 + milliseconds(2000)));
  CHECK_FALSE(window.try_acquire(t0 + milliseconds(2499)));
  CHECK(window.try_acquire(t0 + milliseconds(2500)));
  CHECK(window.in_window(t0 + milliseconds(10000)) == 0);
}
