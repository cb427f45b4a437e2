// DeribitSim through handle_rpc(), no sockets, on a VirtualClock: the JSON-RPC envelope and its
// errors, public/auth (all three grants, the published signature vector, nonce reuse, the
// timestamp window, token expiry), cancel_block_rfq and get_block_rfqs with their errors and
// paging, expiry and observers. HTTP, credits, faults and the journal: deribit_sim_http_test.cpp.

#include "engine/sim/deribit_sim.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/sim/deribit_sim_detail.hpp"
#include "engine/sim/journal.hpp"
#include "tests/unit/engine/sim/deribit_sim_world.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using namespace rfq::sim::test::deribit;
using std::chrono::milliseconds;
using std::chrono::seconds;

}  // namespace

// ---- envelope ----------------------------------------------------------------------------------

TEST_CASE("deribit sim: public/test answers with the full JSON-RPC envelope", "[sim][deribit]") {
  World w;
  Caller c(w.sim);
  const auto out = w.sim.handle_rpc(c.ctx, rpc(7, "public/test"));
  CHECK(out.code == 0);
  CHECK(out.text == R"({"jsonrpc":"2.0","id":7,"result":{"version":"1.2.26"},"testnet":true,)"
                    R"("usIn":1700000000000000,"usOut":1700000000000000,"usDiff":0})");
  SECTION("a string id is echoed as sent") {
    const auto answer = c.call(R"({"jsonrpc":"2.0","id":"abc","method":"public/test"})");
    CHECK(str(answer, "id") == "abc");
  }
}

TEST_CASE("deribit sim: envelope errors use the JSON-RPC codes", "[sim][deribit]") {
  World w;
  Caller c(w.sim);
  SECTION("not JSON: -32700, no id") {
    const auto answer = c.call("{nope");
    CHECK(json::serialize(error_of(answer)) == R"({"code":-32700,"message":"Parse error"})");
    CHECK_FALSE(answer.contains("id"));
  }
  SECTION("no id: -32600") {
    const auto answer = c.call(R"({"jsonrpc":"2.0","method":"public/test","params":{}})");
    CHECK(code_of(answer) == -32600);
    CHECK(str(error_of(answer).at("data").as_object(), "reason") ==
          "id (integer or string) is required");
  }
  SECTION("a batch: -32600") {
    CHECK(code_of(c.call(R"([{"jsonrpc":"2.0","id":1,"method":"public/test"}])")) == -32600);
  }
  SECTION("jsonrpc missing or not 2.0: -32600") {
    CHECK(code_of(c.call(R"({"id":1,"method":"public/test"})")) == -32600);
    CHECK(code_of(c.call(R"({"jsonrpc":"1.0","id":1,"method":"public/test"})")) == -32600);
  }
  SECTION("unknown method: -32601, id echoed") {
    const auto answer = c.call(rpc(5, "private/create_spaceship"));
    CHECK(json::serialize(error_of(answer)) == R"({"code":-32601,"message":"Method not found"})");
    CHECK(answer.at("id").as_int64() == 5);
  }
  SECTION("positional params: -32602") {
    const auto answer = c.call(R"({"jsonrpc":"2.0","id":1,"method":"public/test","params":[1]})");
    CHECK(json::serialize(error_of(answer)) ==
          R"({"code":-32602,"message":"Invalid params","data":{"reason":"must be an object",)"
          R"("param":"params"}})");
  }
}

// ---- public/auth -------------------------------------------------------------------------------

TEST_CASE("deribit sim: client_credentials issues a bearer token pair", "[sim][deribit][auth]") {
  World w;
  Caller c(w.sim);
  const auto result = result_of(c.call(credentials_auth())).as_object();
  CHECK(str(result, "token_type") == "bearer");
  CHECK(result.at("expires_in").as_int64() == 900);
  CHECK(str(result, "scope") == "connection mainaccount");
  CHECK_FALSE(str(result, "access_token").empty());
  CHECK_FALSE(str(result, "refresh_token").empty());
  CHECK(str(result, "access_token") != str(result, "refresh_token"));
  // A second auth gives another pair.
  const auto again = result_of(c.call(credentials_auth())).as_object();
  CHECK(str(again, "access_token") != str(result, "access_token"));
}

TEST_CASE("deribit sim: wrong client id or secret is 13004 invalid_credentials",
          "[sim][deribit][auth]") {
  World w;
  Caller c(w.sim);
  DeribitSimOptions creds;
  SECTION("wrong secret") { creds.client_secret = "guess"; }
  SECTION("unknown client") { creds.client_id = "someone"; }
  const auto answer = c.call(credentials_auth(1, creds));
  CHECK(json::serialize(error_of(answer)) == R"({"code":13004,"message":"invalid_credentials"})");
  CHECK(c.ctx.access_token.empty());
}

TEST_CASE("deribit sim: client_signature verifies the published vector", "[sim][deribit][auth]") {
  World w(amanda(), kVectorTs);
  Caller c(w.sim);
  const auto answer = c.call(signature_auth("AMANDA", kVectorTs, kVectorNonce, kAuthVectorSig));
  CHECK(str(result_of(answer).as_object(), "token_type") == "bearer");
  CHECK(sign("AMANDASECRECT", kVectorTs, kVectorNonce) == kAuthVectorSig);

  SECTION("the same nonce again is 13009, even correctly signed") {
    const auto again = c.call(signature_auth("AMANDA", kVectorTs, kVectorNonce, kAuthVectorSig));
    CHECK(code_of(again) == 13009);
    CHECK(str(error_of(again).at("data").as_object(), "reason") == "nonce already used");
  }
  SECTION("a fresh nonce works, data included in the signature") {
    const auto sig = sign("AMANDASECRECT", kVectorTs, "n2", "some data");
    CHECK(
        result_of(c.call(signature_auth("AMANDA", kVectorTs, "n2", sig, "some data"))).is_object());
  }
}

TEST_CASE("deribit sim: client_signature refusals", "[sim][deribit][auth]") {
  World w;
  Caller c(w.sim);
  const auto now = w.clock.now_ms();
  const DeribitSimOptions creds;
  std::string text;
  std::int64_t code = 13009;
  SECTION("wrong signature") {
    text = signature_auth(creds.client_id, now, "n1", sign("other-secret", now, "n1"));
  }
  SECTION("signed over other data") {
    text = signature_auth(creds.client_id, now, "n1", sign(creds.client_secret, now, "n1", "x"));
  }
  SECTION("timestamp 60.001 s old") {
    text = signature_auth(creds.client_id, now - 60001, "n1",
                          sign(creds.client_secret, now - 60001, "n1"));
  }
  SECTION("timestamp 60.001 s ahead") {
    text = signature_auth(creds.client_id, now + 60001, "n1",
                          sign(creds.client_secret, now + 60001, "n1"));
  }
  SECTION("unknown client: 13004") {
    text = signature_auth("someone", now, "n1", sign(creds.client_secret, now, "n1"));
    code = 13004;
  }
  CHECK(code_of(c.call(text)) == code);
  CHECK(c.ctx.access_token.empty());
  // A refused call does not use its nonce up.
  const auto ok = signature_auth(creds.client_id, now, "n1", sign(creds.client_secret, now, "n1"));
  CHECK(result_of(c.call(ok)).is_object());
}

TEST_CASE("deribit sim: a timestamp exactly 60 s off still passes", "[sim][deribit][auth]") {
  World w;
  Caller c(w.sim);
  const DeribitSimOptions creds;
  const auto old = w.clock.now_ms() - 60000;
  CHECK(result_of(
            c.call(signature_auth(creds.client_id, old, "n", sign(creds.client_secret, old, "n"))))
            .is_object());
}

TEST_CASE("deribit sim: refresh_token renews the pair and retires the old one",
          "[sim][deribit][auth]") {
  World w;
  const auto id = w.add();
  Caller c(w.sim);
  const auto first = result_of(c.call(credentials_auth())).as_object();
  const auto old_access = str(first, "access_token");
  const auto old_refresh = str(first, "refresh_token");

  const auto renewed =
      result_of(c.call(rpc(2, "public/auth",
                           {{"grant_type", "refresh_token"}, {"refresh_token", old_refresh}})))
          .as_object();
  const auto new_access = str(renewed, "access_token");
  CHECK(new_access != old_access);
  CHECK(str(renewed, "refresh_token") != old_refresh);
  CHECK(c.ctx.access_token == new_access);

  Caller other(w.sim);
  const auto refused = other.call(cancel(id, old_access));
  CHECK(code_of(refused) == 13009);
  CHECK(str(error_of(refused).at("data").as_object(), "reason") == "invalid_token");
  CHECK(result_of(other.call(cancel(id, new_access))).is_object());
  // A refresh token works once.
  CHECK(code_of(other.call(
            rpc(3, "public/auth",
                {{"grant_type", "refresh_token"}, {"refresh_token", old_refresh}}))) == 13009);
}

TEST_CASE("deribit sim: an access token expires after token_ttl_s of virtual time",
          "[sim][deribit][auth]") {
  World w;
  const auto a = w.add("BTC", 3600000);
  const auto b = w.add("BTC", 3600000);
  Caller c(w.sim);
  const auto result = result_of(c.call(credentials_auth())).as_object();
  const auto token = str(result, "access_token");
  Caller user(w.sim);
  w.clock.advance(milliseconds(899999));
  CHECK(result_of(user.call(cancel(a, token))).is_object());
  w.clock.advance(milliseconds(1));
  const auto refused = user.call(cancel(b, token));
  CHECK(code_of(refused) == 13009);
  CHECK(str(error_of(refused).at("data").as_object(), "reason") == "token_expired");
  CHECK(w.sim.rfq(b)->state == "open");
  // The refresh token still renews it.
  CHECK(result_of(c.call(rpc(2, "public/auth",
                             {{"grant_type", "refresh_token"},
                              {"refresh_token", str(result, "refresh_token")}})))
            .is_object());
}

TEST_CASE("deribit sim: public/auth parameter errors", "[sim][deribit][auth]") {
  World w;
  Caller c(w.sim);
  CHECK(json::serialize(error_of(c.call(rpc(1, "public/auth")))) ==
        R"({"code":-32000,"message":"Missing params","data":{"reason":"required",)"
        R"("param":"grant_type"}})");
  CHECK(code_of(c.call(rpc(1, "public/auth", {{"grant_type", "password"}}))) == -32602);
  CHECK(code_of(c.call(rpc(1, "public/auth",
                           {{"grant_type", "client_signature"},
                            {"client_id", kDeribitSimClientId},
                            {"timestamp", "1700000000000"},
                            {"nonce", "n"},
                            {"signature", "x"}}))) == -32602);
}

// ---- cancel_block_rfq --------------------------------------------------------------------------

TEST_CASE("deribit sim: cancel_block_rfq cancels an open RFQ and returns it",
          "[sim][deribit][cancel]") {
  World w;
  const auto id = w.add();
  REQUIRE(id == 366);
  Caller c(w.sim);
  c.auth();
  w.clock.advance(milliseconds(5));
  const auto answer = c.call(cancel(id));
  CHECK(json::serialize(result_of(answer)) == kCancelledObject);
  CHECK(w.sim.rfq(id)->state == "cancelled");
  CHECK(w.sim.rfq(id)->update_timestamp == kStartMs + 5);
  CHECK(w.sim.count_in_state("open") == 0);
}

TEST_CASE("deribit sim: cancel_block_rfq errors name the id", "[sim][deribit][cancel]") {
  World w;
  const auto filled = w.add();
  const auto cancelled = w.add();
  const auto expired = w.add("BTC", 1000);
  Caller c(w.sim);
  c.auth();
  REQUIRE(w.sim.fill(filled));
  REQUIRE(result_of(c.call(cancel(cancelled))).is_object());
  w.clock.advance(milliseconds(1000));

  SECTION("unknown: 10004 order_not_found") {
    CHECK(json::serialize(error_of(c.call(cancel(999)))) ==
          R"({"code":10004,"message":"order_not_found","data":{"reason":"block_rfq not found",)"
          R"("param":"block_rfq_id"}})");
  }
  SECTION("not open: 11029 invalid_arguments naming the state") {
    const auto expect = [](std::string_view state) {
      return R"({"code":11029,"message":"invalid_arguments","data":{"reason":"block_rfq is )" +
             std::string(state) + R"(","param":"block_rfq_id"}})";
    };
    CHECK(json::serialize(error_of(c.call(cancel(filled)))) == expect("filled"));
    CHECK(json::serialize(error_of(c.call(cancel(cancelled)))) == expect("cancelled"));
    CHECK(json::serialize(error_of(c.call(cancel(expired)))) == expect("expired"));
  }
  SECTION("not an integer: -32602 wrong format") {
    const auto text = rpc(1, "private/cancel_block_rfq", {{"block_rfq_id", "366"}});
    CHECK(json::serialize(error_of(c.call(text))) ==
          R"({"code":-32602,"message":"Invalid params","data":{"reason":"wrong format",)"
          R"("param":"block_rfq_id"}})");
    CHECK(code_of(c.call(rpc(1, "private/cancel_block_rfq", {{"block_rfq_id", 366.5}}))) == -32602);
  }
  SECTION("missing: -32000") {
    CHECK(code_of(c.call(rpc(1, "private/cancel_block_rfq"))) == -32000);
  }
}

TEST_CASE("deribit sim: private methods need a valid token", "[sim][deribit][auth]") {
  World w;
  const auto id = w.add();
  Caller c(w.sim);
  SECTION("none") {
    const auto answer = c.call(cancel(id));
    CHECK(json::serialize(error_of(answer)) ==
          R"({"code":13009,"message":"unauthorized","data":{"reason":"access_token required"}})");
  }
  SECTION("unknown") { CHECK(code_of(c.call(cancel(id, "1700000000000.sim.nope"))) == 13009); }
  SECTION("not a string") {
    CHECK(code_of(c.call(rpc(1, "private/cancel_block_rfq",
                             {{"block_rfq_id", id}, {"access_token", 5}}))) == 13009);
  }
  CHECK(w.sim.rfq(id)->state == "open");
}

// ---- get_block_rfqs ----------------------------------------------------------------------------

TEST_CASE("deribit sim: get_block_rfqs pages newest first with continuation",
          "[sim][deribit][get]") {
  World w;
  for (int i = 0; i < 5; ++i) w.add();  // 366..370
  Caller c(w.sim);
  c.auth();
  auto page = result_of(c.call(get_rfqs({{"count", 2}})));
  CHECK(ids_of(page) == std::vector<std::int64_t>{370, 369});
  CHECK(page.as_object().at("continuation").as_int64() == 369);
  page = result_of(c.call(get_rfqs({{"count", 2}, {"continuation", 369}})));
  CHECK(ids_of(page) == std::vector<std::int64_t>{368, 367});
  CHECK(page.as_object().at("continuation").as_int64() == 367);
  page = result_of(c.call(get_rfqs({{"count", 2}, {"continuation", 367}})));
  CHECK(ids_of(page) == std::vector<std::int64_t>{366});
  CHECK(page.as_object().at("continuation").is_null());

  SECTION("a page that ends exactly at the last match has no continuation") {
    page = result_of(c.call(get_rfqs({{"count", 5}})));
    CHECK(ids_of(page).size() == 5);
    CHECK(page.as_object().at("continuation").is_null());
  }
  SECTION("default count 20") {
    for (int i = 0; i < 20; ++i) w.add();
    page = result_of(c.call(get_rfqs({})));
    CHECK(ids_of(page).size() == 20);
    CHECK(page.as_object().at("continuation").as_int64() == 371);
  }
}

TEST_CASE("deribit sim: get_block_rfqs filters", "[sim][deribit][get]") {
  World w;
  const auto btc = w.add("BTC");
  const auto eth = w.add("ETH");
  const auto filled = w.add("BTC");
  const auto gone = w.add("ETH", 1000);
  REQUIRE(w.sim.fill(filled));
  w.clock.advance(milliseconds(1000));
  Caller c(w.sim);
  c.auth();
  const auto ids = [&](json::object params) { return ids_of(result_of(c.call(get_rfqs(params)))); };
  using V = std::vector<std::int64_t>;
  CHECK(ids({{"state", "open"}}) == V{eth, btc});
  CHECK(ids({{"state", "filled"}}) == V{filled});
  CHECK(ids({{"state", "traded"}}) == V{filled});
  CHECK(ids({{"state", "expired"}}) == V{gone});
  CHECK(ids({{"state", "closed"}}) == V{gone, filled});
  CHECK(ids({{"currency", "ETH"}}) == V{gone, eth});
  CHECK(ids({{"currency", "any"}, {"role", "taker"}}) == V{gone, filled, eth, btc});
  CHECK(ids({{"role", "maker"}}).empty());
  CHECK(ids({{"block_rfq_id", eth}}) == V{eth});
  CHECK(ids({{"block_rfq_id", eth}, {"state", "expired"}}).empty());

  CHECK(json::serialize(error_of(c.call(get_rfqs({{"currency", "DOGE"}})))) ==
        R"({"code":-32602,"message":"Invalid params","data":{"reason":"invalid currency",)"
        R"("param":"currency"}})");
  CHECK(code_of(c.call(get_rfqs({{"state", "active"}}))) == -32602);
  CHECK(code_of(c.call(get_rfqs({{"role", "broker"}}))) == -32602);
  CHECK(code_of(c.call(get_rfqs({{"count", 0}}))) == -32602);
  CHECK(code_of(c.call(get_rfqs({{"count", 1001}}))) == -32602);
  CHECK(ids_of(result_of(c.call(get_rfqs({{"count", 1000}})))).size() == 4);
}

// ---- the book: expiry, observers, hooks --------------------------------------------------------

TEST_CASE("deribit sim: add_rfq numbers from 366 and validates", "[sim][deribit][book]") {
  World w;
  CHECK(w.add() == 366);
  CHECK(w.add() == 367);
  NewBlockRfq bad;
  CHECK_THROWS_AS(w.sim.add_rfq(bad), std::invalid_argument);  // no legs
  bad.legs = {{"BTC-PERPETUAL", "long", 1}};
  CHECK_THROWS_AS(w.sim.add_rfq(bad), std::invalid_argument);
  bad.legs = {{"BTC-PERPETUAL", "buy", 0}};
  CHECK_THROWS_AS(w.sim.add_rfq(bad), std::invalid_argument);
  bad.legs = {{"BTC-PERPETUAL", "buy", 1}};
  bad.currency = "DOGE";
  CHECK_THROWS_AS(w.sim.add_rfq(bad), std::invalid_argument);
  bad.currency = "BTC";
  bad.amount = 0;
  CHECK_THROWS_AS(w.sim.add_rfq(bad), std::invalid_argument);
  CHECK(w.sim.rfqs().size() == 2);

  NewBlockRfq defaults;
  defaults.legs = {{"BTC-PERPETUAL", "buy"}};
  const auto id = w.sim.add_rfq(defaults);
  const auto r = *w.sim.rfq(id);
  CHECK(r.expiration_timestamp == kStartMs + 300000);
  CHECK(r.amount == 100000);
  CHECK(r.currency == "BTC");
  CHECK(r.legs[0].ratio == 1);
}

TEST_CASE("deribit sim: expiry is lazy, tick applies it, observers see every change",
          "[sim][deribit][book]") {
  World w;
  std::vector<std::string> seen;
  const auto observer = w.sim.on_rfq_change([&](const DeribitBlockRfq& r) {
    seen.push_back(std::to_string(r.block_rfq_id) + ":" + r.state);
  });
  const auto a = w.add("BTC", 1000);
  const auto b = w.add("BTC", 60000);
  const auto c = w.add("BTC", 60000);
  CHECK(seen == std::vector<std::string>{"366:open", "367:open", "368:open"});
  seen.clear();

  w.clock.advance(milliseconds(1000));
  CHECK(seen.empty());  // lazy: nothing has looked yet
  w.sim.tick();
  CHECK(seen == std::vector<std::string>{"366:expired"});
  CHECK(w.sim.rfq(a)->update_timestamp == kStartMs + 1000);
  REQUIRE(w.sim.fill(b));
  CHECK_FALSE(w.sim.fill(b));
  CHECK_FALSE(w.sim.fill(a));
  CHECK_FALSE(w.sim.fill(999));
  Caller caller(w.sim);
  caller.auth();
  caller.call(cancel(c));
  CHECK(seen == std::vector<std::string>{"366:expired", "367:filled", "368:cancelled"});

  w.sim.remove_observer(observer);
  w.add();
  CHECK(seen.size() == 3);
  CHECK(w.sim.count_in_state("open") == 1);
  CHECK(w.sim.count_in_state("expired") == 1);
}

TEST_CASE("deribit sim: fill makes one trade the block_rfq object shows from then on",
          "[sim][deribit][book]") {
  World w;
  const auto a = w.add();
  const auto b = w.add();
  REQUIRE(w.sim.fill(a));
  REQUIRE(w.sim.rfq(a)->trades.size() == 1);
  const DeribitTrade t = w.sim.rfq(a)->trades[0];  // rfq() returns a copy
  CHECK(t.direction == "buy");  // the defaults: a buy of all of it at 1
  CHECK(t.price == 1);
  CHECK(t.amount == w.sim.rfq(a)->amount);
  CHECK(json::serialize(detail::block_rfq_json(*w.sim.rfq(a)).at("trades")) ==
        R"([{"direction":"buy","price":1,"amount":100000,"maker":"SIMMAKER"}])");
  CHECK_FALSE(detail::block_rfq_json(*w.sim.rfq(b)).contains("trades"));  // open: none

  SECTION("a sell of part of it at a price") {
    REQUIRE(w.sim.fill(b, {"sell", 0.0525, 2500.0}));
    CHECK(json::serialize(detail::block_rfq_json(*w.sim.rfq(b)).at("trades")) ==
          R"([{"direction":"sell","price":5.25E-2,"amount":2500,"maker":"SIMMAKER"}])");
    CHECK(w.sim.rfq(b)->state == "filled");
  }
  SECTION("refusals change nothing") {
    CHECK_THROWS_AS(w.sim.fill(b, {"short", 1, std::nullopt}), std::invalid_argument);
    CHECK_THROWS_AS(w.sim.fill(b, {"buy", -1, std::nullopt}), std::invalid_argument);
    CHECK_THROWS_AS(w.sim.fill(b, {"buy", 1, 0.0}), std::invalid_argument);
    CHECK_THROWS_AS(w.sim.fill(b, {"buy", 1, 100001.0}), std::invalid_argument);
    CHECK(w.sim.rfq(b)->state == "open");
    CHECK(w.sim.rfq(b)->trades.empty());
  }
}
