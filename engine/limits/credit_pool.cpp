#include "engine/limits/credit_pool.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "engine/core/error.hpp"

namespace rfq {

namespace {

// a / b rounded up, for a >= 0 and b > 0, without computing a + b - 1 (which may overflow).
std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

void refuse_all(std::vector<CreditPool::Release> releases) {
  for (auto& release : releases) release(make_error_code(Errc::rate_limited));
}

}  // namespace

CreditPool::CreditPool(Clock& clock, std::string name, std::int64_t capacity,
                       std::int64_t refill_per_s, std::int64_t reserve)
    : clock_(clock),
      name_(std::move(name)),
      capacity_(capacity),
      refill_per_s_(refill_per_s),
      reserve_(reserve) {
  const std::string what = "credit pool " + name_ + ": ";
  if (capacity_ <= 0 || capacity_ > kMaxCapacity) {
    throw std::invalid_argument(what + "capacity " + std::to_string(capacity_) + " must be in 1.." +
                                std::to_string(kMaxCapacity));
  }
  if (refill_per_s_ <= 0) {
    throw std::invalid_argument(what + "refill " + std::to_string(refill_per_s_) +
                                " credits/s must be positive");
  }
  if (reserve_ < 0 || reserve_ >= capacity_) {
    throw std::invalid_argument(what + "reserve " + std::to_string(reserve_) + " must be in 0.." +
                                std::to_string(capacity_ - 1));
  }
  pool_ = {clock_.steady_now(), capacity_ * kNanoPerCredit};
}

// min(full, level + refill * dt), without forming refill * dt when it would pass `missing`
// (and so possibly overflow): dt >= ceil(missing / refill) is exactly "full by then".
std::int64_t CreditPool::level_at(const Snapshot& s, SteadyTime t) const {
  const std::int64_t full = capacity_ * kNanoPerCredit;
  if (t <= s.at) return s.level;
  const std::int64_t missing = full - s.level;
  if (missing <= 0) return full;
  const std::int64_t dt = (t - s.at).count();
  if (dt >= ceil_div(missing, refill_per_s_)) return full;
  return s.level + refill_per_s_ * dt;
}

SteadyTime CreditPool::ready_at(const Snapshot& s, std::int64_t need) const {
  if (s.level >= need) return s.at;
  // need <= full, so the level gets there before the cap matters.
  const Nanos wait{ceil_div(need - s.level, refill_per_s_)};
  // Saturate: a small pool refilling slowly may be centuries away from a large cost.
  if (wait >= SteadyTime::max() - s.at) return SteadyTime::max();
  return s.at + wait;
}

std::int64_t CreditPool::need_of(std::int64_t cost, bool urgent) const {
  return (cost + (urgent ? 0 : reserve_)) * kNanoPerCredit;
}

CreditPool::Step CreditPool::project(const Snapshot& s, const Item& item) const {
  const SteadyTime at = ready_at(s, need_of(item.cost, item.urgent));
  return {at, {at, level_at(s, at) - item.cost * kNanoPerCredit}};
}

void CreditPool::submit(std::int64_t cost, SteadyTime deadline, Release release, bool urgent) {
  if (cost < 0) {
    throw std::invalid_argument("credit pool " + name_ + ": cost " + std::to_string(cost) +
                                " must not be negative");
  }
  if (cost > capacity_ - (urgent ? 0 : reserve_)) {
    // The pool never holds that much for this kind: no deadline is far enough.
    ++expired_;
    release(make_error_code(Errc::rate_limited));
    return;
  }
  Item item{cost, deadline, std::move(release), urgent, {}};
  auto pos = queue_.end();
  if (urgent) {
    pos = queue_.begin();
    while (pos != queue_.end() && pos->urgent) ++pos;
  }
  if (pos == queue_.end()) {
    append(std::move(item));
    return;
  }
  // Ahead of the normal items: every projection behind it moves.
  queue_.insert(pos, std::move(item));
  timer_.cancel();
  refuse_all(reproject());
  pump();
}

void CreditPool::append(Item item) {
  const SteadyTime now = clock_.steady_now();
  // From the pool after the last queued release, or now if that lies in the past (an empty
  // queue; a late timer on a real clock). Refill composes, so both views agree.
  const Snapshot& from = queue_.empty() ? pool_ : tail_;
  const Snapshot base = from.at < now ? Snapshot{now, level_at(from, now)} : from;
  item.projected = project(base, item);
  if (item.projected.at > item.deadline) {
    ++expired_;
    item.release(make_error_code(Errc::rate_limited));
    return;
  }
  tail_ = item.projected.after;
  queue_.push_back(std::move(item));
  if (queue_.size() == 1) pump();
}

std::vector<CreditPool::Release> CreditPool::reproject() {
  const SteadyTime now = clock_.steady_now();
  Snapshot s{now, level_at(pool_, now)};
  std::vector<Release> failed;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const Step step = project(s, *it);
    if (step.at > it->deadline) {
      failed.push_back(std::move(it->release));
      it = queue_.erase(it);
      continue;
    }
    it->projected = step;
    s = step.after;
    ++it;
  }
  tail_ = s;
  expired_ += failed.size();
  return failed;
}

void CreditPool::drain() {
  pool_ = {clock_.steady_now(), 0};
  if (queue_.empty()) return;
  timer_.cancel();
  refuse_all(reproject());
  pump();
}

void CreditPool::fail_all(boost::system::error_code ec) {
  timer_.cancel();
  auto items = std::move(queue_);
  queue_.clear();
  for (auto& item : items) item.release(ec);
}

std::int64_t CreditPool::available() const {
  return level_at(pool_, clock_.steady_now()) / kNanoPerCredit;
}

// On a virtual clock the head is released exactly at its projection and nothing here
// reprojects. A real clock's timer fires late: the head then goes out at `now`, which changes
// nothing for those behind unless the pool hit its cap meanwhile (a release from a full pool
// leaves less than the projection had refilled to), or it misses its deadline. Either way
// the queue is reprojected from the live pool so the projections stay exact.
void CreditPool::pump() {
  timer_.cancel();
  while (!queue_.empty()) {
    const SteadyTime now = clock_.steady_now();
    Item& head = queue_.front();
    const Step step = project({now, level_at(pool_, now)}, head);
    if (step.at > head.deadline) {
      auto release = std::move(head.release);
      queue_.pop_front();
      ++expired_;
      auto failed = reproject();  // its credits stay in the pool for those behind it
      release(make_error_code(Errc::rate_limited));
      refuse_all(std::move(failed));
      continue;
    }
    if (step.at > now) {
      timer_ = clock_.schedule_at(step.at, [this] { pump(); });
      return;
    }
    const bool moved = step.after.level != level_at(head.projected.after, now);
    pool_ = step.after;
    ++sent_;
    auto release = std::move(head.release);
    queue_.pop_front();
    std::vector<Release> failed;
    if (moved) failed = reproject();
    release({});
    refuse_all(std::move(failed));
  }
}

}  // namespace rfq
