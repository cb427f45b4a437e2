#pragma once
// A pacing lane: requests to one rate-limited endpoint queue here with a deadline and are
// released when the window has room. Each queued request carries the slot it is projected to
// get; one whose slot falls after its deadline fails RATE_LIMITED at once, without being sent
// (at submit, or at back_off when the projection moves). A venue-side limit answer (OKX 50011)
// is reported with back_off(), which closes the lane for a while; the caller may resubmit
// inside its deadline.
//
// A lane may hold back `reserve` slots of every window for urgent requests, so that a
// cancel-all finds a slot at once while a long sweep saturates the lane: a normal request is
// released only while the window has more than `reserve` free slots (counting every send,
// urgent ones included), so normal traffic never uses more than count - reserve sends per
// window, while urgent requests may use every slot. Projections follow the same rule (a normal
// request is projected against count - reserve slots, an urgent one against count), so the
// deadline refusal stays exact for both kinds. reserve 0 is the plain lane.

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <deque>
#include <string>

#include "engine/core/clock.hpp"
#include "engine/core/unique_function.hpp"
#include "engine/limits/window_limit.hpp"

namespace rfq {

class Lane {
 public:
  // Called once: with an empty error when the request may go out now (its slot is already
  // recorded), or with RATE_LIMITED when it cannot go out before its deadline.
  using Release = UniqueFunction<void(boost::system::error_code)>;

  // Throws std::invalid_argument unless reserve < limit.count().
  Lane(Clock& clock, std::string name, WindowLimit limit, std::size_t reserve = 0);

  // An urgent request goes ahead of every normal one (after earlier urgent ones) and may use
  // the reserved slots.
  void submit(SteadyTime deadline, Release release, bool urgent = false);
  // Nothing leaves the lane before now + d (venue said "too many requests").
  void back_off(Nanos d);
  // Fails everything queued with DISCONNECTED (shutdown).
  void fail_all(boost::system::error_code ec);

  const std::string& name() const { return name_; }
  const WindowLimit& limit() const { return limit_; }
  // Slots of each window kept for urgent requests.
  std::size_t reserve() const { return reserve_; }
  std::size_t depth() const { return queue_.size(); }
  // Requests an urgent submission could send right now (reserved slots included).
  std::size_t remaining() const;
  // Requests a normal submission could send right now: remaining() less the reserve.
  std::size_t remaining_normal() const;
  std::size_t sent() const { return sent_; }
  std::size_t expired() const { return expired_; }

 private:
  struct Item {
    SteadyTime deadline;
    Release release;
    bool urgent = false;
  };
  void pump();
  // The slot of a request of this kind with the first `ahead` queued items released before it
  // at their projected slots. pump() asks with ahead = 0, so projections and releases follow
  // one rule.
  SteadyTime slot_after(SteadyTime now, bool urgent, std::size_t ahead) const;
  // The slot the next request appended to the queue would get.
  SteadyTime project_slot(SteadyTime now, bool urgent) const {
    return slot_after(now, urgent, projected_.size());
  }
  void reproject();

  Clock& clock_;
  std::string name_;
  WindowLimit limit_;
  std::size_t reserve_;
  std::deque<Item> queue_;
  std::deque<SteadyTime> projected_;  // projected slot of each queued item, same order
  SteadyTime closed_until_{};
  TimerHandle timer_;
  std::size_t sent_ = 0;
  std::size_t expired_ = 0;
};

}  // namespace rfq
