#include "engine/limits/lane.hpp"

#include <algorithm>
#include <vector>

#include "engine/core/error.hpp"

namespace rfq {

Lane::Lane(Clock& clock, std::string name, WindowLimit limit)
    : clock_(clock), name_(std::move(name)), limit_(limit) {}

SteadyTime Lane::project_slot(SteadyTime now) const {
  SteadyTime slot = std::max(now, closed_until_);
  const auto& sent = limit_.history();
  const std::size_t total = sent.size() + projected_.size();
  if (total >= limit_.count()) {
    // The request count() places back in (past sends + projected sends) bounds this one.
    const std::size_t i = total - limit_.count();
    const SteadyTime base = i < sent.size() ? sent[i] : projected_[i - sent.size()];
    slot = std::max(slot, base + limit_.window());
  }
  return slot;
}

void Lane::submit(SteadyTime deadline, Release release, bool urgent) {
  if (urgent && !queue_.empty()) {
    // Goes behind earlier urgent items, ahead of every normal one; projections move.
    auto pos = queue_.begin();
    while (pos != queue_.end() && pos->urgent) ++pos;
    queue_.insert(pos, Item{deadline, std::move(release), true});
    timer_.cancel();
    reproject();
    pump();
    return;
  }
  const SteadyTime slot = project_slot(clock_.steady_now());
  if (slot > deadline) {
    ++expired_;
    release(make_error_code(Errc::rate_limited));
    return;
  }
  queue_.push_back({deadline, std::move(release), urgent});
  projected_.push_back(slot);
  if (queue_.size() == 1) pump();
}

// After a back-off every projection moves: recompute them in order and fail those that can no
// longer make their deadline (each failure frees its slot for the ones behind it).
void Lane::reproject() {
  const auto now = clock_.steady_now();
  projected_.clear();
  std::vector<Release> failed;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const SteadyTime slot = project_slot(now);
    if (slot > it->deadline) {
      failed.push_back(std::move(it->release));
      it = queue_.erase(it);
      continue;
    }
    projected_.push_back(slot);
    ++it;
  }
  expired_ += failed.size();
  for (auto& release : failed) release(make_error_code(Errc::rate_limited));
}

void Lane::back_off(Nanos d) {
  closed_until_ = std::max(closed_until_, clock_.steady_now() + d);
  timer_.cancel();
  reproject();
  if (!queue_.empty()) pump();
}

void Lane::fail_all(boost::system::error_code ec) {
  timer_.cancel();
  auto items = std::move(queue_);
  queue_.clear();
  projected_.clear();
  for (auto& item : items) item.release(ec);
}

std::size_t Lane::remaining() const {
  auto now = clock_.steady_now();
  return now < closed_until_ ? 0 : limit_.remaining(now);
}

void Lane::pump() {
  timer_.cancel();
  while (!queue_.empty()) {
    const auto now = clock_.steady_now();
    const auto slot = std::max(limit_.next_free(now), closed_until_);
    Item& front = queue_.front();
    if (slot > front.deadline) {
      // Its turn comes too late: fail now rather than send a request nobody waits for.
      auto release = std::move(front.release);
      queue_.pop_front();
      projected_.pop_front();
      ++expired_;
      release(make_error_code(Errc::rate_limited));
      continue;
    }
    if (slot > now) {
      timer_ = clock_.schedule_at(slot, [this] { pump(); });
      return;
    }
    limit_.record(now);
    ++sent_;
    auto release = std::move(front.release);
    queue_.pop_front();
    projected_.pop_front();
    release({});
  }
}

}  // namespace rfq
