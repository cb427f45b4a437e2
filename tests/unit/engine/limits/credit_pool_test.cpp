// CreditPool in virtual time, with Deribit's non-matching-engine defaults (500 credits per
// request, a pool of 50,000, refilling 10,000/s) unless told. Release times are asserted
// exactly, and every run can be replayed against an independent model of the venue's bucket.

#include "engine/limits/credit_pool.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/core/error.hpp"

using namespace std::chrono_literals;
using boost::system::error_code;
using rfq::CreditPool;
using rfq::Errc;
using rfq::SteadyTime;
using rfq::VirtualClock;

namespace {

constexpr std::int64_t kStartMs = 1'700'000'000'000;
constexpr std::int64_t kCost = CreditPool::kDefaultCost;
constexpr std::int64_t kCapacity = CreditPool::kDefaultCapacity;
constexpr std::int64_t kRefill = CreditPool::kDefaultRefillPerS;
constexpr auto kLongDeadline = 1h;

struct Shape {
  std::int64_t capacity = kCapacity;
  std::int64_t refill_per_s = kRefill;
  std::int64_t reserve = 0;
};

// What one submission asked for and was told, when (virtual time), and how often.
struct Outcome {
  std::int64_t cost = 0;
  bool urgent = false;
  SteadyTime submitted_at{};
  SteadyTime deadline{};
  int calls = 0;
  error_code ec;
  SteadyTime at{};
  bool inside_call = false;  // told while submit() or drain() was still running
  bool released() const { return calls == 1 && !ec; }
  bool failed_with(Errc e) const { return calls == 1 && ec == make_error_code(e); }
};

// Everything that touched the pool, in the order it happened.
struct Event {
  enum Kind { kRelease, kRefusal, kDrain } kind;
  SteadyTime at;
  std::size_t id = 0;  // the submission, unless a drain
};

// A real clock's timers fire late; this one fires every timer `lateness` after its time, on
// top of a virtual clock, so that lateness is exact too.
class LateClock final : public rfq::Clock {
 public:
  LateClock(VirtualClock& inner, rfq::Nanos lateness) : inner_(inner), lateness_(lateness) {}
  std::int64_t now_ms() const override { return inner_.now_ms(); }
  SteadyTime steady_now() const override { return inner_.steady_now(); }
  rfq::TimerHandle schedule(rfq::Nanos delay, std::function<void()> fn) override {
    return inner_.schedule(delay + lateness_, std::move(fn));
  }
  bool is_virtual() const override { return true; }

 private:
  VirtualClock& inner_;
  rfq::Nanos lateness_;
};

// One pool on a virtual clock (late by `lateness` if given); submissions are numbered in
// submit order.
struct PoolWorld {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  LateClock late_clock;
  Shape shape;
  CreditPool pool;
  std::vector<Outcome> outcomes = std::vector<Outcome>(64);
  std::vector<Event> events;
  std::vector<std::size_t> release_order;
  std::size_t submitted = 0;
  bool in_call = false;
  const SteadyTime t0 = clock.steady_now();

  explicit PoolWorld(Shape s = {}, rfq::Nanos lateness = rfq::Nanos::zero())
      : late_clock(clock, lateness),
        shape(s),
        pool(lateness > rfq::Nanos::zero() ? static_cast<rfq::Clock&>(late_clock) : clock,
             "deribit", s.capacity, s.refill_per_s, s.reserve) {}

  std::size_t submit(std::int64_t cost, SteadyTime deadline, bool urgent = false) {
    const std::size_t id = submitted++;
    if (id >= outcomes.size()) outcomes.resize(2 * id);
    auto& o = outcomes[id];
    o.cost = cost;
    o.urgent = urgent;
    o.submitted_at = clock.steady_now();
    o.deadline = deadline;
    in_call = true;
    pool.submit(
        cost, deadline,
        [this, id](error_code ec) {
          auto& o = outcomes[id];
          ++o.calls;
          o.ec = ec;
          o.at = clock.steady_now();
          o.inside_call = in_call;
          events.push_back({ec ? Event::kRefusal : Event::kRelease, o.at, id});
          if (!ec) release_order.push_back(id);
        },
        urgent);
    in_call = false;
    return id;
  }
  std::size_t submit(SteadyTime deadline, bool urgent = false) {
    return submit(kCost, deadline, urgent);
  }
  std::size_t submit_long(std::int64_t cost = kCost) {
    return submit(cost, clock.steady_now() + kLongDeadline);
  }
  std::size_t submit_urgent(SteadyTime deadline, std::int64_t cost = kCost) {
    return submit(cost, deadline, true);
  }
  void drain() {
    events.push_back({Event::kDrain, clock.steady_now()});
    in_call = true;
    pool.drain();
    in_call = false;
  }
  // Advances to t0 + t (absolute virtual time), running every timer due on the way.
  void advance_to(std::chrono::nanoseconds t) { clock.advance(t0 + t - clock.steady_now()); }
  std::chrono::nanoseconds released_at(std::size_t id) const { return outcomes[id].at - t0; }
};

// Replays the event log against the venue's bucket, kept independently here in 128-bit
// nano-credits: full at t0, refilling continuously, empty after a drain. Each release must
// find the credits it needs (cost, plus the reserve for a normal request), so the level never
// goes negative, and must happen exactly when they are first there (not before the
// submission, nor before the previous event: everything in between left it waiting) unless
// `exact` is false (late timers). Returns the releases that broke a rule (reports the first).
int replay_violations(const PoolWorld& w, bool exact = true) {
  using I128 = __int128;
  const I128 nano = CreditPool::kNanoPerCredit;
  const I128 full = I128(w.shape.capacity) * nano;
  const I128 rate = w.shape.refill_per_s;  // nano-credits per ns
  I128 level = full;
  SteadyTime last = w.t0;
  auto level_at = [&](SteadyTime t) {
    return std::min(full, level + rate * I128((t - last).count()));
  };
  int violations = 0;
  for (const auto& e : w.events) {
    if (e.kind == Event::kDrain) {
      level = 0;
      last = e.at;
      continue;
    }
    if (e.kind == Event::kRefusal) {
      level = level_at(e.at);
      last = e.at;
      continue;
    }
    const auto& o = w.outcomes[e.id];
    const I128 need = I128(o.cost + (o.urgent ? 0 : w.shape.reserve)) * nano;
    const SteadyTime lower = std::max(last, o.submitted_at);
    const I128 have = level_at(lower);
    const SteadyTime earliest =
        have >= need
            ? lower
            : lower + std::chrono::nanoseconds(std::int64_t((need - have + rate - 1) / rate));
    const I128 at_release = level_at(e.at);
    if (at_release < need || (exact && e.at != earliest)) {
      if (violations++ == 0) {
        UNSCOPED_INFO("first violation: submission "
                      << e.id << " released at " << (e.at - w.t0).count() << " ns, earliest "
                      << (earliest - w.t0).count() << " ns, level "
                      << std::int64_t(at_release / nano) << " credits, needs "
                      << std::int64_t(need / nano));
      }
    }
    level = at_release - I128(o.cost) * nano;
    last = e.at;
  }
  return violations;
}

}  // namespace

TEST_CASE("credit pool: a full default pool releases 100 requests at once, the 101st 50 ms later",
          "[limits][credit]") {
  PoolWorld w;
  for (int i = 0; i < 100; ++i) {
    const auto id = w.submit_long();
    REQUIRE(w.outcomes[id].released());
    CHECK(w.outcomes[id].at == w.t0);
    CHECK(w.outcomes[id].inside_call);  // released inside submit
  }
  CHECK(w.pool.available() == 0);
  const auto next = w.submit_long();
  CHECK(w.outcomes[next].calls == 0);
  CHECK(w.pool.depth() == 1);

  w.advance_to(50ms - 1ns);
  CHECK(w.outcomes[next].calls == 0);
  w.advance_to(50ms);
  CHECK(w.outcomes[next].released());
  CHECK(w.released_at(next) == 50ms);
  CHECK_FALSE(w.outcomes[next].inside_call);  // from the timer
  CHECK(w.pool.sent() == 101);
  CHECK(w.pool.expired() == 0);
  CHECK(replay_violations(w) == 0);
}

TEST_CASE("credit pool: 1,000 requests at once never overdraw and take the theoretical 45 s",
          "[limits][credit]") {
  PoolWorld w;
  for (int i = 0; i < 1000; ++i) w.submit_long();
  w.advance_to(2h);
  REQUIRE(w.pool.depth() == 0);
  REQUIRE(w.release_order.size() == 1000);
  for (std::size_t i = 0; i < 1000; ++i) {
    INFO("submission " << i);
    REQUIRE(w.outcomes[i].released());
    CHECK(w.release_order[i] == i);  // FIFO
    // The burst empties the pool; then one request per 500 / 10,000 s.
    CHECK(w.released_at(i) == (i < 100 ? 0ms : std::int64_t(i - 99) * 50ms));
  }
  // (1000 * 500 - 50,000) / 10,000 s
  const auto last = w.released_at(999);
  CHECK(last >= 45s - 1ms);
  CHECK(last <= 45s + 1ms);
  CHECK(w.pool.sent() == 1000);
  CHECK(w.pool.expired() == 0);
  CHECK(replay_violations(w) == 0);
}

TEST_CASE("credit pool: a request projected past its deadline fails RATE_LIMITED at submit",
          "[limits][credit]") {
  PoolWorld w;
  for (int i = 0; i < 100; ++i) w.submit_long();  // the pool is empty at t0

  SECTION("refused inside submit, unsent, and later requests still go out") {
    const auto late = w.submit(w.t0 + 50ms - 1ns);
    CHECK(w.outcomes[late].failed_with(Errc::rate_limited));
    CHECK(w.outcomes[late].inside_call);
    CHECK(w.outcomes[late].at == w.t0);
    CHECK(w.pool.depth() == 0);
    CHECK(w.pool.expired() == 1);

    const auto patient = w.submit(w.t0 + 1s);
    w.advance_to(10s);
    CHECK(w.outcomes[patient].released());
    CHECK(w.released_at(patient) == 50ms);  // the refused one took no credits
    CHECK(w.outcomes[late].calls == 1);
    CHECK(w.pool.sent() == 101);
    CHECK(w.pool.expired() == 1);
  }
  SECTION("a projection exactly at the deadline goes out then, behind queued requests too") {
    const auto first = w.submit(w.t0 + 50ms);
    const auto too_late = w.submit(w.t0 + 100ms - 1ns);
    const auto second = w.submit(w.t0 + 100ms);
    CHECK(w.outcomes[too_late].failed_with(Errc::rate_limited));
    CHECK(w.pool.depth() == 2);
    w.advance_to(10s);
    CHECK(w.outcomes[first].released());
    CHECK(w.outcomes[second].released());
    CHECK(w.released_at(first) == 50ms);
    CHECK(w.released_at(second) == 100ms);
    CHECK(w.pool.expired() == 1);
  }
  SECTION("a deadline already past is refused even when credits are there") {
    w.advance_to(10s);  // full again
    const auto stale = w.submit(w.clock.steady_now() - 1ns);
    CHECK(w.outcomes[stale].failed_with(Errc::rate_limited));
    CHECK(w.pool.available() == kCapacity);
  }
  CHECK(replay_violations(w) == 0);
}

TEST_CASE("credit pool: urgent requests go ahead of normal ones and may refuse those they delay",
          "[limits][credit]") {
  PoolWorld w;
  for (int i = 0; i < 100; ++i) w.submit_long();

  SECTION("an urgent submit pushing a queued request past its deadline refuses it at once") {
    const auto tight = w.submit(w.t0 + 50ms);  // projected exactly at its deadline
    const auto patient = w.submit_long();      // projected at 100 ms
    w.advance_to(20ms);
    const auto cancel_all = w.submit_urgent(w.t0 + 1s);
    CHECK(w.outcomes[tight].failed_with(Errc::rate_limited));
    CHECK(w.outcomes[tight].inside_call);
    CHECK(w.released_at(tight) == 20ms);
    CHECK(w.outcomes[cancel_all].calls == 0);
    CHECK(w.pool.depth() == 2);
    w.advance_to(10s);
    CHECK(w.outcomes[cancel_all].released());
    CHECK(w.released_at(cancel_all) == 50ms);
    CHECK(w.released_at(patient) == 100ms);  // the refused one's credits went to it
    CHECK(w.pool.expired() == 1);
  }
  SECTION("without the urgent request it goes out at its deadline") {
    const auto tight = w.submit(w.t0 + 50ms);
    w.advance_to(10s);
    CHECK(w.outcomes[tight].released());
    CHECK(w.released_at(tight) == 50ms);
  }
  SECTION("urgent requests keep their order among themselves, ahead of every normal one") {
    const auto n1 = w.submit_long();
    const auto n2 = w.submit_long();
    const auto u1 = w.submit_urgent(w.t0 + 1s);
    const auto u2 = w.submit_urgent(w.t0 + 1s);
    w.advance_to(10s);
    REQUIRE(w.release_order.size() == 104);
    const std::vector<std::size_t> tail(w.release_order.end() - 4, w.release_order.end());
    CHECK(tail == std::vector<std::size_t>{u1, u2, n1, n2});
    CHECK(w.released_at(u1) == 50ms);
    CHECK(w.released_at(u2) == 100ms);
    CHECK(w.released_at(n1) == 150ms);
    CHECK(w.released_at(n2) == 200ms);
  }
  SECTION("an urgent request that cannot make its own deadline is refused, moving nothing") {
    const auto queued = w.submit(w.t0 + 50ms);
    const auto hopeless = w.submit_urgent(w.t0 + 49ms);
    CHECK(w.outcomes[hopeless].failed_with(Errc::rate_limited));
    w.advance_to(10s);
    CHECK(w.outcomes[queued].released());
    CHECK(w.released_at(queued) == 50ms);
  }
  CHECK(replay_violations(w) == 0);
}

TEST_CASE("credit pool reserve: normal requests leave the reserve, urgent ones may use it",
          "[limits][credit][reserve]") {
  // 5,000 credits (10 requests) held back for urgent traffic.
  PoolWorld w({kCapacity, kRefill, 5'000});
  CHECK(w.pool.reserve() == 5'000);
  for (int i = 0; i < 90; ++i) REQUIRE(w.outcomes[w.submit_long()].released());
  CHECK(w.pool.available() == 5'000);

  SECTION("the 91st normal request waits until the pool holds cost + reserve") {
    const auto normal = w.submit_long();
    CHECK(w.outcomes[normal].calls == 0);
    w.advance_to(10s);
    CHECK(w.released_at(normal) == 50ms);
    CHECK(w.pool.available() == kCapacity);
  }
  SECTION("urgent requests drain the reserve at once, moving the queued normal one") {
    const auto normal = w.submit_long();  // projected at 50 ms
    const auto first = w.submit_urgent(w.t0);
    CHECK(w.outcomes[first].released());
    CHECK(w.outcomes[first].at == w.t0);
    CHECK(w.pool.available() == 4'500);
    for (int i = 0; i < 9; ++i) REQUIRE(w.outcomes[w.submit_urgent(w.t0)].released());
    CHECK(w.pool.available() == 0);
    const auto one_too_many = w.submit_urgent(w.t0 + 49ms);
    CHECK(w.outcomes[one_too_many].failed_with(Errc::rate_limited));
    // The normal request now needs 5,500 credits from an empty pool: 550 ms.
    w.advance_to(550ms - 1ns);
    CHECK(w.outcomes[normal].calls == 0);
    w.advance_to(550ms);
    CHECK(w.outcomes[normal].released());
  }
  SECTION("a normal request dearer than capacity - reserve is refused; an urgent one is not") {
    w.advance_to(10s);  // full again
    const auto too_dear = w.submit_long(kCapacity - 5'000 + 1);
    CHECK(w.outcomes[too_dear].failed_with(Errc::rate_limited));
    CHECK(w.outcomes[too_dear].inside_call);
    const auto just = w.submit_long(kCapacity - 5'000);
    CHECK(w.outcomes[just].released());
    w.advance_to(20s);
    const auto whole_pool = w.submit_urgent(w.clock.steady_now(), kCapacity);
    CHECK(w.outcomes[whole_pool].released());
    CHECK(w.pool.available() == 0);
  }
  CHECK(replay_violations(w) == 0);
}

TEST_CASE("credit pool: drain empties the pool now and moves every projection",
          "[limits][credit]") {
  PoolWorld w;

  SECTION("an idle full pool is empty after drain and refills from there") {
    w.advance_to(1s);
    w.drain();
    CHECK(w.pool.available() == 0);
    w.advance_to(1s + 25ms);
    CHECK(w.pool.available() == 250);
    const auto id = w.submit_long();
    CHECK(w.outcomes[id].calls == 0);
    w.advance_to(10s);
    CHECK(w.released_at(id) == 1s + 50ms);  // cost / refill after the drain
  }
  SECTION("queued requests move later; one pushed past its deadline fails inside drain") {
    for (int i = 0; i < 100; ++i) w.submit_long();
    const auto a = w.submit_long();         // projected at 50 ms
    const auto b = w.submit(w.t0 + 100ms);  // projected at 100 ms
    const auto c = w.submit_long();         // projected at 150 ms
    w.advance_to(20ms);
    CHECK(w.pool.available() == 200);
    w.drain();  // a: 70 ms, b: 120 ms (past its deadline), c: 120 ms
    CHECK(w.pool.available() == 0);
    CHECK(w.outcomes[b].failed_with(Errc::rate_limited));
    CHECK(w.outcomes[b].inside_call);
    CHECK(w.released_at(b) == 20ms);
    CHECK(w.pool.depth() == 2);
    w.advance_to(70ms - 1ns);
    CHECK(w.outcomes[a].calls == 0);
    w.advance_to(10s);
    CHECK(w.released_at(a) == 70ms);
    CHECK(w.released_at(c) == 120ms);
    CHECK(w.pool.sent() == 102);
    CHECK(w.pool.expired() == 1);
  }
  CHECK(replay_violations(w) == 0);
}

TEST_CASE("credit pool: callbacks may submit again", "[limits][credit]") {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  CreditPool pool(clock, "deribit", kCapacity, kRefill);
  const SteadyTime t0 = clock.steady_now();
  for (int i = 0; i < 100; ++i) pool.submit(kCost, t0, [](error_code) {});
  REQUIRE(pool.available() == 0);

  std::vector<std::pair<std::string, std::chrono::nanoseconds>> log;
  auto note = [&](std::string what) {
    return [&log, &clock, t0, what](error_code ec) {
      log.emplace_back(what + (ec ? " refused" : " released"), clock.steady_now() - t0);
    };
  };
  // Refused inside submit; the caller retries with a later deadline from the callback.
  pool.submit(kCost, t0 + 10ms, [&](error_code ec) {
    note("hasty")(ec);
    pool.submit(kCost, t0 + 1s, note("retry"));
  });
  // Released from the timer at 100 ms with another request queued behind it; its callback
  // submits an urgent one, which goes ahead of that request.
  pool.submit(kCost, t0 + 1s, [&](error_code ec) {
    note("first")(ec);
    pool.submit(kCost, t0 + 1s, note("urgent"), true);
  });
  pool.submit(kCost, t0 + 1s, note("last"));
  clock.advance(1s);

  using Log = std::vector<std::pair<std::string, std::chrono::nanoseconds>>;
  CHECK(log == Log{{"hasty refused", 0ms},
                   {"retry released", 50ms},
                   {"first released", 100ms},
                   {"urgent released", 150ms},
                   {"last released", 200ms}});
  CHECK(pool.depth() == 0);
  CHECK(pool.sent() == 104);
  CHECK(pool.expired() == 1);
}

TEST_CASE("credit pool: a request dearer than the pool is refused at once", "[limits][credit]") {
  PoolWorld w;
  const auto too_dear = w.submit(kCapacity + 1, w.t0 + 24h);
  CHECK(w.outcomes[too_dear].failed_with(Errc::rate_limited));
  CHECK(w.outcomes[too_dear].inside_call);
  CHECK(w.pool.depth() == 0);
  CHECK(w.pool.expired() == 1);
  CHECK(w.pool.available() == kCapacity);

  const auto urgent_too_dear = w.submit(kCapacity + 1, w.t0 + 24h, true);
  CHECK(w.outcomes[urgent_too_dear].failed_with(Errc::rate_limited));

  const auto whole = w.submit(kCapacity, w.t0);
  CHECK(w.outcomes[whole].released());
  const auto free_of_charge = w.submit(0, w.t0);  // costs nothing, so it never waits
  CHECK(w.outcomes[free_of_charge].released());
  CHECK(w.pool.available() == 0);

  CHECK_THROWS_AS(w.submit(-1, w.t0 + 1s), std::invalid_argument);
  CHECK(w.pool.depth() == 0);
  CHECK(w.pool.sent() == 2);
  CHECK(w.pool.expired() == 2);
  CHECK(replay_violations(w) == 0);
}

TEST_CASE("credit pool: invalid shapes throw at construction", "[limits][credit]") {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  auto make = [&](std::int64_t capacity, std::int64_t refill, std::int64_t reserve) {
    return CreditPool(clock, "deribit", capacity, refill, reserve);
  };
  CHECK_THROWS_AS(make(0, kRefill, 0), std::invalid_argument);
  CHECK_THROWS_AS(make(-1, kRefill, 0), std::invalid_argument);
  CHECK_THROWS_AS(make(CreditPool::kMaxCapacity + 1, kRefill, 0), std::invalid_argument);
  CHECK_THROWS_AS(make(kCapacity, 0, 0), std::invalid_argument);
  CHECK_THROWS_AS(make(kCapacity, -10'000, 0), std::invalid_argument);
  CHECK_THROWS_AS(make(kCapacity, kRefill, -1), std::invalid_argument);
  CHECK_THROWS_AS(make(kCapacity, kRefill, kCapacity), std::invalid_argument);
  CHECK_THROWS_AS(make(kCapacity, kRefill, kCapacity + 1), std::invalid_argument);
  CHECK_THROWS_WITH(make(kCapacity, kRefill, kCapacity),
                    "credit pool deribit: reserve 50000 must be in 0..49999");
  CHECK_THROWS_WITH(make(kCapacity, 0, 0),
                    "credit pool deribit: refill 0 credits/s must be positive");

  const auto pool = make(kCapacity, kRefill, kCapacity - 1);
  CHECK(pool.name() == "deribit");
  CHECK(pool.capacity() == kCapacity);
  CHECK(pool.refill_per_s() == kRefill);
  CHECK(pool.reserve() == kCapacity - 1);
  CHECK(pool.available() == kCapacity);  // starts full
  CHECK(make(CreditPool::kMaxCapacity, 1, 0).available() == CreditPool::kMaxCapacity);
}

TEST_CASE("credit pool: fail_all tells every queued request once with the given error",
          "[limits][credit]") {
  PoolWorld w;
  for (int i = 0; i < 100; ++i) w.submit_long();
  std::vector<std::size_t> queued;
  for (int i = 0; i < 4; ++i) queued.push_back(w.submit_long());
  queued.push_back(w.submit_urgent(w.t0 + 1s));
  REQUIRE(w.pool.depth() == 5);

  w.pool.fail_all(make_error_code(Errc::disconnected));
  CHECK(w.pool.depth() == 0);
  for (auto id : queued) {
    CHECK(w.outcomes[id].failed_with(Errc::disconnected));
    CHECK(w.outcomes[id].at == w.t0);
  }
  // The wake-up is gone: nobody is told twice while the pool refills.
  w.advance_to(10s);
  for (std::size_t i = 0; i < w.submitted; ++i) CHECK(w.outcomes[i].calls == 1);
  CHECK(w.pool.sent() == 100);
  CHECK(w.pool.expired() == 0);            // failed by the caller, not by the pool
  CHECK(w.pool.available() == kCapacity);  // failing spends nothing

  const auto next = w.submit_long();
  CHECK(w.outcomes[next].released());
  CHECK(w.released_at(next) == 10s);
}

TEST_CASE("credit pool: available and depth follow the level and the queue", "[limits][credit]") {
  PoolWorld w;
  CHECK(w.pool.available() == kCapacity);
  CHECK(w.pool.depth() == 0);
  w.submit_long();
  CHECK(w.pool.available() == kCapacity - kCost);
  CHECK(w.pool.depth() == 0);  // released inside submit
  for (int i = 0; i < 99; ++i) w.submit_long();
  CHECK(w.pool.available() == 0);
  for (int i = 0; i < 3; ++i) w.submit_long();  // at 50, 100, 150 ms
  CHECK(w.pool.depth() == 3);
  CHECK(w.pool.available() == 0);  // queued requests are not subtracted (it is never below 0)

  w.advance_to(25ms);
  CHECK(w.pool.available() == 250);
  CHECK(w.pool.depth() == 3);
  w.advance_to(50ms);
  CHECK(w.pool.available() == 0);
  CHECK(w.pool.depth() == 2);
  w.advance_to(75ms);
  CHECK(w.pool.available() == 250);
  w.advance_to(150ms);
  CHECK(w.pool.depth() == 0);
  CHECK(w.pool.available() == 0);
  w.advance_to(150ms + 100us);
  CHECK(w.pool.available() == 1);  // whole credits: 1.0 exactly
  w.advance_to(150ms + 199us);
  CHECK(w.pool.available() == 1);
  w.advance_to(150ms + 5s);
  CHECK(w.pool.available() == kCapacity);
  w.advance_to(3h);
  CHECK(w.pool.available() == kCapacity);  // capped, however long it rests
  CHECK(w.pool.sent() == 103);
}

TEST_CASE("credit pool: fractional refill carries from one release to the next without drift",
          "[limits][credit]") {
  // 3 credits/s: one credit every 333,333,333.3 ns. After a burst of 10 empties the pool, the
  // k-th single must come at the first nanosecond the pool holds it, ceil(k * 1e9 / 3), not
  // at k * ceil(1e9 / 3): the fraction a release leaves behind counts for the next one.
  PoolWorld w({10, 3, 0});
  for (int i = 0; i < 40; ++i) w.submit(1, w.t0 + 1h);
  w.advance_to(1h);
  for (std::int64_t i = 0; i < 40; ++i) {
    INFO("submission " << i);
    REQUIRE(w.outcomes[i].released());
    const std::int64_t k = std::max<std::int64_t>(0, i - 9);
    CHECK(w.released_at(i).count() == (k * 1'000'000'000 + 2) / 3);
  }
  CHECK(w.released_at(39) == 10s);
  CHECK(replay_violations(w) == 0);
}

TEST_CASE("credit pool: refill beyond capacity is lost, as in the venue's bucket",
          "[limits][credit]") {
  // A one-credit pool is full 333,333,333.3 ns after it empties; a release can only come at
  // the next whole nanosecond, and the 2/3 ns of refill in between spills over the cap.
  PoolWorld w({1, 3, 0});
  for (int i = 0; i < 4; ++i) w.submit(1, w.t0 + 1h);
  w.advance_to(1h);
  CHECK(w.released_at(0).count() == 0);
  CHECK(w.released_at(1).count() == 333'333'334);
  CHECK(w.released_at(2).count() == 666'666'668);
  CHECK(w.released_at(3).count() == 1'000'000'002);
  CHECK(replay_violations(w) == 0);
}

TEST_CASE("credit pool: large pools and long waits stay exact", "[limits][credit]") {
  SECTION("a billion credits refilling 1,000/s: an empty pool pays for itself in 1e6 s") {
    PoolWorld w({1'000'000'000, 1'000, 0});
    w.drain();
    w.advance_to(1h);
    CHECK(w.pool.available() == 3'600'000);
    const auto whole = w.submit(1'000'000'000, w.t0 + 2'000'000s);
    w.advance_to(1'000'000s - 1ns);
    CHECK(w.outcomes[whole].calls == 0);
    CHECK(w.pool.available() == 999'999'999);
    w.advance_to(1'000'000s);
    CHECK(w.outcomes[whole].released());
    CHECK(w.released_at(whole) == 1'000'000s);
    CHECK(w.pool.available() == 0);
    w.advance_to(1'000'000s + 24h * 365 * 10);  // ten years idle: capped, no overflow
    CHECK(w.pool.available() == 1'000'000'000);
    CHECK(replay_violations(w) == 0);
  }
  SECTION("the largest pool refilling 1/s: a wait past the clock's range is never reached") {
    PoolWorld w({CreditPool::kMaxCapacity, 1, 0});
    w.drain();
    w.advance_to(24h * 365);
    CHECK(w.pool.available() == 3600 * 24 * 365);
    // ~292 years away: refused for any deadline the clock can reach...
    const auto hopeless = w.submit(CreditPool::kMaxCapacity, w.t0 + 24h * 365 * 200);
    CHECK(w.outcomes[hopeless].failed_with(Errc::rate_limited));
    // ...and queued (saturated) only for a deadline of "never".
    const auto forever = w.submit(CreditPool::kMaxCapacity, SteadyTime::max());
    CHECK(w.outcomes[forever].calls == 0);
    CHECK(w.pool.depth() == 1);
    w.pool.fail_all(make_error_code(Errc::disconnected));
    CHECK(w.outcomes[forever].failed_with(Errc::disconnected));
  }
}

TEST_CASE("credit pool: random traffic never overdraws and never releases after a deadline",
          "[limits][credit]") {
  // Normal and urgent requests of random costs, drains and idle time, on several shapes; the
  // replay checks every release against the venue's bucket and that it came the moment the
  // credits were there. Exact projections mean refusals happen inside submit() or drain()
  // only, never later from the timer.
  for (const Shape shape : {Shape{kCapacity, kRefill, 0}, Shape{kCapacity, kRefill, 5'000},
                            Shape{10'000, 7'777, 1'500}, Shape{1'000, 3, 100}}) {
    DYNAMIC_SECTION("capacity " << shape.capacity << ", refill " << shape.refill_per_s
                                << "/s, reserve " << shape.reserve) {
      PoolWorld w(shape);
      std::mt19937_64 rng(20240611u + std::uint64_t(shape.capacity + shape.reserve));
      // Time for an empty pool to fill, in ns: scales waits and deadlines to the shape.
      const std::int64_t fill_ns = shape.capacity * 1'000'000'000 / shape.refill_per_s;
      auto ns = [&rng](std::int64_t lo, std::int64_t hi) {
        return std::chrono::nanoseconds(std::uniform_int_distribution<std::int64_t>(lo, hi)(rng));
      };
      auto cost = [&] {
        const int pick = std::uniform_int_distribution<int>(0, 39)(rng);
        if (pick == 0) return shape.capacity + 1;                  // never payable
        if (pick == 1) return shape.capacity - shape.reserve + 1;  // payable only if urgent
        return std::uniform_int_distribution<std::int64_t>(0, shape.capacity / 16)(rng);
      };
      std::size_t drains = 0;
      for (int step = 0; step < 600; ++step) {
        w.clock.advance(ns(0, fill_ns / 20));
        const int kind = std::uniform_int_distribution<int>(0, 39)(rng);
        const auto now = w.clock.steady_now();
        if (kind < 28) {
          w.submit(cost(), now + ns(0, fill_ns));
        } else if (kind < 38) {
          w.submit(cost(), now + ns(0, fill_ns / 4), true);
        } else {
          w.drain();
          ++drains;
        }
      }
      w.advance_to(24h * 365 * 2);
      REQUIRE(w.pool.depth() == 0);

      std::size_t released = 0;
      std::size_t urgent_released = 0;
      std::size_t queued_then_released = 0;
      std::size_t refused = 0;
      std::size_t queued_then_refused = 0;  // by a drain or an urgent submit ahead of it
      for (std::size_t id = 0; id < w.submitted; ++id) {
        INFO("submission " << id);
        const auto& o = w.outcomes[id];
        REQUIRE(o.calls == 1);
        if (o.released()) {
          ++released;
          urgent_released += o.urgent;
          queued_then_released += o.at > o.submitted_at;
          CHECK(o.at <= o.deadline);
          CHECK(o.at >= o.submitted_at);
        } else {
          CHECK(o.failed_with(Errc::rate_limited));
          CHECK(o.inside_call);
          ++refused;
          queued_then_refused += o.at > o.submitted_at;
        }
      }
      CHECK(w.pool.sent() == released);
      CHECK(w.pool.expired() == refused);
      // Every path was taken, or this proves little.
      CHECK(urgent_released > 0);
      CHECK(released - urgent_released > 0);
      CHECK(queued_then_released > 0);
      CHECK(refused > 0);
      CHECK(queued_then_refused > 0);
      CHECK(drains > 0);

      // FIFO within each kind.
      std::size_t last_normal = 0, last_urgent = 0;
      bool any_normal = false, any_urgent = false;
      for (auto id : w.release_order) {
        auto& last = w.outcomes[id].urgent ? last_urgent : last_normal;
        auto& any = w.outcomes[id].urgent ? any_urgent : any_normal;
        if (any) CHECK(id > last);
        last = id;
        any = true;
      }
      CHECK(replay_violations(w) == 0);
    }
  }
}

TEST_CASE("credit pool on a late clock: the pump refuses what a late timer made miss its deadline",
          "[limits][credit]") {
  // Timers fire 30 ms late, as a loaded real loop might.
  PoolWorld w({}, 30ms);
  for (int i = 0; i < 100; ++i) w.submit_long();
  const auto a = w.submit(w.t0 + 60ms);  // projected at 50 ms, the timer fires at 80 ms
  const auto b = w.submit_long();        // projected at 100 ms
  w.advance_to(80ms);
  CHECK(w.outcomes[a].failed_with(Errc::rate_limited));
  CHECK_FALSE(w.outcomes[a].inside_call);
  CHECK(w.released_at(a) == 80ms);
  // a's credits stayed in the pool: b finds 800 at 80 ms and goes at once.
  CHECK(w.outcomes[b].released());
  CHECK(w.released_at(b) == 80ms);
  CHECK(w.pool.expired() == 1);
  CHECK(w.pool.available() == 300);
  CHECK(replay_violations(w, false) == 0);
}

TEST_CASE("credit pool on a late clock: credits a refused head leaves reach the queue's tail",
          "[limits][credit]") {
  PoolWorld w({}, 30ms);
  for (int i = 0; i < 100; ++i) w.submit_long();
  const auto a = w.submit(kCost, w.t0 + 60ms);  // projected at 50 ms, its timer fires at 80 ms
  const auto b = w.submit_long(2 * kCost);      // 150 ms
  const auto c = w.submit_long();               // 200 ms
  w.advance_to(80ms);
  REQUIRE(w.outcomes[a].failed_with(Errc::rate_limited));
  CHECK(w.outcomes[b].calls == 0);  // needs 1,000, the pool holds 800
  // Without a's 500 credits to pay, b is due at 100 ms and c at 150 ms, so a request due by
  // 230 ms is accepted behind them (projected at 200 ms, not 250 ms).
  const auto d = w.submit(kCost, w.t0 + 230ms);
  CHECK(w.outcomes[d].calls == 0);
  w.advance_to(10s);
  // Each timer then fires 30 ms late, leaving 300 credits behind each release.
  CHECK(w.released_at(b) == 130ms);
  CHECK(w.released_at(c) == 180ms);
  CHECK(w.outcomes[d].released());
  CHECK(w.released_at(d) == 230ms);
  CHECK(replay_violations(w, false) == 0);
}

TEST_CASE("credit pool on a late clock: a release from a capped pool reprojects those behind",
          "[limits][credit]") {
  // 1,000 credits refilling 10,000/s: full 100 ms after it empties. With timers 200 ms late,
  // the pool sits at its cap and the refill a projection counted on is lost.
  PoolWorld w({1'000, kRefill, 0}, 200ms);
  w.submit_long();
  w.submit_long();                        // empty at t0
  const auto a = w.submit_long();         // projected at 50 ms
  const auto b = w.submit_long();         // 100 ms
  const auto x = w.submit_long();         // 150 ms
  const auto c = w.submit(w.t0 + 290ms);  // 200 ms
  w.advance_to(250ms);                    // the timer for a: the pool has held 1,000 since 100 ms
  CHECK(w.released_at(a) == 250ms);
  CHECK(w.released_at(b) == 250ms);
  CHECK(w.outcomes[x].calls == 0);
  // From an empty pool at 250 ms, x is now projected at 300 ms and c at 350 ms: c is refused
  // at once, not when a late timer finds out.
  CHECK(w.outcomes[c].failed_with(Errc::rate_limited));
  CHECK(w.released_at(c) == 250ms);
  // A request appended now is projected from the corrected tail.
  const auto d = w.submit(w.t0 + 350ms - 1ns);
  CHECK(w.outcomes[d].failed_with(Errc::rate_limited));
  const auto e = w.submit(w.t0 + 350ms);
  const auto f = w.submit_long();  // projected at 400 ms
  CHECK(w.outcomes[e].calls == 0);
  w.advance_to(10s);
  // x's timer fires at 300 ms + 200 ms, from a full pool again: e, now due at 550 ms, is
  // refused then (never sent late), and f takes the 500 credits x left.
  CHECK(w.released_at(x) == 500ms);
  CHECK(w.outcomes[e].failed_with(Errc::rate_limited));
  CHECK(w.released_at(e) == 500ms);
  CHECK(w.outcomes[f].released());
  CHECK(w.released_at(f) == 500ms);
  CHECK(w.pool.sent() == 6);
  CHECK(w.pool.expired() == 3);
  CHECK(replay_violations(w, false) == 0);
}
