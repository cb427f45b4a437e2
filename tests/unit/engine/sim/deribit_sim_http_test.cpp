// DeribitSim through handle_http() (and handle_rpc() beside it), no sockets, on a VirtualClock:
// GET and POST, the Authorization schemes (Bearer, the deri-hmac-sha256 vector, Basic), HTTP
// statuses, credits, faults and journal redaction.

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/journal.hpp"
#include "tests/unit/engine/sim/deribit_sim_world.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using namespace rfq::sim::test::deribit;
using std::chrono::milliseconds;
using std::chrono::seconds;

}  // namespace

// ---- HTTP --------------------------------------------------------------------------------------

TEST_CASE("deribit sim: HTTP GET with a bearer token, params from the query",
          "[sim][deribit][http]") {
  World w;
  const auto id = w.add();
  Caller c(w.sim);
  const auto token = c.auth();
  const std::string target = "/api/v2/private/cancel_block_rfq?block_rfq_id=" + std::to_string(id);
  std::string scheme;
  SECTION("Bearer") { scheme = "Bearer "; }
  SECTION("bearer, as older docs write it") { scheme = "bearer "; }
  const auto reply = w.sim.handle_http(http("GET", target, scheme + token));
  CHECK(reply.status == 200);
  const auto answer = parse(reply.body);
  CHECK_FALSE(answer.contains("id"));
  CHECK(json::serialize(result_of(answer)) == kCancelledObject);
  const auto& e = w.journal.entries().back();
  CHECK(str(e, "venue") == "deribit");
  CHECK(str(e, "transport") == "http");
  CHECK(str(e, "endpoint") == "private/cancel_block_rfq");
  CHECK(str(e, "auth") == "bearer");
  CHECK(e.at("status").as_int64() == 200);
  CHECK(e.at("params").as_object().at("block_rfq_id").as_int64() == id);
}

TEST_CASE("deribit sim: HTTP POST with a JSON-RPC body", "[sim][deribit][http]") {
  World w;
  const auto id = w.add();
  Caller c(w.sim);
  const auto token = c.auth();
  SECTION("to /api/v2/{method}") {
    const auto reply = w.sim.handle_http(
        http("POST", "/api/v2/private/cancel_block_rfq", "Bearer " + token, cancel(id)));
    CHECK(reply.status == 200);
    CHECK(parse(reply.body).at("id").as_int64() == 1);
    CHECK(w.sim.rfq(id)->state == "cancelled");
  }
  SECTION("to /api/v2, the method from the body") {
    const auto reply = w.sim.handle_http(http("POST", "/api/v2", "Bearer " + token, cancel(id)));
    CHECK(reply.status == 200);
    CHECK(w.sim.rfq(id)->state == "cancelled");
  }
  SECTION("a body naming another method: 400 -32600") {
    const auto reply = w.sim.handle_http(
        http("POST", "/api/v2/private/get_block_rfqs", "Bearer " + token, cancel(id)));
    CHECK(reply.status == 400);
    CHECK(code_of(parse(reply.body)) == -32600);
    CHECK(w.sim.rfq(id)->state == "open");
  }
  SECTION("a body that is not JSON: 400 -32700") {
    const auto reply =
        w.sim.handle_http(http("POST", "/api/v2/private/cancel_block_rfq", "Bearer " + token, "{"));
    CHECK(reply.status == 400);
    CHECK(code_of(parse(reply.body)) == -32700);
  }
}

TEST_CASE("deribit sim: deri-hmac-sha256 verifies the PROTOCOLS vector", "[sim][deribit][http]") {
  World w(amanda(), kVectorTs);
  const auto id = w.add();
  REQUIRE(id == 366);
  const std::string target = "/api/v2/private/cancel_block_rfq?block_rfq_id=366";
  std::string header;
  SECTION("documented order") {
    header = "deri-hmac-sha256 id=AMANDA,ts=1576074319000,sig=" + std::string(kHttpVectorSig) +
             ",nonce=1iqt2wls";
  }
  SECTION("another order, with spaces") {
    header = "deri-hmac-sha256 nonce=1iqt2wls, id=AMANDA, sig=" + std::string(kHttpVectorSig) +
             ", ts=1576074319000";
  }
  const auto reply = w.sim.handle_http(http("GET", target, header));
  CHECK(reply.status == 200);
  CHECK(str(result_of(parse(reply.body)).as_object(), "state") == "cancelled");
  CHECK(str(w.journal.entries().back(), "auth") == "deri-hmac-sha256");

  // The same header again: the nonce is spent.
  const auto replay = w.sim.handle_http(http("GET", target, header));
  CHECK(replay.status == 401);
  CHECK(code_of(parse(replay.body)) == 13009);
}

TEST_CASE("deribit sim: deri-hmac-sha256 refusals are HTTP 401", "[sim][deribit][http]") {
  World w;
  const auto id = w.add();
  const DeribitSimOptions creds;
  const auto now = w.clock.now_ms();
  const std::string target = "/api/v2/private/cancel_block_rfq?block_rfq_id=" + std::to_string(id);
  std::string header;
  std::int64_t code = 13009;
  SECTION("signed over another target") {
    header =
        hmac_header(creds, now, "n1", "GET", "/api/v2/private/cancel_block_rfq?block_rfq_id=1");
  }
  SECTION("signed over another method") { header = hmac_header(creds, now, "n1", "POST", target); }
  SECTION("stale timestamp") { header = hmac_header(creds, now - 60001, "n1", "GET", target); }
  SECTION("no nonce") {
    header = hmac_header(creds, now, "n1", "GET", target);
    header = header.substr(0, header.find(",nonce="));
  }
  SECTION("unknown client: 13004") {
    DeribitSimOptions other;
    other.client_id = "someone";
    header = hmac_header(other, now, "n1", "GET", target);
    code = 13004;
  }
  const auto reply = w.sim.handle_http(http("GET", target, header));
  CHECK(reply.status == 401);
  CHECK(code_of(parse(reply.body)) == code);
  CHECK(w.sim.rfq(id)->state == "open");
}

TEST_CASE("deribit sim: deri-hmac-sha256 signs the POST body", "[sim][deribit][http]") {
  World w;
  const auto id = w.add();
  const DeribitSimOptions creds;
  const auto body = cancel(id);
  const std::string target = "/api/v2/private/cancel_block_rfq";
  const auto header = hmac_header(creds, w.clock.now_ms(), "n1", "POST", target, body);
  const auto reply = w.sim.handle_http(http("POST", target, header, body));
  CHECK(reply.status == 200);
  CHECK(w.sim.rfq(id)->state == "cancelled");
}

TEST_CASE("deribit sim: Basic credentials", "[sim][deribit][http]") {
  World w;
  const auto id = w.add();
  const std::string target = "/api/v2/private/cancel_block_rfq?block_rfq_id=" + std::to_string(id);
  SECTION("right: base64(sim-deribit-client:sim-deribit-secret)") {
    const auto reply = w.sim.handle_http(
        http("GET", target, "Basic c2ltLWRlcmliaXQtY2xpZW50OnNpbS1kZXJpYml0LXNlY3JldA=="));
    CHECK(reply.status == 200);
    CHECK(w.sim.rfq(id)->state == "cancelled");
  }
  SECTION("wrong secret (sim-deribit-client:nope): 401 13004") {
    const auto reply =
        w.sim.handle_http(http("GET", target, "Basic c2ltLWRlcmliaXQtY2xpZW50Om5vcGU="));
    CHECK(reply.status == 401);
    CHECK(code_of(parse(reply.body)) == 13004);
  }
  SECTION("not base64: 401 13009") {
    const auto reply = w.sim.handle_http(http("GET", target, "Basic !!!!"));
    CHECK(reply.status == 401);
    CHECK(code_of(parse(reply.body)) == 13009);
  }
}

TEST_CASE("deribit sim: HTTP statuses", "[sim][deribit][http]") {
  World w;
  SECTION("no Authorization on a private method: 401 13009") {
    const auto reply = w.sim.handle_http(http("GET", "/api/v2/private/get_block_rfqs"));
    CHECK(reply.status == 401);
    CHECK(code_of(parse(reply.body)) == 13009);
  }
  SECTION("a public method needs none: 200") {
    const auto reply = w.sim.handle_http(http("GET", "/api/v2/public/test"));
    CHECK(reply.status == 200);
    CHECK(str(result_of(parse(reply.body)).as_object(), "version") == "1.2.26");
  }
  SECTION("auth over GET with query params: 200, the secret redacted in the journal") {
    const auto reply = w.sim.handle_http(
        http("GET",
             "/api/v2/public/auth?grant_type=client_credentials&client_id=sim-deribit-client"
             "&client_secret=sim-deribit-secret"));
    CHECK(reply.status == 200);
    CHECK(str(w.journal.entries().back().at("params").as_object(), "client_secret") == "***");
  }
  SECTION("WebSocket-only methods: 400 10030") {
    for (const auto* method :
         {"public/set_heartbeat?interval=10", "public/disable_heartbeat", "public/subscribe"}) {
      const auto reply = w.sim.handle_http(http("GET", std::string("/api/v2/") + method));
      CHECK(reply.status == 400);
      CHECK(json::serialize(error_of(parse(reply.body))) ==
            R"({"code":10030,"message":"must_be_websocket_request"})");
    }
  }
  SECTION("unknown method: 200 -32601; path outside /api/v2: 404; PUT: 405") {
    auto reply = w.sim.handle_http(http("GET", "/api/v2/public/nope"));
    CHECK(reply.status == 200);
    CHECK(code_of(parse(reply.body)) == -32601);
    reply = w.sim.handle_http(http("GET", "/api/v5/rfq/rfqs"));
    CHECK(reply.status == 404);
    CHECK(code_of(parse(reply.body)) == -32601);
    reply = w.sim.handle_http(http("PUT", "/api/v2/public/test"));
    CHECK(reply.status == 405);
  }
  SECTION("a query id that is not an integer: 400 -32602") {
    const auto token = Caller(w.sim).auth();
    const auto reply = w.sim.handle_http(
        http("GET", "/api/v2/private/cancel_block_rfq?block_rfq_id=abc", "Bearer " + token));
    CHECK(reply.status == 400);
    CHECK(code_of(parse(reply.body)) == -32602);
  }
}

// ---- credits -----------------------------------------------------------------------------------

TEST_CASE("deribit sim: credits allow a burst of 100, then 10028 until they refill",
          "[sim][deribit][credits]") {
  World w;
  Caller c(w.sim);
  const auto token = c.auth();  // free
  const auto call = [&] {
    return w.sim.handle_http(http("GET", "/api/v2/private/get_block_rfqs", "Bearer " + token));
  };
  for (int i = 0; i < 100; ++i) REQUIRE(call().status == 200);
  const auto refused = call();
  CHECK(refused.status == 429);
  CHECK(json::serialize(error_of(parse(refused.body))) ==
        R"({"code":10028,"message":"too_many_requests"})");
  CHECK(w.journal.entries().back().at("code").as_int64() == 10028);
  // public/test and public/auth are free.
  CHECK(w.sim.handle_http(http("GET", "/api/v2/public/test")).status == 200);
  CHECK(result_of(c.call(credentials_auth())).is_object());

  w.clock.advance(milliseconds(49));
  CHECK(call().status == 429);  // 490 credits: not yet
  w.clock.advance(milliseconds(1));
  CHECK(call().status == 200);  // 500 refilled in 50 ms
  CHECK(call().status == 429);
  w.clock.advance(seconds(5));
  CHECK(w.sim.credits(kDeribitSimClientId) == 50000);  // capped at the pool
}

TEST_CASE("deribit sim: without enforce_limits credits never run out", "[sim][deribit][credits]") {
  DeribitSimOptions options;
  options.enforce_limits = false;
  World w(options);
  Caller c(w.sim);
  c.auth();
  for (int i = 0; i < 150; ++i) REQUIRE(c.call(get_rfqs({})).contains("result"));
}

TEST_CASE("deribit sim: refused auth costs no credits", "[sim][deribit][credits]") {
  World w;
  Caller c(w.sim);
  for (int i = 0; i < 120; ++i) REQUIRE(code_of(c.call(get_rfqs({}))) == 13009);
  c.auth();
  CHECK(c.call(get_rfqs({})).contains("result"));
}

// ---- faults ------------------------------------------------------------------------------------

TEST_CASE("deribit sim: HTTP faults", "[sim][deribit][fault]") {
  World w;
  const auto id = w.add();
  const auto token = Caller(w.sim).auth();
  const auto cancel_http = [&] {
    return w.sim.handle_http(
        http("GET", "/api/v2/private/cancel_block_rfq?block_rfq_id=" + std::to_string(id),
             "Bearer " + token));
  };
  SECTION("unavailable: 503 13028, not processed") {
    w.sim.inject({"private/cancel_block_rfq", FaultKind::unavailable});
    const auto reply = cancel_http();
    CHECK(reply.status == 503);
    CHECK(json::serialize(error_of(parse(reply.body))) ==
          R"({"code":13028,"message":"temporarily_unavailable"})");
    CHECK(w.sim.rfq(id)->state == "open");
    CHECK(str(w.journal.entries().back(), "fault") == "unavailable");
    CHECK(cancel_http().status == 200);  // count 1
  }
  SECTION("drop: hang up, not processed") {
    w.sim.inject({"private/cancel_block_rfq", FaultKind::drop});
    const auto reply = cancel_http();
    CHECK(reply.drop);
    CHECK(w.sim.rfq(id)->state == "open");
    const auto& e = w.journal.entries().back();
    CHECK(str(e, "fault") == "drop");
    CHECK(e.at("status").as_int64() == 0);
    CHECK(e.at("code").is_null());
  }
  SECTION("delay: processed, the answer held back") {
    w.sim.inject({"private/cancel_block_rfq", FaultKind::delay, 250});
    const auto reply = cancel_http();
    CHECK(reply.delay_ms == 250);
    CHECK(reply.status == 200);
    CHECK(w.sim.rfq(id)->state == "cancelled");
    CHECK(w.journal.entries().back().at("delay_ms").as_int64() == 250);
  }
  SECTION("a fault strikes before auth: an unauthenticated call still gets 503") {
    w.sim.inject({"", FaultKind::unavailable});
    CHECK(w.sim.handle_http(http("GET", "/api/v2/private/get_block_rfqs")).status == 503);
  }
  SECTION("faults match their method only; \"\" matches any, unknown methods included") {
    w.sim.inject({"private/get_block_rfqs", FaultKind::unavailable});
    w.sim.inject({"", FaultKind::drop});
    CHECK(cancel_http().drop);  // skips the get_block_rfqs fault
    CHECK(w.sim.pending_faults() == 1);
    CHECK(w.sim.handle_http(http("GET", "/api/v2/public/nope")).status == 200);
    w.sim.inject({"", FaultKind::drop});
    CHECK(w.sim.handle_http(http("GET", "/api/v2/public/nope")).drop);
  }
  SECTION("HTTP never takes a ws_close fault") {
    w.sim.inject({"", FaultKind::ws_close});
    CHECK(cancel_http().status == 200);
    CHECK(w.sim.pending_faults() == 1);
  }
}

TEST_CASE("deribit sim: inject refuses faults that could never apply", "[sim][deribit][fault]") {
  World w;
  CHECK_THROWS_WITH(w.sim.inject({"private/cancel_block_rfqs", FaultKind::drop}),
                    Catch::Contains("no method named 'private/cancel_block_rfqs'") &&
                        Catch::Contains("private/cancel_block_rfq,"));
  CHECK_THROWS_AS(w.sim.inject({"", FaultKind::drop, 0, 0}), std::invalid_argument);
  CHECK_THROWS_AS(w.sim.inject({"", FaultKind::delay, -1}), std::invalid_argument);
  CHECK_THROWS_AS(w.sim.inject({"", FaultKind::delay, 600001}), std::invalid_argument);
  CHECK(w.sim.pending_faults() == 0);
  w.sim.inject({"public/test", FaultKind::delay, 600000, 3});
  CHECK(w.sim.pending_faults() == 3);
}

// ---- journal -----------------------------------------------------------------------------------

TEST_CASE("deribit sim: the journal never holds a secret, a signature or a token",
          "[sim][deribit][journal]") {
  World w;
  const auto id = w.add();
  Caller c(w.sim);
  const DeribitSimOptions creds;
  const auto first = result_of(c.call(credentials_auth(11))).as_object();
  const auto access = str(first, "access_token");
  const auto refresh = str(first, "refresh_token");
  c.call(cancel(id, access));
  w.sim.handle_http(http("GET", "/api/v2/private/get_block_rfqs", "Bearer " + access));
  const auto now = w.clock.now_ms();
  const auto sig = sign(creds.client_secret, now, "n1");
  c.call(signature_auth(creds.client_id, now, "n1", sig));
  c.call(rpc(12, "public/auth", {{"grant_type", "refresh_token"}, {"refresh_token", refresh}}));

  const auto entries = w.journal.find("deribit_ws", "public/auth");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].at("id").as_int64() == 11);
  CHECK(str(entries[0], "transport") == "ws");
  const auto& params = entries[0].at("params").as_object();
  CHECK(str(params, "client_id") == creds.client_id);
  CHECK(str(params, "client_secret") == "***");
  CHECK(str(entries[1].at("params").as_object(), "signature") == "***");
  CHECK(str(entries[2].at("params").as_object(), "refresh_token") == "***");
  const auto cancels = w.journal.find("deribit_ws", "private/cancel_block_rfq");
  REQUIRE(cancels.size() == 1);
  CHECK(str(cancels[0].at("params").as_object(), "access_token") == "***");
  CHECK(cancels[0].at("code").as_int64() == 0);

  for (const auto& e : w.journal.entries()) {
    const auto text = json::serialize(e);
    CHECK(text.find(creds.client_secret) == std::string::npos);
    CHECK(text.find(sig) == std::string::npos);
    CHECK(text.find(access) == std::string::npos);
    CHECK(text.find(refresh) == std::string::npos);
  }
}
