#include "engine/limits/lane.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/core/error.hpp"

namespace rfq {

Lane::Lane(Clock& clock, std::string name, WindowLimit limit, std::size_t reserve)
    : clock_(clock), name_(std::move(name)), limit_(limit), reserve_(reserve) {
  if (reserve_ >= limit_.count()) {
    throw std::invalid_argument("lane " + name_ + ": reserve " + std::to_string(reserve_) +
                                " must be below the limit count " + std::to_string(limit_.count()));
  }
}

SteadyTime Lane::slot_after(SteadyTime now, bool urgent, std::size_t ahead) const {
  SteadyTime slot = std::max(now, closed_until_);
  // A normal request sees a window of count - reserve slots, filled by every send.
  const std::size_t cap = urgent ? limit_.count() : limit_.count() - reserve_;
  const auto& sent = limit_.history();
  const std::size_t total = sent.size() + ahead;
  if (total >= cap) {
    // The request cap places back in (past sends + projected sends) bounds this one.
    const std::size_t i = total - cap;
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
  const SteadyTime slot = project_slot(clock_.steady_now(), urgent);
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
    const SteadyTime slot = project_slot(now, it->urgent);
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

std::size_t Lane::remaining_normal() const {
  const std::size_t all = remaining();
  return all > reserve_ ? all - reserve_ : 0;
}

void Lane::pump() {
  timer_.cancel();
  while (!queue_.empty()) {
    const auto now = clock_.steady_now();
    Item& front = queue_.front();
    const auto slot = slot_after(now, front.urgent, 0);
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
