// OkxSim through handle(): auth, the three reference-client signing styles, cancel-rfq, GET rfqs,
// expiry and rate windows in virtual time, and what the journal records.

#include "engine/sim/okx_sim.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "engine/auth/okx_signer.hpp"
#include "tests/unit/engine/sim/okx_sim_world.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using namespace rfq::sim::test;
using std::chrono::milliseconds;

}  // namespace

TEST_CASE("okx sim: public time needs no auth and answers the clock in ms", "[sim][okx]") {
  World w;
  w.clock.advance(milliseconds(1234));
  const auto reply = w.okx.handle({"GET", "/api/v5/public/time", "", {}});
  CHECK(reply.status == 200);
  CHECK(code_of(reply) == "0");
  CHECK(str(item_of(reply), "ts") == std::to_string(kStartMs + 1234));
}

TEST_CASE("okx sim: every auth failure has its own code and HTTP 401", "[sim][okx][auth]") {
  World w;
  const auto id = w.add();
  auto req = cancel_request(w.clock, R"({"rfqId":")" + id + R"("})");
  std::string expected;

  SECTION("missing OK-ACCESS-KEY is 50103") {
    remove_header(req, "OK-ACCESS-KEY");
    expected = "50103";
  }
  SECTION("empty OK-ACCESS-SIGN is 50106") {
    set_header(req, "OK-ACCESS-SIGN", "");
    expected = "50106";
  }
  SECTION("missing OK-ACCESS-TIMESTAMP is 50107") {
    remove_header(req, "OK-ACCESS-TIMESTAMP");
    expected = "50107";
  }
  SECTION("missing OK-ACCESS-PASSPHRASE is 50104") {
    remove_header(req, "OK-ACCESS-PASSPHRASE");
    expected = "50104";
  }
  SECTION("a timestamp without milliseconds is 50112") {
    set_header(req, "OK-ACCESS-TIMESTAMP", "2023-11-14T22:13:20Z");
    expected = "50112";
  }
  SECTION("a timestamp in epoch seconds is 50112") {
    set_header(req, "OK-ACCESS-TIMESTAMP", "1700000000");
    expected = "50112";
  }
  SECTION("a timestamp 30.001 s in the past is 50102") {
    req = cancel_request(w.clock, R"({"rfqId":")" + id + R"("})");
    w.clock.advance(milliseconds(30001));
    expected = "50102";
  }
  SECTION("a timestamp 30.001 s in the future is 50102") {
    const auto ts = auth::okx_timestamp(kStartMs + 30001);
    set_header(req, "OK-ACCESS-TIMESTAMP", ts);
    set_header(req, "OK-ACCESS-SIGN",
               auth::okx_sign(kSimSecret, auth::okx_prehash(ts, "POST", req.target, req.body)));
    expected = "50102";
  }
  SECTION("an unknown key is 50111") {
    set_header(req, "OK-ACCESS-KEY", "someone-else");
    expected = "50111";
  }
  SECTION("a wrong passphrase is 50105") {
    set_header(req, "OK-ACCESS-PASSPHRASE", "guess");
    expected = "50105";
  }
  SECTION("a signature by another secret is 50113 Invalid Sign") {
    OkxSimOptions other;
    other.secret = "not-the-secret";
    req = signed_request(w.clock, "POST", req.target, req.body, other);
    expected = "50113";
  }

  const auto reply = w.okx.handle(req);
  CHECK(reply.status == 401);
  CHECK(code_of(reply) == expected);
  CHECK(body_of(reply).at("data").as_array().empty());
  if (expected == "50113") CHECK(str(body_of(reply), "msg") == "Invalid Sign");
  CHECK(w.okx.rfq(id)->state == "active");
}

TEST_CASE("okx sim: a timestamp just inside the 30 s tolerance is accepted", "[sim][okx][auth]") {
  World w;
  const auto id = w.add();
  const auto req = cancel_request(w.clock, R"({"rfqId":")" + id + R"("})");
  w.clock.advance(milliseconds(30000));
  CHECK(w.okx.handle(req).status == 200);
}

TEST_CASE("okx sim: header names are matched case-insensitively", "[sim][okx][auth]") {
  World w;
  const auto id = w.add();
  auto req = cancel_request(w.clock, R"({"rfqId":")" + id + R"("})");
  for (auto& [name, value] : req.headers) {
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto reply = w.okx.handle(req);
  CHECK(reply.status == 200);
  CHECK(code_of(reply) == "0");
}

TEST_CASE("okx sim: the signature covers the raw body, so a re-serialised body fails",
          "[sim][okx][auth]") {
  World w;
  const auto id = w.add();
  auto req = cancel_request(w.clock, R"({"rfqId":")" + id + R"("})");
  req.body = R"({"rfqId": ")" + id + R"("})";  // same JSON value, different bytes
  const auto reply = w.okx.handle(req);
  CHECK(reply.status == 401);
  CHECK(code_of(reply) == "50113");
}

TEST_CASE("okx sim: GET rfqs signed ccxt-style over a percent-encoded query is accepted",
          "[sim][okx][signing]") {
  World w;
  const auto id = w.add("rfq001");
  w.add("rfq002");
  // %61 is 'a', %30 is '0': the sim must verify the raw bytes and decode afterwards.
  const auto reply = w.okx.handle(
      signed_request(w.clock, "GET", "/api/v5/rfq/rfqs?clRfqId=rfq%30%301&state=%61ctive", ""));
  REQUIRE(reply.status == 200);
  CHECK(code_of(reply) == "0");
  CHECK(ids_of(reply) == std::vector<std::string>{id});
}

TEST_CASE("okx sim: GET rfqs signed python-okx style over a raw query is accepted",
          "[sim][okx][signing]") {
  World w;
  const auto id = w.add("rfq001");
  w.add("rfq002");
  const auto reply = w.okx.handle(
      signed_request(w.clock, "GET", "/api/v5/rfq/rfqs?clRfqId=rfq001&state=active", ""));
  REQUIRE(reply.status == 200);
  CHECK(ids_of(reply) == std::vector<std::string>{id});
}

TEST_CASE("okx sim: cancel-rfq signed ccxt style with compact JSON is accepted",
          "[sim][okx][signing]") {
  World w;
  const auto id = w.add("rfq001");
  const auto reply = w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
  CHECK(reply.status == 200);
  CHECK(code_of(reply) == "0");
  CHECK(w.okx.rfq(id)->state == "canceled");
}

TEST_CASE("okx sim: cancel-rfq signed python-okx style with spaced JSON is accepted",
          "[sim][okx][signing]") {
  World w;
  const auto id = w.add("rfq001");
  // python-okx: json.dumps defaults (", " and ": ") and the unused id sent as "".
  const auto reply =
      w.okx.handle(cancel_request(w.clock, R"({"rfqId": ")" + id + R"(", "clRfqId": ""})"));
  CHECK(reply.status == 200);
  CHECK(code_of(reply) == "0");
  CHECK(str(item_of(reply), "clRfqId") == "rfq001");
  CHECK(w.okx.rfq(id)->state == "canceled");
}

TEST_CASE("okx sim: a parameterless POST verifies with {} and with no body at all",
          "[sim][okx][signing]") {
  World w;
  SimHttpRequest req;
  SECTION("python-okx sends and signs {}") { req = cancel_request(w.clock, "{}"); }
  SECTION("ccxt sends no body and signs timestamp + POST + path") {
    req = cancel_request(w.clock, "");
  }
  SECTION("ccxt without a Content-Type header on the empty body") {
    req = cancel_request(w.clock, "");
    remove_header(req, "Content-Type");
  }
  // The signature verified: the answer is the endpoint's own complaint, not an auth code.
  const auto reply = w.okx.handle(req);
  CHECK(reply.status == 400);
  CHECK(code_of(reply) == "50015");
  CHECK(str(body_of(reply), "msg") == "Either parameter rfqId or clRfqId is required");
}

TEST_CASE("okx sim: POST bodies must be declared and written as JSON", "[sim][okx]") {
  World w;
  const auto id = w.add();
  auto req = cancel_request(w.clock, R"({"rfqId":")" + id + R"("})");

  SECTION("text/plain is 50006") {
    set_header(req, "Content-Type", "text/plain");
    const auto reply = w.okx.handle(req);
    CHECK(reply.status == 400);
    CHECK(code_of(reply) == "50006");
  }
  SECTION("a body without Content-Type is 50006") {
    remove_header(req, "Content-Type");
    CHECK(code_of(w.okx.handle(req)) == "50006");
  }
  SECTION("Application/JSON with a charset is accepted") {
    set_header(req, "Content-Type", "Application/JSON; charset=utf-8");
    CHECK(code_of(w.okx.handle(req)) == "0");
  }
  SECTION("malformed JSON is 50002") {
    req = cancel_request(w.clock, R"({"rfqId":)");
    const auto reply = w.okx.handle(req);
    CHECK(reply.status == 400);
    CHECK(code_of(reply) == "50002");
  }
  SECTION("a JSON array is 50002") {
    req = cancel_request(w.clock, R"(["rfqId"])");
    CHECK(code_of(w.okx.handle(req)) == "50002");
  }
}

TEST_CASE("okx sim: cancel-rfq answers like OKX for success, unknown and inactive RFQs",
          "[sim][okx][cancel]") {
  World w;
  const auto id = w.add("rfq001");

  SECTION("success by rfqId echoes both ids with sCode 0") {
    const auto reply = w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
    CHECK(reply.status == 200);
    CHECK(reply.body == R"({"code":"0","msg":"","data":[{"rfqId":")" + id +
                            R"(","clRfqId":"rfq001","sCode":"0","sMsg":""}]})");
    CHECK(w.okx.rfq(id)->state == "canceled");
  }
  SECTION("success by clRfqId") {
    const auto reply = w.okx.handle(cancel_request(w.clock, R"({"clRfqId":"rfq001"})"));
    CHECK(code_of(reply) == "0");
    CHECK(str(item_of(reply), "rfqId") == id);
    CHECK(w.okx.rfq(id)->state == "canceled");
  }
  SECTION("rfqId wins over clRfqId") {
    const auto other = w.add("rfq002");
    const auto reply =
        w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + other + R"(","clRfqId":"rfq001"})"));
    CHECK(code_of(reply) == "0");
    CHECK(w.okx.rfq(other)->state == "canceled");
    CHECK(w.okx.rfq(id)->state == "active");
  }
  SECTION("an unknown rfqId is code 1 with sCode 70000") {
    const auto reply = w.okx.handle(cancel_request(w.clock, R"({"rfqId":"999"})"));
    CHECK(reply.status == 200);
    CHECK(reply.body == R"({"code":"1","msg":"Operation failed.","data":[{"rfqId":"999",)"
                        R"("clRfqId":"","sCode":"70000","sMsg":"RFQ does not exist."}]})");
  }
  SECTION("an unknown clRfqId is sCode 70000") {
    const auto reply = w.okx.handle(cancel_request(w.clock, R"({"clRfqId":"nope"})"));
    CHECK(code_of(reply) == "1");
    CHECK(str(item_of(reply), "sCode") == "70000");
    CHECK(str(item_of(reply), "clRfqId") == "nope");
  }
  SECTION("a canceled RFQ is sCode 70200 naming its state") {
    w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
    const auto reply = w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
    CHECK(code_of(reply) == "1");
    CHECK(str(body_of(reply), "msg") == "Operation failed.");
    CHECK(str(item_of(reply), "sCode") == "70200");
    CHECK(str(item_of(reply), "sMsg") == "The RFQ with canceled status cannot be canceled");
  }
  SECTION("an expired RFQ is sCode 70200 naming its state") {
    w.clock.advance(milliseconds(60000));
    const auto reply = w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
    CHECK(str(item_of(reply), "sCode") == "70200");
    CHECK(str(item_of(reply), "sMsg") == "The RFQ with expired status cannot be canceled");
  }
  SECTION("a numeric rfqId is taken as its text") {
    const auto reply = w.okx.handle(cancel_request(w.clock, R"({"rfqId":)" + id + "}"));
    CHECK(code_of(reply) == "0");
  }
  SECTION("a non-string rfqId is a parameter error") {
    const auto reply = w.okx.handle(cancel_request(w.clock, R"({"rfqId":[1]})"));
    CHECK(code_of(reply) == "51000");
    CHECK(w.okx.rfq(id)->state == "active");
  }
}

TEST_CASE("okx sim: an active RFQ expires exactly at validUntil", "[sim][okx][expiry]") {
  World w;
  const auto id = w.add("rfq001", 5000);
  REQUIRE(w.okx.rfq(id)->valid_until_ms == kStartMs + 5000);

  w.clock.advance(milliseconds(4999));
  CHECK(w.okx.rfq(id)->state == "active");
  CHECK(w.okx.count_in_state("active") == 1);

  w.clock.advance(milliseconds(1));
  const auto rfq = w.okx.rfq(id);
  CHECK(rfq->state == "expired");
  CHECK(rfq->u_time_ms == kStartMs + 5000);
  CHECK(w.okx.count_in_state("expired") == 1);

  const auto reply = w.okx.handle(signed_request(w.clock, "GET", "/api/v5/rfq/rfqs", ""));
  CHECK(str(item_of(reply), "state") == "expired");
  CHECK(str(item_of(reply), "uTime") == std::to_string(kStartMs + 5000));
}

TEST_CASE("okx sim: a canceled RFQ does not later become expired", "[sim][okx][expiry]") {
  World w;
  const auto id = w.add("", 5000);
  w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
  w.clock.advance(milliseconds(10000));
  CHECK(w.okx.rfq(id)->state == "canceled");
  CHECK(w.okx.rfq(id)->u_time_ms == kStartMs);
}

TEST_CASE("okx sim: the 6th cancel-rfq within 2 s is refused with 429 / 50011",
          "[sim][okx][limits]") {
  World w;
  const auto cancel_unknown = [&] {
    return w.okx.handle(cancel_request(w.clock, R"({"rfqId":"1"})"));
  };
  for (int i = 0; i < 5; ++i) REQUIRE(cancel_unknown().status == 200);

  const auto refused = cancel_unknown();
  CHECK(refused.status == 429);
  CHECK(refused.body == R"({"msg":"Too Many Requests","code":"50011"})");

  w.clock.advance(milliseconds(1000));
  CHECK(cancel_unknown().status == 429);  // refused requests do not count...
  w.clock.advance(milliseconds(999));
  CHECK(cancel_unknown().status == 429);

  // ...so once the first five leave the window, five fresh ones fit again.
  w.clock.advance(milliseconds(1));
  for (int i = 0; i < 5; ++i) CHECK(cancel_unknown().status == 200);
  CHECK(cancel_unknown().status == 429);
}

TEST_CASE("okx sim: requests refused at auth do not use the rate window", "[sim][okx][limits]") {
  World w;
  OkxSimOptions wrong;
  wrong.secret = "wrong";
  for (int i = 0; i < 10; ++i) {
    auto bad = signed_request(w.clock, "POST", "/api/v5/rfq/cancel-rfq", "{}", wrong);
    REQUIRE(w.okx.handle(bad).status == 401);
  }
  for (int i = 0; i < 5; ++i) CHECK(w.okx.handle(cancel_request(w.clock, "{}")).status == 400);
}

TEST_CASE("okx sim: GET rfqs allows 2 per 2 s", "[sim][okx][limits]") {
  World w;
  const auto get = [&] {
    return w.okx.handle(signed_request(w.clock, "GET", "/api/v5/rfq/rfqs", "")).status;
  };
  CHECK(get() == 200);
  CHECK(get() == 200);
  CHECK(get() == 429);
  w.clock.advance(milliseconds(2000));
  CHECK(get() == 200);
}

TEST_CASE("okx sim: with enforce_limits off nothing is rate limited", "[sim][okx][limits]") {
  OkxSimOptions options;
  options.enforce_limits = false;
  World w(options);
  for (int i = 0; i < 50; ++i) {
    REQUIRE(w.okx.handle(cancel_request(w.clock, R"({"rfqId":"1"})")).status == 200);
  }
  for (int i = 0; i < 10; ++i) {
    REQUIRE(w.okx.handle(signed_request(w.clock, "GET", "/api/v5/rfq/rfqs", "")).status == 200);
  }
}

TEST_CASE("okx sim: GET rfqs lists newest first and pages with endId", "[sim][okx][rfqs]") {
  OkxSimOptions options;
  options.enforce_limits = false;
  World w(options);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(w.add("rfq00" + std::to_string(i)));
  const auto get = [&](const std::string& query) {
    return w.okx.handle(signed_request(w.clock, "GET", "/api/v5/rfq/rfqs" + query, ""));
  };

  CHECK(ids_of(get("")) == std::vector<std::string>{ids[4], ids[3], ids[2], ids[1], ids[0]});
  CHECK(ids_of(get("?limit=2")) == std::vector<std::string>{ids[4], ids[3]});
  CHECK(ids_of(get("?limit=2&endId=" + ids[3])) == std::vector<std::string>{ids[2], ids[1]});
  CHECK(ids_of(get("?limit=2&endId=" + ids[1])) == std::vector<std::string>{ids[0]});
  CHECK(ids_of(get("?beginId=" + ids[2])) == std::vector<std::string>{ids[4], ids[3]});
  CHECK(ids_of(get("?rfqId=" + ids[1])) == std::vector<std::string>{ids[1]});
  CHECK(ids_of(get("?rfqId=" + ids[1] + "&clRfqId=rfq004")) ==
        std::vector<std::string>{ids[1]});       // rfqId wins
  CHECK(ids_of(get("?limit=500")).size() == 5);  // capped at 100, not refused

  SECTION("the state filter") {
    w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + ids[2] + R"("})"));
    CHECK(ids_of(get("?state=canceled")) == std::vector<std::string>{ids[2]});
    CHECK(ids_of(get("?state=active")).size() == 4);
    CHECK(ids_of(get("?state=filled")).empty());
  }
  SECTION("bad parameters are 51000") {
    CHECK(code_of(get("?state=open")) == "51000");
    CHECK(code_of(get("?limit=abc")) == "51000");
    CHECK(code_of(get("?limit=0")) == "51000");
    CHECK(code_of(get("?endId=x")) == "51000");
  }
}

TEST_CASE("okx sim: a GET rfqs item carries every documented field as OKX types it",
          "[sim][okx][rfqs]") {
  World w;
  NewRfq rfq;
  rfq.cl_rfq_id = "rfq001";
  rfq.tag = "desk7";
  rfq.legs = {{"BTC-USD-260327-100000-C", "buy", "25"}, {"ETH-USD-260327-4000-C", "sell", "5"}};
  rfq.expires_in_ms = 60000;
  const auto id = w.okx.add_rfq(rfq);

  const auto item = item_of(w.okx.handle(signed_request(w.clock, "GET", "/api/v5/rfq/rfqs", "")));
  for (const char* key : {"rfqId", "clRfqId", "tag", "traderCode", "validUntil", "state",
                          "flowType", "cTime", "uTime", "groupId"}) {
    INFO(key);
    CHECK(item.at(key).is_string());
  }
  CHECK(item.at("allowPartialExecution").is_bool());
  CHECK(item.at("counterparties").is_array());
  CHECK(item.at("acctAlloc").is_array());
  CHECK(str(item, "rfqId") == id);
  CHECK(str(item, "tag") == "desk7");
  CHECK(str(item, "state") == "active");
  CHECK(str(item, "cTime") == std::to_string(kStartMs));
  CHECK(str(item, "validUntil") == std::to_string(kStartMs + 60000));
  const auto& legs = item.at("legs").as_array();
  REQUIRE(legs.size() == 2);
  for (const char* key :
       {"instId", "tdMode", "ccy", "side", "posSide", "sz", "tgtCcy", "tradeQuoteCcy"}) {
    INFO(key);
    CHECK(legs[0].as_object().at(key).is_string());
  }
  CHECK(str(legs[1].as_object(), "instId") == "ETH-USD-260327-4000-C");
  CHECK(str(legs[1].as_object(), "side") == "sell");
  CHECK(str(legs[1].as_object(), "sz") == "5");
}

TEST_CASE("okx sim: unknown paths are 404 / 50005 and wrong methods 405 / 50115", "[sim][okx]") {
  World w;
  auto reply = w.okx.handle(signed_request(w.clock, "GET", "/api/v5/rfq/nope", ""));
  CHECK(reply.status == 404);
  CHECK(code_of(reply) == "50005");

  reply = w.okx.handle(signed_request(w.clock, "GET", "/api/v5/rfq/cancel-rfq", ""));
  CHECK(reply.status == 405);
  CHECK(code_of(reply) == "50115");

  reply = w.okx.handle({"POST", "/api/v5/public/time", "", {}});
  CHECK(reply.status == 405);
}

TEST_CASE("okx sim: the journal records each request with its raw bytes and the answer",
          "[sim][okx][journal]") {
  World w;
  const auto id = w.add("rfq001");
  auto cancel = cancel_request(w.clock, R"({"rfqId": ")" + id + R"(", "clRfqId": ""})");
  cancel.headers.emplace_back("x-simulated-trading", "1");
  w.clock.advance(milliseconds(10));
  w.okx.handle(cancel);
  w.okx.handle(signed_request(w.clock, "GET", "/api/v5/rfq/rfqs?state=%61ctive", ""));
  w.okx.handle({"GET", "/api/v5/public/time", "", {}});

  const auto& entries = w.journal.entries();
  REQUIRE(entries.size() == 3);
  const auto& e = entries[0];
  CHECK(e.at("seq").as_int64() == 1);
  CHECK(e.at("ts_ms").as_int64() == kStartMs + 10);
  CHECK(str(e, "venue") == "okx");
  CHECK(str(e, "method") == "POST");
  CHECK(str(e, "target") == "/api/v5/rfq/cancel-rfq");
  CHECK(str(e, "endpoint") == "cancel-rfq");
  CHECK(str(e, "body") == cancel.body);
  CHECK(e.at("status").as_int64() == 200);
  CHECK(str(e, "code") == "0");
  CHECK(str(e, "simulated_trading") == "1");

  CHECK(str(entries[1], "target") == "/api/v5/rfq/rfqs?state=%61ctive");
  CHECK(str(entries[1], "endpoint") == "rfqs");
  CHECK(str(entries[2], "endpoint") == "time");
  CHECK(entries[2].at("seq").as_int64() == 3);

  CHECK(w.journal.find("okx", "cancel-rfq").size() == 1);
  CHECK(w.journal.find("okx", "").size() == 3);
  CHECK(w.journal.find("deribit", "").empty());
}

TEST_CASE("okx sim: refused requests are journaled with their code", "[sim][okx][journal]") {
  World w;
  auto req = cancel_request(w.clock, "{}");
  set_header(req, "OK-ACCESS-PASSPHRASE", "guess");
  w.okx.handle(req);
  const auto entries = w.journal.find("okx", "cancel-rfq");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].at("status").as_int64() == 401);
  CHECK(str(entries[0], "code") == "50105");
}

TEST_CASE("okx sim: seed spreads expiries evenly and is deterministic", "[sim][okx][seed]") {
  World a;
  World b;
  a.okx.seed(4, 1000, 7);
  b.okx.seed(4, 1000, 7);
  const auto rfqs = a.okx.rfqs();
  REQUIRE(rfqs.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    INFO(i);
    CHECK(rfqs[i].valid_until_ms == kStartMs + 250 * static_cast<std::int64_t>(i + 1));
    CHECK(rfqs[i].state == "active");
    CHECK_FALSE(rfqs[i].legs.empty());
  }
  CHECK(rfqs[0].cl_rfq_id == "seed001");
  CHECK(rfqs[3].cl_rfq_id == "seed004");

  const auto other = b.okx.rfqs();
  for (std::size_t i = 0; i < 4; ++i) {
    REQUIRE(rfqs[i].legs.size() == other[i].legs.size());
    for (std::size_t j = 0; j < rfqs[i].legs.size(); ++j) {
      CHECK(rfqs[i].legs[j].inst_id == other[i].legs[j].inst_id);
      CHECK(rfqs[i].legs[j].side == other[i].legs[j].side);
      CHECK(rfqs[i].legs[j].sz == other[i].legs[j].sz);
    }
  }

  a.clock.advance(milliseconds(500));
  CHECK(a.okx.count_in_state("expired") == 2);
  CHECK(a.okx.count_in_state("active") == 2);

  a.okx.seed(2, 1000, 7);  // a second batch continues the client ids
  CHECK(a.okx.rfqs().back().cl_rfq_id == "seed006");
}

TEST_CASE("okx sim: add_rfq follows OKX's default lifetime and refuses duplicate clRfqId",
          "[sim][okx]") {
  World w;
  NewRfq options_only;
  options_only.cl_rfq_id = "a1";
  options_only.legs = {{"BTC-USD-260327-100000-C", "buy", "1"}};
  NewRfq with_swap;
  with_swap.legs = {{"BTC-USD-260327-100000-C", "buy", "1"}, {"BTC-USDT-SWAP", "sell", "1"}};

  CHECK(w.okx.rfq(w.okx.add_rfq(options_only))->valid_until_ms == kStartMs + 600000);
  CHECK(w.okx.rfq(w.okx.add_rfq(with_swap))->valid_until_ms == kStartMs + 120000);
  CHECK_THROWS_AS(w.okx.add_rfq(options_only), std::invalid_argument);
  CHECK_THROWS_AS(w.okx.add_rfq(NewRfq{}), std::invalid_argument);
  CHECK_FALSE(w.okx.rfq("123456789").has_value());
}
