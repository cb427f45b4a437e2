// OkxWsSession driven by text, no sockets, on a VirtualClock: ping/pong, login and each of its
// refusals, subscribe before and after login, rfqs pushes on every state change, the
// sprd-mass-cancel op and its limit, the idle close, the ws_close and ws-push faults and the
// journal.

#include "engine/sim/okx_ws_sim.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "tests/unit/engine/sim/okx_sim_world.hpp"
#include "tests/unit/engine/sim/okx_ws_world.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using namespace rfq::sim::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kSubscribeRfqs =
    R"({"id":"1512","op":"subscribe","args":[{"channel":"rfqs"}]})";

std::string mass_cancel(std::string_view id, std::string_view sprd_id = "BTC-USDT_BTC-USDT-SWAP") {
  return R"({"id":")" + std::string(id) + R"(","op":"sprd-mass-cancel","args":[{"sprdId":")" +
         std::string(sprd_id) + R"("}]})";
}

// The frames of a connection that are rfqs pushes, parsed.
std::vector<json::object> pushes(WsConn& conn) {
  std::vector<json::object> out;
  for (const auto& text : conn.take()) {
    auto o = json::parse(text).as_object();
    REQUIRE(o.contains("arg"));
    REQUIRE(o.contains("data"));
    out.push_back(std::move(o));
  }
  return out;
}

json::object pushed_item(const json::object& push) {
  return push.at("data").as_array().at(0).as_object();
}

// A logged-in connection subscribed to rfqs, with nothing pending.
struct Subscribed {
  explicit Subscribed(World& w) : conn(w.okx) {
    log_in(conn, w.clock);
    REQUIRE(str_of(conn.ask(kSubscribeRfqs), "event") == "subscribe");
  }
  WsConn conn;
};

}  // namespace

// ---- ping / pong ---------------------------------------------------------------------------

TEST_CASE("okx ws: text ping is answered with the 4-byte text pong, logged in or not",
          "[sim][ws]") {
  World w;
  WsConn conn(w.okx);
  conn.send("ping");
  CHECK(conn.take() == std::vector<std::string>{"pong"});
  log_in(conn, w.clock);
  conn.send("ping");
  CHECK(conn.take() == std::vector<std::string>{"pong"});
  CHECK_FALSE(conn.closed);
  const auto entries = w.journal.find("okx_ws", "ping");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].at("code").as_string() == "");
  CHECK(entries[0].at("conn_id").as_string() == conn.session.conn_id());
}

// ---- login ---------------------------------------------------------------------------------

TEST_CASE("okx ws: login succeeds with the timestamp as a string or as a JSON number",
          "[sim][ws][login]") {
  World w;
  w.clock.advance(milliseconds(750));  // now = 1700000000.750 s
  WsConn conn(w.okx);
  std::string text;
  SECTION("docs style: string seconds") { text = login_text("1700000000"); }
  SECTION("python-okx style: integer seconds") { text = login_text("1700000000", true); }
  SECTION("JS style: fractional seconds as a string") { text = login_text("1700000000.75"); }
  SECTION("fractional seconds as a JSON number, signed over its shortest text") {
    text = login_text("1700000000.75", true);
  }
  SECTION("29 s old") { text = login_text(seconds_text(w.clock, -29)); }
  SECTION("29 s ahead") { text = login_text(seconds_text(w.clock, 29)); }

  const auto answer = conn.ask(text);
  CHECK(json::serialize(answer) ==
        R"({"event":"login","code":"0","msg":"","connId":")" + conn.session.conn_id() + R"("})");
  CHECK(conn.session.logged_in());
  CHECK_FALSE(conn.closed);
}

TEST_CASE("okx ws: a connection id is 8 hex digits and differs per connection",
          "[sim][ws][login]") {
  World w;
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    WsConn conn(w.okx);
    CHECK(std::regex_match(conn.session.conn_id(), std::regex("[0-9a-f]{8}")));
    ids.insert(conn.session.conn_id());
  }
  CHECK(ids.size() == 20);
}

TEST_CASE("okx ws: each login refusal has its own code, then the connection closes 4001",
          "[sim][ws][login]") {
  World w;
  WsConn conn(w.okx);
  const auto now = seconds_text(w.clock);
  std::string text;
  std::string code;
  std::string msg;
  SECTION("wrong sign: 60007") {
    text = login_text(now, false, {}, auth::okx_ws_login_sign("another-secret", now));
    code = "60007";
    msg = "Invalid sign";
  }
  SECTION("sign over another timestamp: 60007") {
    text =
        login_text(now, false, {}, auth::okx_ws_login_sign(kSimSecret, seconds_text(w.clock, 1)));
    code = "60007";
    msg = "Invalid sign";
  }
  SECTION("unknown apiKey: 60005") {
    OkxSimOptions creds;
    creds.api_key = "someone-else";
    text = login_text(now, false, creds);
    code = "60005";
    msg = "Invalid apiKey";
  }
  SECTION("wrong passphrase: 60024") {
    OkxSimOptions creds;
    creds.passphrase = "guess";
    text = login_text(now, false, creds);
    code = "60024";
    msg = "Wrong passphrase";
  }
  SECTION("31 s old: 60006") {
    text = login_text(seconds_text(w.clock, -31));
    code = "60006";
    msg = "Timestamp request expired";
  }
  SECTION("31 s ahead: 60006") {
    text = login_text(seconds_text(w.clock, 31));
    code = "60006";
    msg = "Timestamp request expired";
  }
  SECTION("milliseconds instead of seconds: 60006") {
    text = login_text(std::to_string(w.clock.now_ms()));
    code = "60006";
    msg = "Timestamp request expired";
  }
  SECTION("an ISO timestamp (the REST format): 60004") {
    text = login_text("2023-11-14T22:13:20.000Z");
    code = "60004";
    msg = "Invalid timestamp";
  }
  SECTION("an empty timestamp: 60004") {
    text = login_text("");
    code = "60004";
    msg = "Invalid timestamp";
  }
  SECTION("a negative timestamp: 60004") {
    text = login_text("-1700000000", true);
    code = "60004";
    msg = "Invalid timestamp";
  }
  SECTION("a boolean timestamp: 60004") {
    text = login_text("true", true);
    code = "60004";
    msg = "Invalid timestamp";
  }
  const auto answer = conn.ask(text);
  CHECK(json::serialize(answer) == R"({"event":"error","code":")" + code + R"(","msg":")" + msg +
                                       R"(","connId":")" + conn.session.conn_id() + R"("})");
  REQUIRE(conn.closed);
  CHECK(conn.closed->code == 4001);
  CHECK(conn.closed->reason == "Login Failed");
  CHECK_FALSE(conn.session.logged_in());

  // Closed: nothing more is answered, not even a ping.
  conn.send("ping");
  conn.send(login_text(now));
  CHECK(conn.take().empty());
  CHECK(w.journal.find("okx_ws", "login").size() == 1);
}

TEST_CASE("okx ws: refusals are checked timestamp, key, passphrase, then sign",
          "[sim][ws][login]") {
  World w;
  OkxSimOptions wrong;
  wrong.api_key = "x";
  wrong.passphrase = "y";
  wrong.secret = "z";
  WsConn expired(w.okx);
  CHECK(str_of(expired.ask(login_text(seconds_text(w.clock, -60), false, wrong)), "code") ==
        "60006");
  WsConn bad_key(w.okx);
  CHECK(str_of(bad_key.ask(login_text(seconds_text(w.clock), false, wrong)), "code") == "60005");
  wrong.api_key = kSimApiKey;
  WsConn bad_passphrase(w.okx);
  CHECK(str_of(bad_passphrase.ask(login_text(seconds_text(w.clock), false, wrong)), "code") ==
        "60024");
}

TEST_CASE("okx ws: a second login on the same connection is 60031 and keeps the connection",
          "[sim][ws][login]") {
  World w;
  WsConn conn(w.okx);
  log_in(conn, w.clock);
  const auto answer = conn.ask(login_text(seconds_text(w.clock)));
  CHECK(str_of(answer, "event") == "error");
  CHECK(str_of(answer, "code") == "60031");
  CHECK_FALSE(conn.closed);
  CHECK(conn.session.logged_in());
}

TEST_CASE("okx ws: a login without its four fields is 60012 and does not close",
          "[sim][ws][login]") {
  World w;
  WsConn conn(w.okx);
  std::string text;
  SECTION("no args") { text = R"({"op":"login"})"; }
  SECTION("args not an array") { text = R"({"op":"login","args":{"apiKey":"k"}})"; }
  SECTION("no timestamp") {
    text = R"({"op":"login","args":[{"apiKey":"k","passphrase":"p","sign":"s"}]})";
  }
  SECTION("sign not a string") {
    text = R"({"op":"login","args":[{"apiKey":"k","passphrase":"p","timestamp":"1","sign":1}]})";
  }
  const auto answer = conn.ask(text);
  CHECK(str_of(answer, "code") == "60012");
  CHECK(str_of(answer, "msg") == "Invalid request: " + text);
  CHECK_FALSE(conn.closed);
}

TEST_CASE("okx ws: the journal records logins without their sign or passphrase",
          "[sim][ws][journal]") {
  World w;
  WsConn ok(w.okx);
  WsConn refused(w.okx);
  const auto good = login_text(seconds_text(w.clock));
  ok.send(good);
  OkxSimOptions creds;
  creds.passphrase = "not-the-passphrase";
  refused.send(login_text(seconds_text(w.clock), false, creds));
  ok.send(R"({"op":"login","args":[{"apiKey":"k","passphrase":"broken-login-pp"}]})");
  ok.send(R"({"op":"login","args":[{"passphrase":"broken-json-pp")");

  const auto entries = w.journal.find("okx_ws", "");
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].at("endpoint").as_string() == "login");
  CHECK(entries[0].at("code").as_string() == "0");
  CHECK(entries[1].at("code").as_string() == "60024");
  CHECK(entries[1].at("conn_id").as_string() == refused.session.conn_id());
  CHECK(entries[2].at("code").as_string() == "60031");
  CHECK(entries[3].at("endpoint").as_string() == "invalid");
  CHECK(entries[3].at("code").as_string() == "60012");
  const auto sign = auth::okx_ws_login_sign(kSimSecret, seconds_text(w.clock));
  for (const auto& e : entries) {
    const auto line = json::serialize(e);
    CHECK_THAT(line, !Catch::Contains(std::string(kSimPassphrase)));
    CHECK_THAT(line, !Catch::Contains("not-the-passphrase"));
    CHECK_THAT(line, !Catch::Contains("broken-login-pp"));
    CHECK_THAT(line, !Catch::Contains("broken-json-pp"));
    CHECK_THAT(line, !Catch::Contains(sign));
  }
}

// ---- subscribe -----------------------------------------------------------------------------

TEST_CASE("okx ws: subscribe before login is 60011, after login it is confirmed",
          "[sim][ws][subscribe]") {
  World w;
  WsConn conn(w.okx);
  const auto& conn_id = conn.session.conn_id();

  CHECK(json::serialize(conn.ask(kSubscribeRfqs)) ==
        R"({"id":"1512","event":"error","code":"60011","msg":"Please log in","connId":")" +
            conn_id + R"("})");
  CHECK_FALSE(conn.session.subscribed("rfqs"));
  CHECK_FALSE(conn.closed);

  log_in(conn, w.clock);
  CHECK(json::serialize(conn.ask(kSubscribeRfqs)) ==
        R"({"id":"1512","event":"subscribe","arg":{"channel":"rfqs"},"connId":")" + conn_id +
            R"("})");
  CHECK(conn.session.subscribed("rfqs"));

  SECTION("without an id, the answer has none") {
    CHECK(json::serialize(conn.ask(R"({"op":"subscribe","args":[{"channel":"sprd-orders"}]})")) ==
          R"({"event":"subscribe","arg":{"channel":"sprd-orders"},"connId":")" + conn_id + R"("})");
    CHECK(conn.session.subscribed("sprd-orders"));
  }
  SECTION("the arg is echoed as sent, one answer per arg") {
    conn.send(
        R"({"id":"7","op":"subscribe","args":[{"channel":"sprd-orders","sprdId":"BTC-USDT_BTC-USDT-SWAP"},{"channel":"rfqs"}]})");
    const auto frames = conn.take();
    REQUIRE(frames.size() == 2);
    CHECK_THAT(
        frames[0],
        Catch::Contains(R"("arg":{"channel":"sprd-orders","sprdId":"BTC-USDT_BTC-USDT-SWAP"})"));
    CHECK_THAT(frames[1], Catch::Contains(R"("arg":{"channel":"rfqs"})"));
  }
  SECTION("unsubscribe is confirmed the same way") {
    CHECK(
        json::serialize(conn.ask(R"({"id":"9","op":"unsubscribe","args":[{"channel":"rfqs"}]})")) ==
        R"({"id":"9","event":"unsubscribe","arg":{"channel":"rfqs"},"connId":")" + conn_id +
            R"("})");
    CHECK_FALSE(conn.session.subscribed("rfqs"));
  }
}

TEST_CASE("okx ws: bad requests are 60012, unknown channels 60018, unknown ops 60019",
          "[sim][ws][subscribe]") {
  World w;
  WsConn conn(w.okx);
  log_in(conn, w.clock);
  std::string text;
  std::string code;
  std::string msg;
  SECTION("not JSON") {
    text = "hello";
    code = "60012";
    msg = "Invalid request: hello";
  }
  SECTION("a JSON array") {
    text = "[]";
    code = "60012";
    msg = "Invalid request: []";
  }
  SECTION("no op") {
    text = R"({"args":[{"channel":"rfqs"}]})";
    code = "60012";
    msg = "Invalid request: " + text;
  }
  SECTION("a misspelt args key (the docs' example)") {
    text = R"({"op": "subscribe", "argss":[{"channel":"rfqs"}]})";
    code = "60012";
    msg = "Invalid request: " + text;
  }
  SECTION("an arg without channel") {
    text = R"({"op":"subscribe","args":[{"instId":"BTC-USDT"}]})";
    code = "60012";
    msg = "Invalid request: " + text;
  }
  SECTION("an id with a dash") {
    text = R"({"id":"a-1","op":"subscribe","args":[{"channel":"rfqs"}]})";
    code = "60012";
    msg = "Invalid request: " + text;
  }
  SECTION("an unknown channel") {
    text = R"({"op":"subscribe","args":[{"channel":"rfqs"},{"channel":"tickers"}]})";
    code = "60018";
    msg =
        "Wrong URL or channel:tickers doesn't exist. Please use the correct URL, channel and "
        "parameters referring to API document.";
  }
  SECTION("an unknown op") {
    text = R"({"op":"explode","args":[]})";
    code = "60019";
    msg = "Invalid op: explode";
  }
  const auto answer = conn.ask(text);
  CHECK(str_of(answer, "event") == "error");
  CHECK(str_of(answer, "code") == code);
  CHECK(str_of(answer, "msg") == msg);
  CHECK(str_of(answer, "connId") == conn.session.conn_id());
  CHECK_FALSE(conn.session.subscribed("rfqs"));  // all or nothing
  CHECK_FALSE(conn.closed);
  CHECK(w.journal.entries().back().at("code").as_string() == code);
}

TEST_CASE("okx ws: an unknown op is 60019 even before login", "[sim][ws][subscribe]") {
  World w;
  WsConn conn(w.okx);
  const auto answer = conn.ask(R"({"id":"1","op":"sprd-order","args":[]})");
  CHECK(str_of(answer, "code") == "60019");
  CHECK(str_of(answer, "id") == "1");
}

// ---- rfqs pushes ---------------------------------------------------------------------------

TEST_CASE("okx ws: a subscriber hears every RFQ state change as it happens", "[sim][ws][push]") {
  World w;
  Subscribed sub(w);
  auto& conn = sub.conn;

  const auto id = w.add("rfq001", 60000);
  auto got = pushes(conn);
  REQUIRE(got.size() == 1);
  CHECK(json::serialize(got[0].at("arg")) == R"({"channel":"rfqs","uid":"77982378738415879"})");
  CHECK(str_of(pushed_item(got[0]), "state") == "active");

  SECTION("the pushed item is the GET rfqs item") {
    const auto reply =
        w.okx.handle(signed_request(w.clock, "GET", "/api/v5/rfq/rfqs?rfqId=" + id, ""));
    CHECK(pushed_item(got[0]) == item_of(reply));
  }
  SECTION("canceled by cancel-rfq") {
    w.clock.advance(milliseconds(5));
    w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
    got = pushes(conn);
    REQUIRE(got.size() == 1);
    CHECK(str_of(pushed_item(got[0]), "state") == "canceled");
    CHECK(str_of(pushed_item(got[0]), "uTime") == std::to_string(kStartMs + 5));
  }
  SECTION("canceled by cancel-batch-rfqs and cancel-all-rfqs, one push per RFQ") {
    const auto second = w.add();
    const auto third = w.add();
    pushes(conn);
    w.okx.handle(signed_request(w.clock, "POST", "/api/v5/rfq/cancel-batch-rfqs",
                                R"({"rfqIds":[")" + id + R"(","999"]})"));
    got = pushes(conn);
    REQUIRE(got.size() == 1);
    CHECK(str_of(pushed_item(got[0]), "rfqId") == id);
    w.okx.handle(signed_request(w.clock, "POST", "/api/v5/rfq/cancel-all-rfqs", "{}"));
    got = pushes(conn);
    REQUIRE(got.size() == 2);
    CHECK(str_of(pushed_item(got[0]), "rfqId") == second);
    CHECK(str_of(pushed_item(got[1]), "rfqId") == third);
    CHECK(str_of(pushed_item(got[1]), "state") == "canceled");
  }
  SECTION("filled") {
    REQUIRE(w.okx.fill(id));
    got = pushes(conn);
    REQUIRE(got.size() == 1);
    CHECK(str_of(pushed_item(got[0]), "state") == "filled");
  }
  SECTION("expired, pushed by tick() at validUntil without any request") {
    w.clock.advance(milliseconds(59999));
    w.okx.tick();
    CHECK(conn.take().empty());
    w.clock.advance(milliseconds(1));
    w.okx.tick();
    got = pushes(conn);
    REQUIRE(got.size() == 1);
    CHECK(str_of(pushed_item(got[0]), "state") == "expired");
    CHECK(str_of(pushed_item(got[0]), "uTime") == std::to_string(kStartMs + 60000));
    w.okx.tick();
    CHECK(conn.take().empty());  // once
  }
  SECTION("a refused cancel changes nothing and pushes nothing") {
    REQUIRE(w.okx.fill(id));
    pushes(conn);
    w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
    CHECK(conn.take().empty());
  }
}

TEST_CASE("okx ws: only rfqs subscribers get pushes, and only while subscribed and open",
          "[sim][ws][push]") {
  World w;
  Subscribed a(w);
  Subscribed b(w);
  WsConn logged_in_only(w.okx);
  log_in(logged_in_only, w.clock);
  WsConn orders(w.okx);
  log_in(orders, w.clock);
  orders.send(R"({"op":"subscribe","args":[{"channel":"sprd-orders"}]})");
  orders.take();

  w.add();
  CHECK(pushes(a.conn).size() == 1);
  CHECK(pushes(b.conn).size() == 1);
  CHECK(logged_in_only.take().empty());
  CHECK(orders.take().empty());

  b.conn.send(R"({"op":"unsubscribe","args":[{"channel":"rfqs"}]})");
  b.conn.take();
  w.clock.advance(seconds(31));
  a.conn.session.check_idle();  // a closes: idle for 31 s
  REQUIRE(a.conn.closed);
  w.add();
  CHECK(a.conn.take().empty());
  CHECK(b.conn.take().empty());
}

TEST_CASE("okx ws: RFQs created before the subscription are not replayed", "[sim][ws][push]") {
  World w;
  w.add();
  Subscribed sub(w);
  CHECK(sub.conn.take().empty());
}

TEST_CASE("okx ws: a session destroyed while subscribed leaves the model safe to change",
          "[sim][ws][push]") {
  World w;
  { Subscribed gone(w); }
  Subscribed stays(w);
  w.add();
  CHECK(pushes(stays.conn).size() == 1);
}

// ---- sprd-mass-cancel ----------------------------------------------------------------------

TEST_CASE("okx ws: sprd-mass-cancel answers result true and counts per sprdId",
          "[sim][ws][mass-cancel]") {
  World w;
  WsConn conn(w.okx);
  log_in(conn, w.clock);
  CHECK(json::serialize(conn.ask(mass_cancel("1512"))) ==
        R"({"id":"1512","op":"sprd-mass-cancel","data":[{"result":true}],"code":"0","msg":""})");
  CHECK(str_of(conn.ask(mass_cancel("1513")), "code") == "0");
  CHECK(str_of(conn.ask(R"({"id":"x","op":"sprd-mass-cancel","args":[{}]})"), "code") == "0");
  CHECK(str_of(conn.ask(R"({"id":"y","op":"sprd-mass-cancel","args":[{"sprdId":""}]})"), "code") ==
        "0");
  CHECK(w.okx.sprd_mass_cancels("BTC-USDT_BTC-USDT-SWAP") == 2);
  CHECK(w.okx.sprd_mass_cancels("") == 2);  // no sprdId: every spread
  CHECK(w.okx.sprd_mass_cancels("ETH-USDT_ETH-USDT-SWAP") == 0);
  const auto entries = w.journal.find("okx_ws", "sprd-mass-cancel");
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].at("id").as_string() == "1512");
  CHECK(entries[0].at("body").as_string() == mass_cancel("1512"));
}

TEST_CASE("okx ws: sprd-mass-cancel with a bad id or args is 60013 and cancels nothing",
          "[sim][ws][mass-cancel]") {
  World w;
  WsConn conn(w.okx);
  log_in(conn, w.clock);
  std::string text;
  std::string echoed_id;
  SECTION("no id") { text = R"({"op":"sprd-mass-cancel","args":[{"sprdId":"A_B"}]})"; }
  SECTION("an empty id") { text = mass_cancel(""); }
  SECTION("an id of 33 characters") {
    echoed_id = std::string(33, 'a');
    text = mass_cancel(echoed_id);
  }
  SECTION("an id with an underscore") {
    echoed_id = "a_1";
    text = mass_cancel(echoed_id);
  }
  SECTION("a numeric id") { text = R"({"id":1512,"op":"sprd-mass-cancel","args":[{}]})"; }
  SECTION("no args") {
    text = R"({"id":"1","op":"sprd-mass-cancel"})";
    echoed_id = "1";
  }
  SECTION("empty args") {
    text = R"({"id":"1","op":"sprd-mass-cancel","args":[]})";
    echoed_id = "1";
  }
  SECTION("two args") {
    text = R"({"id":"1","op":"sprd-mass-cancel","args":[{},{}]})";
    echoed_id = "1";
  }
  SECTION("a numeric sprdId") {
    text = R"({"id":"1","op":"sprd-mass-cancel","args":[{"sprdId":5}]})";
    echoed_id = "1";
  }
  CHECK(json::serialize(conn.ask(text)) == R"({"id":")" + echoed_id +
                                               R"(","op":"sprd-mass-cancel","data":[],)"
                                               R"("code":"60013","msg":"Invalid args"})");
  CHECK(w.okx.sprd_mass_cancels("A_B") == 0);
  CHECK(w.okx.sprd_mass_cancels("") == 0);
  CHECK_FALSE(conn.closed);
}

TEST_CASE("okx ws: sprd-mass-cancel before login is the 60011 error event",
          "[sim][ws][mass-cancel]") {
  World w;
  WsConn conn(w.okx);
  CHECK(json::serialize(conn.ask(mass_cancel("1512"))) ==
        R"({"id":"1512","event":"error","code":"60011","msg":"Please log in","connId":")" +
            conn.session.conn_id() + R"("})");
  CHECK(w.okx.sprd_mass_cancels("BTC-USDT_BTC-USDT-SWAP") == 0);
}

TEST_CASE("okx ws: the 6th sprd-mass-cancel within 2 s per API key is 60014",
          "[sim][ws][mass-cancel][limits]") {
  World w;
  WsConn first(w.okx);
  WsConn second(w.okx);
  log_in(first, w.clock);
  log_in(second, w.clock);
  for (int i = 0; i < 3; ++i) {
    CHECK(str_of(first.ask(mass_cancel("a" + std::to_string(i))), "code") == "0");
    w.clock.advance(milliseconds(100));
  }
  for (int i = 0; i < 2; ++i) {
    CHECK(str_of(second.ask(mass_cancel("b" + std::to_string(i))), "code") == "0");
  }
  // Five within (now - 2 s, now], over two connections: the limit is per API key.
  CHECK(json::serialize(second.ask(mass_cancel("b2"))) ==
        R"({"id":"b2","op":"sprd-mass-cancel","data":[],"code":"60014",)"
        R"("msg":"Requests too frequent"})");
  CHECK(w.okx.sprd_mass_cancels("BTC-USDT_BTC-USDT-SWAP") == 5);
  // The first left the window 2 s after it was sent.
  w.clock.advance(milliseconds(1699));
  CHECK(str_of(first.ask(mass_cancel("a3")), "code") == "60014");
  w.clock.advance(milliseconds(1));
  CHECK(str_of(first.ask(mass_cancel("a4")), "code") == "0");
  // Refusals (60013, 60014) used no slot: one more left the window.
  w.clock.advance(milliseconds(100));
  CHECK(str_of(first.ask(mass_cancel("bad_id")), "code") == "60013");
  CHECK(str_of(first.ask(mass_cancel("a5")), "code") == "0");
}

TEST_CASE("okx ws: with enforce_limits off sprd-mass-cancel is never 60014",
          "[sim][ws][mass-cancel][limits]") {
  OkxSimOptions options;
  options.enforce_limits = false;
  World w(options);
  WsConn conn(w.okx);
  log_in(conn, w.clock);
  for (int i = 0; i < 20; ++i) {
    CHECK(str_of(conn.ask(mass_cancel("m" + std::to_string(i))), "code") == "0");
  }
  CHECK(w.okx.sprd_mass_cancels("BTC-USDT_BTC-USDT-SWAP") == 20);
}

// ---- idle ----------------------------------------------------------------------------------

TEST_CASE("okx ws: a connection that receives nothing for more than 30 s is closed 4004",
          "[sim][ws][idle]") {
  World w;
  WsConn conn(w.okx);
  SECTION("from its opening") {
    w.clock.advance(seconds(30));
    conn.session.check_idle();
    CHECK_FALSE(conn.closed);  // exactly 30 s is not more than 30 s
    w.clock.advance(milliseconds(1));
    conn.session.check_idle();
  }
  SECTION("any message, even one refused, restarts the 30 s") {
    w.clock.advance(seconds(20));
    conn.send("not json");
    w.clock.advance(seconds(20));
    conn.session.check_idle();
    CHECK_FALSE(conn.closed);
    conn.send("ping");
    w.clock.advance(seconds(30));
    conn.session.check_idle();
    CHECK_FALSE(conn.closed);
    w.clock.advance(milliseconds(1));
    conn.session.check_idle();
  }
  SECTION("pushes sent do not count: only what is received does") {
    log_in(conn, w.clock);
    conn.send(std::string(kSubscribeRfqs));
    for (int i = 0; i < 4; ++i) {
      w.clock.advance(seconds(10));
      w.add();
    }
    conn.session.check_idle();
  }
  REQUIRE(conn.closed);
  CHECK(conn.closed->code == 4004);
  CHECK(conn.closed->reason == "No data received in 30s");
  conn.take();
  conn.send("ping");
  conn.session.check_idle();
  CHECK(conn.take().empty());
}

// ---- faults --------------------------------------------------------------------------------

TEST_CASE("okx ws: a ws_close fault closes the next message's connection with 1011",
          "[sim][ws][fault]") {
  World w;
  WsConn hit(w.okx);
  WsConn spared(w.okx);
  w.okx.inject({"ws", FaultKind::ws_close});
  CHECK(w.okx.pending_faults() == 1);

  SECTION("an HTTP request does not take it") {
    const auto id = w.add();
    const auto reply = w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
    CHECK(code_of(reply) == "0");
    CHECK_FALSE(reply.drop);
    CHECK(w.okx.pending_faults() == 1);
  }
  hit.send(login_text(seconds_text(w.clock)));
  CHECK(hit.take().empty());  // not answered
  REQUIRE(hit.closed);
  CHECK(hit.closed->code == 1011);
  CHECK_FALSE(hit.session.logged_in());  // not processed
  CHECK(w.okx.pending_faults() == 0);
  const auto entries = w.journal.find("okx_ws", "login");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].at("fault").as_string() == "ws_close");
  CHECK(entries[0].at("code").as_string() == "");

  spared.send("ping");  // the fault is used up
  CHECK(spared.take() == std::vector<std::string>{"pong"});
  CHECK_FALSE(spared.closed);
}

TEST_CASE("okx ws: ws_close faults take endpoint ws or none, and only they do",
          "[sim][ws][fault]") {
  World w;
  SECTION("no endpoint means ws") {
    w.okx.inject({"", FaultKind::ws_close, 0, 2});
    CHECK(w.okx.pending_faults() == 2);
    CHECK(w.okx.take_ws_close());
    CHECK(w.okx.take_ws_close());
    CHECK_FALSE(w.okx.take_ws_close());
  }
  SECTION("a REST endpoint is refused") {
    CHECK_THROWS_AS(w.okx.inject({"cancel-rfq", FaultKind::ws_close}), std::invalid_argument);
  }
  SECTION("an HTTP kind on ws is refused") {
    CHECK_THROWS_AS(w.okx.inject({"ws", FaultKind::drop}), std::invalid_argument);
  }
  SECTION("an HTTP fault for any endpoint is not a ws fault") {
    w.okx.inject({"", FaultKind::drop});
    CHECK_FALSE(w.okx.take_ws_close());
    CHECK(w.okx.pending_faults() == 1);
  }
  SECTION("ws_close is named in both directions") {
    CHECK(to_string(FaultKind::ws_close) == "ws_close");
    CHECK(fault_kind_from("ws_close") == FaultKind::ws_close);
  }
}

// ---- ws-push faults ------------------------------------------------------------------------

TEST_CASE("okx ws: a ws-push drop fault loses one push and keeps the connection open",
          "[sim][ws][fault][push]") {
  World w;
  Subscribed sub(w);
  auto& conn = sub.conn;
  w.okx.inject({"ws-push", FaultKind::drop});
  REQUIRE(w.okx.pending_faults() == 1);

  const auto first = w.add();
  const auto second = w.add();
  auto got = pushes(conn);
  REQUIRE(got.size() == 1);
  CHECK(str_of(pushed_item(got[0]), "rfqId") == second);
  CHECK_FALSE(conn.closed);
  CHECK(w.okx.pending_faults() == 0);
  CHECK(w.okx.rfq(first)->state == "active");  // only the frame was lost, not the change

  // Used up: the next change of the lost RFQ is pushed.
  w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + first + R"("})"));
  got = pushes(conn);
  REQUIRE(got.size() == 1);
  CHECK(str_of(pushed_item(got[0]), "rfqId") == first);
  CHECK(str_of(pushed_item(got[0]), "state") == "canceled");

  const auto entries = w.journal.find("okx_ws", "push");
  REQUIRE(entries.size() == 1);  // pushes sent without a fault are not journaled
  CHECK(str_of(entries[0], "fault") == "drop");
  CHECK(str_of(entries[0], "conn_id") == conn.session.conn_id());
  CHECK(str_of(entries[0], "channel") == "rfqs");
  CHECK(str_of(entries[0], "rfq_id") == first);
  CHECK(str_of(entries[0], "state") == "active");
  CHECK_FALSE(entries[0].contains("delay_ms"));
}

TEST_CASE("okx ws: a ws-push fault unit is one push to one connection", "[sim][ws][fault][push]") {
  World w;
  Subscribed a(w);
  Subscribed b(w);
  WsConn not_subscribed(w.okx);
  log_in(not_subscribed, w.clock);
  w.okx.inject({"ws-push", FaultKind::drop, 0, 3});

  w.add();  // one change, two pushes: both lost, two units
  CHECK(pushes(a.conn).empty());
  CHECK(pushes(b.conn).empty());
  CHECK(w.okx.pending_faults() == 1);
  w.add();  // a loses it (first subscribed, first pushed to), b gets it
  CHECK(pushes(a.conn).empty());
  CHECK(pushes(b.conn).size() == 1);
  CHECK(w.okx.pending_faults() == 0);
  w.add();
  CHECK(pushes(a.conn).size() == 1);
  CHECK(pushes(b.conn).size() == 1);
  CHECK(not_subscribed.take().empty());
  const auto entries = w.journal.find("okx_ws", "push");
  REQUIRE(entries.size() == 3);
  CHECK(str_of(entries[0], "conn_id") == a.conn.session.conn_id());
  CHECK(str_of(entries[1], "conn_id") == b.conn.session.conn_id());
  CHECK(str_of(entries[2], "conn_id") == a.conn.session.conn_id());
}

TEST_CASE("okx ws: a ws-push delay holds the push back and later pushes wait behind it",
          "[sim][ws][fault][push]") {
  World w;
  Subscribed sub(w);
  auto& conn = sub.conn;

  SECTION("an undelayed push keeps its place behind a held one") {
    w.okx.inject({"ws-push", FaultKind::delay, 250});
    const auto first = w.add();
    w.clock.advance(milliseconds(100));
    const auto second = w.add();
    CHECK(conn.take().empty());
    conn.send("ping");  // answers are not held, only pushes
    CHECK(conn.take() == std::vector<std::string>{"pong"});
    w.clock.advance(milliseconds(149));
    CHECK(conn.take().empty());
    w.clock.advance(milliseconds(1));
    auto got = pushes(conn);
    REQUIRE(got.size() == 2);
    CHECK(str_of(pushed_item(got[0]), "rfqId") == first);
    CHECK(str_of(pushed_item(got[1]), "rfqId") == second);

    // The queue is empty again: the next push goes out at once.
    w.add();
    CHECK(pushes(conn).size() == 1);

    const auto entries = w.journal.find("okx_ws", "push");
    REQUIRE(entries.size() == 1);
    CHECK(str_of(entries[0], "fault") == "delay");
    CHECK(entries[0].at("delay_ms").as_int64() == 250);
    CHECK(str_of(entries[0], "rfq_id") == first);
    CHECK(entries[0].at("ts_ms").as_int64() == kStartMs);  // journaled when faulted
  }
  SECTION("a shorter delay behind a longer one is released with it, in order") {
    w.okx.inject({"ws-push", FaultKind::delay, 300});
    w.okx.inject({"ws-push", FaultKind::delay, 100});
    const auto first = w.add();
    const auto second = w.add();
    w.clock.advance(milliseconds(299));
    CHECK(conn.take().empty());
    w.clock.advance(milliseconds(1));
    auto got = pushes(conn);
    REQUIRE(got.size() == 2);
    CHECK(str_of(pushed_item(got[0]), "rfqId") == first);
    CHECK(str_of(pushed_item(got[1]), "rfqId") == second);
  }
  SECTION("a longer delay behind a shorter one: each at its own time") {
    w.okx.inject({"ws-push", FaultKind::delay, 100});
    w.okx.inject({"ws-push", FaultKind::delay, 300});
    const auto first = w.add();
    const auto second = w.add();
    w.clock.advance(milliseconds(100));
    auto got = pushes(conn);
    REQUIRE(got.size() == 1);
    CHECK(str_of(pushed_item(got[0]), "rfqId") == first);
    w.clock.advance(milliseconds(199));
    CHECK(conn.take().empty());
    w.clock.advance(milliseconds(1));
    got = pushes(conn);
    REQUIRE(got.size() == 1);
    CHECK(str_of(pushed_item(got[0]), "rfqId") == second);
  }
  CHECK(w.clock.pending_timers() == 0);
  CHECK_FALSE(conn.closed);
}

TEST_CASE("okx ws: pushes still held when the connection closes are never sent",
          "[sim][ws][fault][push]") {
  World w;
  w.okx.inject({"ws-push", FaultKind::delay, 60000});

  SECTION("closed by the idle rule") {
    Subscribed sub(w);
    w.add();
    w.clock.advance(seconds(31));
    sub.conn.session.check_idle();
    REQUIRE(sub.conn.closed);
    CHECK(w.clock.pending_timers() == 0);
    w.clock.advance(seconds(60));
    CHECK(sub.conn.take().empty());
  }
  SECTION("closed by a ws_close fault, with an undelayed push queued behind") {
    Subscribed sub(w);
    w.add();
    w.add();
    w.okx.inject({"ws", FaultKind::ws_close});
    sub.conn.send("ping");
    REQUIRE(sub.conn.closed);
    CHECK(sub.conn.closed->code == 1011);
    w.clock.advance(seconds(60));
    CHECK(sub.conn.take().empty());
  }
  SECTION("destroyed: its timer is cancelled and the model stays safe to use") {
    {
      Subscribed gone(w);
      w.add("", 600000);  // still active after the advance below: not pushed again as expired
      REQUIRE(w.clock.pending_timers() == 1);
    }
    CHECK(w.clock.pending_timers() == 0);
    w.clock.advance(seconds(60));
    Subscribed stays(w);
    w.add();
    CHECK(pushes(stays.conn).size() == 1);
  }
}
