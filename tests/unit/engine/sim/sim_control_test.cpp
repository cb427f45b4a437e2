// SimControl (the /sim/ control API) called directly: creating, filling and listing RFQs,
// queueing faults, refusing bad input with a JSON error, and journaling under venue "sim".

#include "engine/sim/sim_control.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "engine/sim/okx_sim.hpp"
#include "tests/unit/engine/sim/okx_sim_world.hpp"
#include "tests/unit/engine/sim/okx_ws_world.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using namespace rfq::sim::test;
using std::chrono::milliseconds;

struct ControlWorld : World {
  SimHttpReply post(std::string path, std::string body) {
    return control.handle({"POST", std::move(path), std::move(body), {}});
  }
  SimHttpReply get(std::string path) { return control.handle({"GET", std::move(path), "", {}}); }

  SimControl control{okx};
};

std::vector<std::string> created_ids(const SimHttpReply& reply) {
  std::vector<std::string> ids;
  const auto body = body_of(reply);
  for (const auto& id : body.at("rfq_ids").as_array()) {
    ids.emplace_back(id.as_string());
  }
  return ids;
}

std::string error_of(const SimHttpReply& reply) { return str(body_of(reply), "error"); }

}  // namespace

TEST_CASE("sim control: only paths under /sim/ are control targets", "[sim][control]") {
  CHECK(SimControl::is_control_target("/sim/rfqs"));
  CHECK(SimControl::is_control_target("/sim/fill?x=1"));
  CHECK(SimControl::is_control_target("/sim/"));
  CHECK_FALSE(SimControl::is_control_target("/sim"));
  CHECK_FALSE(SimControl::is_control_target("/simulate/rfqs"));
  CHECK_FALSE(SimControl::is_control_target("/api/v5/rfq/rfqs"));
  CHECK_FALSE(SimControl::is_control_target("/api/v5/rfq/rfqs?next=/sim/"));
}

TEST_CASE("sim control: POST /sim/rfqs creates active RFQs", "[sim][control]") {
  ControlWorld w;
  w.clock.advance(milliseconds(5));

  SECTION("count and expires_in_ms") {
    const auto reply = w.post("/sim/rfqs", R"({"count":3,"expires_in_ms":5000})");
    REQUIRE(reply.status == 200);
    const auto ids = created_ids(reply);
    REQUIRE(ids.size() == 3);
    for (const auto& id : ids) {
      const auto rfq = w.okx.rfq(id);
      REQUIRE(rfq);
      CHECK(rfq->state == "active");
      CHECK(rfq->valid_until_ms == kStartMs + 5 + 5000);
    }
    w.clock.advance(milliseconds(5000));
    CHECK(w.okx.count_in_state("expired") == 3);
  }
  SECTION("one with a client id") {
    const auto reply = w.post("/sim/rfqs", R"({"cl_rfq_id":"abc","expires_in_ms":1000})");
    const auto ids = created_ids(reply);
    REQUIRE(ids.size() == 1);
    CHECK(w.okx.rfq(ids[0])->cl_rfq_id == "abc");
    CHECK(w.okx.rfq(ids[0])->valid_until_ms == kStartMs + 5 + 1000);

    const auto again = w.post("/sim/rfqs", R"({"cl_rfq_id":"abc"})");
    CHECK(again.status == 400);
    CHECK_THAT(error_of(again), Catch::Contains("duplicate clRfqId abc"));
    CHECK(w.okx.rfqs().size() == 1);
  }
  SECTION("no body is one RFQ with one option leg and OKX's default 10 min") {
    const auto ids = created_ids(w.post("/sim/rfqs", ""));
    REQUIRE(ids.size() == 1);
    const auto rfq = w.okx.rfq(ids[0]);
    CHECK(rfq->valid_until_ms == kStartMs + 5 + 600000);
    REQUIRE(rfq->legs.size() == 1);
    CHECK(rfq->legs[0].inst_id == "BTC-USD-260327-100000-C");
  }
  SECTION("legs and tag") {
    const auto ids = created_ids(w.post(
        "/sim/rfqs", R"({"tag":"desk7","legs":[{"instId":"BTC-USDT-SWAP","side":"sell","sz":"2"},)"
                     R"({"instId":"ETH-USD-260327-4000-C","side":"buy","sz":3}]})"));
    REQUIRE(ids.size() == 1);
    const auto rfq = w.okx.rfq(ids[0]);
    CHECK(rfq->tag == "desk7");
    REQUIRE(rfq->legs.size() == 2);
    CHECK(rfq->legs[0].side == "sell");
    CHECK(rfq->legs[1].sz == "3");
    CHECK(rfq->valid_until_ms == kStartMs + 5 + 120000);  // not all options: 2 min
  }
}

TEST_CASE("sim control: bad input is HTTP 400 with a JSON error and changes nothing",
          "[sim][control]") {
  ControlWorld w;
  std::string path = "/sim/rfqs";
  std::string body;
  std::string says;
  SECTION("count 0") {
    body = R"({"count":0})";
    says = "count";
  }
  SECTION("count as a string") {
    body = R"({"count":"3"})";
    says = "count";
  }
  SECTION("count over 10000") {
    body = R"({"count":10001})";
    says = "count";
  }
  SECTION("expires_in_ms 0") {
    body = R"({"expires_in_ms":0})";
    says = "expires_in_ms";
  }
  SECTION("cl_rfq_id with count 2") {
    body = R"({"cl_rfq_id":"x","count":2})";
    says = "count must be absent or 1";
  }
  SECTION("a leg with side hold") {
    body = R"({"legs":[{"instId":"X","side":"hold","sz":"1"}]})";
    says = "side";
  }
  SECTION("empty legs") {
    body = R"({"legs":[]})";
    says = "legs";
  }
  SECTION("a body that is not JSON") {
    body = "count=3";
    says = "JSON object";
  }
  SECTION("a JSON array") {
    body = "[1]";
    says = "JSON object";
  }
  SECTION("fill without rfq_id") {
    path = "/sim/fill";
    body = "{}";
    says = "rfq_id";
  }
  SECTION("fault without kind") {
    path = "/sim/fault";
    body = "{}";
    says = "kind";
  }
  SECTION("fault of an unknown kind") {
    path = "/sim/fault";
    body = R"({"kind":"explode"})";
    says = "kind";
  }
  SECTION("fault on an unknown endpoint") {
    path = "/sim/fault";
    body = R"({"kind":"drop","endpoint":"cancel"})";
    says = "cancel";
  }
  SECTION("fault count 0") {
    path = "/sim/fault";
    body = R"({"kind":"drop","count":0})";
    says = "count";
  }
  SECTION("fault delay over 10 min") {
    path = "/sim/fault";
    body = R"({"kind":"delay","delay_ms":600001})";
    says = "delay_ms";
  }
  const auto reply = w.post(path, body);
  CHECK(reply.status == 400);
  CHECK_THAT(error_of(reply), Catch::Contains(says));
  CHECK(w.okx.rfqs().empty());
  CHECK(w.okx.pending_faults() == 0);
}

TEST_CASE("sim control: POST /sim/fill fills an active RFQ only", "[sim][control]") {
  ControlWorld w;
  const auto id = w.add();
  const auto done = w.add();
  w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + done + R"("})"));

  const auto reply = w.post("/sim/fill", R"({"rfq_id":")" + id + R"("})");
  CHECK(reply.status == 200);
  CHECK(reply.body == R"({"rfq_id":")" + id + R"(","state":"filled"})");
  CHECK(w.okx.rfq(id)->state == "filled");

  const auto unknown = w.post("/sim/fill", R"({"rfq_id":"999"})");
  CHECK(unknown.status == 404);
  CHECK(error_of(unknown) == "no RFQ 999");

  const auto canceled = w.post("/sim/fill", R"({"rfq_id":")" + done + R"("})");
  CHECK(canceled.status == 409);
  CHECK_THAT(error_of(canceled), Catch::Contains("is canceled"));
  CHECK(w.okx.rfq(done)->state == "canceled");
}

TEST_CASE("sim control: POST /sim/fault queues a fault the OKX model then applies",
          "[sim][control]") {
  ControlWorld w;
  const auto id = w.add();
  const auto reply =
      w.post("/sim/fault", R"({"endpoint":"cancel-rfq","kind":"drop","count":2,"delay_ms":0})");
  CHECK(reply.status == 200);
  CHECK(reply.body == R"({"pending_faults":2})");
  CHECK(w.post("/sim/fault", R"({"kind":"delay","delay_ms":75})").body ==
        R"({"pending_faults":3})");

  CHECK(w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})")).drop);
  CHECK(w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})")).drop);
  const auto delayed = w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
  CHECK(delayed.delay_ms == 75);
  CHECK(code_of(delayed) == "0");
  CHECK(w.okx.pending_faults() == 0);
}

TEST_CASE("sim control: POST /sim/fault with kind ws_close closes WebSocket connections",
          "[sim][control][ws]") {
  ControlWorld w;
  SECTION("count 2, endpoint absent: the next two WebSocket messages close their connections") {
    const auto reply = w.post("/sim/fault", R"({"kind":"ws_close","count":2})");
    CHECK(reply.status == 200);
    CHECK(reply.body == R"({"pending_faults":2})");
    WsConn a(w.okx);
    WsConn b(w.okx);
    WsConn c(w.okx);
    a.send("ping");
    b.send("ping");
    c.send("ping");
    REQUIRE(a.closed);
    CHECK(a.closed->code == 1011);
    REQUIRE(b.closed);
    CHECK_FALSE(c.closed);
    CHECK(c.take() == std::vector<std::string>{"pong"});
  }
  SECTION("endpoint ws is accepted") {
    CHECK(w.post("/sim/fault", R"({"kind":"ws_close","endpoint":"ws"})").status == 200);
    CHECK(w.okx.pending_faults() == 1);
  }
  SECTION("a REST endpoint is refused for ws_close") {
    const auto reply = w.post("/sim/fault", R"({"kind":"ws_close","endpoint":"cancel-rfq"})");
    CHECK(reply.status == 400);
    CHECK_THAT(error_of(reply), Catch::Contains("'ws'"));
    CHECK(w.okx.pending_faults() == 0);
  }
  SECTION("endpoint ws is refused for the HTTP kinds") {
    CHECK(w.post("/sim/fault", R"({"kind":"drop","endpoint":"ws"})").status == 400);
    CHECK(w.okx.pending_faults() == 0);
  }
  SECTION("an unknown kind names ws_close among the valid ones") {
    CHECK_THAT(error_of(w.post("/sim/fault", R"({"kind":"close"})")), Catch::Contains("ws_close"));
  }
}

TEST_CASE("sim control: POST /sim/fault with endpoint ws-push delays or drops rfqs pushes",
          "[sim][control][ws]") {
  ControlWorld w;
  WsConn conn(w.okx);
  log_in(conn, w.clock);
  conn.send(R"({"op":"subscribe","args":[{"channel":"rfqs"}]})");
  conn.take();

  SECTION("drop: the next push is lost, the connection stays open") {
    const auto reply = w.post("/sim/fault", R"({"endpoint":"ws-push","kind":"drop"})");
    CHECK(reply.status == 200);
    CHECK(reply.body == R"({"pending_faults":1})");
    w.add();
    const auto second = w.add();
    const auto frames = conn.take();
    REQUIRE(frames.size() == 1);
    CHECK_THAT(frames[0], Catch::Contains(R"("rfqId":")" + second + R"(")"));
    CHECK_FALSE(conn.closed);
  }
  SECTION("delay: the push goes out delay_ms later") {
    CHECK(w.post("/sim/fault", R"({"endpoint":"ws-push","kind":"delay","delay_ms":500})").status ==
          200);
    w.add();
    w.clock.advance(milliseconds(499));
    CHECK(conn.take().empty());
    w.clock.advance(milliseconds(1));
    CHECK(conn.take().size() == 1);
  }
  SECTION("unavailable and ws_close are refused for ws-push") {
    for (const auto* kind : {"unavailable", "ws_close"}) {
      const auto reply =
          w.post("/sim/fault", R"({"endpoint":"ws-push","kind":")" + std::string(kind) + R"("})");
      CHECK(reply.status == 400);
      CHECK_THAT(error_of(reply), Catch::Contains("delay or drop"));
    }
    CHECK(w.okx.pending_faults() == 0);
  }
  SECTION("an unknown kind says which kinds ws-push takes") {
    CHECK_THAT(error_of(w.post("/sim/fault", R"({"endpoint":"ws-push","kind":"lose"})")),
               Catch::Contains("ws-push: delay or drop"));
  }
}

TEST_CASE("sim control: GET /sim/rfqs lists every RFQ with its state, oldest first",
          "[sim][control]") {
  ControlWorld w;
  const auto a = w.add("a1", 60000);
  const auto b = w.add("", 1000);
  const auto c = w.add("", 60000);
  w.okx.fill(c);
  w.clock.advance(milliseconds(1000));

  const auto reply = w.get("/sim/rfqs");
  REQUIRE(reply.status == 200);
  const auto rfqs = body_of(reply).at("rfqs").as_array();
  REQUIRE(rfqs.size() == 3);
  const auto& first = rfqs[0].as_object();
  CHECK(str(first, "rfq_id") == a);
  CHECK(str(first, "cl_rfq_id") == "a1");
  CHECK(str(first, "state") == "active");
  CHECK(first.at("valid_until_ms").as_int64() == kStartMs + 60000);
  CHECK(first.at("c_time_ms").as_int64() == kStartMs);
  CHECK(str(first.at("legs").as_array().at(0).as_object(), "inst_id") == "BTC-USD-260327-100000-C");
  CHECK(str(rfqs[1].as_object(), "rfq_id") == b);
  CHECK(str(rfqs[1].as_object(), "state") == "expired");
  CHECK(str(rfqs[2].as_object(), "state") == "filled");
}

TEST_CASE("sim control: unknown paths are 404 and wrong methods 405, with a JSON error",
          "[sim][control]") {
  ControlWorld w;
  const auto unknown = w.post("/sim/nope", "{}");
  CHECK(unknown.status == 404);
  CHECK(error_of(unknown) == "no sim endpoint /sim/nope");
  const auto wrong = w.get("/sim/fill");
  CHECK(wrong.status == 405);
  CHECK_THAT(error_of(wrong), Catch::Contains("GET"));
  CHECK(w.control.handle({"DELETE", "/sim/rfqs", "", {}}).status == 405);
}

TEST_CASE("sim control: requests are journaled under venue sim, never as okx",
          "[sim][control][journal]") {
  ControlWorld w;
  w.clock.advance(milliseconds(7));
  w.post("/sim/rfqs", R"({"count":2})");
  w.post("/sim/fill", R"({"rfq_id":"999"})");
  w.get("/sim/rfqs?verbose=1");

  CHECK(w.journal.find("okx", "").empty());
  const auto entries = w.journal.find("sim", "");
  REQUIRE(entries.size() == 3);
  CHECK(str(entries[0], "endpoint") == "rfqs");
  CHECK(str(entries[0], "method") == "POST");
  CHECK(str(entries[0], "body") == R"({"count":2})");
  CHECK(entries[0].at("status").as_int64() == 200);
  CHECK(entries[0].at("ts_ms").as_int64() == kStartMs + 7);
  CHECK_FALSE(entries[0].contains("error"));
  CHECK(str(entries[1], "endpoint") == "fill");
  CHECK(entries[1].at("status").as_int64() == 404);
  CHECK(str(entries[1], "error") == "no RFQ 999");
  CHECK(str(entries[2], "target") == "/sim/rfqs?verbose=1");
  CHECK(w.journal.find("sim", "fill").size() == 1);
}
