#pragma once
// What every loopback integration world does the same way once its venue is wired: drive the
// loop until a condition holds, start the engine, run a policy's main chunk to the end and read
// a Lua global back. A world derives from PolicyWorld<itself, ...> and provides the public
// members `io`, `engine` and `policy`; the bounds are the world's, since a venue with a
// handshake and credit pacing (Deribit) needs longer than plain REST.
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "bindings/lua/lua_task.hpp"
#include "bindings/modules/policy_host.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::testing {

// kRunBoundS: run_until's default bound; kPolicyBoundS: how long run_policy waits for the main
// chunk to finish. Both in seconds.
template <typename World, int kRunBoundS, int kPolicyBoundS = kRunBoundS>
struct PolicyWorld {
  // Drives the loop until pred() holds; bounded so a bug fails the test instead of hanging it.
  template <typename Pred>
  bool run_until(Pred pred, std::chrono::seconds bound = std::chrono::seconds(kRunBoundS)) {
    const auto end = std::chrono::steady_clock::now() + bound;
    while (!pred() && std::chrono::steady_clock::now() < end) {
      world().io.run_one_for(std::chrono::milliseconds(50));
    }
    return pred();
  }

  void start() {
    bool started = false;
    boost::system::error_code ec;
    world().engine.start([&](boost::system::error_code e) {
      ec = e;
      started = true;
    });
    REQUIRE(run_until([&] { return started; }));
    REQUIRE_FALSE(ec);
  }

  std::shared_ptr<lua::LuaTask> run_policy(const std::string& source) {
    auto& policy = world().policy;
    lua::PolicySpec spec;
    spec.name = "it";
    policy = std::make_unique<lua::PolicyHost>(world().engine, spec);
    std::string error;
    REQUIRE(policy->load_source(source, "@it_policy.lua", error));
    policy->start();
    auto main = policy->main_task();
    REQUIRE(run_until([&] { return main->state() == lua::TaskState::Finished; },
                      std::chrono::seconds(kPolicyBoundS)));
    INFO(main->error());
    REQUIRE(main->ok());
    return main;
  }

  std::string global_string(const char* name) {
    lua_State* L = world().policy->vm().state();
    lua_getglobal(L, name);
    std::string s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "<not a string>";
    lua_pop(L, 1);
    return s;
  }

 private:
  World& world() { return static_cast<World&>(*this); }
};

}  // namespace rfq::testing
