#pragma once
// A pacing lane: requests to one rate-limited endpoint queue here with a deadline and are
// released when the window has room. Each queued request carries the slot it is projected to
// get; one whose slot falls after its deadline fails RATE_LIMITED at once, without being sent
// (at submit, or at back_off when the projection moves). A venue-side limit answer (OKX 50011) is reported
// with back_off(), which closes the lane for a while; the caller may resubmit inside its
// deadline.

#include <boost/system/error_code.hpp>
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

  Lane(Clock& clock, std::string name, WindowLimit limit);

  // An urgent request goes ahead of every normal one (after earlier urgent ones).
  void submit(SteadyTime deadline, Release release, bool urgent = false);
  // Nothing leaves the lane before now + d (venue said "too many requests").
  void back_off(Nanos d);
  // Fails everything queued with DISCONNECTED (shutdown).
  void fail_all(boost::system::error_code ec);

  const std::string& name() const { return name_; }
  const WindowLimit& limit() const { return limit_; }
  std::size_t depth() const { return queue_.size(); }
  std::size_t remaining() const;
  std::size_t sent() const { return sent_; }
  std::size_t expired() const { return expired_; }

 private:
  struct Item {
    SteadyTime deadline;
    Release release;
    bool urgent = false;
  };
  void pump();
  // The slot the next request appended to the queue would get.
  SteadyTime project_slot(SteadyTime now) const;
  void reproject();

  Clock& clock_;
  std::string name_;
  WindowLimit limit_;
  std::deque<Item> queue_;
  std::deque<SteadyTime> projected_;  // projected slot of each queued item, same order
  SteadyTime closed_until_{};
  TimerHandle timer_;
  std::size_t sent_ = 0;
  std::size_t expired_ = 0;
};

}  // namespace rfq
