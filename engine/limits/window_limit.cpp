#include "engine/limits/window_limit.hpp"

#include <algorithm>

namespace rfq {

SteadyTime WindowLimit::next_free(SteadyTime now) const {
  if (sent_.size() < count_) return now;
  return std::max(now, sent_.front() + window_);
}

std::size_t WindowLimit::remaining(SteadyTime now) const {
  std::size_t in_window = 0;
  for (auto t : sent_) in_window += (t + window_ > now) ? 1 : 0;
  return count_ - std::min(count_, in_window);
}

void WindowLimit::record(SteadyTime t) {
  sent_.push_back(t);
  while (sent_.size() > count_) sent_.pop_front();
}

}  // namespace rfq
