// rfq.on("fill"), rfq.on("exposure") from the engine, rfq.on("venue"), rfq.exposure() and
// rfq.venues() on a policy bound to the in-process simulated world: what each handler gets,
// exposure events coalesced per loop turn, host-published values told apart by their source,
// listeners gone with their last handler, and a balanced Lua stack.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "bindings/modules/policy_host.hpp"
#include "bindings/modules/rfq_test.hpp"
#include "engine/engine.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/okx_sim.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

using namespace rfq;
using std::chrono::milliseconds;

namespace {

struct EventsWorld {
  lua::TestWorld world{lua::TestWorldOptions{}};

  EventsWorld() { REQUIRE(world.start().empty()); }

  lua::PolicyHost& load(const std::string& source) {
    const std::string error = world.load_policy("", &source, boost::json::value(nullptr));
    INFO(error);
    REQUIRE(error.empty());
    return *world.policies().back();
  }

  lua_State* L() { return world.policies().back()->vm().state(); }

  // The value of a Lua expression in the last policy's state, as text (tables shown by
  // string.format over their fields is left to the expression).
  std::string eval(const std::string& expr) {
    lua_State* L = this->L();
    const int top = lua_gettop(L);
    const std::string chunk = "return tostring(" + expr + ")";
    REQUIRE(luaL_loadstring(L, chunk.c_str()) == LUA_OK);
    const int status = lua_pcall(L, 0, 1, 0);
    std::string out = lua_tostring(L, -1) != nullptr ? lua_tostring(L, -1) : "<error>";
    lua_settop(L, top);
    INFO(out);
    REQUIRE(status == LUA_OK);
    return out;
  }

  std::string okx_rfq(const char* instrument, const char* side, const char* size) {
    sim::NewRfq r;
    r.legs = {{instrument, side, size}};
    r.expires_in_ms = 600000;
    const std::string id = world.sim().okx().add_rfq(std::move(r));
    world.sim().poll();
    return id;
  }

  void advance(int ms) { world.sim().advance(milliseconds(ms)); }
};

}  // namespace

TEST_CASE("rfq events: a fill is one fill event with the trade's legs, and moves exposure",
          "[lua][events][exposure]") {
  EventsWorld w;
  const std::string id = w.okx_rfq("BTC-USD-SWAP", "sell", "7");
  w.load(R"lua(
    fills = {}
    rfq.on("fill", function(t) fills[#fills + 1] = t end)
  )lua");
  CHECK(w.eval("rfq.exposure().okx['BTC-USD'].open_gross") == "7");
  REQUIRE(w.world.sim().okx().fill(id));
  w.advance(10);
  CHECK(w.eval("#fills") == "1");
  CHECK(w.eval("fills[1].venue .. ' ' .. fills[1].id") == "okx " + id);
  CHECK(w.eval("fills[1].legs[1].instrument .. ' ' .. fills[1].legs[1].underlying") ==
        "BTC-USD-SWAP BTC-USD");
  CHECK(w.eval("fills[1].legs[1].side .. ' ' .. math.type(fills[1].legs[1].size)") ==
        "sell integer");
  CHECK(w.eval("fills[1].legs[1].size") == "7");
  CHECK(w.eval("fills[1].price") == "nil");
  CHECK(w.eval("fills[1].time_ms") == std::to_string(w.world.sim().now_ms() - 10));
  CHECK(w.eval("rfq.exposure().okx['BTC-USD'].filled_net") == "-7");
  CHECK(w.eval("rfq.exposure().okx['BTC-USD'].open_gross") == "0");
  // The snapshot refresh (every 5 s) and later pushes report no second fill.
  w.advance(12000);
  CHECK(w.eval("#fills") == "1");
  CHECK(lua_gettop(w.L()) == 0);
}

TEST_CASE("rfq events: a Deribit fill carries its trade's price and direction",
          "[lua][events][exposure]") {
  EventsWorld w;
  sim::NewBlockRfq r;
  r.legs = {{"BTC-PERPETUAL", "buy", 1}};
  r.amount = 50000;
  const auto id = w.world.sim().deribit().add_rfq(std::move(r));
  w.world.sim().poll();
  w.load(R"lua(
    rfq.on("fill", function(t) fill = t end)
  )lua");
  REQUIRE(w.world.sim().deribit().fill(id, {"sell", 64000.5, 20000.0}));
  w.advance(10);
  CHECK(w.eval("fill.id") == std::to_string(id));
  CHECK(w.eval("fill.price") == "64000.5");
  CHECK(w.eval("fill.legs[1].side .. ' ' .. fill.legs[1].size .. ' ' .. fill.legs[1].price") ==
        "sell 20000 64000.5");
  CHECK(w.eval("rfq.exposure().deribit.BTC.filled_net") == "-20000");
}

TEST_CASE("rfq events: a burst of changes is one exposure event, from the engine",
          "[lua][events][exposure]") {
  EventsWorld w;
  for (int i = 0; i < 5; ++i) w.okx_rfq("ETH-USD-SWAP", "buy", "2");
  w.load(R"lua(
    seen = {}
    rfq.on("exposure", function(x, source)
      seen[#seen + 1] = source .. ":" .. tostring(x.okx and x.okx["ETH-USD"].open_gross)
    end)
  )lua");
  CHECK(w.eval("#seen") == "0");  // nothing changed yet
  // One cancel-all answer marks the five canceled at once.
  bool done = false;
  w.world.sim().engine().cancel_all("okx", CancelAllRequest{}, [&](CancelAllResult) {
    done = true;
  });
  w.advance(100);
  REQUIRE(done);
  CHECK(w.eval("table.concat(seen, ',')") == "engine:0");
  SECTION("a host-published value reaches the same handler, as from the host") {
    auto& p = *w.world.policies().back();
    CHECK(p.publish("exposure", boost::json::parse(R"({"gross":1})")) == 1);
    w.advance(1);
    CHECK(w.eval("seen[2]") == "host:nil");
    CHECK(w.world.take_errors().empty());
  }
  SECTION("no handler left: no event, and none is posted") {
    w.load(R"lua(rfq.on("exposure", function() n = (n or 0) + 1 end):cancel())lua");
    w.okx_rfq("ETH-USD-SWAP", "buy", "2");
    w.advance(10);
    CHECK(w.eval("n") == "nil");
  }
  CHECK(lua_gettop(w.L()) == 0);
}

TEST_CASE("rfq events: venue down and up reach rfq.on(\"venue\"); rfq.venues() reads them",
          "[lua][events][venue]") {
  EventsWorld w;
  w.load(R"lua(
    changes = {}
    rfq.on("venue", function(venue, status)
      changes[#changes + 1] = venue .. "=" .. status .. "@" .. (rfq.now() - start)
    end)
    start = rfq.now()
  )lua");
  CHECK(w.eval("rfq.venues().deribit") == "up");
  w.world.sim().ws_outage("deribit", milliseconds(2000));
  w.advance(1);
  CHECK(w.eval("table.concat(changes, ',')") == "deribit=down@0");
  CHECK(w.eval("rfq.venues().deribit") == "down");
  CHECK(w.eval("rfq.venues().okx") == "up");
  w.advance(10000);
  CHECK(w.eval("#changes") == "2");
  CHECK(w.eval("changes[2]:match('^deribit=up@')") == "deribit=up@");
  CHECK(w.eval("rfq.venues().deribit") == "up");
  lua_gc(w.L(), LUA_GCCOLLECT);
  CHECK(lua_gettop(w.L()) == 0);
}

TEST_CASE("rfq events: published values never reach fill or venue handlers",
          "[lua][events]") {
  EventsWorld w;
  auto& p = w.load(R"lua(
    rfq.on("fill", function() error("a fill from publish") end)
    rfq.on("venue", function() error("a venue event from publish") end)
  )lua");
  CHECK(p.publish("fill", boost::json::value(1)) == 0);
  CHECK(p.publish("venue", boost::json::value("okx")) == 0);
  CHECK(p.publish("rfq", boost::json::value(1)) == 0);
  w.advance(10);
  CHECK(w.world.take_errors().empty());
}
