// VirtualClock: exact, instant time for scripted tests. RealClock: timers posted to the loop.
#include "engine/core/clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using rfq::TimerHandle;
using rfq::VirtualClock;

namespace {
constexpr std::int64_t kStartMs = 1'700'000'000'000;
}

TEST_CASE("virtual clock: timers fire in deadline order, ties in scheduling order", "[core]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  std::vector<std::string> fired;
  auto c = clock.schedule(30ms, [&] { fired.push_back("c30"); });
  auto a = clock.schedule(10ms, [&] { fired.push_back("a10"); });
  auto b1 = clock.schedule(20ms, [&] { fired.push_back("b20-1"); });
  auto b2 = clock.schedule(20ms, [&] { fired.push_back("b20-2"); });
  auto b3 = clock.schedule(20ms, [&] { fired.push_back("b20-3"); });
  CHECK(fired.empty());  // never inside schedule()
  clock.advance(100ms);
  CHECK(fired == std::vector<std::string>{"a10", "b20-1", "b20-2", "b20-3", "c30"});
}

TEST_CASE("virtual clock: advance stops at d, a timer due exactly at d fires", "[core]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  const auto start = clock.steady_now();
  int at_d = 0, after_d = 0;
  auto h1 = clock.schedule(50ms, [&] { ++at_d; });
  auto h2 = clock.schedule(50ms + 1ns, [&] { ++after_d; });
  clock.advance(50ms);
  CHECK(at_d == 1);
  CHECK(after_d == 0);
  CHECK(clock.steady_now() == start + 50ms);
  CHECK(clock.pending_timers() == 1);
  clock.advance(1ns);
  CHECK(after_d == 1);
  CHECK(at_d == 1);  // fires once
}

TEST_CASE("virtual clock: time moves by exactly d", "[core]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  CHECK(clock.is_virtual());
  CHECK(clock.now_ms() == kStartMs);
  const auto t0 = clock.steady_now();
  clock.advance(1234ms);
  CHECK(clock.now_ms() == kStartMs + 1234);
  CHECK(clock.steady_now() - t0 == 1234ms);
  SECTION("also when timers fire in between") {
    std::int64_t seen_ms = 0;
    auto h = clock.schedule(100ms, [&] { seen_ms = clock.now_ms(); });
    clock.advance(250ms);
    CHECK(seen_ms == kStartMs + 1234 + 100);  // the callback sees its own deadline
    CHECK(clock.now_ms() == kStartMs + 1234 + 250);
    CHECK(clock.steady_now() - t0 == 1484ms);
  }
  SECTION("advance(0) moves nothing") {
    clock.advance(0ms);
    CHECK(clock.now_ms() == kStartMs + 1234);
  }
}

TEST_CASE("virtual clock: a cancelled or destroyed handle never fires", "[core]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  int fired = 0;
  SECTION("cancelled before its deadline") {
    auto h = clock.schedule(10ms, [&] { ++fired; });
    CHECK(h.active());
    h.cancel();
    CHECK_FALSE(h.active());
    clock.advance(20ms);
    CHECK(fired == 0);
  }
  SECTION("destroyed before its deadline") {
    {
      auto h = clock.schedule(10ms, [&] { ++fired; });
    }
    clock.advance(20ms);
    CHECK(fired == 0);
  }
  SECTION("cancelled after it became due but before advance ran it") {
    auto h = clock.schedule(0ms, [&] { ++fired; });
    h.cancel();
    clock.advance(0ms);
    clock.advance(10ms);
    CHECK(fired == 0);
  }
  SECTION("cancelled by an earlier callback due at the same instant") {
    TimerHandle victim;
    auto killer = clock.schedule(10ms, [&] { victim.cancel(); });
    victim = clock.schedule(10ms, [&] { ++fired; });
    clock.advance(10ms);
    CHECK(fired == 0);
    CHECK_FALSE(killer.active());  // a fired timer is no longer active
  }
  SECTION("destroyed by move-assigning a new timer over it") {
    int second = 0;
    auto h = clock.schedule(10ms, [&] { ++fired; });
    h = clock.schedule(10ms, [&] { ++second; });
    clock.advance(10ms);
    CHECK(fired == 0);
    CHECK(second == 1);
  }
  CHECK(clock.pending_timers() == 0);
}

TEST_CASE("virtual clock: a timer scheduled from a callback fires in the same advance", "[core]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  std::vector<std::int64_t> fired_at;
  TimerHandle inner, zero;
  auto outer = clock.schedule(10ms, [&] {
    fired_at.push_back(clock.now_ms() - kStartMs);
    inner = clock.schedule(15ms, [&] { fired_at.push_back(clock.now_ms() - kStartMs); });
    zero = clock.schedule(0ms, [&] { fired_at.push_back(-(clock.now_ms() - kStartMs)); });
  });
  SECTION("due within the window") {
    clock.advance(30ms);
    CHECK(fired_at == std::vector<std::int64_t>{10, -10, 25});
    CHECK(clock.now_ms() == kStartMs + 30);
  }
  SECTION("due after the window waits for the next advance") {
    clock.advance(20ms);
    CHECK(fired_at == std::vector<std::int64_t>{10, -10});
    CHECK(clock.pending_timers() == 1);
    clock.advance(5ms);
    CHECK(fired_at == std::vector<std::int64_t>{10, -10, 25});
  }
}

TEST_CASE("virtual clock: pending_timers and next_deadline see only live timers", "[core]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  const auto start = clock.steady_now();
  CHECK(start != rfq::SteadyTime{});  // never the "not set" value
  rfq::SteadyTime next{};
  CHECK(clock.pending_timers() == 0);
  CHECK_FALSE(clock.next_deadline(next));

  auto a = clock.schedule(40ms, [] {});
  auto b = clock.schedule(10ms, [] {});
  auto c = clock.schedule(25ms, [] {});
  CHECK(clock.pending_timers() == 3);
  REQUIRE(clock.next_deadline(next));
  CHECK(next == start + 10ms);

  b.cancel();
  CHECK(clock.pending_timers() == 2);
  REQUIRE(clock.next_deadline(next));
  CHECK(next == start + 25ms);

  clock.advance(30ms);  // c fires
  CHECK(clock.pending_timers() == 1);
  REQUIRE(clock.next_deadline(next));
  CHECK(next == start + 40ms);

  SECTION("schedule_at uses the clock's own time base") {
    int fired = 0;
    auto d = clock.schedule_at(clock.steady_now() + 5ms, [&] { ++fired; });
    REQUIRE(clock.next_deadline(next));
    CHECK(next == start + 35ms);
    clock.advance(5ms);
    CHECK(fired == 1);
  }
  SECTION("all fired") {
    clock.advance(10ms);
    CHECK(clock.pending_timers() == 0);
    CHECK_FALSE(clock.next_deadline(next));
  }
}

TEST_CASE("virtual clock: advance runs handlers already posted to the loop", "[core]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  int ran = 0;
  boost::asio::post(io, [&] { ++ran; });
  CHECK(clock.poll() == 1);
  CHECK(ran == 1);
  CHECK(clock.now_ms() == kStartMs);
  boost::asio::post(io, [&] { ++ran; });
  auto h = clock.schedule(5ms, [&] { ++ran; });
  CHECK(clock.advance(10ms) == 2);
  CHECK(ran == 3);
}

TEST_CASE("real clock: schedule(0) runs on the loop, never inline", "[core]") {
  boost::asio::io_context io;
  rfq::RealClock clock(io);
  CHECK_FALSE(clock.is_virtual());
  int fired = 0;
  auto h = clock.schedule(0ns, [&] { ++fired; });
  CHECK(fired == 0);
  CHECK(io.run_one() == 1);
  CHECK(fired == 1);
  CHECK_FALSE(h.active());
}

TEST_CASE("real clock: a cancelled timer does not fire", "[core]") {
  boost::asio::io_context io;
  rfq::RealClock clock(io);
  int cancelled = 0;
  bool marker = false;
  SECTION("cancel()") {
    auto h = clock.schedule(0ns, [&] { ++cancelled; });
    h.cancel();
    auto m = clock.schedule(0ns, [&] { marker = true; });
    // The marker was scheduled later with the same delay, so it completes after the victim.
    for (int i = 0; i < 100 && !marker; ++i) io.run_one();
  }
  SECTION("handle destroyed") {
    {
      auto h = clock.schedule(0ns, [&] { ++cancelled; });
    }
    auto m = clock.schedule(0ns, [&] { marker = true; });
    for (int i = 0; i < 100 && !marker; ++i) io.run_one();
  }
  REQUIRE(marker);
  io.poll();  // whatever else is ready (the victim's expiry) runs now, without blocking
  CHECK(cancelled == 0);
}

TEST_CASE("real clock: wall time is Unix milliseconds", "[core]") {
  boost::asio::io_context io;
  rfq::RealClock clock(io);
  const auto sys = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  CHECK(std::llabs(clock.now_ms() - sys) < 60'000);
  CHECK(clock.now_ms() > 1'600'000'000'000);
}
