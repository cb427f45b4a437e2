#pragma once
// A credit pool (Deribit's rate limit, PROTOCOLS §11): every request costs credits from a pool
// that refills continuously up to its capacity (defaults 500 per request, 50,000, 10,000/s).
// A venue that finds its pool empty answers 10028 and ends the session, so a request leaves
// here only when the pool, as we count it, can pay for it. Requests queue with a deadline,
// like a Lane: each queued request carries the time it is projected to be released, and one
// whose projection falls after its deadline fails RATE_LIMITED at once, unsent (at submit, or
// when the projection moves: an urgent submit ahead of it, drain()).
//
// The pool may hold back `reserve` credits for urgent requests (a cancel-all while a sweep
// saturates the pool): a normal request is released only when the pool holds cost + reserve,
// an urgent one when it holds cost. Projections follow the same rule, so the deadline refusal
// is exact for both kinds.
//
// Order: FIFO among normal requests, urgent ones ahead of every normal one (after earlier
// urgent ones). The head blocks the queue: a cheap request does not overtake a dear one.
//
// Arithmetic is exact: the level is kept in nano-credits (1e-9 credit), in which a refill of R
// credits/s adds exactly R per nanosecond, so refill is an integer product, a release time is
// a rounded-up integer division, and the fraction left by one release carries to the next
// (no drift). Capacity is therefore limited to kMaxCapacity (~9.2e9 credits). As in the
// venue's bucket, refill beyond capacity is lost.
//
// Callbacks run either from the pool's single Clock timer (re-armed for the head's release
// time) or synchronously inside the call that decided them, as in Lane: inside submit() when
// the pool can pay at once (or the request is refused), inside drain() for the requests it
// pushes past their deadline, inside fail_all(). The pool's state is consistent before every
// callback, so a callback may submit again. On a virtual clock every release comes exactly at
// its projection. A real clock's timer fires late: the head then goes out late but never
// after its deadline (past it, it fails from the timer), and the projections behind it are
// recomputed when the delay changed them.

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/core/unique_function.hpp"

namespace rfq {

class CreditPool {
 public:
  // Called once: with an empty error when the request may go out now (its cost is already
  // deducted), or with RATE_LIMITED when it cannot go out before its deadline.
  using Release = UniqueFunction<void(boost::system::error_code)>;

  static constexpr std::int64_t kNanoPerCredit = 1'000'000'000;
  // The largest capacity whose nano-credit count fits an int64.
  static constexpr std::int64_t kMaxCapacity =
      std::numeric_limits<std::int64_t>::max() / kNanoPerCredit;

  // Deribit's non-matching-engine defaults.
  static constexpr std::int64_t kDefaultCost = 500;
  static constexpr std::int64_t kDefaultCapacity = 50'000;
  static constexpr std::int64_t kDefaultRefillPerS = 10'000;

  // Starts full. Throws std::invalid_argument unless 0 < capacity <= kMaxCapacity,
  // refill_per_s > 0 and 0 <= reserve < capacity.
  CreditPool(Clock& clock, std::string name, std::int64_t capacity, std::int64_t refill_per_s,
             std::int64_t reserve = 0);

  // Released once the pool holds `cost` credits (cost + reserve for a normal request), the
  // cost then deducted. A request the pool can never pay (cost > capacity, or cost + reserve >
  // capacity for a normal one) fails RATE_LIMITED at once. Throws std::invalid_argument for a
  // negative cost (costs come from configuration; that is a bug, not an outcome).
  void submit(std::int64_t cost, SteadyTime deadline, Release release, bool urgent = false);
  // The venue answered "too many requests" anyway (its clock and ours differ): the pool is
  // empty now and refills from here. Queued projections move; those past their deadline fail.
  void drain();
  // Fails everything queued with `ec` (e.g. DISCONNECTED); the level is untouched.
  void fail_all(boost::system::error_code ec);

  // Whole credits in the pool now (after refill), queued requests not subtracted.
  std::int64_t available() const;
  std::size_t depth() const { return queue_.size(); }

  const std::string& name() const { return name_; }
  std::int64_t capacity() const { return capacity_; }
  std::int64_t refill_per_s() const { return refill_per_s_; }
  // Credits only urgent requests may use.
  std::int64_t reserve() const { return reserve_; }
  std::size_t sent() const { return sent_; }
  // Requests refused RATE_LIMITED (past their deadline, or never payable).
  std::size_t expired() const { return expired_; }

 private:
  // The pool holds `level` nano-credits at time `at` (and refills from there).
  struct Snapshot {
    SteadyTime at{};
    std::int64_t level = 0;
  };
  // An item's release: when, and the pool right after its cost is deducted.
  struct Step {
    SteadyTime at{};
    Snapshot after;
  };
  struct Item {
    std::int64_t cost = 0;
    SteadyTime deadline{};
    Release release;
    bool urgent = false;
    Step projected;  // what happens to it if nothing else changes
  };

  std::int64_t level_at(const Snapshot& s, SteadyTime t) const;
  // Earliest time >= s.at at which the pool, refilling from s, holds `need` nano-credits.
  SteadyTime ready_at(const Snapshot& s, std::int64_t need) const;
  // Nano-credits the pool must hold to release a request of this kind.
  std::int64_t need_of(std::int64_t cost, bool urgent) const;
  // Releases `item` from `s` (the pool after everything ahead of it). pump() releases the head
  // at the same step from the live pool, so projections and releases follow one rule.
  Step project(const Snapshot& s, const Item& item) const;
  // Recomputes every projection from the pool now and removes the items that can no longer
  // make their deadline (each frees its credits for those behind it); returns their releases.
  std::vector<Release> reproject();
  // Appends at the tail, or refuses at once when the projection misses the deadline.
  void append(Item item);
  void pump();

  Clock& clock_;
  std::string name_;
  std::int64_t capacity_;
  std::int64_t refill_per_s_;
  std::int64_t reserve_;
  Snapshot pool_;  // the live pool, as last settled
  Snapshot tail_;  // the pool after every queued item's projected release (queue not empty)
  std::deque<Item> queue_;
  TimerHandle timer_;
  std::size_t sent_ = 0;
  std::size_t expired_ = 0;
};

}  // namespace rfq
