#include "engine/core/clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <map>
#include <string>
#include <utility>

namespace rfq {

std::int64_t RealClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

// The Asio timer lives in the state: cancelling the handle cancels the wait at once, so a
// cancelled long timer neither keeps the loop busy nor holds its callback until it expires.
struct RealTimerState final : TimerState {
  explicit RealTimerState(boost::asio::io_context& io) : timer(io) {}
  void on_cancel() override { timer.cancel(); }
  boost::asio::steady_timer timer;
};

// Delays beyond this are clamped: Nanos arithmetic near its limits overflows.
constexpr Nanos kMaxDelay = std::chrono::hours(24 * 365);

Nanos clamp_delay(Nanos d) { return d < Nanos::zero() ? Nanos::zero() : std::min(d, kMaxDelay); }

}  // namespace

TimerHandle RealClock::schedule(Nanos delay, std::function<void()> fn) {
  auto state = std::make_shared<RealTimerState>(io_);
  state->timer.expires_after(clamp_delay(delay));
  state->timer.async_wait(
      [state, fn = std::move(fn)](const boost::system::error_code& ec) {
        if (!ec && state->alive) {
          state->alive = false;
          fn();
        }
      });
  return TimerHandle(state);
}

struct VirtualClock::Impl {
  struct Entry {
    std::shared_ptr<TimerState> state;
    std::function<void()> fn;
  };
  boost::asio::io_context& io;
  std::int64_t start_ms;
  Nanos elapsed{0};
  std::uint64_t seq = 0;
  // (deadline, sequence) keeps timers due at the same instant in scheduling order.
  std::map<std::pair<Nanos, std::uint64_t>, Entry> timers;
  std::size_t settle_limit = 0;
  std::size_t settled = 0;  // handlers run at this instant of this poll()/advance() call

  std::size_t drain() {
    io.restart();
    if (settle_limit == 0) return io.poll();
    std::size_t n = 0;
    while (io.poll_one() != 0) {
      ++n;
      if (++settled > settle_limit) {
        throw NotSettled("more than " + std::to_string(settle_limit) +
                         " handlers ran without time moving (something keeps re-posting "
                         "work, e.g. a task spawning tasks forever)");
      }
    }
    return n;
  }
  void prune() {
    while (!timers.empty() && !timers.begin()->second.state->alive) timers.erase(timers.begin());
  }
};

VirtualClock::VirtualClock(boost::asio::io_context& io, std::int64_t start_ms)
    : impl_(std::make_unique<Impl>(Impl{io, start_ms, Nanos{0}, 0, {}})) {}

VirtualClock::~VirtualClock() = default;

void VirtualClock::set_settle_limit(std::size_t handlers) { impl_->settle_limit = handlers; }

std::int64_t VirtualClock::now_ms() const {
  return impl_->start_ms + std::chrono::duration_cast<Millis>(impl_->elapsed).count();
}

// Virtual steady time starts an hour past the epoch so that no real reading is ever equal to a
// default-constructed SteadyTime{}, which code uses as "never happened".
constexpr Nanos kVirtualSteadyBase = std::chrono::hours(1);

SteadyTime VirtualClock::steady_now() const { return SteadyTime(kVirtualSteadyBase + impl_->elapsed); }

TimerHandle VirtualClock::schedule(Nanos delay, std::function<void()> fn) {
  auto state = std::make_shared<TimerState>();
  Nanos when = impl_->elapsed + clamp_delay(delay);
  impl_->timers.emplace(std::make_pair(when, impl_->seq++), Impl::Entry{state, std::move(fn)});
  return TimerHandle(std::move(state));
}

std::size_t VirtualClock::poll() {
  impl_->settled = 0;
  return impl_->drain();
}

std::size_t VirtualClock::advance(Nanos d) {
  Nanos target = impl_->elapsed + d;
  impl_->settled = 0;
  std::size_t n = impl_->drain();
  for (;;) {
    impl_->prune();
    if (impl_->timers.empty() || impl_->timers.begin()->first.first > target) break;
    auto node = impl_->timers.extract(impl_->timers.begin());
    if (node.key().first != impl_->elapsed) impl_->settled = 0;  // time moved
    impl_->elapsed = node.key().first;
    auto entry = std::move(node.mapped());
    boost::asio::post(impl_->io, [entry = std::move(entry)] {
      if (entry.state->alive) {
        entry.state->alive = false;
        entry.fn();
      }
    });
    n += impl_->drain();
  }
  if (target != impl_->elapsed) impl_->settled = 0;
  impl_->elapsed = target;
  n += impl_->drain();
  return n;
}

std::size_t VirtualClock::pending_timers() const {
  std::size_t n = 0;
  for (const auto& [key, entry] : impl_->timers) n += entry.state->alive ? 1 : 0;
  return n;
}

bool VirtualClock::next_deadline(SteadyTime& out) const {
  for (const auto& [key, entry] : impl_->timers) {
    if (entry.state->alive) {
      out = SteadyTime(kVirtualSteadyBase + key.first);
      return true;
    }
  }
  return false;
}

}  // namespace rfq
