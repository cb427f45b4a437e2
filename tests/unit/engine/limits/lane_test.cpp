// WindowLimit and Lane in virtual time: every release time is asserted exactly, the way OKX's
// "cancel-rfq: 5 requests per 2 s" would count them.

#include "engine/limits/lane.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/core/error.hpp"
#include "engine/limits/window_limit.hpp"

using namespace std::chrono_literals;
using boost::system::error_code;
using rfq::Errc;
using rfq::Lane;
using rfq::SteadyTime;
using rfq::VirtualClock;
using rfq::WindowLimit;

namespace {

constexpr std::int64_t kStartMs = 1'700'000'000'000;
constexpr std::size_t kCount = 5;
constexpr auto kWindow = 2000ms;
constexpr auto kLongDeadline = 60s;

// What one submission was told, and when (virtual time), and how often.
struct Outcome {
  int calls = 0;
  error_code ec;
  SteadyTime at{};
  bool released() const { return calls == 1 && !ec; }
  bool failed_with(Errc e) const { return calls == 1 && ec == make_error_code(e); }
};

// One lane of 5 per 2 s on a virtual clock; submissions are numbered in submit order.
struct LaneWorld {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  Lane lane{clock, "cancel-rfq", WindowLimit(kCount, kWindow)};
  std::vector<Outcome> outcomes = std::vector<Outcome>(64);
  std::size_t submitted = 0;
  const SteadyTime t0 = clock.steady_now();

  std::size_t submit(SteadyTime deadline) {
    const std::size_t id = submitted++;
    lane.submit(deadline, [this, id](error_code ec) {
      auto& o = outcomes[id];
      ++o.calls;
      o.ec = ec;
      o.at = clock.steady_now();
    });
    return id;
  }
  std::size_t submit_long() { return submit(clock.steady_now() + kLongDeadline); }
  // Advances to t0 + t (absolute virtual time), running every timer due on the way.
  void advance_to(std::chrono::nanoseconds t) { clock.advance(t0 + t - clock.steady_now()); }
  std::chrono::nanoseconds since_t0(SteadyTime t) const { return t - t0; }
};

}  // namespace

TEST_CASE("window limit: 5 per 2 s admits 5 at once, then one per expiring send", "[limits]") {
  WindowLimit limit(kCount, kWindow);
  const SteadyTime t0{};
  CHECK(limit.count() == kCount);
  CHECK(limit.window() == kWindow);

  SECTION("an empty window is free now and has all 5") {
    CHECK(limit.next_free(t0) == t0);
    CHECK(limit.remaining(t0) == 5);
  }
  SECTION("a burst of 5 closes the window for exactly 2 s") {
    for (int i = 0; i < 5; ++i) {
      CHECK(limit.next_free(t0) == t0);
      CHECK(limit.remaining(t0) == std::size_t(5 - i));
      limit.record(t0);
    }
    CHECK(limit.remaining(t0) == 0);
    CHECK(limit.next_free(t0) == t0 + kWindow);
    CHECK(limit.next_free(t0 + 1999ms) == t0 + kWindow);
    CHECK(limit.remaining(t0 + 1999ms) == 0);
    // A send leaves the window exactly W after it was made.
    CHECK(limit.remaining(t0 + kWindow) == 5);
    CHECK(limit.next_free(t0 + kWindow) == t0 + kWindow);
    // next_free never lies in the past.
    CHECK(limit.next_free(t0 + 3s) == t0 + 3s);
  }
  SECTION("staggered sends free one slot each as they expire") {
    for (int i = 0; i < 5; ++i) limit.record(t0 + i * 100ms);
    CHECK(limit.remaining(t0 + 500ms) == 0);
    CHECK(limit.next_free(t0 + 500ms) == t0 + 2000ms);  // the oldest (t0) expires first
    CHECK(limit.remaining(t0 + 2000ms) == 1);
    CHECK(limit.remaining(t0 + 2150ms) == 2);
    limit.record(t0 + 2000ms);
    CHECK(limit.remaining(t0 + 2000ms) == 0);
    CHECK(limit.next_free(t0 + 2000ms) == t0 + 2100ms);  // now the t0+100ms send is oldest
    CHECK(limit.remaining(t0 + 2100ms) == 1);
    CHECK(limit.remaining(t0 + 10s) == 5);
  }
}

TEST_CASE("lane: 12 submissions at once go out 5 at 0 s, 5 at 2 s and 2 at 4 s", "[limits]") {
  LaneWorld w;
  for (int i = 0; i < 12; ++i) w.submit_long();
  w.clock.poll();
  w.advance_to(10s);

  std::vector<std::chrono::nanoseconds> at;
  for (std::size_t i = 0; i < 12; ++i) {
    INFO("submission " << i);
    REQUIRE(w.outcomes[i].released());
    at.push_back(w.since_t0(w.outcomes[i].at));
  }
  const std::vector<std::chrono::nanoseconds> expected = {0s, 0s, 0s, 0s, 0s, 2s,
                                                          2s, 2s, 2s, 2s, 4s, 4s};
  CHECK(at == expected);
  // No half-open window [t, t + 2 s) holds more than 5 releases.
  for (auto start : at) {
    int in_window = 0;
    for (auto t : at) in_window += (t >= start && t < start + kWindow) ? 1 : 0;
    CHECK(in_window <= 5);
  }
  CHECK(w.lane.sent() == 12);
  CHECK(w.lane.expired() == 0);
  CHECK(w.lane.depth() == 0);
}

TEST_CASE("lane: a submission whose slot is after its deadline fails RATE_LIMITED at once",
          "[limits]") {
  LaneWorld w;
  for (int i = 0; i < 5; ++i) w.submit_long();  // the window is full until t0 + 2 s

  SECTION("fails inside submit, is not released, and later ones still go out") {
    const auto late = w.submit(w.t0 + 1000ms);
    CHECK(w.outcomes[late].failed_with(Errc::rate_limited));
    CHECK(w.outcomes[late].at == w.t0);
    CHECK(w.lane.expired() == 1);
    CHECK(w.lane.sent() == 5);
    CHECK(w.lane.depth() == 0);

    const auto patient = w.submit(w.t0 + 5s);
    w.advance_to(10s);
    CHECK(w.outcomes[patient].released());
    CHECK(w.outcomes[patient].at == w.t0 + kWindow);
    CHECK(w.outcomes[late].calls == 1);  // told once, never released afterwards
    CHECK(w.lane.expired() == 1);
    CHECK(w.lane.sent() == 6);
  }
  SECTION("a slot exactly at the deadline still goes out") {
    const auto just = w.submit(w.t0 + kWindow);
    w.advance_to(10s);
    CHECK(w.outcomes[just].released());
    CHECK(w.outcomes[just].at == w.t0 + kWindow);
    CHECK(w.lane.expired() == 0);
  }
}

TEST_CASE("lane: a queued submission that cannot make its deadline fails by that deadline",
          "[limits]") {
  // The caller waits on the lane up to its deadline: hearing RATE_LIMITED only when the
  // requests queued ahead of it drain (here 1 s after its deadline) is too late.
  LaneWorld w;
  for (int i = 0; i < 5; ++i) w.submit_long();
  const auto ahead = w.submit_long();         // waits for the slot at t0 + 2 s
  const auto hopeless = w.submit(w.t0 + 1s);  // its slot can be no earlier than t0 + 2 s
  w.clock.poll();

  w.advance_to(1s);
  CHECK(w.outcomes[hopeless].failed_with(Errc::rate_limited));
  CHECK(w.outcomes[hopeless].at <= w.t0 + 1s);

  w.advance_to(10s);
  CHECK(w.outcomes[hopeless].calls == 1);
  CHECK_FALSE(w.outcomes[hopeless].released());
  CHECK(w.outcomes[ahead].released());
  CHECK(w.outcomes[ahead].at == w.t0 + kWindow);
  CHECK(w.lane.expired() == 1);
  CHECK(w.lane.sent() == 6);
}

TEST_CASE("lane: back_off holds everything until now + d", "[limits]") {
  LaneWorld w;

  SECTION("an idle lane with room still waits out the back-off") {
    w.lane.back_off(1500ms);
    CHECK(w.lane.remaining() == 0);
    for (int i = 0; i < 3; ++i) w.submit_long();
    w.advance_to(1499ms);
    for (int i = 0; i < 3; ++i) CHECK(w.outcomes[i].calls == 0);
    CHECK(w.lane.depth() == 3);
    w.advance_to(1500ms);
    for (int i = 0; i < 3; ++i) {
      CHECK(w.outcomes[i].released());
      CHECK(w.outcomes[i].at == w.t0 + 1500ms);
    }
    CHECK(w.lane.remaining() == 2);
  }
  SECTION("a back-off longer than the window delays queued items past their window slot") {
    for (int i = 0; i < 5; ++i) w.submit_long();
    const auto a = w.submit_long();
    const auto b = w.submit_long();
    w.advance_to(500ms);
    w.lane.back_off(3000ms);  // closed until t0 + 3.5 s, later than the window's t0 + 2 s
    w.advance_to(3499ms);
    CHECK(w.outcomes[a].calls == 0);
    CHECK(w.outcomes[b].calls == 0);
    w.advance_to(10s);
    CHECK(w.outcomes[a].released());
    CHECK(w.outcomes[b].released());
    CHECK(w.outcomes[a].at == w.t0 + 3500ms);
    CHECK(w.outcomes[b].at == w.t0 + 3500ms);
  }
  SECTION("a back-off makes queued items whose deadline falls inside it fail at once") {
    for (int i = 0; i < 5; ++i) w.submit_long();
    const auto short_lived = w.submit(w.t0 + 2500ms);  // would have gone out at t0 + 2 s
    w.lane.back_off(3s);
    CHECK(w.outcomes[short_lived].failed_with(Errc::rate_limited));
    CHECK(w.outcomes[short_lived].at == w.t0);
    CHECK(w.lane.expired() == 1);
  }
  SECTION("a shorter back-off does not shorten a longer one") {
    w.lane.back_off(3s);
    w.lane.back_off(1s);
    const auto id = w.submit_long();
    w.advance_to(10s);
    CHECK(w.outcomes[id].at == w.t0 + 3s);
  }
}

TEST_CASE("lane: fail_all completes every queued item once with the given error", "[limits]") {
  LaneWorld w;
  for (int i = 0; i < 5; ++i) w.submit_long();
  std::vector<std::size_t> queued;
  for (int i = 0; i < 4; ++i) queued.push_back(w.submit_long());
  REQUIRE(w.lane.depth() == 4);

  const auto ec = make_error_code(Errc::disconnected);
  w.lane.fail_all(ec);
  CHECK(w.lane.depth() == 0);
  for (auto id : queued) {
    CHECK(w.outcomes[id].failed_with(Errc::disconnected));
    CHECK(w.outcomes[id].at == w.t0);
  }
  for (int i = 0; i < 5; ++i) CHECK(w.outcomes[i].released());  // already out: untouched

  // The pending wake-up is gone: nothing is told twice when the window reopens.
  w.advance_to(10s);
  for (std::size_t i = 0; i < 9; ++i) CHECK(w.outcomes[i].calls == 1);
  CHECK(w.lane.sent() == 5);
  CHECK(w.lane.expired() == 0);  // failed by the caller, not by pacing

  // The lane still works afterwards.
  const auto next = w.submit_long();
  CHECK(w.outcomes[next].released());
  CHECK(w.outcomes[next].at == w.t0 + 10s);
}

TEST_CASE("lane: depth and remaining follow the queue and the window", "[limits]") {
  LaneWorld w;
  CHECK(w.lane.name() == "cancel-rfq");
  CHECK(w.lane.depth() == 0);
  CHECK(w.lane.remaining() == 5);

  w.submit_long();
  w.submit_long();
  CHECK(w.lane.depth() == 0);  // released inside submit
  CHECK(w.lane.remaining() == 3);

  for (int i = 0; i < 3; ++i) w.submit_long();
  CHECK(w.lane.remaining() == 0);
  for (int i = 0; i < 4; ++i) w.submit_long();
  CHECK(w.lane.depth() == 4);
  CHECK(w.lane.remaining() == 0);

  w.advance_to(1999ms);
  CHECK(w.lane.depth() == 4);
  CHECK(w.lane.remaining() == 0);

  w.advance_to(2000ms);  // 4 go out in the reopened window, leaving room for 1
  CHECK(w.lane.depth() == 0);
  CHECK(w.lane.remaining() == 1);
  CHECK(w.lane.sent() == 9);

  w.advance_to(4000ms);
  CHECK(w.lane.remaining() == 5);
}
