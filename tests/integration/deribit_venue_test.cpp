// Venue deribit over real loopback WebSocket and HTTP to the Deribit simulator: auth, the
// snapshot and pushes, cancels with every documented outcome, credit pacing, token refresh,
// heartbeats and the HTTP fallback. Asserts on the simulator's state and journal.
#include <catch2/catch.hpp>

#include "engine/book/book.hpp"
#include "tests/integration/deribit_world.hpp"

using namespace rfq;
using rfq::testing::DeribitWorld;
using rfq::testing::DeribitWorldOptions;

TEST_CASE("deribit venue: start authenticates, sets the heartbeat, subscribes and loads the book",
          "[integration][deribit]") {
  DeribitWorld w;
  const auto a = w.add();
  const auto b = w.add();
  w.start();
  CHECK(w.answered("public/auth", 0) == 1);
  CHECK(w.answered("public/set_heartbeat", 0) == 1);
  CHECK(w.answered("private/subscribe", 0) == 1);
  CHECK(w.answered("private/get_block_rfqs", 0) == 1);
  CHECK(w.engine.book().active_count() == 2);
  REQUIRE(w.engine.book().find("deribit", std::to_string(a)) != nullptr);
  CHECK(w.engine.book().find("deribit", std::to_string(b))->confirmed);
  CHECK(w.engine.venue("deribit")->status() == VenueStatus::up);

  // A push: an RFQ created after start reaches the book without a request.
  const auto c = w.add();
  REQUIRE(w.run_until([&] { return w.engine.book().find("deribit", std::to_string(c)) != nullptr; }));
  REQUIRE(w.deribit->fill(c));
  REQUIRE(w.run_until([&] { return w.engine.book().find("deribit", std::to_string(c))->state == "filled"; }));
}

TEST_CASE("deribit venue: cancel outcomes through the Lua API", "[integration][deribit]") {
  DeribitWorld w;
  const auto a = w.add();
  w.start();
  w.run_policy(R"lua(
    local res = assert(rfq.cancel{ venue = "deribit", id = )lua" + std::to_string(a) + R"lua(, confirm = true })
    first = res.state .. ":" .. res.venue_code .. ":" .. res.id
    local none, err, code, venue_code = rfq.cancel{ venue = "deribit", id = )lua" + std::to_string(a) + R"lua( }
    again = code .. ":" .. venue_code
    none, err, code, venue_code = rfq.cancel{ venue = "deribit", id = "999999" }
    unknown = code .. ":" .. venue_code
    local ok, e = pcall(rfq.cancel, { venue = "deribit", client_id = "abc" })
    misuse = e
    ok, e = pcall(rfq.cancel, { venue = "deribit", id = "12x" })
    bad_id = e
  )lua");
  CHECK(w.global_string("first") == "canceled:0:" + std::to_string(a));
  CHECK(w.state_of(a) == "cancelled");
  CHECK(w.global_string("again") == "NOT_CANCELABLE:11029");
  CHECK(w.global_string("unknown") == "UNKNOWN_RFQ:10004");
  CHECK_THAT(w.global_string("misuse"),
             Catch::Contains("rfq.cancel: bad argument 'client_id' (Deribit block RFQs have no client id"));
  CHECK_THAT(w.global_string("bad_id"), Catch::Contains("positive integer"));
  CHECK(w.engine.book().find("deribit", std::to_string(a))->state == "canceled");
}

TEST_CASE("deribit venue: a 500-id batch is paced by credits with zero 10028 answers",
          "[integration][deribit][credits]") {
  // The documented shape (500 per request, a pool of 10 requests here) at a faster refill, so
  // the pacing is exercised in about 2.5 s of real time.
  DeribitWorldOptions o;
  o.sim.credit_pool = 5000;
  o.sim.credit_refill_per_s = 100000;
  DeribitWorld w(o);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 500; ++i) ids.push_back(w.add());
  w.start();
  std::string list;
  for (auto id : ids) list += std::to_string(id) + ",";
  w.run_policy("local r = assert(rfq.cancel_batch{ venue = 'deribit', ids = {" + list +
               "}, timeout_ms = 30000 })\n"
               "outcome = r.canceled .. '/' .. r.failed .. '/' .. r.requests");
  CHECK(w.global_string("outcome") == "500/0/500");
  CHECK(w.answered("private/cancel_block_rfq", 10028) == 0);
  CHECK(w.answered("private/cancel_block_rfq", 0) == 500);
  CHECK(w.deribit->count_in_state("cancelled") == 500);
}

TEST_CASE("deribit venue: a pool looser than the venue's meets 10028, which ends the session",
          "[integration][deribit][credits]") {
  // The negative control of the test above: pacing is what keeps 10028 away.
  DeribitWorldOptions o;
  o.sim.credit_pool = 5000;
  o.sim.credit_refill_per_s = 1000;
  o.credits_as_sim = false;  // the venue believes the defaults (50,000 / 10,000 per s)
  DeribitWorld w(o);
  std::string list;
  for (int i = 0; i < 30; ++i) list += std::to_string(w.add()) + ",";
  w.start();
  w.run_policy("local r = rfq.cancel_batch{ venue = 'deribit', ids = {" + list +
               "}, timeout_ms = 3000 }\n"
               "outcome = tostring(r.failed > 0)");
  CHECK(w.global_string("outcome") == "true");
  CHECK(w.answered("private/cancel_block_rfq", 10028) >= 1);
}

TEST_CASE("deribit venue: token expiry mid-run refreshes without a failed cancel",
          "[integration][deribit][auth]") {
  DeribitWorldOptions o;
  o.sim.token_ttl_s = 2;  // refreshed at 1.6 s
  DeribitWorld w(o);
  const auto a = w.add();
  const auto b = w.add();
  w.start();
  w.run_policy(R"lua(
    local one = assert(rfq.cancel{ venue = "deribit", id = )lua" + std::to_string(a) + R"lua( })
    rfq.sleep(2500)  -- past the first token's expiry
    local two = assert(rfq.cancel{ venue = "deribit", id = )lua" + std::to_string(b) + R"lua( })
    outcome = one.state .. "," .. two.state
  )lua");
  CHECK(w.global_string("outcome") == "canceled,canceled");
  CHECK(w.venue->auths() >= 2);
  CHECK(w.answered("private/cancel_block_rfq", 13009) == 0);
  CHECK(w.venue->connects() == 1);  // refreshed on the same connection
}

TEST_CASE("deribit venue: every test_request is answered; an ignored one ends the connection and "
          "the venue reconnects and re-authenticates",
          "[integration][deribit][heartbeat]") {
  DeribitWorldOptions o;
  o.sim.min_heartbeat_s = 1;
  o.heartbeat_s = 1;
  DeribitWorld w(o);
  w.start();
  REQUIRE(w.run_until([&] { return w.answered("public/test", 0) >= 2; }));
  CHECK(w.venue->connects() == 1);

  // Lose the venue's next answer: the simulator closes the connection at the next beat.
  w.deribit->inject({"public/test", sim::FaultKind::drop, 0, 1});
  REQUIRE(w.run_until([&] { return w.venue->connects() == 2 && w.venue->auths() >= 2 &&
                                   w.engine.venue("deribit")->status() == VenueStatus::up; }));
  const auto a = w.add();
  w.run_policy("outcome = assert(rfq.cancel{ venue = 'deribit', id = " + std::to_string(a) +
               " }).state");
  CHECK(w.global_string("outcome") == "canceled");
}

TEST_CASE("deribit venue: cancel_all lists the open RFQs and cancels each; none open is "
          "NOTHING_TO_CANCEL",
          "[integration][deribit]") {
  DeribitWorld w;
  for (int i = 0; i < 5; ++i) w.add();
  w.start();
  w.run_policy(R"lua(
    local s = assert(rfq.cancel_all{ venue = "deribit" })
    first = tostring(s.venues.deribit.ok) .. ":" .. s.venues.deribit.canceled
    local s2 = rfq.cancel_all{ venue = "deribit" }
    second = tostring(s2.venues.deribit.ok) .. ":" .. s2.venues.deribit.code
  )lua");
  CHECK(w.global_string("first") == "true:5");
  CHECK(w.global_string("second") == "true:NOTHING_TO_CANCEL");
  CHECK(w.deribit->count_in_state("open") == 0);
}

TEST_CASE("deribit venue: while the WebSocket is down a single cancel goes over HTTP, signed "
          "with deri-hmac-sha256",
          "[integration][deribit][http]") {
  DeribitWorldOptions o;
  o.sim.min_heartbeat_s = 1;
  o.heartbeat_s = 1;
  DeribitWorld w(o);
  const auto a = w.add();
  w.start();
  // Every WebSocket message from now on closes its connection: the venue cannot get ready
  // again (its public/test answer, then each auth after reconnecting, is cut off).
  w.deribit->inject({"", sim::FaultKind::ws_close, 0, 1000});
  REQUIRE(w.run_until([&] { return w.engine.venue("deribit")->status() != VenueStatus::up; }));
  w.run_policy("outcome = assert(rfq.cancel{ venue = 'deribit', id = " + std::to_string(a) +
               " }).state");
  CHECK(w.global_string("outcome") == "canceled");
  CHECK(w.state_of(a) == "cancelled");
  std::size_t over_http = 0;
  for (const auto& e : w.journal.find("deribit", "private/cancel_block_rfq")) {
    const auto* auth = e.if_contains("auth");
    if (auth && auth->is_string() && auth->get_string() == "deri-hmac-sha256") ++over_http;
  }
  CHECK(over_http == 1);
}

TEST_CASE("deribit venue: refused credentials fail start with AUTH", "[integration][deribit][auth]") {
  DeribitWorldOptions o;
  DeribitWorld w(o);
  // The venue signs with another secret than the simulator knows.
  w.deribit.reset();
  sim::DeribitSimOptions other;
  other.client_secret = "not-the-venue-secret";
  w.deribit = std::make_unique<sim::DeribitSim>(w.clock, w.journal, other);
  w.server->serve_deribit(*w.deribit);
  bool started = false;
  boost::system::error_code ec;
  w.engine.start([&](boost::system::error_code e) {
    ec = e;
    started = true;
  });
  REQUIRE(w.run_until([&] { return started; }));
  CHECK(ec == make_error_code(Errc::auth));
  CHECK(w.answered("public/auth", 13009) >= 1);
  CHECK(w.engine.venue("deribit")->status() != VenueStatus::up);
}

TEST_CASE("deribit venue: client_credentials grant, cancel_on_disconnect and the credit budget",
          "[integration][deribit][auth]") {
  DeribitWorldOptions o;
  o.client_credentials = true;
  o.cancel_on_disconnect = true;
  o.sim.min_heartbeat_s = 1;
  o.heartbeat_s = 1;
  DeribitWorld w(o);
  const auto a = w.add();
  w.start();
  CHECK(w.answered("public/auth", 0) == 1);
  CHECK(w.answered("private/enable_cancel_on_disconnect", 0) == 1);
  w.run_policy(R"lua(
    local b = rfq.budget("deribit")["non-matching-engine"]
    budget = b.limit .. "/" .. b.window_ms .. "/" .. tostring(b.remaining <= b.limit) .. "/" .. b.queued
  )lua");
  // 50,000 credits modelled as 49,000 (100 ms of refill kept as headroom): 98 requests of 500,
  // 4.9 s from empty to full.
  CHECK(w.global_string("budget") == "98/4900/true/0");
  // The connection drops (our next message, the heartbeat answer, closes it): the
  // simulator's cancel-on-disconnect cancels the open RFQ.
  w.deribit->inject({"", sim::FaultKind::ws_close, 0, 1});
  REQUIRE(w.run_until([&] { return w.state_of(a) == "cancelled"; }));
}
