// PolicyHost::publish: values the host publishes reach every rfq.on("exposure") handler, each
// in its own task with its own copy as plain data; publish returns the tasks it started; a
// cancelled subscription gets nothing; "rfq" handlers never see published values; the error
// observer hears of a handler's error.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "bindings/lua/lua_task.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lua.h>
}

using namespace rfq;
using Catch::Contains;

namespace {

constexpr std::int64_t kStartMs = 1'700'000'000'000;

struct PublishWorld {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  Engine engine{io, clock};
  std::unique_ptr<lua::PolicyHost> policy;
  std::vector<std::pair<std::string, std::string>> observed;  // (task, message)

  std::shared_ptr<lua::LuaTask> load(const std::string& source) {
    lua::PolicySpec spec;
    spec.name = "publish";
    policy = std::make_unique<lua::PolicyHost>(engine, spec);
    policy->set_error_observer([this](const std::string& task, const std::string& message) {
      observed.emplace_back(task, message);
    });
    std::string error;
    REQUIRE(policy->load_source(source, "@publish.lua", error));
    policy->start();
    clock.poll();
    return policy->main_task();
  }

  lua_State* L() { return policy->vm().state(); }

  std::string string(const char* name) {
    lua_getglobal(L(), name);
    std::string s = lua_type(L(), -1) == LUA_TSTRING ? lua_tostring(L(), -1) : "<nil>";
    lua_pop(L(), 1);
    return s;
  }
  lua_Integer integer(const char* name) {
    lua_getglobal(L(), name);
    const lua_Integer v = lua_tointeger(L(), -1);
    lua_pop(L(), 1);
    return v;
  }
};

const boost::json::value kExposure = boost::json::parse(R"({
  "venue": "okx",
  "btc": 12.5,
  "count": 3,
  "big": 9007199254740993,
  "legs": [{"inst": "BTC-USD-260327-100000-C", "sz": "25"}, {"inst": "ETH-PERP", "sz": "2"}],
  "flags": {"hedged": true, "stale": false, "note": null},
  "empty": {}
})");

}  // namespace

TEST_CASE("policy publish: every exposure handler gets the value as plain data, in its own task",
          "[lua][rfq][publish]") {
  PublishWorld w;
  auto main = w.load(R"lua(
    seen = {}
    local function describe(v)
      return ("%s %s %s %s %s %d %s %s %s %s %s %s"):format(
        v.venue, math.type(v.btc), tostring(v.btc), math.type(v.count), tostring(v.count),
        #v.legs, v.legs[1].inst, v.legs[2].sz, tostring(v.flags.hedged),
        tostring(v.flags.stale), tostring(v.flags.note), tostring(v.big))
    end
    rfq.on("exposure", function(v)
      first = describe(v)
      first_task = coroutine.running()
      seen[#seen + 1] = "first"
    end)
    rfq.on("exposure", function(v)
      second = describe(v)
      second_task = coroutine.running()
      seen[#seen + 1] = "second"
    end)
  )lua");
  REQUIRE(main->ok());

  CHECK(w.policy->publish("exposure", kExposure) == 2);
  CHECK(w.string("first") == "<nil>");  // tasks start on the next loop turn, not in publish
  lua_gc(w.L(), LUA_GCCOLLECT, 0);      // the copies wait in the new tasks, anchored
  w.clock.poll();
  const std::string expected =
      "okx float 12.5 integer 3 2 BTC-USD-260327-100000-C 2 true false nil 9007199254740993";
  CHECK(w.string("first") == expected);
  CHECK(w.string("second") == expected);

  // In registration order, each in a task of its own (not the main chunk's, not each other's).
  lua_getglobal(w.L(), "seen");
  lua_rawgeti(w.L(), -1, 1);
  lua_rawgeti(w.L(), -2, 2);
  CHECK(std::string(lua_tostring(w.L(), -2)) == "first");
  CHECK(std::string(lua_tostring(w.L(), -1)) == "second");
  lua_pop(w.L(), 3);
  lua_getglobal(w.L(), "first_task");
  lua_getglobal(w.L(), "second_task");
  CHECK(lua_type(w.L(), -1) == LUA_TTHREAD);
  CHECK(lua_type(w.L(), -2) == LUA_TTHREAD);
  CHECK_FALSE(lua_rawequal(w.L(), -1, -2));
  CHECK(lua_tothread(w.L(), -1) != main->thread());
  lua_pop(w.L(), 2);
  CHECK(w.policy->vm().live_tasks() == 0);
  CHECK(w.observed.empty());
  CHECK(lua_gettop(w.L()) == 0);
}

TEST_CASE("policy publish: each handler gets its own copy of the value", "[lua][rfq][publish]") {
  PublishWorld w;
  w.load(R"lua(
    rfq.on("exposure", function(v) v.count = 99; v.legs[1] = nil; v.flags.hedged = "changed" end)
    rfq.on("exposure", function(v)
      seen = ("%d %s %s"):format(v.count, v.legs[1].inst, tostring(v.flags.hedged))
    end)
  )lua");
  REQUIRE(w.policy->publish("exposure", kExposure) == 2);
  w.clock.poll();
  CHECK(w.string("seen") == "3 BTC-USD-260327-100000-C true");
}

TEST_CASE("policy publish: scalars and arrays are published as they are", "[lua][rfq][publish]") {
  PublishWorld w;
  w.load(R"lua(
    got = {}
    rfq.on("exposure", function(v)
      got[#got + 1] = type(v) == "table" and ("table of " .. #v .. ": " .. table.concat(v, ","))
                      or (math.type(v) or type(v)) .. " " .. tostring(v)
    end)
  )lua");
  for (const char* text : {"42", "-0.25", "\"text\"", "true", "[1,2,3]"}) {
    REQUIRE(w.policy->publish("exposure", boost::json::parse(text)) == 1);
    w.clock.poll();
  }
  lua_getglobal(w.L(), "got");
  std::vector<std::string> got;
  for (int i = 1; i <= 5; ++i) {
    lua_rawgeti(w.L(), -1, i);
    got.push_back(lua_type(w.L(), -1) == LUA_TSTRING ? lua_tostring(w.L(), -1) : "<missing>");
    lua_pop(w.L(), 1);
  }
  lua_pop(w.L(), 1);
  CHECK(got == std::vector<std::string>{"integer 42", "float -0.25", "string text",
                                        "boolean true", "table of 3: 1,2,3"});
}

TEST_CASE("policy publish: a deeply nested value reaches the handler intact",
          "[lua][rfq][publish]") {
  PublishWorld w;
  w.load(R"lua(
    rfq.on("exposure", function(v)
      local depth = 0
      while type(v) == "table" do depth = depth + 1; v = v.next or v[1] end
      deepest = ("%d %s"):format(depth, tostring(v))
    end)
  )lua");
  // 32 levels, alternating objects and arrays (a depth s:publish accepts from a Lua test):
  // far beyond the 20 free stack slots Lua guarantees a C function, so building the table
  // must check the stack as it goes.
  boost::json::value v = "bottom";
  for (int i = 0; i < 32; ++i) {
    if (i % 2 == 0) {
      boost::json::object o;
      o["next"] = std::move(v);
      v = std::move(o);
    } else {
      boost::json::array a;
      a.push_back(std::move(v));
      v = std::move(a);
    }
  }
  REQUIRE(w.policy->publish("exposure", v) == 1);
  w.clock.poll();
  CHECK(w.string("deepest") == "32 bottom");
  CHECK(w.observed.empty());
  CHECK(lua_gettop(w.L()) == 0);
}

TEST_CASE("policy publish: returns the handlers it started", "[lua][rfq][publish]") {
  PublishWorld w;
  SECTION("none before rfq.on ran (nothing is queued or replayed)") {
    lua::PolicySpec spec;
    spec.name = "late";
    w.policy = std::make_unique<lua::PolicyHost>(w.engine, spec);
    std::string error;
    REQUIRE(w.policy->load_source("rfq.on('exposure', function(v) got = v end)", "@late.lua",
                                  error));
    w.policy->start();
    CHECK(w.policy->publish("exposure", boost::json::value(1)) == 0);  // main not run yet
    w.clock.poll();
    CHECK(w.integer("got") == 0);
    CHECK(w.policy->publish("exposure", boost::json::value(2)) == 1);
    w.clock.poll();
    CHECK(w.integer("got") == 2);
  }
  SECTION("three handlers, an unrelated event") {
    w.load(R"lua(
      n = 0
      for i = 1, 3 do rfq.on("exposure", function(v) n = n + v end) end
    )lua");
    CHECK(w.policy->publish("exposure", boost::json::value(10)) == 3);
    CHECK(w.policy->publish("venue", boost::json::value(1000)) == 0);
    w.clock.poll();
    CHECK(w.integer("n") == 30);
  }
}

TEST_CASE("policy publish: a handler cancelled with sub:cancel() gets nothing",
          "[lua][rfq][publish]") {
  PublishWorld w;
  w.load(R"lua(
    kept, dropped = 0, 0
    rfq.on("exposure", function(v) kept = kept + 1 end)
    sub = rfq.on("exposure", function(v) dropped = dropped + 1 end)
  )lua");
  REQUIRE(w.policy->publish("exposure", kExposure) == 2);
  w.clock.poll();
  CHECK(w.integer("dropped") == 1);

  lua_State* M = w.policy->vm().state();
  std::string error;
  REQUIRE(w.policy->vm().load_string("sub:cancel()", "=cancel", error));
  w.policy->vm().spawn(0, "cancel");
  w.clock.poll();
  CHECK(lua_gettop(M) == 0);

  CHECK(w.policy->publish("exposure", kExposure) == 1);
  w.clock.poll();
  CHECK(w.integer("kept") == 2);
  CHECK(w.integer("dropped") == 1);
  CHECK(w.policy->handler_count() == 1);
}

TEST_CASE("policy publish: \"rfq\" handlers never receive published values",
          "[lua][rfq][publish]") {
  PublishWorld w;
  w.load(R"lua(
    rfq_calls, exposure_calls = 0, 0
    rfq.on("rfq", function(r, previous) rfq_calls = rfq_calls + 1 end)
    rfq.on("exposure", function(v) exposure_calls = exposure_calls + 1 end)
  )lua");
  SECTION("an exposure value") {
    CHECK(w.policy->publish("exposure", kExposure) == 1);
    w.clock.poll();
    CHECK(w.integer("exposure_calls") == 1);
  }
  SECTION("a value published under the name \"rfq\": RFQ events come from the book only") {
    CHECK(w.policy->publish("rfq", kExposure) == 0);
    w.clock.poll();
    CHECK(w.integer("exposure_calls") == 0);
  }
  CHECK(w.integer("rfq_calls") == 0);
  CHECK(w.observed.empty());
}

TEST_CASE("policy publish: the error observer is told about a handler's error",
          "[lua][rfq][publish]") {
  PublishWorld w;
  w.load(R"lua(
    rfq.on("exposure", function(v)
      if v.btc > 10 then error("exposure too high: " .. v.btc) end
    end)
    rfq.on("exposure", function(v) other_ran = 1 end)
  )lua");
  REQUIRE(w.policy->publish("exposure", kExposure) == 2);
  CHECK(w.observed.empty());  // not before the task runs
  w.clock.poll();
  REQUIRE(w.observed.size() == 1);
  CHECK(w.observed[0].first == "on(exposure) at publish.lua:2");
  CHECK_THAT(w.observed[0].second, Contains("publish.lua:3: exposure too high: 12.5"));
  CHECK_THAT(w.observed[0].second, Contains("stack traceback"));
  CHECK(w.policy->errors() == 1);
  CHECK(w.engine.metrics().get("lua.errors") == 1);
  CHECK(w.integer("other_ran") == 1);  // the other handler's task is unaffected

  SECTION("and again for each later error; the handler stays registered") {
    REQUIRE(w.policy->publish("exposure", kExposure) == 2);
    w.clock.poll();
    CHECK(w.observed.size() == 2);
    CHECK(w.policy->handler_count() == 2);
  }
}
