#pragma once
// A documented venue limit such as OKX's "5 requests per 2 s": at most `limit` acquisitions in
// any window of `window` length ending now. Times come from Clock::steady_now(), so virtual
// time moves the window exactly.

#include <cstddef>
#include <deque>

#include "engine/core/clock.hpp"

namespace rfq::sim {

class SlidingWindow {
 public:
  SlidingWindow(std::size_t limit, Nanos window) : limit_(limit), window_(window) {}

  // Records a request at `now` and returns true, or returns false (recording nothing) when
  // `limit` requests already fall inside (now - window, now].
  bool try_acquire(SteadyTime now) {
    drop_expired(now);
    if (stamps_.size() >= limit_) return false;
    stamps_.push_back(now);
    return true;
  }

  std::size_t in_window(SteadyTime now) {
    drop_expired(now);
    return stamps_.size();
  }

 private:
  void drop_expired(SteadyTime now) {
    while (!stamps_.empty() && stamps_.front() + window_ <= now) stamps_.pop_front();
  }

  std::size_t limit_;
  Nanos window_;
  std::deque<SteadyTime> stamps_;
};

}  // namespace rfq::sim
