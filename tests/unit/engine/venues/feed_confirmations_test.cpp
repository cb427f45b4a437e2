// FeedConfirmations: groups of RFQs waiting for a final state from the venue's feed, under a
// deadline on virtual time (the confirm = true of cancels).
#include "engine/venues/feed_confirmations.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/core/error.hpp"

using namespace std::chrono_literals;
using rfq::Errc;
using rfq::FeedConfirmations;
using rfq::VirtualClock;
using States = std::vector<std::string>;
using Key = FeedConfirmations::Key;

namespace {

constexpr std::int64_t kStartMs = 1'700'000'000'000;
constexpr auto kWait = 5s;

// What a group's completion received, and how many times it ran.
struct Outcome {
  int calls = 0;
  States states;
  boost::system::error_code ec;

  FeedConfirmations::Done done() {
    return [this](States s, boost::system::error_code why) {
      ++calls;
      states = std::move(s);
      ec = why;
    };
  }
};

struct World {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  FeedConfirmations fc{clock};
  rfq::SteadyTime deadline = clock.steady_now() + kWait;
};

Key by_id(std::string id) { return Key{std::move(id), ""}; }
Key by_client_id(std::string client_id) { return Key{"", std::move(client_id)}; }

}  // namespace

TEST_CASE("feed confirmations: an empty key list completes inside wait() with no error",
          "[venues][feed]") {
  World w;
  Outcome o;
  w.fc.wait({}, w.deadline, o.done());
  CHECK(o.calls == 1);  // before the loop ran anything
  CHECK(o.states.empty());
  CHECK_FALSE(o.ec);
  CHECK(w.fc.waiting() == 0);
  CHECK(w.clock.pending_timers() == 0);  // no deadline to watch

  w.clock.advance(kWait + 1s);
  w.fc.report("1", "", "canceled");
  w.fc.fail_all(make_error_code(Errc::disconnected));
  CHECK(o.calls == 1);
}

TEST_CASE("feed confirmations: one key reported canceled completes with its state",
          "[venues][feed]") {
  World w;
  Outcome o;
  w.fc.wait({by_id("22535")}, w.deadline, o.done());
  CHECK(o.calls == 0);
  CHECK(w.fc.waiting() == 1);
  CHECK(w.clock.pending_timers() == 1);

  w.fc.report("22535", "rfq001", "canceled");
  CHECK(o.calls == 1);  // inside report()
  CHECK(o.states == States{"canceled"});
  CHECK_FALSE(o.ec);
  CHECK(w.fc.waiting() == 0);
  CHECK(w.clock.pending_timers() == 0);  // the deadline was released

  SECTION("nothing more happens at the deadline or on later reports") {
    w.clock.advance(kWait + 1s);
    w.fc.report("22535", "", "canceled");
    w.fc.report("22535", "", "filled");
    w.fc.fail_all(make_error_code(Errc::disconnected));
    CHECK(o.calls == 1);
    CHECK(o.states == States{"canceled"});
    CHECK_FALSE(o.ec);
  }
}

TEST_CASE("feed confirmations: only final states settle a member", "[venues][feed]") {
  World w;
  Outcome o;
  w.fc.wait({by_id("1")}, w.deadline, o.done());

  for (const char* state : {"active", "pending_fill", ""}) {
    INFO("state '" << state << "'");
    w.fc.report("1", "", state);
    CHECK(o.calls == 0);
    CHECK(w.fc.waiting() == 1);
  }
  CHECK_FALSE(FeedConfirmations::is_final("active"));
  CHECK_FALSE(FeedConfirmations::is_final("pending_fill"));

  SECTION("each final state settles") {
    const char* final_state =
        GENERATE(as<const char*>{}, "canceled", "expired", "filled", "failed");
    CHECK(FeedConfirmations::is_final(final_state));
    w.fc.report("1", "", final_state);
    CHECK(o.calls == 1);
    CHECK(o.states == States{final_state});
    CHECK_FALSE(o.ec);
  }
}

TEST_CASE("feed confirmations: reports for other RFQs settle nothing", "[venues][feed]") {
  World w;
  Outcome o;
  w.fc.wait({by_id("1")}, w.deadline, o.done());
  w.fc.report("2", "", "canceled");
  w.fc.report("", "1", "canceled");  // "1" as a client id is another RFQ
  CHECK(o.calls == 0);
  CHECK(w.fc.waiting() == 1);
}

TEST_CASE("feed confirmations: a key without id is settled by a report with its client id",
          "[venues][feed]") {
  World w;
  Outcome o;
  w.fc.wait({by_client_id("rfq001")}, w.deadline, o.done());
  CHECK(w.fc.waiting() == 1);

  SECTION("the feed names both ids") {
    w.fc.report("22535", "rfq001", "canceled");
    CHECK(o.calls == 1);
    CHECK(o.states == States{"canceled"});
    CHECK_FALSE(o.ec);
  }
  SECTION("the report carries only the client id") {
    w.fc.report("", "rfq001", "expired");
    CHECK(o.calls == 1);
    CHECK(o.states == States{"expired"});
  }
  SECTION("the client id in the id position is not a match") {
    w.fc.report("rfq001", "", "canceled");
    CHECK(o.calls == 0);
    w.fc.report("22535", "rfq002", "canceled");
    CHECK(o.calls == 0);
    CHECK(w.fc.waiting() == 1);
  }
  CHECK(w.fc.waiting() == (o.calls == 1 ? 0u : 1u));
}

TEST_CASE(
    "feed confirmations: a group completes once every member was reported, states in key "
    "order",
    "[venues][feed]") {
  World w;
  Outcome o;
  w.fc.wait({by_id("1"), by_client_id("c2"), by_id("3")}, w.deadline, o.done());
  CHECK(w.fc.waiting() == 3);

  w.fc.report("3", "c3", "filled");
  CHECK(o.calls == 0);
  CHECK(w.fc.waiting() == 2);
  w.fc.report("1", "c1", "canceled");
  CHECK(o.calls == 0);
  CHECK(w.fc.waiting() == 1);
  w.fc.report("1", "c1", "expired");  // already settled: its first final state stands
  CHECK(o.calls == 0);
  w.fc.report("2", "c2", "expired");
  CHECK(o.calls == 1);
  CHECK(o.states == States{"canceled", "expired", "filled"});
  CHECK_FALSE(o.ec);
  CHECK(w.fc.waiting() == 0);
  CHECK(w.clock.pending_timers() == 0);
}

TEST_CASE("feed confirmations: at the deadline unreported members get \"\" and TIMEOUT",
          "[venues][feed]") {
  World w;
  Outcome o;
  w.fc.wait({by_id("1"), by_id("2"), by_client_id("c3")}, w.deadline, o.done());
  w.fc.report("2", "", "canceled");
  CHECK(w.fc.waiting() == 2);

  w.clock.advance(kWait - 1ns);
  CHECK(o.calls == 0);
  w.clock.advance(1ns);
  CHECK(o.calls == 1);
  CHECK(o.states == States{"", "canceled", ""});
  CHECK(o.ec == make_error_code(Errc::timeout));
  CHECK(w.fc.waiting() == 0);

  SECTION("a report after the deadline does nothing") {
    w.fc.report("1", "", "canceled");
    w.fc.report("", "c3", "canceled");
    CHECK(o.calls == 1);
    CHECK(o.states == States{"", "canceled", ""});
    CHECK(w.fc.waiting() == 0);
  }
  SECTION("fail_all after the deadline does nothing") {
    w.fc.fail_all(make_error_code(Errc::disconnected));
    CHECK(o.calls == 1);
    CHECK(o.ec == make_error_code(Errc::timeout));
  }
  SECTION("a later group on the same ids is unaffected by the expired one") {
    Outcome later;
    w.fc.wait({by_id("1")}, w.clock.steady_now() + kWait, later.done());
    CHECK(w.fc.waiting() == 1);
    w.fc.report("1", "", "filled");
    CHECK(later.calls == 1);
    CHECK(later.states == States{"filled"});
    CHECK_FALSE(later.ec);
    CHECK(o.calls == 1);
  }
}

TEST_CASE("feed confirmations: a group with nothing reported times out with all \"\"",
          "[venues][feed]") {
  World w;
  Outcome o;
  w.fc.wait({by_id("1"), by_id("2")}, w.deadline, o.done());
  w.fc.report("1", "", "active");
  w.clock.advance(kWait);
  CHECK(o.calls == 1);
  CHECK(o.states == States{"", ""});
  CHECK(o.ec == make_error_code(Errc::timeout));
  w.clock.advance(kWait);
  CHECK(o.calls == 1);
}

TEST_CASE("feed confirmations: fail_all completes every group once with its error",
          "[venues][feed]") {
  World w;
  Outcome a, b, done_before;
  w.fc.wait({by_id("1"), by_id("2")}, w.deadline, a.done());
  w.fc.wait({by_client_id("c3")}, w.deadline + 1s, b.done());
  w.fc.wait({by_id("4")}, w.deadline, done_before.done());
  w.fc.report("2", "", "canceled");
  w.fc.report("4", "", "filled");
  REQUIRE(done_before.calls == 1);
  CHECK(w.fc.waiting() == 2);

  const auto lost = make_error_code(Errc::disconnected);
  w.fc.fail_all(lost);
  CHECK(a.calls == 1);
  CHECK(a.states == States{"", "canceled"});
  CHECK(a.ec == lost);
  CHECK(b.calls == 1);
  CHECK(b.states == States{""});
  CHECK(b.ec == lost);
  CHECK(done_before.calls == 1);  // already complete: not touched
  CHECK_FALSE(done_before.ec);
  CHECK(w.fc.waiting() == 0);
  CHECK(w.clock.pending_timers() == 0);

  // Nothing completes twice: not at the deadlines, not on late reports, not on another loss.
  w.clock.advance(kWait + 2s);
  w.fc.report("1", "", "canceled");
  w.fc.report("", "c3", "canceled");
  w.fc.fail_all(make_error_code(Errc::timeout));
  CHECK(a.calls == 1);
  CHECK(b.calls == 1);
  CHECK(a.ec == lost);
}

TEST_CASE("feed confirmations: two groups waiting on one id are both settled by one report",
          "[venues][feed]") {
  World w;
  Outcome a, b;
  w.fc.wait({by_id("1")}, w.deadline, a.done());
  w.fc.wait({by_id("1"), by_id("2")}, w.deadline, b.done());
  CHECK(w.fc.waiting() == 3);

  w.fc.report("1", "", "canceled");
  CHECK(a.calls == 1);
  CHECK(a.states == States{"canceled"});
  CHECK(b.calls == 0);
  CHECK(w.fc.waiting() == 1);

  w.fc.report("2", "", "expired");
  CHECK(b.calls == 1);
  CHECK(b.states == States{"canceled", "expired"});
  CHECK_FALSE(b.ec);
  CHECK(a.calls == 1);

  w.clock.advance(kWait + 1s);
  CHECK(a.calls == 1);
  CHECK(b.calls == 1);
}

TEST_CASE("feed confirmations: the same client id in two groups settles both", "[venues][feed]") {
  World w;
  Outcome a, b;
  w.fc.wait({by_client_id("c1")}, w.deadline, a.done());
  w.fc.wait({by_client_id("c1")}, w.deadline + 1s, b.done());
  w.fc.report("9", "c1", "failed");
  CHECK(a.calls == 1);
  CHECK(b.calls == 1);
  CHECK(a.states == States{"failed"});
  CHECK(b.states == States{"failed"});
  CHECK(w.fc.waiting() == 0);
  CHECK(w.clock.pending_timers() == 0);
}

TEST_CASE("feed confirmations: groups time out on their own deadlines", "[venues][feed]") {
  World w;
  Outcome early, late;
  w.fc.wait({by_id("1")}, w.deadline, early.done());
  w.fc.wait({by_id("1")}, w.deadline + 2s, late.done());
  CHECK(w.fc.waiting() == 2);

  w.clock.advance(kWait);
  CHECK(early.calls == 1);
  CHECK(early.ec == make_error_code(Errc::timeout));
  CHECK(late.calls == 0);
  CHECK(w.fc.waiting() == 1);  // the late group's member is still indexed

  w.fc.report("1", "", "canceled");
  CHECK(late.calls == 1);
  CHECK(late.states == States{"canceled"});
  CHECK_FALSE(late.ec);
  CHECK(early.calls == 1);
  CHECK(early.states == States{""});
}

TEST_CASE("feed confirmations: destroying it with pending groups completes none of them",
          "[venues][feed]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  Outcome a, b;
  auto fc = std::make_unique<FeedConfirmations>(clock);
  fc->wait({by_id("1"), by_id("2")}, clock.steady_now() + kWait, a.done());
  fc->wait({by_client_id("c3")}, clock.steady_now() + kWait, b.done());
  fc->report("1", "", "canceled");
  CHECK(clock.pending_timers() == 2);

  fc.reset();
  CHECK(a.calls == 0);
  CHECK(b.calls == 0);
  CHECK(clock.pending_timers() == 0);  // no deadline left pointing at the dead object

  clock.advance(kWait + 1s);  // would touch freed memory if a deadline were still armed
  CHECK(a.calls == 0);
  CHECK(b.calls == 0);
}

TEST_CASE("feed confirmations: waiting() counts members still waiting across groups",
          "[venues][feed]") {
  World w;
  Outcome a, b, c;
  CHECK(w.fc.waiting() == 0);
  w.fc.wait({by_id("1"), by_id("2")}, w.deadline, a.done());
  CHECK(w.fc.waiting() == 2);
  w.fc.wait({by_client_id("c1"), by_id("3"), by_id("1")}, w.deadline + 1s, b.done());
  CHECK(w.fc.waiting() == 5);
  w.fc.wait({}, w.deadline, c.done());
  CHECK(w.fc.waiting() == 5);

  w.fc.report("1", "", "canceled");  // one member of each group
  CHECK(w.fc.waiting() == 3);
  w.fc.report("7", "c1", "canceled");  // by client id
  CHECK(w.fc.waiting() == 2);
  w.fc.report("3", "", "canceled");
  CHECK(w.fc.waiting() == 1);
  CHECK(b.calls == 1);
  CHECK(b.states == States{"canceled", "canceled", "canceled"});
  w.clock.advance(kWait);
  CHECK(a.calls == 1);
  CHECK(a.states == States{"canceled", ""});
  CHECK(w.fc.waiting() == 0);
}

TEST_CASE("feed confirmations: a deadline already past times out on the loop, not inside wait()",
          "[venues][feed]") {
  World w;
  Outcome o;
  w.fc.wait({by_id("1")}, w.clock.steady_now() - 1s, o.done());
  CHECK(o.calls == 0);  // timers never run inside schedule()
  CHECK(w.fc.waiting() == 1);
  w.clock.advance(0ns);
  CHECK(o.calls == 1);
  CHECK(o.states == States{""});
  CHECK(o.ec == make_error_code(Errc::timeout));
  CHECK(w.fc.waiting() == 0);
}
