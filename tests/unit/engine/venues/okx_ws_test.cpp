// OKX business WebSocket codec against recorded frames (tests/fixtures/okx/ws/) and
// PROTOCOLS.md §1 (login vector), §2 (WS error codes), §3 (rfqs channel), §4 (sprd-mass-cancel).
#include "engine/venues/okx/okx_ws.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/auth/okx_signer.hpp"

namespace {

namespace json = boost::json;
using rfq::Errc;
using rfq::okx::parse_ws_frame;
using rfq::okx::WsFrame;
using Kind = rfq::okx::WsFrame::Kind;

std::string fixture(const std::string& name) {
  std::string path = std::string(RFQ_SOURCE_DIR) + "/tests/fixtures/okx/ws/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) FAIL("missing fixture " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The sample secret of the PROTOCOLS.md §1 vectors (as in okx_signer_test.cpp); api key and
// passphrase are the OKX docs' sample values.
constexpr const char* kSecret = "22582BD0CFF14C41EDBF1AB98506286D";
constexpr const char* kApiKey = "985d5b66-57ce-40fb-b714-afc0b9787083";
constexpr const char* kPassphrase = "123456";
constexpr std::int64_t kLoginVectorSeconds = 1538054050;
constexpr const char* kLoginVectorSign = "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=";

rfq::auth::OkxCredentials creds() {
  rfq::auth::OkxCredentials c;
  c.api_key = kApiKey;
  c.secret = rfq::auth::Secret(kSecret);
  c.passphrase = rfq::auth::Secret(kPassphrase);
  return c;
}

// A JSON string's text; anything else as "<not a string: ...>" so a CHECK shows what came.
std::string str_of(const json::value& v) {
  if (const auto* s = v.if_string()) return std::string(s->data(), s->size());
  return "<not a string: " + json::serialize(v) + ">";
}

// The one object in args[] of a built request; fails the test when the shape is different.
const json::object& only_arg(const json::value& doc) {
  REQUIRE(doc.is_object());
  const json::value* args = doc.as_object().if_contains("args");
  REQUIRE(args);
  REQUIRE(args->is_array());
  REQUIRE(args->as_array().size() == 1);
  REQUIRE(args->as_array()[0].is_object());
  return args->as_array()[0].as_object();
}

// A recorded push with one item field replaced (or erased when value is null).
std::string push_with(const std::string& fixture_name, std::size_t item, const char* field,
                      json::value value) {
  json::value doc = json::parse(fixture(fixture_name));
  json::object& it = doc.at("data").as_array().at(item).as_object();
  if (value.is_null()) {
    it.erase(field);
  } else {
    it[field] = std::move(value);
  }
  return json::serialize(doc);
}

}  // namespace

// ---- builders ------------------------------------------------------------------------------

TEST_CASE("okx ws login: PROTOCOLS.md vector, timestamp as a string", "[venues][okx][ws]") {
  const json::value doc = json::parse(rfq::okx::build_ws_login(creds(), kLoginVectorSeconds));
  REQUIRE(doc.is_object());
  CHECK(doc.as_object().size() == 2);
  CHECK(str_of(doc.at("op")) == "login");
  const json::object& arg = only_arg(doc);
  CHECK(arg.size() == 4);
  CHECK(str_of(arg.at("apiKey")) == kApiKey);
  CHECK(str_of(arg.at("passphrase")) == kPassphrase);
  REQUIRE(arg.at("timestamp").is_string());  // OKX wants "1538054050", not 1538054050
  CHECK(str_of(arg.at("timestamp")) == "1538054050");
  CHECK(str_of(arg.at("sign")) == kLoginVectorSign);

  SECTION("another second signs another prehash") {
    const json::value next =
        json::parse(rfq::okx::build_ws_login(creds(), kLoginVectorSeconds + 1));
    const json::object& a = only_arg(next);
    CHECK(str_of(a.at("timestamp")) == "1538054051");
    CHECK(str_of(a.at("sign")) != kLoginVectorSign);
    CHECK(str_of(a.at("sign")) == rfq::auth::okx_ws_login_sign(kSecret, "1538054051"));
  }
  SECTION("another secret signs differently") {
    auto c = creds();
    c.secret = rfq::auth::Secret("22582BD0CFF14C41EDBF1AB98506286E");
    const json::value other = json::parse(rfq::okx::build_ws_login(c, kLoginVectorSeconds));
    CHECK(str_of(only_arg(other).at("sign")) != kLoginVectorSign);
  }
  SECTION("the secret itself is never sent") {
    CHECK_THAT(rfq::okx::build_ws_login(creds(), kLoginVectorSeconds), !Catch::Contains(kSecret));
  }
}

TEST_CASE("okx ws subscribe: the documented request", "[venues][okx][ws]") {
  const std::string built = rfq::okx::build_ws_subscribe("1512", "rfqs");
  // PROTOCOLS.md §3, WS channel rfqs (compared as JSON values: member order is not meaningful).
  CHECK(json::parse(built) ==
        json::parse(R"({"id":"1512","op":"subscribe","args":[{"channel":"rfqs"}]})"));

  SECTION("id and channel are the caller's") {
    const json::value doc = json::parse(rfq::okx::build_ws_subscribe("rfqs7", "sprd-orders"));
    CHECK(str_of(doc.at("id")) == "rfqs7");
    CHECK(str_of(doc.at("op")) == "subscribe");
    const json::object& arg = only_arg(doc);
    CHECK(arg.size() == 1);
    CHECK(str_of(arg.at("channel")) == "sprd-orders");
  }
}

TEST_CASE("okx ws sprd-mass-cancel: sprdId only when given", "[venues][okx][ws]") {
  SECTION("with sprdId: the documented request") {
    const std::string built = rfq::okx::build_sprd_mass_cancel("1512", "BTC-USDT_BTC-USDT-SWAP");
    CHECK(json::parse(built) == json::parse(R"({"id":"1512","op":"sprd-mass-cancel",)"
                                            R"("args":[{"sprdId":"BTC-USDT_BTC-USDT-SWAP"}]})"));
  }
  SECTION("without sprdId: one empty arg (every spread)") {
    const json::value doc = json::parse(rfq::okx::build_sprd_mass_cancel("mc2", ""));
    CHECK(str_of(doc.at("id")) == "mc2");
    CHECK(str_of(doc.at("op")) == "sprd-mass-cancel");
    const json::object& arg = only_arg(doc);
    CHECK(arg.empty());
    CHECK_FALSE(arg.contains("sprdId"));
  }
}

// ---- map_ws_code ---------------------------------------------------------------------------

TEST_CASE("okx map_ws_code: every mapped WS code, and REJECTED for the rest", "[venues][okx][ws]") {
  using rfq::okx::map_ws_code;
  CHECK(map_ws_code("0") == Errc::ok);
  SECTION("rate limits") {
    for (const char* c : {"60014", "60023"}) {
      INFO("code " << c);
      CHECK(map_ws_code(c) == Errc::rate_limited);
    }
  }
  SECTION("login refusals") {
    for (const char* c : {"60004", "60005", "60006", "60007", "60009", "60011", "60024", "60032"}) {
      INFO("code " << c);
      CHECK(map_ws_code(c) == Errc::auth);
    }
  }
  SECTION("venue-side trouble") {
    for (const char* c : {"63999", "64007", "64008"}) {
      INFO("code " << c);
      CHECK(map_ws_code(c) == Errc::unavailable);
    }
  }
  SECTION("anything else is a refusal") {
    for (const char* c : {"60008", "60012", "60013", "60018", "60019", "60031", "64001", "1", "00",
                          "", "abc", "70000"}) {
      INFO("code '" << c << "'");
      CHECK(map_ws_code(c) == Errc::rejected);
    }
  }
}

// ---- parse_ws_frame: events and answers ----------------------------------------------------

TEST_CASE("okx ws frame: login answers", "[venues][okx][ws]") {
  SECTION("success") {
    const WsFrame f = parse_ws_frame(fixture("login_ok.json"));
    CHECK(f.kind == Kind::login);
    CHECK(f.code == "0");
    CHECK(f.message.empty());
    CHECK(f.rfqs.empty());
  }
  SECTION("refused as an error event (what OKX sends)") {
    const WsFrame f = parse_ws_frame(fixture("login_failed_error.json"));
    CHECK(f.kind == Kind::error);
    CHECK(f.code == "60009");
    CHECK(f.message == "Login failed.");
    CHECK(rfq::okx::map_ws_code(f.code) == Errc::auth);
  }
  SECTION("refused as a login event with a non-zero code") {
    const WsFrame f =
        parse_ws_frame(R"({"event":"login","code":"60024","msg":"Wrong passphrase"})");
    CHECK(f.kind == Kind::login);
    CHECK(f.code == "60024");
    CHECK(f.message == "Wrong passphrase");
  }
}

TEST_CASE("okx ws frame: subscribe answer names its channel and echoes the id",
          "[venues][okx][ws]") {
  const WsFrame f = parse_ws_frame(fixture("subscribe_rfqs_ok.json"));
  CHECK(f.kind == Kind::subscribe);
  CHECK(f.id == "1512");
  CHECK(f.channel == "rfqs");
  CHECK(f.rfqs.empty());

  SECTION("another channel") {
    const WsFrame g =
        parse_ws_frame(R"({"id":"9","event":"subscribe","arg":{"channel":"sprd-orders"}})");
    CHECK(g.kind == Kind::subscribe);
    CHECK(g.id == "9");
    CHECK(g.channel == "sprd-orders");
  }
}

TEST_CASE("okx ws frame: error event and the 64008 notice", "[venues][okx][ws]") {
  SECTION("error") {
    const WsFrame f = parse_ws_frame(
        R"({"event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\", )"
        R"(\"argss\":[{ \"channel\" : \"rfqs\"}]}","connId":"a4d3ae55"})");
    CHECK(f.kind == Kind::error);
    CHECK(f.code == "60012");
    CHECK(f.message == R"(Invalid request: {"op": "subscribe", "argss":[{ "channel" : "rfqs"}]})");
    CHECK(rfq::okx::map_ws_code(f.code) == Errc::rejected);
  }
  SECTION("notice: the server will close the connection") {
    const WsFrame f = parse_ws_frame(fixture("notice_64008.json"));
    CHECK(f.kind == Kind::notice);
    CHECK(f.code == "64008");
    CHECK(f.message ==
          "The connection will soon be closed for a service upgrade. Please reconnect.");
    CHECK(rfq::okx::map_ws_code(f.code) == Errc::unavailable);
  }
}

TEST_CASE("okx ws frame: sprd-mass-cancel answers are op answers", "[venues][okx][ws]") {
  SECTION("accepted") {
    const WsFrame f = parse_ws_frame(fixture("sprd_mass_cancel_ok.json"));
    CHECK(f.kind == Kind::op_answer);
    CHECK(f.id == "1512");
    CHECK(f.op == "sprd-mass-cancel");
    CHECK(f.code == "0");
    CHECK(f.message.empty());
    CHECK(f.rfqs.empty());
  }
  SECTION("format error") {
    const WsFrame f = parse_ws_frame(fixture("sprd_mass_cancel_60013.json"));
    CHECK(f.kind == Kind::op_answer);
    CHECK(f.id == "1512");
    CHECK(f.op == "sprd-mass-cancel");
    CHECK(f.code == "60013");
    CHECK(f.message == "Invalid args");
  }
}

TEST_CASE("okx ws frame: codes sent as integers read as their decimal text", "[venues][okx][ws]") {
  SECTION("error event") {
    const WsFrame f = parse_ws_frame(R"({"event":"error","code":60012,"msg":"Invalid request"})");
    CHECK(f.kind == Kind::error);
    CHECK(f.code == "60012");
  }
  SECTION("login success") {
    const WsFrame f = parse_ws_frame(R"({"event":"login","code":0,"msg":""})");
    CHECK(f.kind == Kind::login);
    CHECK(f.code == "0");
  }
  SECTION("op answer") {
    const WsFrame f = parse_ws_frame(
        R"({"id":"7","op":"sprd-mass-cancel","data":[],"code":60013,"msg":"Invalid args"})");
    CHECK(f.kind == Kind::op_answer);
    CHECK(f.code == "60013");
  }
  SECTION("notice") {
    const WsFrame f = parse_ws_frame(R"({"event":"notice","code":64008,"msg":"soon"})");
    CHECK(f.kind == Kind::notice);
    CHECK(f.code == "64008");
  }
}

TEST_CASE("okx ws frame: other events are kind other", "[venues][okx][ws]") {
  for (const char* text :
       {R"({"event":"unsubscribe","arg":{"channel":"rfqs"},"connId":"a4d3ae55"})",
        R"({"event":"channel-conn-count","channel":"rfqs","connCount":"2","connId":"a4d3ae55"})",
        R"({"connId":"a4d3ae55"})", R"({})"}) {
    INFO(text);
    const WsFrame f = parse_ws_frame(text);
    CHECK(f.kind == Kind::other);
    CHECK(f.rfqs.empty());
  }
}

TEST_CASE("okx ws frame: not JSON or not an object is unreadable", "[venues][okx][ws]") {
  for (const char* text : {"pong", "", R"({"event":"login","code":"0")", "{event:login}"}) {
    INFO("'" << text << "'");
    const WsFrame f = parse_ws_frame(text);
    CHECK(f.kind == Kind::unreadable);
    CHECK_THAT(f.message, Catch::Contains("not JSON"));
  }
  for (const char* text :
       {R"([{"event":"login","code":"0"}])", R"("login")", "42", "null", "true"}) {
    INFO(text);
    const WsFrame f = parse_ws_frame(text);
    CHECK(f.kind == Kind::unreadable);
    CHECK_THAT(f.message, Catch::Contains("not a JSON object"));
  }
}

// ---- parse_ws_frame: pushes ----------------------------------------------------------------

TEST_CASE("okx ws frame: rfqs push with one item", "[venues][okx][ws]") {
  const WsFrame f = parse_ws_frame(fixture("rfqs_push_one.json"));
  REQUIRE(f.kind == Kind::push);
  CHECK(f.channel == "rfqs");
  REQUIRE(f.rfqs.size() == 1);
  const rfq::Rfq& q = f.rfqs[0];
  CHECK(q.venue == "okx");
  CHECK(q.id == "22535");
  CHECK(q.client_id == "rfq001");
  CHECK(q.label == "desk7");  // from tag
  CHECK(q.state == "canceled");
  CHECK(q.raw_state == "canceled");
  CHECK(q.created_ms == 1637431032000);  // cTime, not uTime (1637431075000)
  CHECK(q.expires_ms == 1637431152000);  // validUntil
  REQUIRE(q.legs.size() == 2);
  CHECK(q.legs[0].instrument == "BTC-USD-221208-100000-C");
  CHECK(q.legs[0].side == "buy");
  CHECK(q.legs[0].size == "25");
  CHECK(q.legs[1].instrument == "ETH-USDT");
  CHECK(q.legs[1].side == "sell");
  CHECK(q.legs[1].size == "150.5");  // decimal text unchanged
}

TEST_CASE("okx ws frame: rfqs push with several items keeps their order", "[venues][okx][ws]") {
  const WsFrame f = parse_ws_frame(fixture("rfqs_push_several.json"));
  REQUIRE(f.kind == Kind::push);
  CHECK(f.channel == "rfqs");
  REQUIRE(f.rfqs.size() == 3);

  CHECK(f.rfqs[0].id == "22540");
  CHECK(f.rfqs[0].client_id == "rfq010");
  CHECK(f.rfqs[0].label == "desk7");
  CHECK(f.rfqs[0].state == "active");
  CHECK(f.rfqs[0].created_ms == 1637431200000);
  CHECK(f.rfqs[0].expires_ms == 1637431320000);
  REQUIRE(f.rfqs[0].legs.size() == 1);
  CHECK(f.rfqs[0].legs[0].instrument == "BTC-USDT-SWAP");
  CHECK(f.rfqs[0].legs[0].side == "sell");
  CHECK(f.rfqs[0].legs[0].size == "10");

  // A maker's view of an RFQ another maker won: normalized, the venue's word kept.
  CHECK(f.rfqs[1].id == "22534");
  CHECK(f.rfqs[1].client_id.empty());
  CHECK(f.rfqs[1].label.empty());
  CHECK(f.rfqs[1].state == "failed");
  CHECK(f.rfqs[1].raw_state == "traded_away");
  CHECK(f.rfqs[1].created_ms == 1637430601000);
  CHECK(f.rfqs[1].expires_ms == 1637430721000);
  REQUIRE(f.rfqs[1].legs.size() == 1);
  CHECK(f.rfqs[1].legs[0].instrument == "ETH-USD-SWAP");

  CHECK(f.rfqs[2].id == "22533");
  CHECK(f.rfqs[2].client_id == "rfq000");
  CHECK(f.rfqs[2].state == "expired");
  CHECK(f.rfqs[2].raw_state == "expired");
  CHECK(f.rfqs[2].expires_ms == 1637430300000);
  REQUIRE(f.rfqs[2].legs.size() == 2);
  CHECK(f.rfqs[2].legs[1].instrument == "BTC-USD-221208-90000-P");
  CHECK(f.rfqs[2].legs[1].side == "sell");

  for (const rfq::Rfq& q : f.rfqs) CHECK(q.venue == "okx");
}

TEST_CASE("okx ws frame: an rfqs push with one bad item is unreadable as a whole",
          "[venues][okx][ws]") {
  std::string text;
  std::string field;
  std::size_t index = 99;
  SECTION("item 1 misses rfqId") {
    text = push_with("rfqs_push_several.json", 1, "rfqId", nullptr);
    field = "rfqId";
    index = 1;
  }
  SECTION("item 1 has an empty rfqId") {
    text = push_with("rfqs_push_several.json", 1, "rfqId", "");
    field = "rfqId";
    index = 1;
  }
  SECTION("item 2 has a validUntil that is not ms digits") {
    text = push_with("rfqs_push_several.json", 2, "validUntil", "1637430300000x");
    field = "validUntil";
    index = 2;
  }
  SECTION("item 2 has an empty validUntil") {
    text = push_with("rfqs_push_several.json", 2, "validUntil", "");
    field = "validUntil";
    index = 2;
  }
  SECTION("item 1 has a negative validUntil") {
    text = push_with("rfqs_push_several.json", 1, "validUntil", -5);
    field = "validUntil";
    index = 1;
  }
  SECTION("item 0 has legs that are not an array") {
    text = push_with("rfqs_push_several.json", 0, "legs", json::object{{"instId", "BTC-USDT"}});
    field = "legs";
    index = 0;
  }
  SECTION("item 0 misses legs") {
    text = push_with("rfqs_push_several.json", 0, "legs", nullptr);
    field = "legs";
    index = 0;
  }
  SECTION("item 0 misses state") {
    text = push_with("rfqs_push_one.json", 0, "state", nullptr);
    field = "state";
    index = 0;
  }
  SECTION("item 0 misses cTime") {
    text = push_with("rfqs_push_one.json", 0, "cTime", nullptr);
    field = "cTime";
    index = 0;
  }

  const WsFrame f = parse_ws_frame(text);
  CHECK(f.kind == Kind::unreadable);
  CHECK(f.rfqs.empty());  // not even the good items before it
  CHECK_THAT(f.message, Catch::Contains("item " + std::to_string(index) + ":"));
  CHECK_THAT(f.message, Catch::Contains(field));
}

TEST_CASE("okx ws frame: a leg without instId, side or sz fails its push", "[venues][okx][ws]") {
  json::value doc = json::parse(fixture("rfqs_push_several.json"));
  doc.at("data").as_array().at(2).at("legs").as_array().at(1).as_object().erase("sz");
  const WsFrame f = parse_ws_frame(json::serialize(doc));
  CHECK(f.kind == Kind::unreadable);
  CHECK(f.rfqs.empty());
  CHECK_THAT(f.message, Catch::Contains("item 2:"));
  CHECK_THAT(f.message, Catch::Contains("leg"));
}

TEST_CASE("okx ws frame: an rfqs push item that is not an object fails the push",
          "[venues][okx][ws]") {
  const WsFrame f = parse_ws_frame(R"({"arg":{"channel":"rfqs"},"data":["22535"]})");
  CHECK(f.kind == Kind::unreadable);
  CHECK(f.rfqs.empty());
  CHECK_THAT(f.message, Catch::Contains("item 0:"));
}

TEST_CASE("okx ws frame: rfqs push without a data array is unreadable", "[venues][okx][ws]") {
  const WsFrame f = parse_ws_frame(R"({"arg":{"channel":"rfqs"},"data":{"rfqId":"1"}})");
  CHECK(f.kind == Kind::unreadable);
  CHECK(f.rfqs.empty());
  CHECK_FALSE(f.message.empty());
}

TEST_CASE("okx ws frame: an empty rfqs push is a push with no RFQs", "[venues][okx][ws]") {
  const WsFrame f = parse_ws_frame(R"({"arg":{"channel":"rfqs","uid":"7798"},"data":[]})");
  CHECK(f.kind == Kind::push);
  CHECK(f.channel == "rfqs");
  CHECK(f.rfqs.empty());
}

TEST_CASE("okx ws frame: a push on another channel carries no RFQs", "[venues][okx][ws]") {
  // Same items, another channel: they must not be read as RFQs.
  json::value doc = json::parse(fixture("rfqs_push_one.json"));
  doc.at("arg").as_object()["channel"] = "quotes";
  const WsFrame f = parse_ws_frame(json::serialize(doc));
  CHECK(f.kind == Kind::push);
  CHECK(f.channel == "quotes");
  CHECK(f.rfqs.empty());

  SECTION("items that would not parse as RFQs do not make it unreadable") {
    const WsFrame g = parse_ws_frame(
        R"({"arg":{"channel":"sprd-orders"},"data":[{"ordId":"1","state":"canceled"}]})");
    CHECK(g.kind == Kind::push);
    CHECK(g.channel == "sprd-orders");
    CHECK(g.rfqs.empty());
  }
}
