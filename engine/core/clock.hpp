#pragma once
// Every use of time goes through Clock: timers, deadlines, rate windows, RFQ expiry.
// RealClock follows the machine; VirtualClock moves only when told to, and only when the loop
// is idle (run ready handlers, then jump to the next deadline), which makes scripted tests
// exact and instant. Timer callbacks are always posted to the owning io_context, never run
// inside schedule().

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>

namespace boost::asio {
class io_context;
}

namespace rfq {

using SteadyTime = std::chrono::steady_clock::time_point;
using Nanos = std::chrono::nanoseconds;
using Millis = std::chrono::milliseconds;

// Shared between a TimerHandle and the clock that scheduled it. A clock may derive from it to
// release its own resources (the real clock cancels its Asio timer) when the handle cancels.
struct TimerState {
  virtual ~TimerState() = default;
  virtual void on_cancel() {}
  bool alive = true;
};

// Owns one scheduled callback. Destroying or cancelling it guarantees the callback will not
// run (even if its expiry was already queued on the loop).
class TimerHandle {
 public:
  TimerHandle() = default;
  explicit TimerHandle(std::shared_ptr<TimerState> state) : state_(std::move(state)) {}
  TimerHandle(TimerHandle&&) noexcept = default;
  TimerHandle& operator=(TimerHandle&& other) noexcept {
    cancel();
    state_ = std::move(other.state_);
    return *this;
  }
  TimerHandle(const TimerHandle&) = delete;
  TimerHandle& operator=(const TimerHandle&) = delete;
  ~TimerHandle() { cancel(); }

  void cancel() {
    if (state_ && state_->alive) {
      state_->alive = false;
      state_->on_cancel();
    }
    state_.reset();
  }
  bool active() const { return state_ && state_->alive; }

 private:
  std::shared_ptr<TimerState> state_;
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time, Unix epoch milliseconds (signatures, RFQ expiry, rfq.now()).
  virtual std::int64_t now_ms() const = 0;
  // Monotonic time (deadlines, rate windows, latency).
  virtual SteadyTime steady_now() const = 0;
  // Runs fn on the loop after delay unless the handle is cancelled or destroyed first.
  [[nodiscard]] virtual TimerHandle schedule(Nanos delay, std::function<void()> fn) = 0;
  [[nodiscard]] TimerHandle schedule_at(SteadyTime when, std::function<void()> fn) {
    return schedule(when - steady_now(), std::move(fn));
  }
  virtual bool is_virtual() const = 0;
};

class RealClock final : public Clock {
 public:
  explicit RealClock(boost::asio::io_context& io) : io_(io) {}
  std::int64_t now_ms() const override;
  SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  TimerHandle schedule(Nanos delay, std::function<void()> fn) override;
  bool is_virtual() const override { return false; }

 private:
  boost::asio::io_context& io_;
};

class VirtualClock final : public Clock {
 public:
  // start_ms is the wall time the virtual clock reads before any advance.
  VirtualClock(boost::asio::io_context& io, std::int64_t start_ms);
  ~VirtualClock() override;

  std::int64_t now_ms() const override;
  SteadyTime steady_now() const override;
  TimerHandle schedule(Nanos delay, std::function<void()> fn) override;
  bool is_virtual() const override { return true; }

  // Moves time forward by d: runs every ready handler, then jumps to each due deadline in
  // order, running what it posts, until d has elapsed. Returns the handlers run.
  std::size_t advance(Nanos d);
  // Runs ready handlers without moving time.
  std::size_t poll();
  std::size_t pending_timers() const;
  // Time of the next live timer, if any.
  bool next_deadline(SteadyTime& out) const;

  // Thrown by poll() and advance() when more than `handlers` run at one virtual instant within
  // one call (timers due at that instant included; 0, the default: no limit). The loop is then left mid-way: the owner should tear the world down.
  struct NotSettled : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  void set_settle_limit(std::size_t handlers);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rfq
