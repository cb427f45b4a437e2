// WindowLimit and Lane in virtual time: every release time is asserted exactly, the way OKX's
// "cancel-rfq: 5 requests per 2 s" would count them.

#include "engine/limits/lane.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <random>
#include <stdexcept>
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
  bool urgent = false;
  bool inside_call = false;  // told while submit() or back_off() was still running
  bool released() const { return calls == 1 && !ec; }
  bool failed_with(Errc e) const { return calls == 1 && ec == make_error_code(e); }
};

// One lane of `count` per 2 s (5 unless told) on a virtual clock; submissions are numbered in
// submit order.
struct LaneWorld {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  Lane lane;
  std::vector<Outcome> outcomes = std::vector<Outcome>(64);
  std::vector<std::size_t> release_order;  // ids in the order the lane released them
  std::size_t submitted = 0;
  bool in_call = false;
  const SteadyTime t0 = clock.steady_now();

  explicit LaneWorld(std::size_t count = kCount, std::size_t reserve = 0)
      : lane(clock, "cancel-rfq", WindowLimit(count, kWindow), reserve) {}

  std::size_t submit(SteadyTime deadline, bool urgent = false) {
    const std::size_t id = submitted++;
    if (id >= outcomes.size()) outcomes.resize(2 * id);
    outcomes[id].urgent = urgent;
    in_call = true;
    lane.submit(
        deadline,
        [this, id](error_code ec) {
          auto& o = outcomes[id];
          ++o.calls;
          o.ec = ec;
          o.at = clock.steady_now();
          o.inside_call = in_call;
          if (!ec) release_order.push_back(id);
        },
        urgent);
    in_call = false;
    return id;
  }
  std::size_t submit_long() { return submit(clock.steady_now() + kLongDeadline); }
  std::size_t submit_urgent(SteadyTime deadline) { return submit(deadline, true); }
  void back_off(std::chrono::nanoseconds d) {
    in_call = true;
    lane.back_off(d);
    in_call = false;
  }
  // Advances to t0 + t (absolute virtual time), running every timer due on the way.
  void advance_to(std::chrono::nanoseconds t) { clock.advance(t0 + t - clock.steady_now()); }
  std::chrono::nanoseconds since_t0(SteadyTime t) const { return t - t0; }
  std::chrono::nanoseconds released_at(std::size_t id) const { return since_t0(outcomes[id].at); }
};

// The most releases any half-open window [t, t + 2 s) holds (urgent_too = false: normal only).
int busiest_window(const LaneWorld& w, bool urgent_too = true) {
  int most = 0;
  for (auto start : w.release_order) {
    int in_window = 0;
    for (auto id : w.release_order) {
      const auto& o = w.outcomes[id];
      if (!urgent_too && o.urgent) continue;
      in_window += (o.at >= w.outcomes[start].at && o.at < w.outcomes[start].at + kWindow);
    }
    most = std::max(most, in_window);
  }
  return most;
}

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

TEST_CASE("lane reserve: 2 per window with 1 reserved sends normal traffic one per window",
          "[limits][reserve]") {
  LaneWorld w(2, 1);
  CHECK(w.lane.reserve() == 1);
  CHECK(w.lane.remaining() == 2);
  CHECK(w.lane.remaining_normal() == 1);

  const auto a = w.submit_long();
  const auto b = w.submit_long();
  const auto c = w.submit_long();
  CHECK(w.outcomes[a].released());
  CHECK(w.lane.depth() == 2);
  // The second slot of this window is the urgent one.
  CHECK(w.lane.remaining() == 1);
  CHECK(w.lane.remaining_normal() == 0);

  w.advance_to(kWindow - 1ms);
  CHECK(w.outcomes[b].calls == 0);
  w.advance_to(10s);
  REQUIRE(w.outcomes[b].released());
  REQUIRE(w.outcomes[c].released());
  CHECK(w.released_at(a) == 0s);
  CHECK(w.released_at(b) == kWindow);
  CHECK(w.released_at(c) == 2 * kWindow);
  CHECK(busiest_window(w) == 1);
  CHECK(w.lane.sent() == 3);
  CHECK(w.lane.expired() == 0);
}

TEST_CASE("lane reserve: an urgent request takes the reserved slot of a saturated lane at once",
          "[limits][reserve]") {
  // 5 per 2 s, 1 reserved: the sweep gets 4 per window.
  LaneWorld w(5, 1);
  std::vector<std::size_t> sweep;
  for (int i = 0; i < 10; ++i) sweep.push_back(w.submit_long());
  w.advance_to(500ms);
  REQUIRE(w.lane.depth() == 6);
  CHECK(w.lane.remaining() == 1);
  CHECK(w.lane.remaining_normal() == 0);

  // Released inside submit, ahead of the 6 queued sweep requests.
  const auto cancel_all = w.submit_urgent(w.t0 + 500ms);
  CHECK(w.outcomes[cancel_all].released());
  CHECK(w.outcomes[cancel_all].at == w.t0 + 500ms);
  CHECK(w.lane.remaining() == 0);

  w.advance_to(10s);
  std::vector<std::chrono::nanoseconds> at;
  for (auto id : sweep) {
    REQUIRE(w.outcomes[id].released());
    at.push_back(w.released_at(id));
  }
  // The urgent send at 0.5 s takes one of the 2 s window's slots, so one sweep request
  // waits for it to leave (2.5 s).
  const std::vector<std::chrono::nanoseconds> expected = {0s, 0s, 0s,     0s, 2s,
                                                          2s, 2s, 2500ms, 4s, 4s};
  CHECK(at == expected);
  CHECK(busiest_window(w) <= 5);
  CHECK(busiest_window(w, false) <= 4);
  CHECK(w.lane.sent() == 11);
  CHECK(w.lane.expired() == 0);
}

TEST_CASE("lane reserve: an urgent request refuses the queued normal ones it pushes too late",
          "[limits][reserve]") {
  LaneWorld w(5, 1);
  for (int i = 0; i < 7; ++i) w.submit_long();  // 4 at 0 s, 3 at 2 s
  const auto tight = w.submit(w.t0 + 2s);       // the 4th normal slot of the 2 s window
  w.advance_to(500ms);
  REQUIRE(w.outcomes[tight].calls == 0);

  SECTION("the urgent send at 0.5 s moves it to 2.5 s: it fails inside that submit") {
    const auto cancel_all = w.submit_urgent(w.t0 + 500ms);
    CHECK(w.outcomes[cancel_all].released());
    CHECK(w.outcomes[tight].failed_with(Errc::rate_limited));
    CHECK(w.outcomes[tight].at == w.t0 + 500ms);
    w.advance_to(10s);
    CHECK(w.outcomes[tight].calls == 1);
    CHECK(w.lane.expired() == 1);
    CHECK(w.lane.sent() == 8);
  }
  SECTION("without the urgent request it goes out at its deadline") {
    w.advance_to(10s);
    CHECK(w.outcomes[tight].released());
    CHECK(w.released_at(tight) == 2s);
    CHECK(w.lane.sent() == 8);
  }
}

TEST_CASE("lane reserve: deadline refusal uses the reserve-aware slot for normal requests only",
          "[limits][reserve]") {
  LaneWorld w(2, 1);
  w.submit_long();  // normal traffic is now full until t0 + 2 s; one urgent slot is left

  SECTION("a normal request that would need the reserved slot fails at submit, unsent") {
    const auto normal = w.submit(w.t0 + 1s);
    CHECK(w.outcomes[normal].failed_with(Errc::rate_limited));
    CHECK(w.outcomes[normal].at == w.t0);
    CHECK(w.lane.depth() == 0);
    CHECK(w.lane.sent() == 1);
    CHECK(w.lane.expired() == 1);

    const auto urgent = w.submit_urgent(w.t0 + 1s);
    CHECK(w.outcomes[urgent].released());
    CHECK(w.outcomes[urgent].at == w.t0);
    CHECK(w.lane.sent() == 2);
    CHECK(w.lane.expired() == 1);
  }
  SECTION("a normal request whose reserve-aware slot is exactly its deadline goes out then") {
    const auto normal = w.submit(w.t0 + kWindow);
    CHECK(w.outcomes[normal].calls == 0);
    w.advance_to(10s);
    CHECK(w.outcomes[normal].released());
    CHECK(w.released_at(normal) == kWindow);
    CHECK(w.lane.expired() == 0);
  }
  SECTION("back_off refuses a queued normal request by its reserve-aware slot") {
    const auto normal = w.submit(w.t0 + 2500ms);  // projected at 2 s
    w.back_off(1s);                               // closed until 1 s: the projection stays at 2 s
    CHECK(w.outcomes[normal].calls == 0);
    w.back_off(2600ms);  // now 2.6 s, past its deadline
    CHECK(w.outcomes[normal].failed_with(Errc::rate_limited));
    CHECK(w.outcomes[normal].at == w.t0);

    const auto urgent = w.submit_urgent(w.t0 + 2600ms);
    w.advance_to(10s);
    CHECK(w.outcomes[urgent].released());
    CHECK(w.released_at(urgent) == 2600ms);
    CHECK(w.lane.expired() == 1);
  }
}

TEST_CASE("lane reserve: the reserve must leave at least one slot", "[limits][reserve]") {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  CHECK(Lane(clock, "cancel-all-rfqs", WindowLimit(2, kWindow)).reserve() == 0);
  CHECK(Lane(clock, "cancel-all-rfqs", WindowLimit(2, kWindow), 1).reserve() == 1);
  CHECK_THROWS_AS(Lane(clock, "cancel-all-rfqs", WindowLimit(2, kWindow), 2),
                  std::invalid_argument);
  CHECK_THROWS_AS(Lane(clock, "cancel-all-rfqs", WindowLimit(2, kWindow), 7),
                  std::invalid_argument);
  CHECK_THROWS_WITH(Lane(clock, "cancel-all-rfqs", WindowLimit(2, kWindow), 2),
                    "lane cancel-all-rfqs: reserve 2 must be below the limit count 2");
}

TEST_CASE("lane reserve: random traffic keeps both limits and refuses only inside a call",
          "[limits][reserve]") {
  // Exact projections mean a request is refused while submit() or back_off() runs, never
  // later by the pump; every release keeps the sliding-window rule for its kind.
  struct Shape {
    std::size_t count;
    std::size_t reserve;
  };
  for (const Shape shape : {Shape{5, 0}, Shape{5, 1}, Shape{5, 4}, Shape{2, 1}, Shape{3, 1}}) {
    DYNAMIC_SECTION("count " << shape.count << ", reserve " << shape.reserve) {
      LaneWorld w(shape.count, shape.reserve);
      std::mt19937 rng(20240611u + shape.count * 10 + shape.reserve);
      auto ms = [&rng](int lo, int hi) {
        return std::chrono::milliseconds(std::uniform_int_distribution<int>(lo, hi)(rng));
      };
      for (int step = 0; step < 400; ++step) {
        w.clock.advance(ms(0, 400));
        const int kind = std::uniform_int_distribution<int>(0, 19)(rng);
        const auto now = w.clock.steady_now();
        if (kind < 14) {
          w.submit(now + ms(0, 8000));
        } else if (kind < 19) {
          w.submit_urgent(now + ms(0, 3000));
        } else {
          w.back_off(ms(0, 2500));
        }
      }
      w.advance_to(1h);
      REQUIRE(w.lane.depth() == 0);

      std::size_t released = 0;
      std::size_t refused = 0;
      std::size_t urgent_released = 0;
      for (std::size_t id = 0; id < w.submitted; ++id) {
        INFO("submission " << id);
        const auto& o = w.outcomes[id];
        REQUIRE(o.calls == 1);
        if (o.released()) {
          ++released;
          urgent_released += o.urgent;
        } else {
          CHECK(o.failed_with(Errc::rate_limited));
          CHECK(o.inside_call);
          ++refused;
        }
      }
      CHECK(w.lane.sent() == released);
      CHECK(w.lane.expired() == refused);
      // Both kinds went out and both were refused somewhere, or the test proves little.
      CHECK(urgent_released > 0);
      CHECK(released - urgent_released > 0);
      CHECK(refused > 0);

      // Replay the releases in order: each saw fewer than its kind's slots in use.
      const auto& order = w.release_order;
      for (std::size_t k = 0; k < order.size(); ++k) {
        const auto& o = w.outcomes[order[k]];
        std::size_t in_use = 0;
        for (std::size_t j = 0; j < k; ++j) in_use += (w.outcomes[order[j]].at + kWindow > o.at);
        INFO("release " << k << " of submission " << order[k]);
        CHECK(in_use < (o.urgent ? shape.count : shape.count - shape.reserve));
      }
      CHECK(busiest_window(w) <= int(shape.count));
      CHECK(busiest_window(w, false) <= int(shape.count - shape.reserve));
    }
  }
}
