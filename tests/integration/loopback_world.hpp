#pragma once
// A real loopback world for integration tests: the OKX simulator served over HTTP on
// 127.0.0.1, an engine with venue okx pointed at it, and a policy host to run Lua in.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>

#include "bindings/lua/lua_task.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/core/error.hpp"
#include "engine/engine.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/okx/okx_venue.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::testing {
struct LoopbackOptions {
  bool demo = false;
  bool feed = false;  // venue okx subscribes to the simulator's rfqs channel
  Millis feed_ping_after{20000};
};

struct LoopbackWorld {
  boost::asio::io_context io;
  RealClock clock{io};
  sim::Journal journal;
  sim::OkxSim okx{clock, journal, sim::OkxSimOptions{}};
  sim::SimServer server{io, okx};
  std::uint16_t port = server.listen(0);
  Engine engine{io, clock};
  std::unique_ptr<lua::PolicyHost> policy;

  explicit LoopbackWorld(bool demo = false) : LoopbackWorld(LoopbackOptions{demo}) {}

  explicit LoopbackWorld(LoopbackOptions lo) {
    okx::OkxVenueOptions o;
    std::string error;
    REQUIRE(net::parse_origin("http://127.0.0.1:" + std::to_string(port), o.rest, error));
    if (lo.feed) {
      o.business_ws.emplace();
      REQUIRE(net::parse_origin("ws://127.0.0.1:" + std::to_string(port) + "/ws/v5/business",
                                *o.business_ws, error));
      o.feed_ping_after = lo.feed_ping_after;
    }
    o.credentials = {std::string(sim::kSimApiKey), auth::Secret(std::string(sim::kSimSecret)),
                     auth::Secret(std::string(sim::kSimPassphrase))};
    o.demo = lo.demo;
    o.book_refresh = Millis(0);  // one snapshot at start; the test controls the rest
    engine.add_venue(std::make_unique<okx::OkxVenue>(io, clock, engine.book(), o));
  }

  ~LoopbackWorld() {
    policy.reset();
    engine.stop();
    server.stop();
  }

  // Drives the loop until pred() holds; bounded so a bug fails the test instead of hanging it.
  template <typename Pred>
  bool run_until(Pred pred, std::chrono::seconds bound = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + bound;
    while (!pred() && std::chrono::steady_clock::now() < end) {
      io.run_one_for(std::chrono::milliseconds(50));
    }
    return pred();
  }

  void start() {
    bool started = false;
    boost::system::error_code ec;
    engine.start([&](boost::system::error_code e) {
      ec = e;
      started = true;
    });
    REQUIRE(run_until([&] { return started; }));
    REQUIRE_FALSE(ec);
  }

  std::shared_ptr<lua::LuaTask> run_policy(const std::string& source) {
    lua::PolicySpec spec;
    spec.name = "it";
    policy = std::make_unique<lua::PolicyHost>(engine, spec);
    std::string error;
    REQUIRE(policy->load_source(source, "@it_policy.lua", error));
    policy->start();
    auto main = policy->main_task();
    REQUIRE(run_until([&] { return main->state() == lua::TaskState::Finished; }));
    INFO(main->error());
    REQUIRE(main->ok());
    return main;
  }

  std::string global_string(const char* name) {
    lua_State* L = policy->vm().state();
    lua_getglobal(L, name);
    std::string s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "<not a string>";
    lua_pop(L, 1);
    return s;
  }

  std::string state_of(const std::string& id) { return okx.rfq(id).value().state; }

  std::vector<boost::json::object> cancels() { return journal.find("okx", "cancel-rfq"); }
};

inline sim::NewRfq new_rfq(std::int64_t expires_in_ms, std::string cl_id = "") {
  sim::NewRfq r;
  r.cl_rfq_id = std::move(cl_id);
  r.legs = {{"BTC-USD-260327-100000-C", "buy", "25"}};
  r.expires_in_ms = expires_in_ms;
  return r;
}


}  // namespace rfq::testing
