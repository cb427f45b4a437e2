// The rfq Lua module in virtual time: timers, sleep, spawn/wait, params, open, and misuse.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "bindings/lua/lua_task.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/engine.hpp"
#include "engine/venues/okx/okx_venue.hpp"

extern "C" {
#include <lua.h>
}

using namespace rfq;

namespace {

constexpr std::int64_t kStartMs = 1'700'000'000'000;

struct VirtualWorld {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  Engine engine{io, clock};
  std::unique_ptr<lua::PolicyHost> policy;

  VirtualWorld() {
    // A configured but never started venue: enough for name checks; misuse never reaches it.
    okx::OkxVenueOptions o;
    std::string error;
    REQUIRE(net::parse_origin("http://127.0.0.1:9", o.rest, error));
    engine.add_venue(std::make_unique<okx::OkxVenue>(io, clock, engine.book(), o));
  }

  std::shared_ptr<lua::LuaTask> load(const std::string& source,
                                     boost::json::value params = nullptr) {
    lua::PolicySpec spec;
    spec.name = "unit";
    spec.params = std::move(params);
    policy = std::make_unique<lua::PolicyHost>(engine, spec);
    std::string error;
    REQUIRE(policy->load_source(source, "@unit.lua", error));
    policy->start();
    clock.poll();
    return policy->main_task();
  }

  lua_State* L() { return policy->vm().state(); }

  lua_Integer integer(const char* name) {
    lua_getglobal(L(), name);
    lua_Integer v = lua_tointeger(L(), -1);
    lua_pop(L(), 1);
    return v;
  }

  std::string string(const char* name) {
    lua_getglobal(L(), name);
    std::string s = lua_type(L(), -1) == LUA_TSTRING ? lua_tostring(L(), -1) : "<nil>";
    lua_pop(L(), 1);
    return s;
  }

  // Runs `expr` in a task under pcall; returns the error message ("" when none).
  std::string error_of(const std::string& call) {
    auto t = load("local ok, err = pcall(function() " + call + " end)\n"
                  "caught = ok and '' or tostring(err)\n");
    REQUIRE(t->ok());
    return string("caught");
  }
};

}  // namespace

TEST_CASE("rfq.every: ticks in virtual time; an error in one tick is logged and the rest run",
          "[lua][rfq][timers]") {
  VirtualWorld w;
  auto main = w.load(R"lua(
    ticks = 0
    rfq.every(100, function()
      ticks = ticks + 1
      if ticks == 2 then error("tick two failed") end
    end)
  )lua");
  REQUIRE(main->ok());
  w.clock.advance(Millis(99));
  CHECK(w.integer("ticks") == 0);
  w.clock.advance(Millis(1));
  CHECK(w.integer("ticks") == 1);
  w.clock.advance(Millis(400));
  CHECK(w.integer("ticks") == 5);
  CHECK(w.policy->errors() == 1);
  CHECK(w.engine.metrics().get("lua.errors") == 1);
  CHECK(lua_gettop(w.L()) == 0);
}

TEST_CASE("rfq.every: a tick is skipped while the previous one is still running",
          "[lua][rfq][timers]") {
  VirtualWorld w;
  w.load(R"lua(
    started = 0
    rfq.every(100, function()
      started = started + 1
      rfq.sleep(250)
    end)
  )lua");
  w.clock.advance(Millis(1000));
  // Ticks at 100 (runs to 350), 200 and 300 skipped, 400 (to 650), 500/600 skipped, 700, 800/900
  // skipped, 1000.
  CHECK(w.integer("started") == 4);
  CHECK(w.policy->vm().skipped_ticks() == 6);
}

TEST_CASE("rfq.after and timer:cancel", "[lua][rfq][timers]") {
  VirtualWorld w;
  w.load(R"lua(
    fired, cancelled_fired = 0, 0
    rfq.after(50, function() fired = fired + 1 end)
    local t = rfq.every(10, function() cancelled_fired = cancelled_fired + 1 end)
    rfq.after(35, function() t:cancel() end)
  )lua");
  w.clock.advance(Millis(200));
  CHECK(w.integer("fired") == 1);
  CHECK(w.integer("cancelled_fired") == 3);
  CHECK(w.policy->vm().timer_count() == 0);
}

TEST_CASE("rfq.sleep and rfq.now follow the virtual clock exactly", "[lua][rfq][timers]") {
  VirtualWorld w;
  auto main = w.load(R"lua(
    t0 = rfq.now()
    rfq.sleep(1500)
    t1 = rfq.now()
  )lua");
  CHECK(main->state() == lua::TaskState::Suspended);
  CHECK(std::string(main->waiting_for()) == "rfq.sleep");
  w.clock.advance(Millis(1499));
  CHECK(main->state() == lua::TaskState::Suspended);
  w.clock.advance(Millis(1));
  CHECK(main->ok());
  CHECK(w.integer("t0") == kStartMs);
  CHECK(w.integer("t1") == kStartMs + 1500);
}

TEST_CASE("rfq.spawn: tasks run concurrently and t:wait returns their outcome",
          "[lua][rfq][tasks]") {
  VirtualWorld w;
  auto main = w.load(R"lua(
    local a = rfq.spawn(function(x) rfq.sleep(300); return x * 2, "a" end, 21)
    local b = rfq.spawn(function() rfq.sleep(200); error("b broke") end)
    local oka, va, na = a:wait()
    local okb, eb = b:wait()
    local okagain, vagain = a:wait()   -- finished tasks answer at once
    result = ("%s %d %s | %s %s | %s %d | %d"):format(
      tostring(oka), va, na, tostring(okb), eb:match("b broke") or eb,
      tostring(okagain), vagain, rfq.now() - start)
  )lua");
  lua_pushinteger(w.L(), kStartMs);
  lua_setglobal(w.L(), "start");
  w.clock.advance(Millis(300));
  REQUIRE(main->ok());
  CHECK(w.string("result") == "true 42 a | false b broke | true 42 | 300");
  CHECK(w.policy->errors() == 1);  // b's error is still reported
}

TEST_CASE("rfq.params: config params override the script's defaults", "[lua][rfq]") {
  VirtualWorld w;
  auto params = boost::json::parse(R"({"window_ms": 2000, "nested": {"b": 9}, "extra": true})");
  auto main = w.load(R"lua(
    local defaults = { window_ms = 5000, every_ms = 250, nested = { a = 1, b = 2 } }
    local cfg = rfq.params(defaults)
    result = ("%d %d %d %d %s %d"):format(cfg.window_ms, cfg.every_ms, cfg.nested.a,
      cfg.nested.b, tostring(cfg.extra), defaults.window_ms)
  )lua",
                     params);
  REQUIRE(main->ok());
  CHECK(w.string("result") == "2000 250 1 9 true 5000");
}

TEST_CASE("rfq.open: answers from the book, soonest expiry first, with filters",
          "[lua][rfq][book]") {
  VirtualWorld w;
  auto add = [&](std::string id, std::int64_t created, std::int64_t expires) {
    Rfq r;
    r.venue = "okx";
    r.id = std::move(id);
    r.state = r.raw_state = "active";
    r.created_ms = kStartMs + created;
    r.expires_ms = kStartMs + expires;
    r.legs = {{"BTC-USD-260327-100000-C", "buy", "25"}};
    w.engine.book().upsert(r);
  };
  add("3", -60000, 9000);
  add("1", -1000, 2000);
  add("2", -30000, 4000);
  auto main = w.load(R"lua(
    local function ids(list)
      local out = {}
      for _, r in ipairs(list) do out[#out + 1] = r.id end
      return table.concat(out, ",")
    end
    all = ids(rfq.open())
    soon = ids(rfq.open{ venue = "okx", expiring_within_ms = 5000 })
    old = ids(rfq.open{ older_than_ms = 20000 })
    local r = rfq.open()[1]
    shape = ("%s %s %s %s %s %s"):format(r.venue, r.state, r.raw_state, r.legs[1].instrument,
      r.legs[1].side, r.legs[1].size)
  )lua");
  REQUIRE(main->ok());
  CHECK(w.string("all") == "1,2,3");
  CHECK(w.string("soon") == "1,2");
  CHECK(w.string("old") == "2,3");
  CHECK(w.string("shape") == "okx active active BTC-USD-260327-100000-C buy 25");
}

TEST_CASE("rfq misuse raises a Lua error naming the function and the argument",
          "[lua][rfq][misuse]") {
  VirtualWorld w;
  using Catch::Contains;
  CHECK_THAT(w.error_of("rfq.cancel()"),
             Contains("unit.lua:1: rfq.cancel: bad argument 'request' (table expected, got no value)"));
  CHECK_THAT(w.error_of("rfq.cancel{ id = '1' }"),
             Contains("rfq.cancel: bad argument 'venue' (string expected, got nil)"));
  CHECK_THAT(w.error_of("rfq.cancel{ venue = 'kraken', id = '1' }"),
             Contains("rfq.cancel: bad argument 'venue' (unknown or unconfigured venue 'kraken')"));
  CHECK_THAT(w.error_of("rfq.cancel{ venue = 'okx' }"),
             Contains("rfq.cancel: bad argument 'id' (id or client_id is required)"));
  CHECK_THAT(w.error_of("rfq.cancel{ venue = 'okx', client_id = 'desk-7' }"),
             Contains("rfq.cancel: bad argument 'client_id' (1-32 ASCII letters or digits"));
  CHECK_THAT(w.error_of("rfq.cancel{ venue = 'okx', client_id = string.rep('a', 33) }"),
             Contains("bad argument 'client_id'"));
  CHECK_THAT(w.error_of("rfq.cancel{ venue = 'okx', id = 'abc' }"),
             Contains("rfq.cancel: bad argument 'id' (OKX rfqId is a decimal number"));
  CHECK_THAT(w.error_of("rfq.cancel{ venue = 'okx', id = '1', timeout_ms = 0 }"),
             Contains("bad argument 'timeout_ms'"));
  CHECK_THAT(w.error_of("rfq.cancel{ venue = 'okx', id = '1', tiemout_ms = 5 }"),
             Contains("rfq.cancel: unknown option 'tiemout_ms'"));
  CHECK_THAT(w.error_of("rfq.every(0, function() end)"),
             Contains("rfq.every: bad argument 'ms' (positive integer up to 30 days in ms"));
  CHECK_THAT(w.error_of("rfq.every(10000000000000, function() end)"),
             Contains("rfq.every: bad argument 'ms'"));
  CHECK_THAT(w.error_of("rfq.sleep(-1)"), Contains("rfq.sleep: bad argument 'ms'"));
  CHECK_THAT(w.error_of("rfq.cancel{ venue = 'okx', id = '1', timeout_ms = math.maxinteger }"),
             Contains("rfq.cancel: bad argument 'timeout_ms'"));
  CHECK_THAT(w.error_of("rfq.open{ expiring_within_ms = -5 }"),
             Contains("rfq.open: bad argument 'expiring_within_ms'"));
  CHECK_THAT(w.error_of("rfq.after(10, 'not a function')"),
             Contains("rfq.after: bad argument 'fn' (function expected, got string)"));
  CHECK_THAT(w.error_of("rfq.sleep('soon')"),
             Contains("rfq.sleep: bad argument 'ms' (integer expected, got string)"));
  CHECK_THAT(w.error_of("rfq.open{ expiring_within = 5 }"),
             Contains("rfq.open: unknown option 'expiring_within'"));
  CHECK_THAT(w.error_of("coroutine.wrap(function() rfq.sleep(1) end)()"),
             Contains("rfq.sleep: cannot yield here"));
  CHECK_THAT(w.error_of("rfq.cancel_batch{ venue = 'okx', ids = {} }"),
             Contains("unit.lua:1: rfq.cancel_batch: bad argument 'ids' (non-empty list"));
  CHECK_THAT(w.error_of("rfq.cancel_batch{ venue = 'okx', ids = { '1', {} } }"),
             Contains("rfq.cancel_batch: bad argument 'ids[2]' (string or integer expected"));
  CHECK_THAT(w.error_of("rfq.cancel_batch{ venue = 'okx', client_ids = { 'a-b' } }"),
             Contains("rfq.cancel_batch: bad argument 'client_id' (1-32 ASCII letters"));
  // Raised under the Lua wrapper of cancel_all, still reported at the policy's line.
  CHECK_THAT(w.error_of("rfq.cancel_all{ venue = 'okx', where = function() return true end, x = 1 }"),
             Contains("unit.lua:1: rfq.cancel_all: unknown option 'x'"));
  CHECK_THAT(w.error_of("rfq.cancel_all{ venue = 'okx', where = { ids = { 'abc' } } }"),
             Contains("unit.lua:1: rfq.cancel_all: where.ids: bad argument 'id'"));
  CHECK_THAT(w.error_of("rfq.cancel_all{ venue = 'okx', spread_id = 'BTC-USDT_BTC-USDT-SWAP' }"),
             Contains("rfq.cancel_all: bad argument 'spread_id' (only for venue okx_spread)"));
  CHECK_THAT(w.error_of("rfq.cancel_all{ where = { client_id_prefix = 'd' } }"),
             Contains("rfq.cancel_all: bad argument 'where' (needs a venue)"));
  CHECK_THAT(w.error_of("rfq.budget('kraken')"),
             Contains("rfq.budget: bad argument 'venue' (unknown or unconfigured venue 'kraken')"));
  CHECK(w.engine.metrics().get("rfq.cancel.sent") == 0);
  CHECK(w.engine.in_flight() == 0);
}

TEST_CASE("rfq module: the main stack stays balanced and tasks survive a forced GC",
          "[lua][rfq]") {
  VirtualWorld w;
  auto main = w.load(R"lua(
    local results = {}
    for i = 1, 20 do
      local t = rfq.spawn(function() rfq.sleep(i * 10); return i end)
      results[i] = t
    end
    collectgarbage("collect")
    local sum = 0
    for _, t in ipairs(results) do local ok, v = t:wait(); sum = sum + v end
    total = sum
  )lua");
  for (int i = 0; i < 5; ++i) {
    lua_gc(w.L(), LUA_GCCOLLECT);
    w.clock.advance(Millis(50));
  }
  REQUIRE(main->ok());
  CHECK(w.integer("total") == 210);
  CHECK(lua_gettop(w.L()) == 0);
  CHECK(w.policy->vm().live_tasks() == 0);
}

TEST_CASE("require loads Lua modules from the policy's folder, once, in the calling task",
          "[lua][rfq][require]") {
  const auto dir = std::filesystem::temp_directory_path() / "rfqd_require_test";
  std::filesystem::create_directories(dir / "util");
  std::ofstream(dir / "util" / "pick.lua") << "loads = (loads or 0) + 1\n"
                                              "return { first = function(t) return t[1] end }\n";
  std::ofstream(dir / "sleepy.lua") << "rfq.sleep(1)\nreturn {}\n";
  std::ofstream(dir / "policy.lua")
      << "local pick = require 'util.pick'\n"
         "local again = require 'util.pick'\n"
         "same = pick == again\n"
         "first = pick.first{ 7, 8 }\n"
         "local ok, err = pcall(require, 'sleepy')\n"
         "sleepy = err\n"
         "local ok2, err2 = pcall(require, 'nope')\n"
         "missing = err2\n";
  VirtualWorld w;
  lua::PolicySpec spec;
  spec.script = (dir / "policy.lua").string();
  w.policy = std::make_unique<lua::PolicyHost>(w.engine, spec);
  std::string error;
  REQUIRE(w.policy->load(error));
  w.policy->start();
  w.clock.poll();
  auto main = w.policy->main_task();
  INFO(main->error());
  REQUIRE(main->ok());
  CHECK(w.integer("loads") == 1);
  CHECK(w.integer("first") == 7);
  lua_getglobal(w.L(), "same");
  CHECK(lua_toboolean(w.L(), -1));
  lua_pop(w.L(), 1);
  CHECK_THAT(w.string("sleepy"), Catch::Contains("rfq.sleep: cannot yield here"));
  CHECK_THAT(w.string("missing"), Catch::Contains("module 'nope' not found"));
  CHECK(lua_gettop(w.L()) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a yielding call where Lua cannot yield raises and arms nothing", "[lua][rfq][misuse]") {
  VirtualWorld w;
  auto main = w.load(R"lua(
    local ok, err = pcall(table.sort, { 3, 1, 2 }, function(a, b) rfq.sleep(50); return a < b end)
    refused = err
    local t = rfq.spawn(function() rfq.sleep(500); return "late" end)
    local ok2, v = t:wait()
    waited = v
    elapsed = rfq.now() - start
  )lua");
  lua_pushinteger(w.L(), kStartMs);
  lua_setglobal(w.L(), "start");
  w.clock.advance(Millis(100));
  CHECK(main->state() == lua::TaskState::Suspended);  // a stray 50 ms wake-up would end it here
  w.clock.advance(Millis(400));
  REQUIRE(main->ok());
  CHECK_THAT(w.string("refused"), Catch::Contains("rfq.sleep: cannot yield here (inside a C function"));
  CHECK(w.string("waited") == "late");
  CHECK(w.integer("elapsed") == 500);
}
