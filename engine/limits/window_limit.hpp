#pragma once
// A documented venue limit of the form "N requests per W" (OKX: cancel-rfq 5 / 2 s), kept as a
// sliding window over our own send times. Venues construct it with W plus a margin so that
// arrival jitter on the venue's side cannot make two windows overlap there.

#include <cstddef>
#include <deque>

#include "engine/core/clock.hpp"

namespace rfq {

class WindowLimit {
 public:
  WindowLimit(std::size_t count, Nanos window) : count_(count), window_(window) {}

  // Earliest time at which one more request may be sent.
  SteadyTime next_free(SteadyTime now) const;
  // Requests that may still be sent at `now` before the window is full.
  std::size_t remaining(SteadyTime now) const;
  void record(SteadyTime t);

  std::size_t count() const { return count_; }
  Nanos window() const { return window_; }
  // The last count() send times, oldest first.
  const std::deque<SteadyTime>& history() const { return sent_; }

 private:
  std::size_t count_;
  Nanos window_;
  std::deque<SteadyTime> sent_;  // the last `count_` send times, oldest first
};

}  // namespace rfq
