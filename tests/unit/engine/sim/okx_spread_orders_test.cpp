// OkxSim spread orders: the test hook that rests them, the accessors, and what sprd-mass-cancel
// does to them (one spread or all, only live ones, nothing when over 5 per 2 s), directly and
// through the business WebSocket op.

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
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

constexpr std::string_view kBtc = "BTC-USDT_BTC-USDT-SWAP";
constexpr std::string_view kEth = "ETH-USDT_ETH-USDT-SWAP";

std::string state_of(const OkxSim& okx, const std::string& ord_id) {
  const auto o = okx.spread_order(ord_id);
  REQUIRE(o.has_value());
  return o->state;
}

std::vector<std::string> states(const OkxSim& okx) {
  std::vector<std::string> out;
  for (const auto& o : okx.spread_orders()) out.push_back(o.state);
  return out;
}

}  // namespace

TEST_CASE("okx sim spread orders: add_spread_order returns increasing numeric ids, live",
          "[sim][okx][spread]") {
  World w;
  const auto a = w.okx.add_spread_order(std::string(kBtc));
  w.clock.advance(milliseconds(250));
  const auto b = w.okx.add_spread_order(std::string(kEth));
  const auto c = w.okx.add_spread_order(std::string(kBtc));
  CHECK(std::stoull(a) < std::stoull(b));
  CHECK(std::stoull(b) < std::stoull(c));
  CHECK(a.find_first_not_of("0123456789") == std::string::npos);

  const auto ob = w.okx.spread_order(b);
  REQUIRE(ob.has_value());
  CHECK(ob->ord_id == b);
  CHECK(ob->sprd_id == kEth);
  CHECK(ob->state == "live");
  CHECK(ob->c_time_ms == kStartMs + 250);
  CHECK(ob->u_time_ms == kStartMs + 250);

  const auto all = w.okx.spread_orders();
  REQUIRE(all.size() == 3);  // oldest first
  CHECK(all[0].ord_id == a);
  CHECK(all[0].c_time_ms == kStartMs);
  CHECK(all[1].ord_id == b);
  CHECK(all[2].ord_id == c);
  CHECK(all[2].sprd_id == kBtc);
}

TEST_CASE("okx sim spread orders: unknown or malformed ids are not found", "[sim][okx][spread]") {
  World w;
  const auto a = w.okx.add_spread_order(std::string(kBtc));
  CHECK_FALSE(w.okx.spread_order(std::to_string(std::stoull(a) + 1)).has_value());
  CHECK_FALSE(w.okx.spread_order("").has_value());
  CHECK_FALSE(w.okx.spread_order("abc").has_value());
  CHECK_FALSE(w.okx.spread_order(a + "x").has_value());
  CHECK(w.okx.spread_order(a).has_value());
}

TEST_CASE("okx sim spread orders: an empty sprdId is refused", "[sim][okx][spread]") {
  World w;
  CHECK_THROWS_AS(w.okx.add_spread_order(""), std::invalid_argument);
  CHECK(w.okx.spread_orders().empty());
}

TEST_CASE("okx sim spread orders: sprd_mass_cancel(sprd_id) cancels only that spread's live "
          "orders",
          "[sim][okx][spread]") {
  World w;
  const auto btc1 = w.okx.add_spread_order(std::string(kBtc));
  const auto eth1 = w.okx.add_spread_order(std::string(kEth));
  const auto btc2 = w.okx.add_spread_order(std::string(kBtc));
  w.clock.advance(milliseconds(40));

  REQUIRE(w.okx.sprd_mass_cancel(kBtc));
  CHECK(state_of(w.okx, btc1) == "canceled");
  CHECK(state_of(w.okx, btc2) == "canceled");
  CHECK(state_of(w.okx, eth1) == "live");
  CHECK(w.okx.spread_order(btc1)->u_time_ms == kStartMs + 40);
  CHECK(w.okx.spread_order(btc1)->c_time_ms == kStartMs);
  CHECK(w.okx.spread_order(eth1)->u_time_ms == kStartMs);

  SECTION("a later cancel of the same spread leaves canceled orders as they were") {
    w.clock.advance(milliseconds(60));
    const auto btc3 = w.okx.add_spread_order(std::string(kBtc));
    REQUIRE(w.okx.sprd_mass_cancel(kBtc));
    CHECK(state_of(w.okx, btc3) == "canceled");
    CHECK(w.okx.spread_order(btc3)->u_time_ms == kStartMs + 100);
    CHECK(w.okx.spread_order(btc1)->u_time_ms == kStartMs + 40);  // not touched again
    CHECK(state_of(w.okx, eth1) == "live");
  }
  SECTION("a spread with no orders cancels nothing") {
    REQUIRE(w.okx.sprd_mass_cancel("SOL-USDT_SOL-USDT-SWAP"));
    CHECK(state_of(w.okx, eth1) == "live");
  }
}

TEST_CASE("okx sim spread orders: sprd_mass_cancel(\"\") cancels every live order",
          "[sim][okx][spread]") {
  World w;
  w.okx.add_spread_order(std::string(kBtc));
  w.okx.add_spread_order(std::string(kEth));
  w.okx.add_spread_order("SOL-USDT_SOL-USDT-SWAP");
  REQUIRE(w.okx.sprd_mass_cancel(""));
  CHECK(states(w.okx) == std::vector<std::string>{"canceled", "canceled", "canceled"});
  // Orders rested after the cancel are live: it is not a standing rule.
  const auto after = w.okx.add_spread_order(std::string(kBtc));
  CHECK(state_of(w.okx, after) == "live");
}

TEST_CASE("okx sim spread orders: over 5 mass cancels per 2 s nothing is canceled",
          "[sim][okx][spread][limits]") {
  World w;
  for (int i = 0; i < 5; ++i) REQUIRE(w.okx.sprd_mass_cancel(kEth));  // the window is full
  const auto btc = w.okx.add_spread_order(std::string(kBtc));

  SECTION("that spread") {
    CHECK_FALSE(w.okx.sprd_mass_cancel(kBtc));
    CHECK(state_of(w.okx, btc) == "live");
    CHECK(w.okx.sprd_mass_cancels(kBtc) == 0);
  }
  SECTION("every spread") {
    CHECK_FALSE(w.okx.sprd_mass_cancel(""));
    CHECK(state_of(w.okx, btc) == "live");
    CHECK(w.okx.sprd_mass_cancels("") == 0);
  }
  SECTION("once the window has moved on, the cancel goes through") {
    w.clock.advance(milliseconds(2000));
    CHECK(w.okx.sprd_mass_cancel(kBtc));
    CHECK(state_of(w.okx, btc) == "canceled");
  }
}

TEST_CASE("okx sim spread orders: without enforce_limits every mass cancel cancels",
          "[sim][okx][spread][limits]") {
  OkxSimOptions options;
  options.enforce_limits = false;
  World w(options);
  for (int i = 0; i < 5; ++i) REQUIRE(w.okx.sprd_mass_cancel(kEth));
  const auto btc = w.okx.add_spread_order(std::string(kBtc));
  CHECK(w.okx.sprd_mass_cancel(kBtc));
  CHECK(state_of(w.okx, btc) == "canceled");
}

TEST_CASE("okx sim spread orders: the WebSocket sprd-mass-cancel op cancels them too",
          "[sim][okx][spread][ws]") {
  World w;
  const auto btc = w.okx.add_spread_order(std::string(kBtc));
  const auto eth = w.okx.add_spread_order(std::string(kEth));
  WsConn conn(w.okx);
  log_in(conn, w.clock);

  const auto one = conn.ask(R"({"id":"1","op":"sprd-mass-cancel","args":[{"sprdId":")" +
                            std::string(kBtc) + R"("}]})");
  CHECK(str_of(one, "code") == "0");
  CHECK(state_of(w.okx, btc) == "canceled");
  CHECK(state_of(w.okx, eth) == "live");

  SECTION("no sprdId: every spread") {
    CHECK(str_of(conn.ask(R"({"id":"2","op":"sprd-mass-cancel","args":[{}]})"), "code") == "0");
    CHECK(state_of(w.okx, eth) == "canceled");
  }
  SECTION("refused as too frequent (60014): nothing more is canceled") {
    for (int i = 0; i < 4; ++i) {
      CHECK(str_of(conn.ask(R"({"id":"x","op":"sprd-mass-cancel","args":[{"sprdId":"A_B"}]})"),
                   "code") == "0");
    }
    CHECK(str_of(conn.ask(R"({"id":"3","op":"sprd-mass-cancel","args":[{}]})"), "code") ==
          "60014");
    CHECK(state_of(w.okx, eth) == "live");
  }
}
