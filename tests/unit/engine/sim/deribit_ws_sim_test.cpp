// DeribitWsSession driven by text, no sockets, on a VirtualClock: connection-scoped auth,
// block_rfq.taker subscriptions and their notifications, the heartbeat (test_request, the close
// when it is ignored), cancel-on-disconnect, the credit limit closing the connection, the faults
// and the journal.

#include "engine/sim/deribit_ws_sim.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/deribit_sim_detail.hpp"
#include "engine/sim/journal.hpp"
#include "tests/unit/engine/sim/deribit_sim_world.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using namespace rfq::sim::test::deribit;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kTestRequest =
    R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})";

std::string subscribe(std::vector<std::string> channels,
                      std::string_view method = "private/subscribe") {
  json::array list;
  for (auto& c : channels) list.emplace_back(c);
  return rpc(3, method, {{"channels", list}});
}

std::string set_heartbeat(std::int64_t interval) {
  return rpc(4, "public/set_heartbeat", {{"interval", interval}});
}

// "<channel> <id>:<state>" per notification frame; fails on any other frame.
std::vector<std::string> notifications(Conn& conn) {
  std::vector<std::string> out;
  for (const auto& text : conn.take()) {
    const auto o = parse(text);
    INFO(text);
    REQUIRE(str(o, "method") == "subscription");
    REQUIRE_FALSE(o.contains("id"));
    const auto& params = o.at("params").as_object();
    const auto& data = params.at("data").as_object();
    out.push_back(str(params, "channel") + " " +
                  std::to_string(data.at("block_rfq_id").as_int64()) + ":" + str(data, "state"));
  }
  return out;
}

}  // namespace

TEST_CASE("deribit ws: connection ids are 8 hex digits, distinct", "[sim][deribit][ws]") {
  World w;
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    Conn conn(w.sim);
    CHECK(std::regex_match(conn.session.conn_id(), std::regex("[0-9a-f]{8}")));
    ids.insert(conn.session.conn_id());
  }
  CHECK(ids.size() == 20);
  CHECK(kDeribitWsPath == "/ws/api/v2");
}

// ---- connection-scoped auth --------------------------------------------------------------------

TEST_CASE("deribit ws: after public/auth private calls on the connection need no token",
          "[sim][deribit][ws][auth]") {
  World w;
  const auto a = w.add("BTC", 3600000);
  const auto b = w.add("BTC", 3600000);
  Conn conn(w.sim);
  CHECK(code_of(conn.ask(cancel(a))) == 13009);
  CHECK_FALSE(conn.session.authenticated());

  const auto token = conn.auth();
  CHECK(conn.session.authenticated());
  CHECK(str(result_of(conn.ask(cancel(a))).as_object(), "state") == "cancelled");

  SECTION("another connection is not authenticated, but may pass the token") {
    Conn other(w.sim);
    CHECK(code_of(other.ask(cancel(b))) == 13009);
    const auto answer = other.ask(
        rpc(1, "private/cancel_block_rfq", {{"block_rfq_id", b}, {"access_token", token}}));
    CHECK(str(result_of(answer).as_object(), "state") == "cancelled");
  }
  SECTION("a wrong access_token is refused even on an authenticated connection") {
    CHECK(code_of(conn.ask(rpc(1, "private/cancel_block_rfq",
                               {{"block_rfq_id", b}, {"access_token", "nope"}}))) == 13009);
  }
  SECTION("until the token expires") {
    w.clock.advance(seconds(900));
    const auto answer = conn.ask(cancel(b));
    CHECK(json::serialize(error_of(answer)) ==
          R"({"code":13009,"message":"unauthorized","data":{"reason":"token_expired"}})");
    CHECK(w.sim.rfq(b)->state == "open");
    // A new auth on the connection restores it.
    conn.auth();
    CHECK(result_of(conn.ask(cancel(b))).is_object());
  }
  SECTION("a client_signature auth authenticates the connection too") {
    Conn other(w.sim);
    const auto now = w.clock.now_ms();
    const DeribitSimOptions creds;
    const auto sig = rfq::sim::detail::hmac_sha256_hex(
        creds.client_secret, std::to_string(now) + "\n" + std::to_string(now) + "\n");
    const auto answer = other.ask(rpc(2, "public/auth",
                                      {{"grant_type", "client_signature"},
                                       {"client_id", creds.client_id},
                                       {"timestamp", now},
                                       {"nonce", std::to_string(now)},
                                       {"data", ""},
                                       {"signature", sig}}));
    REQUIRE(result_of(answer).is_object());
    CHECK(result_of(other.ask(cancel(b))).is_object());
  }
}

// ---- subscriptions -----------------------------------------------------------------------------

TEST_CASE("deribit ws: subscribe answers with the channels it took", "[sim][deribit][ws][sub]") {
  World w;
  Conn conn(w.sim);
  SECTION("private/subscribe needs auth") {
    CHECK(code_of(conn.ask(subscribe({"block_rfq.taker.BTC"}))) == 13009);
  }
  SECTION("unknown channels are left out") {
    conn.auth();
    const auto answer = conn.ask(
        subscribe({"block_rfq.taker.BTC", "block_rfq.taker.DOGE", "book.BTC-PERPETUAL.100ms",
                   "block_rfq.taker.btc", "block_rfq.taker.any", "block_rfq.taker.BTC"}));
    CHECK(json::serialize(result_of(answer)) == R"(["block_rfq.taker.BTC","block_rfq.taker.any"])");
    CHECK(conn.session.subscribed("block_rfq.taker.BTC"));
    CHECK(conn.session.subscribed("block_rfq.taker.any"));
  }
  SECTION("public/subscribe takes the private channels only once authenticated") {
    CHECK(result_of(conn.ask(subscribe({"block_rfq.taker.BTC"}, "public/subscribe")))
              .as_array()
              .empty());
    conn.auth();
    CHECK(result_of(conn.ask(subscribe({"block_rfq.taker.BTC"}, "public/subscribe")))
              .as_array()
              .size() == 1);
  }
  SECTION("channels must be an array of strings") {
    conn.auth();
    CHECK(code_of(conn.ask(rpc(3, "private/subscribe", {{"channels", "block_rfq.taker.BTC"}}))) ==
          -32602);
    CHECK(code_of(conn.ask(rpc(3, "private/subscribe"))) == -32000);
  }
}

TEST_CASE("deribit ws: block_rfq.taker notifications on every state change",
          "[sim][deribit][ws][sub]") {
  World w;
  Conn conn(w.sim);
  conn.auth();
  REQUIRE(result_of(conn.ask(subscribe({"block_rfq.taker.BTC"}))).as_array().size() == 1);
  Conn all(w.sim);
  all.auth();
  REQUIRE(result_of(all.ask(subscribe({"block_rfq.taker.any"}))).as_array().size() == 1);

  const auto a = w.add("BTC", 1000);
  const auto b = w.add("BTC", 60000);
  const auto eth = w.add("ETH", 60000);
  const auto c = w.add("BTC", 60000);
  using V = std::vector<std::string>;
  CHECK(notifications(conn) == V{"block_rfq.taker.BTC 366:open", "block_rfq.taker.BTC 367:open",
                                 "block_rfq.taker.BTC 369:open"});
  CHECK(notifications(all).size() == 4);

  w.clock.advance(milliseconds(1000));
  CHECK(notifications(conn).empty());  // expiry is lazy until something looks
  w.sim.tick();
  REQUIRE(w.sim.fill(b));
  CHECK(notifications(conn) ==
        V{"block_rfq.taker.BTC 366:expired", "block_rfq.taker.BTC 367:filled"});
  REQUIRE(w.sim.fill(eth));
  CHECK(notifications(conn).empty());
  CHECK(notifications(all) == V{"block_rfq.taker.any 366:expired", "block_rfq.taker.any 367:filled",
                                "block_rfq.taker.any 368:filled"});

  SECTION("a cancel on the connection: the answer first, then the notification") {
    conn.take();
    conn.send(cancel(c));
    const auto frames = conn.take();
    REQUIRE(frames.size() == 2);
    CHECK(parse(frames[0]).at("id").as_int64() == 1);
    CHECK(str(parse(frames[1]), "method") == "subscription");
    CHECK(notifications(all) == V{"block_rfq.taker.any 369:cancelled"});
  }
  SECTION("the whole notification is the block_rfq object, with its trade once filled") {
    conn.take();
    REQUIRE(w.sim.fill(c));
    const auto frames = conn.take();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0] ==
          R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"block_rfq.taker.BTC",)"
          R"("data":{"block_rfq_id":369,"creation_timestamp":1700000000000,)"
          R"("expiration_timestamp":1700000060000,"role":"taker","state":"filled",)"
          R"("amount":100000,"min_trade_amount":10,"legs":[{"ratio":1,)"
          R"("instrument_name":"BTC-1NOV24","direction":"sell"},{"ratio":1,)"
          R"("instrument_name":"BTC-PERPETUAL","direction":"buy"}],"bids":[],"asks":[],)"
          R"("makers":[],"combo_id":null,"label":"example","disclosed":true,)"
          R"("taker":"SIMTAKER","trades":[{"direction":"buy","price":1,"amount":100000,)"
          R"("maker":"SIMMAKER"}]}}})");
  }
  SECTION("unsubscribe stops them") {
    CHECK(json::serialize(result_of(conn.ask(
              rpc(5, "private/unsubscribe",
                  {{"channels", json::array{"block_rfq.taker.BTC", "block_rfq.taker.ETH"}}})))) ==
          R"(["block_rfq.taker.BTC"])");
    CHECK_FALSE(conn.session.subscribed("block_rfq.taker.BTC"));
    w.add("BTC");
    CHECK(conn.take().empty());
    CHECK(notifications(all).size() == 1);
  }
  CHECK(w.sim.rfq(a)->state == "expired");
}

// ---- heartbeat ---------------------------------------------------------------------------------

TEST_CASE("deribit ws: set_heartbeat sends test_request every interval while answered",
          "[sim][deribit][ws][heartbeat]") {
  World w;
  Conn conn(w.sim);
  CHECK(str(conn.ask(set_heartbeat(10)), "result") == "ok");
  CHECK(conn.session.heartbeat_interval_s() == 10);
  w.clock.advance(milliseconds(9999));
  CHECK(conn.take().empty());
  w.clock.advance(milliseconds(1));
  CHECK(conn.take() == std::vector<std::string>{std::string(kTestRequest)});
  for (int i = 0; i < 3; ++i) {
    CHECK(str(result_of(conn.ask(rpc(6, "public/test"))).as_object(), "version") == "1.2.26");
    w.clock.advance(seconds(10));
    CHECK(conn.take() == std::vector<std::string>{std::string(kTestRequest)});
  }
  CHECK_FALSE(conn.closed);
  CHECK_FALSE(conn.session.closed());
}

TEST_CASE("deribit ws: an unanswered test_request closes the connection at the next one",
          "[sim][deribit][ws][heartbeat]") {
  World w;
  Conn conn(w.sim);
  conn.ask(set_heartbeat(15));
  SECTION("a public/test before the first test_request does not count") {
    conn.ask(rpc(6, "public/test"));
  }
  SECTION("other calls do not count") {}
  w.clock.advance(seconds(15));
  CHECK(conn.take() == std::vector<std::string>{std::string(kTestRequest)});
  conn.auth();  // any call but public/test leaves the test_request unanswered
  w.clock.advance(milliseconds(14999));
  CHECK_FALSE(conn.closed);
  w.clock.advance(milliseconds(1));
  REQUIRE(conn.closed);
  CHECK(conn.closed->code == kDeribitWsCloseHeartbeat);
  CHECK(conn.take().empty());
  CHECK(conn.session.closed());
  // Closed: nothing more is answered or sent.
  conn.send(rpc(8, "public/test"));
  w.clock.advance(seconds(60));
  CHECK(conn.take().empty());
  CHECK(w.clock.pending_timers() == 0);
  const auto closes = w.journal.find("deribit_ws", "close");
  REQUIRE(closes.size() == 1);
  CHECK(str(closes[0], "by") == "server");
  CHECK(closes[0].at("close_code").as_int64() == kDeribitWsCloseHeartbeat);
}

TEST_CASE("deribit ws: heartbeat interval checks and disable", "[sim][deribit][ws][heartbeat]") {
  World w;
  Conn conn(w.sim);
  CHECK(json::serialize(error_of(conn.ask(set_heartbeat(9)))) ==
        R"({"code":-32602,"message":"Invalid params","data":{"reason":"must be at least 10",)"
        R"("param":"interval"}})");
  CHECK(code_of(conn.ask(rpc(4, "public/set_heartbeat"))) == -32000);
  CHECK(code_of(conn.ask(rpc(4, "public/set_heartbeat", {{"interval", "10"}}))) == -32602);
  CHECK(w.clock.pending_timers() == 0);

  conn.ask(set_heartbeat(10));
  w.clock.advance(seconds(10));
  CHECK(conn.take().size() == 1);
  CHECK(str(conn.ask(rpc(5, "public/disable_heartbeat")), "result") == "ok");
  CHECK_FALSE(conn.session.heartbeat_interval_s());
  w.clock.advance(seconds(60));
  CHECK(conn.take().empty());
  CHECK_FALSE(conn.closed);

  SECTION("set again: the cycle restarts, the earlier unanswered request forgotten") {
    conn.ask(set_heartbeat(30));
    w.clock.advance(seconds(30));
    CHECK(conn.take().size() == 1);
    CHECK_FALSE(conn.closed);
  }
}

// ---- cancel-on-disconnect ----------------------------------------------------------------------

TEST_CASE("deribit ws: cancel-on-disconnect cancels every open RFQ when the connection ends",
          "[sim][deribit][ws][cod]") {
  World w;
  const auto open1 = w.add("BTC");
  const auto open2 = w.add("ETH");
  const auto filled = w.add("BTC");
  REQUIRE(w.sim.fill(filled));
  Conn watcher(w.sim);
  watcher.auth();
  watcher.ask(subscribe({"block_rfq.taker.any"}));

  auto conn = std::make_unique<Conn>(w.sim);
  conn->auth();
  CHECK(str(conn->ask(rpc(9, "private/enable_cancel_on_disconnect")), "result") == "ok");
  CHECK(conn->session.cancel_on_disconnect());
  const auto conn_id = conn->session.conn_id();

  SECTION("closed by the heartbeat rule") {
    conn->ask(set_heartbeat(10));
    w.clock.advance(seconds(20));
    REQUIRE(conn->closed);
  }
  SECTION("the peer goes away") {
    conn->session.on_disconnect();
    CHECK_FALSE(conn->closed);  // no server close
  }
  SECTION("the session is destroyed") { conn.reset(); }

  CHECK(w.sim.rfq(open1)->state == "cancelled");
  CHECK(w.sim.rfq(open2)->state == "cancelled");
  CHECK(w.sim.rfq(filled)->state == "filled");
  CHECK(notifications(watcher) == std::vector<std::string>{"block_rfq.taker.any 366:cancelled",
                                                           "block_rfq.taker.any 367:cancelled"});
  const auto entries = w.journal.find("deribit_ws", "cancel_on_disconnect");
  REQUIRE(entries.size() == 1);
  CHECK(str(entries[0], "conn_id") == conn_id);
  CHECK(json::serialize(entries[0].at("cancelled")) == "[366,367]");
}

TEST_CASE("deribit ws: without cancel-on-disconnect a close leaves RFQs open",
          "[sim][deribit][ws][cod]") {
  World w;
  const auto id = w.add();
  Conn conn(w.sim);
  conn.auth();
  SECTION("never enabled") {}
  SECTION("enabled, then disabled") {
    conn.ask(rpc(9, "private/enable_cancel_on_disconnect", {{"scope", "connection"}}));
    conn.ask(rpc(9, "private/disable_cancel_on_disconnect"));
  }
  conn.session.on_disconnect();
  CHECK(w.sim.rfq(id)->state == "open");
  CHECK(w.journal.find("deribit_ws", "cancel_on_disconnect").empty());
}

TEST_CASE("deribit ws: cancel-on-disconnect scopes", "[sim][deribit][ws][cod]") {
  World w;
  const auto id = w.add();
  Conn conn(w.sim);
  conn.auth();
  CHECK(code_of(conn.ask(rpc(9, "private/enable_cancel_on_disconnect", {{"scope", "all"}}))) ==
        -32602);
  CHECK(code_of(Conn(w.sim).ask(rpc(9, "private/enable_cancel_on_disconnect"))) == 13009);

  SECTION("account scope: connections opened later start with it") {
    CHECK(str(conn.ask(rpc(9, "private/enable_cancel_on_disconnect", {{"scope", "account"}})),
              "result") == "ok");
    CHECK(w.sim.cancel_on_disconnect_default());
    Conn later(w.sim);
    CHECK(later.session.cancel_on_disconnect());
    later.session.on_disconnect();
    CHECK(w.sim.rfq(id)->state == "cancelled");
  }
  SECTION("over HTTP: connection scope is WebSocket only, account scope works") {
    const auto token = conn.auth();
    SimHttpRequest r{"GET", "/api/v2/private/enable_cancel_on_disconnect", "", {}};
    r.headers.emplace_back("Authorization", "Bearer " + token);
    auto reply = w.sim.handle_http(r);
    CHECK(reply.status == 400);
    CHECK(code_of(parse(reply.body)) == 10030);
    r.target += "?scope=account";
    reply = w.sim.handle_http(r);
    CHECK(reply.status == 200);
    CHECK(w.sim.cancel_on_disconnect_default());
  }
}

// ---- credits -----------------------------------------------------------------------------------

TEST_CASE("deribit ws: the 101st call of a burst gets 10028 and the connection closes",
          "[sim][deribit][ws][credits]") {
  World w;
  const auto id = w.add();
  Conn conn(w.sim);
  conn.auth();
  conn.ask(rpc(9, "private/enable_cancel_on_disconnect"));  // 1
  for (int i = 0; i < 99; ++i) {
    REQUIRE(result_of(conn.ask(rpc(i, "private/get_block_rfqs"))).is_object());
  }
  CHECK(result_of(conn.ask(rpc(100, "public/test"))).is_object());  // free
  const auto answer = conn.ask(rpc(101, "private/get_block_rfqs"));
  CHECK(json::serialize(error_of(answer)) == R"({"code":10028,"message":"too_many_requests"})");
  REQUIRE(conn.closed);
  CHECK(conn.closed->code == kDeribitWsCloseTooManyRequests);
  CHECK(w.sim.rfq(id)->state == "cancelled");  // COD applies to this close too
  const auto refused = w.journal.find("deribit_ws", "private/get_block_rfqs").back();
  CHECK(refused.at("code").as_int64() == 10028);

  // The pool is the account's: another connection is refused too, until it refills.
  Conn other(w.sim);
  other.auth();
  CHECK(code_of(other.ask(rpc(1, "private/get_block_rfqs"))) == 10028);
  Conn third(w.sim);
  third.auth();
  w.clock.advance(milliseconds(50));
  CHECK(result_of(third.ask(rpc(1, "private/get_block_rfqs"))).is_object());
  CHECK_FALSE(third.closed);
}

// ---- faults ------------------------------------------------------------------------------------

TEST_CASE("deribit ws: faults", "[sim][deribit][ws][fault]") {
  World w;
  const auto id = w.add();
  Conn conn(w.sim);
  conn.auth();
  SECTION("ws_close: closed 1011, not answered, not processed") {
    w.sim.inject({"private/cancel_block_rfq", FaultKind::ws_close});
    conn.take();
    conn.send(cancel(id));
    CHECK(conn.take().empty());
    REQUIRE(conn.closed);
    CHECK(conn.closed->code == kDeribitWsCloseFault);
    CHECK(w.sim.rfq(id)->state == "open");
    const auto e = w.journal.find("deribit_ws", "private/cancel_block_rfq").back();
    CHECK(str(e, "fault") == "ws_close");
    CHECK(e.at("code").is_null());
  }
  SECTION("drop: ignored, the connection stays open") {
    w.sim.inject({"private/cancel_block_rfq", FaultKind::drop});
    conn.take();
    conn.send(cancel(id));
    CHECK(conn.take().empty());
    CHECK_FALSE(conn.closed);
    CHECK(w.sim.rfq(id)->state == "open");
    CHECK(str(result_of(conn.ask(cancel(id))).as_object(), "state") == "cancelled");
  }
  SECTION("unavailable: answered 13028, not processed") {
    w.sim.inject({"", FaultKind::unavailable});
    CHECK(code_of(conn.ask(cancel(id))) == 13028);
    CHECK(w.sim.rfq(id)->state == "open");
  }
  SECTION("delay: processed now, answered after delay_ms; other answers are not held") {
    w.sim.inject({"private/cancel_block_rfq", FaultKind::delay, 300});
    conn.take();
    conn.send(cancel(id));
    CHECK(conn.take().empty());
    CHECK(w.sim.rfq(id)->state == "cancelled");
    CHECK(conn.ask(rpc(2, "public/test")).at("id").as_int64() == 2);
    w.clock.advance(milliseconds(299));
    CHECK(conn.take().empty());
    w.clock.advance(milliseconds(1));
    const auto frames = conn.take();
    REQUIRE(frames.size() == 1);
    CHECK(str(result_of(parse(frames[0])).as_object(), "state") == "cancelled");
  }
  SECTION("a held answer dies with the connection") {
    w.sim.inject({"", FaultKind::delay, 300});
    conn.send(rpc(2, "public/test"));
    conn.session.on_disconnect();
    w.clock.advance(seconds(1));
    CHECK(conn.take().empty());
    CHECK(w.clock.pending_timers() == 0);
  }
}

// ---- journal -----------------------------------------------------------------------------------

TEST_CASE("deribit ws: journal entries carry the connection, never a token",
          "[sim][deribit][ws][journal]") {
  World w;
  const auto id = w.add();
  Conn conn(w.sim);
  const auto token = conn.auth();
  conn.ask(rpc(1, "private/cancel_block_rfq", {{"block_rfq_id", id}, {"access_token", token}}));
  conn.send("not json");
  const auto cancels = w.journal.find("deribit_ws", "private/cancel_block_rfq");
  REQUIRE(cancels.size() == 1);
  CHECK(str(cancels[0], "conn_id") == conn.session.conn_id());
  CHECK(str(cancels[0], "transport") == "ws");
  CHECK(cancels[0].at("id").as_int64() == 1);
  CHECK(cancels[0].at("code").as_int64() == 0);
  CHECK(str(cancels[0].at("params").as_object(), "access_token") == "***");
  const auto invalid = w.journal.find("deribit_ws", "invalid");
  REQUIRE(invalid.size() == 1);
  CHECK(invalid[0].at("code").as_int64() == -32700);
  for (const auto& e : w.journal.entries()) {
    CHECK(json::serialize(e).find(token) == std::string::npos);
  }
}
