// VirtualClock::set_settle_limit: a loop that never goes idle at one virtual instant is stopped
// with NotSettled instead of hanging poll()/advance(); under the limit, and with 0, nothing is
// thrown. Every re-posting handler here is bounded, so a broken limit fails instead of hanging.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "engine/core/clock.hpp"

using namespace std::chrono_literals;
using rfq::TimerHandle;
using rfq::VirtualClock;

namespace {

constexpr std::int64_t kStartMs = 1'700'000'000'000;

// A handler that re-posts itself until it has run `max_runs` times ("forever" for the test,
// but bounded so that a clock which never throws still lets the test end and fail).
struct Reposter {
  boost::asio::io_context& io;
  std::size_t max_runs;
  std::size_t runs = 0;

  void post() {
    boost::asio::post(io, [this] {
      ++runs;
      if (runs < max_runs) post();
    });
  }
};

}  // namespace

TEST_CASE("virtual clock settle limit: a handler re-posting itself makes poll() throw",
          "[core][settle]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  clock.set_settle_limit(100);
  Reposter r{io, 5000};
  r.post();
  CHECK_THROWS_AS(clock.poll(), VirtualClock::NotSettled);
  CHECK(r.runs == 101);  // stopped at the first handler beyond the limit
  CHECK(clock.now_ms() == kStartMs);
}

TEST_CASE("virtual clock settle limit: the message says what went wrong", "[core][settle]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  clock.set_settle_limit(100);
  Reposter r{io, 5000};
  r.post();
  CHECK_THROWS_WITH(clock.poll(), Catch::Contains("more than 100 handlers") &&
                                      Catch::Contains("without time moving"));
}

TEST_CASE("virtual clock settle limit: a timer that starts a re-posting loop makes advance() "
          "throw at the timer's instant",
          "[core][settle]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  clock.set_settle_limit(100);
  Reposter r{io, 5000};
  auto h = clock.schedule(30ms, [&] { r.post(); });
  CHECK_THROWS_AS(clock.advance(100ms), VirtualClock::NotSettled);
  CHECK(r.runs > 0);
  CHECK(r.runs < 5000);
  CHECK(clock.now_ms() == kStartMs + 30);  // left at the instant that did not settle
}

TEST_CASE("virtual clock settle limit: up to the limit nothing is thrown", "[core][settle]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  clock.set_settle_limit(100);

  SECTION("exactly `limit` handlers at one instant, through poll()") {
    Reposter r{io, 100};
    r.post();
    std::size_t ran = 0;
    CHECK_NOTHROW(ran = clock.poll());
    CHECK(ran == 100);
    CHECK(r.runs == 100);
  }
  SECTION("many handlers in total, but spread over instants, through advance()") {
    // 5 timers 10 ms apart, each starting 60 handlers: 300 in all, at most 61 per instant.
    std::vector<std::unique_ptr<Reposter>> loops;
    std::vector<TimerHandle> timers;
    for (int i = 1; i <= 5; ++i) {
      loops.push_back(std::make_unique<Reposter>(Reposter{io, 60}));
      timers.push_back(clock.schedule(i * 10ms, [p = loops.back().get()] { p->post(); }));
    }
    CHECK_NOTHROW(clock.advance(100ms));
    for (const auto& l : loops) CHECK(l->runs == 60);
    CHECK(clock.now_ms() == kStartMs + 100);
  }
  SECTION("the count starts again with each poll (it is not cumulative)") {
    Reposter r{io, 150};
    r.post();
    REQUIRE_THROWS_AS(clock.poll(), VirtualClock::NotSettled);
    CHECK(r.runs == 101);
    CHECK_NOTHROW(clock.poll());  // the 49 left are under the limit
    CHECK(r.runs == 150);
  }
}

TEST_CASE("virtual clock settle limit: 0 means no limit", "[core][settle]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  Reposter r{io, 5000};

  SECTION("the default") {
    r.post();
    CHECK_NOTHROW(clock.poll());
    CHECK(r.runs == 5000);
  }
  SECTION("a limit set and then cleared") {
    clock.set_settle_limit(100);
    clock.set_settle_limit(0);
    auto h = clock.schedule(5ms, [&] { r.post(); });
    CHECK_NOTHROW(clock.advance(10ms));
    CHECK(r.runs == 5000);
    CHECK(clock.now_ms() == kStartMs + 10);
  }
  SECTION("the same loop with a limit of 100 throws") {
    clock.set_settle_limit(100);
    r.post();
    CHECK_THROWS_AS(clock.poll(), VirtualClock::NotSettled);
    CHECK(r.runs == 101);
  }
}

// A zero-delay timer that schedules the next one is work that never lets time move, just like
// a re-posted handler (e.g. a policy looping on rfq.sleep(0), or rfq.after(0) re-arming
// itself). The header promises NotSettled when "more than `handlers` run at one instant".
TEST_CASE("virtual clock settle limit: zero-delay timers re-arming themselves at one instant "
          "make advance() throw",
          "[core][settle]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  clock.set_settle_limit(100);
  std::size_t runs = 0;
  TimerHandle next;
  std::function<void()> rearm = [&] {
    ++runs;
    if (runs < 5000) next = clock.schedule(0ms, rearm);
  };
  next = clock.schedule(1ms, rearm);
  CHECK_THROWS_AS(clock.advance(10ms), VirtualClock::NotSettled);
  CHECK(runs < 5000);
  CHECK(clock.now_ms() == kStartMs + 1);
}
