// OkxSim's test hooks through handle(): fills on command and injected faults (delay, 503
// unavailable, dropped connection): which requests they hit, whether the request is processed,
// what the reply tells the transport and what the journal records; and that ws-push faults
// (rfqs pushes, okx_ws_sim_test.cpp) are delay or drop only and never hit a request.

#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>

#include "engine/sim/okx_sim.hpp"
#include "tests/unit/engine/sim/okx_sim_world.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using namespace rfq::sim::test;
using std::chrono::milliseconds;

SimHttpRequest cancel_id(const World& w, const std::string& id) {
  return cancel_request(w.clock, R"({"rfqId":")" + id + R"("})");
}

SimHttpRequest get_rfqs(const World& w) {
  return signed_request(w.clock, "GET", "/api/v5/rfq/rfqs", "");
}

}  // namespace

TEST_CASE("okx sim: fill moves an active RFQ to filled and nothing else", "[sim][okx][fill]") {
  World w;
  const auto id = w.add("rfq001", 5000);
  w.clock.advance(milliseconds(10));

  REQUIRE(w.okx.fill(id));
  CHECK(w.okx.rfq(id)->state == "filled");
  CHECK(w.okx.rfq(id)->u_time_ms == kStartMs + 10);
  CHECK_FALSE(w.okx.fill(id));  // already filled

  SECTION("a filled RFQ cannot be canceled: 70200 naming filled") {
    const auto reply = w.okx.handle(cancel_id(w, id));
    CHECK(code_of(reply) == "1");
    CHECK(str(item_of(reply), "sMsg") == "The RFQ with filled status cannot be canceled");
  }
  SECTION("a filled RFQ never expires") {
    w.clock.advance(milliseconds(10000));
    CHECK(w.okx.rfq(id)->state == "filled");
  }
  SECTION("GET rfqs shows it filled") {
    CHECK(str(item_of(w.okx.handle(get_rfqs(w))), "state") == "filled");
  }
}

TEST_CASE("okx sim: fill refuses unknown, canceled and expired RFQs", "[sim][okx][fill]") {
  World w;
  const auto canceled = w.add("", 60000);
  const auto expired = w.add("", 1000);
  w.okx.handle(cancel_id(w, canceled));
  w.clock.advance(milliseconds(1000));
  CHECK_FALSE(w.okx.fill("999"));
  CHECK_FALSE(w.okx.fill("not-a-number"));
  CHECK_FALSE(w.okx.fill(canceled));
  CHECK_FALSE(w.okx.fill(expired));
  CHECK(w.okx.rfq(canceled)->state == "canceled");
  CHECK(w.okx.rfq(expired)->state == "expired");
}

TEST_CASE("okx sim: an unavailable fault answers 503 / 50001 and does not process the request",
          "[sim][okx][fault]") {
  World w;
  const auto id = w.add();
  w.okx.inject({"cancel-rfq", FaultKind::unavailable});
  REQUIRE(w.okx.pending_faults() == 1);

  const auto reply = w.okx.handle(cancel_id(w, id));
  CHECK(reply.status == 503);
  CHECK(reply.body ==
        R"({"code":"50001","msg":"Service temporarily unavailable. Please try again later.",)"
        R"("data":[]})");
  CHECK_FALSE(reply.drop);
  CHECK(reply.delay_ms == 0);
  CHECK(w.okx.rfq(id)->state == "active");
  CHECK(w.okx.pending_faults() == 0);

  const auto& e = w.journal.entries().back();
  CHECK(str(e, "fault") == "unavailable");
  CHECK(str(e, "code") == "50001");
  CHECK(e.at("status").as_int64() == 503);

  // count 1: the next one goes through.
  CHECK(code_of(w.okx.handle(cancel_id(w, id))) == "0");
  CHECK_FALSE(w.journal.entries().back().contains("fault"));
}

TEST_CASE("okx sim: a drop fault asks the transport to hang up and does not process",
          "[sim][okx][fault]") {
  World w;
  const auto id = w.add();
  w.okx.inject({"cancel-rfq", FaultKind::drop});
  const auto reply = w.okx.handle(cancel_id(w, id));
  CHECK(reply.drop);
  CHECK(w.okx.rfq(id)->state == "active");
  const auto& e = w.journal.entries().back();
  CHECK(str(e, "fault") == "drop");
  CHECK(e.at("status").as_int64() == 0);
  CHECK(str(e, "code") == "");
  CHECK(str(e, "endpoint") == "cancel-rfq");
}

TEST_CASE("okx sim: a delay fault processes the request and holds the answer back",
          "[sim][okx][fault]") {
  World w;
  const auto id = w.add();
  w.okx.inject({"cancel-rfq", FaultKind::delay, 250});
  const auto reply = w.okx.handle(cancel_id(w, id));
  CHECK(reply.delay_ms == 250);
  CHECK_FALSE(reply.drop);
  CHECK(reply.status == 200);
  CHECK(code_of(reply) == "0");
  CHECK(w.okx.rfq(id)->state == "canceled");
  const auto& e = w.journal.entries().back();
  CHECK(str(e, "fault") == "delay");
  CHECK(e.at("delay_ms").as_int64() == 250);
  CHECK(str(e, "code") == "0");
}

TEST_CASE("okx sim: faults hit the next count requests of their endpoint only",
          "[sim][okx][fault]") {
  OkxSimOptions options;
  options.enforce_limits = false;
  World w(options);
  const auto id = w.add();
  w.okx.inject({"cancel-rfq", FaultKind::unavailable, 0, 2});
  CHECK(w.okx.pending_faults() == 2);

  CHECK(w.okx.handle(get_rfqs(w)).status == 200);  // another endpoint: untouched
  CHECK(w.okx.handle({"GET", "/api/v5/public/time", "", {}}).status == 200);
  CHECK(w.okx.pending_faults() == 2);
  CHECK(w.okx.handle(cancel_id(w, id)).status == 503);
  CHECK(w.okx.pending_faults() == 1);
  CHECK(w.okx.handle(cancel_id(w, id)).status == 503);
  CHECK(w.okx.pending_faults() == 0);
  CHECK(code_of(w.okx.handle(cancel_id(w, id))) == "0");
}

TEST_CASE("okx sim: queued faults apply in injection order, the first match wins",
          "[sim][okx][fault]") {
  OkxSimOptions options;
  options.enforce_limits = false;
  World w(options);
  const auto id = w.add();
  w.okx.inject({"rfqs", FaultKind::delay, 100});
  w.okx.inject({"", FaultKind::drop});
  w.okx.inject({"cancel-rfq", FaultKind::unavailable});

  // cancel-rfq skips the rfqs fault and takes the any-endpoint drop queued before its own.
  CHECK(w.okx.handle(cancel_id(w, id)).drop);
  CHECK(w.okx.handle(cancel_id(w, id)).status == 503);
  CHECK(w.okx.handle(get_rfqs(w)).delay_ms == 100);
  CHECK(w.okx.pending_faults() == 0);
  CHECK(code_of(w.okx.handle(cancel_id(w, id))) == "0");
}

TEST_CASE("okx sim: an any-endpoint fault also hits public and unknown paths",
          "[sim][okx][fault]") {
  World w;
  w.okx.inject({"", FaultKind::unavailable, 0, 2});
  CHECK(w.okx.handle({"GET", "/api/v5/public/time", "", {}}).status == 503);
  CHECK(w.okx.handle({"GET", "/api/v5/nope", "", {}}).status == 503);
  CHECK(w.okx.handle({"GET", "/api/v5/nope", "", {}}).status == 404);
}

TEST_CASE("okx sim: a fault strikes before auth and rate limits, like a gateway would",
          "[sim][okx][fault]") {
  World w;
  SECTION("an unsigned request still gets the 503") {
    w.okx.inject({"cancel-rfq", FaultKind::unavailable});
    CHECK(w.okx.handle({"POST", "/api/v5/rfq/cancel-rfq", "{}", {}}).status == 503);
  }
  SECTION("unprocessed requests do not use the rate window") {
    w.okx.inject({"cancel-batch-rfqs", FaultKind::drop, 0, 3});
    const auto batch = [&] {
      return w.okx.handle(
          signed_request(w.clock, "POST", "/api/v5/rfq/cancel-batch-rfqs", R"({"rfqIds":["1"]})"));
    };
    for (int i = 0; i < 3; ++i) REQUIRE(batch().drop);
    CHECK(batch().status == 200);
    CHECK(batch().status == 200);
    CHECK(batch().status == 429);
  }
  SECTION("a delayed request is processed fully: auth still applies") {
    w.okx.inject({"cancel-rfq", FaultKind::delay, 50});
    const auto reply = w.okx.handle({"POST", "/api/v5/rfq/cancel-rfq", "{}", {}});
    CHECK(reply.status == 401);
    CHECK(reply.delay_ms == 50);
  }
}

TEST_CASE("okx sim: inject refuses faults that could never apply or make no sense",
          "[sim][okx][fault]") {
  World w;
  CHECK_THROWS_AS(w.okx.inject({"cancel-rfqs", FaultKind::drop}), std::invalid_argument);
  CHECK_THROWS_AS(w.okx.inject({"", FaultKind::drop, 0, 0}), std::invalid_argument);
  CHECK_THROWS_AS(w.okx.inject({"", FaultKind::delay, -1}), std::invalid_argument);
  CHECK_THROWS_AS(w.okx.inject({"", FaultKind::delay, 600001}), std::invalid_argument);
  CHECK(w.okx.pending_faults() == 0);
  w.okx.inject({"cancel-all-rfqs", FaultKind::delay, 600000});
  w.okx.inject({"time", FaultKind::drop, 0, 3});
  CHECK(w.okx.pending_faults() == 4);
}

TEST_CASE("okx sim: fault kind names round-trip", "[sim][okx][fault]") {
  for (auto kind : {FaultKind::delay, FaultKind::unavailable, FaultKind::drop}) {
    CHECK(fault_kind_from(to_string(kind)) == kind);
  }
  CHECK(to_string(FaultKind::unavailable) == "unavailable");
  CHECK_FALSE(fault_kind_from("Drop").has_value());
  CHECK_FALSE(fault_kind_from("").has_value());
}

TEST_CASE("okx sim: a ws-push fault is delay or drop, and only rfqs pushes take it",
          "[sim][okx][fault]") {
  World w;
  SECTION("unavailable and ws_close are refused, naming the kinds it takes") {
    CHECK_THROWS_WITH(w.okx.inject({"ws-push", FaultKind::unavailable}),
                      Catch::Contains("'ws-push' fault is delay or drop, not unavailable"));
    CHECK_THROWS_WITH(w.okx.inject({"ws-push", FaultKind::ws_close}),
                      Catch::Contains("'ws-push' fault is delay or drop, not ws_close"));
    CHECK_THROWS_AS(w.okx.inject({"ws-push", FaultKind::unavailable}), std::invalid_argument);
    CHECK(w.okx.pending_faults() == 0);
  }
  SECTION("a misspelt endpoint is refused with the names that exist") {
    CHECK_THROWS_WITH(w.okx.inject({"ws_push", FaultKind::drop}),
                      Catch::Contains("no endpoint named 'ws_push'") &&
                          Catch::Contains("ws-push") && Catch::Contains("cancel-rfq"));
  }
  SECTION("no HTTP request and no WebSocket message takes it") {
    OkxSimOptions options;
    options.enforce_limits = false;
    World quiet(options);
    const auto id = quiet.add();
    quiet.okx.inject({"ws-push", FaultKind::drop, 0, 2});
    quiet.okx.inject({"ws-push", FaultKind::delay, 40});
    CHECK(quiet.okx.pending_faults() == 3);

    const auto reply = quiet.okx.handle(cancel_id(quiet, id));
    CHECK_FALSE(reply.drop);
    CHECK(code_of(reply) == "0");
    CHECK(quiet.okx.handle(get_rfqs(quiet)).delay_ms == 0);
    CHECK(quiet.okx.handle({"GET", "/api/v5/public/time", "", {}}).status == 200);
    CHECK(quiet.okx.handle({"GET", "/api/v5/nope", "", {}}).status == 404);  // endpoint ""
    CHECK_FALSE(quiet.okx.take_ws_close());
    CHECK(quiet.okx.pending_faults() == 3);
    for (const auto& e : quiet.journal.find("okx", "")) CHECK_FALSE(e.contains("fault"));

    // Pushes take them, in injection order, one unit at a time.
    for (int i = 0; i < 2; ++i) {
      const auto fault = quiet.okx.take_push_fault();
      REQUIRE(fault);
      CHECK(fault->kind == FaultKind::drop);
      CHECK(fault->endpoint == "ws-push");
      CHECK(fault->count == 1);
    }
    const auto delayed = quiet.okx.take_push_fault();
    REQUIRE(delayed);
    CHECK(delayed->kind == FaultKind::delay);
    CHECK(delayed->delay_ms == 40);
    CHECK_FALSE(quiet.okx.take_push_fault());
    CHECK(quiet.okx.pending_faults() == 0);
  }
  SECTION("pushes take no other fault, not even one for any endpoint") {
    w.okx.inject({"", FaultKind::drop});
    w.okx.inject({"ws", FaultKind::ws_close});
    w.okx.inject({"cancel-rfq", FaultKind::delay, 10});
    CHECK_FALSE(w.okx.take_push_fault());
    CHECK(w.okx.pending_faults() == 3);
  }
}
