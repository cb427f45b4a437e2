// VmOptions::watchdog_slice (rfqd run's runaway guard): a resume that runs past its wall-clock
// slice is interrupted by the watchdog thread and ends with "ran for more than N ms without
// waiting" at its position; pcall and coroutines cannot swallow it; the VM's other tasks keep
// running; a resume within its slice leaves no hook behind. The runaway loops spin until the
// watchdog stops them: no test waits on the clock.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "bindings/lua/lua_task.hpp"
#include "bindings/lua/lua_vm.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lua.h>
}

using namespace rfq;
using namespace rfq::lua;

namespace {

constexpr std::int64_t kStartMs = 1'700'000'000'000;

struct WatchedVm {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  std::unique_ptr<LuaVm> vm;
  std::vector<std::string> errors;

  explicit WatchedVm(Millis slice) {
    VmOptions o;
    o.name = "watched";
    o.watchdog_slice = slice;
    vm = std::make_unique<LuaVm>(io, clock, o);
    vm->set_error_sink([this](const std::string&, const std::string& msg) {
      errors.push_back(msg);
    });
  }

  std::shared_ptr<LuaTask> run(const std::string& source, const std::string& chunk) {
    std::string error;
    REQUIRE(vm->load_string(source, chunk, error));
    auto task = vm->spawn(0, chunk);
    clock.poll();
    return task;
  }

  lua_Integer global_int(const char* name) {
    lua_getglobal(vm->state(), name);
    const lua_Integer v = lua_tointeger(vm->state(), -1);
    lua_pop(vm->state(), 1);
    return v;
  }
};

void expect_stopped(WatchedVm& w, const std::shared_ptr<LuaTask>& task) {
  REQUIRE(task->state() == TaskState::Finished);
  CHECK_FALSE(task->ok());
  CHECK_THAT(task->error(), Catch::Contains("ran for more than 20 ms without waiting: runaway "
                                            "code stopped"));
  CHECK(w.global_int("swallowed") == 0);
}

}  // namespace

TEST_CASE("watchdog: an endless loop is stopped with its position", "[lua][watchdog]") {
  WatchedVm w(Millis(20));
  auto task = w.run("local x = 0\nwhile true do x = x + 1 end\n", "@runaway.lua");
  expect_stopped(w, task);
  CHECK_THAT(task->error(), Catch::StartsWith("runaway.lua:2: ran for more than 20 ms"));
  REQUIRE(w.errors.size() == 1);
  CHECK(w.vm->live_tasks() == 0);
}

TEST_CASE("watchdog: neither pcall nor a coroutine swallows the stop", "[lua][watchdog]") {
  WatchedVm w(Millis(20));
  SECTION("pcall in a retry loop") {
    expect_stopped(w, w.run("for i = 1, 3 do pcall(function() while true do end end) end\n"
                            "swallowed = 1\n",
                            "=pcall"));
  }
  SECTION("coroutine.wrap inside pcall") {
    expect_stopped(w, w.run("pcall(coroutine.wrap(function() while true do end end))\n"
                            "swallowed = 1\n",
                            "=wrap"));
  }
  SECTION("coroutine.resume") {
    expect_stopped(w, w.run("coroutine.resume(coroutine.create(function() while true do end end))\n"
                            "swallowed = 1\n",
                            "=resume"));
  }
}

TEST_CASE("watchdog: the VM's other tasks keep running after one was stopped", "[lua][watchdog]") {
  WatchedVm w(Millis(20));
  auto runaway = w.run("while true do end", "=runaway");
  expect_stopped(w, runaway);
  auto next = w.run("after = 41 + 1", "=next");
  REQUIRE(next->state() == TaskState::Finished);
  CHECK(next->ok());
  CHECK(w.global_int("after") == 42);
}

TEST_CASE("watchdog: a resume within its slice leaves no hook behind", "[lua][watchdog]") {
  WatchedVm w(Millis(1000));
  auto task = w.run("local co = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)\n"
                    "total = co() + co() + co()\n",
                    "=quick");
  REQUIRE(task->state() == TaskState::Finished);
  CHECK(task->ok());
  CHECK(w.global_int("total") == 6);
  CHECK(lua_gethook(task->thread()) == nullptr);
  CHECK(lua_gethook(w.vm->state()) == nullptr);
}

TEST_CASE("watchdog: coroutine.wrap keeps Lua's own behaviour", "[lua][watchdog]") {
  WatchedVm w(Millis(1000));
  auto task = w.run("local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)\n"
                    "first = co(1)\n"
                    "second = co(5)\n"
                    "local ok, err = pcall(co)\n"
                    "dead = (not ok and err:find('cannot resume dead coroutine')) and 1 or 0\n"
                    "local bad = coroutine.wrap(function() error('boom') end)\n"
                    "local ok2, err2 = pcall(bad)\n"
                    "positioned = (not ok2 and err2:find('boom')) and 1 or 0\n",
                    "=wrap");
  REQUIRE(task->state() == TaskState::Finished);
  INFO(task->error());
  CHECK(task->ok());
  CHECK(w.global_int("first") == 2);
  CHECK(w.global_int("second") == 10);
  CHECK(w.global_int("dead") != 0);
  CHECK(w.global_int("positioned") != 0);
}

TEST_CASE("watchdog: under a policy, a runaway handler is stopped and the others keep running",
          "[lua][watchdog]") {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  Engine engine{io, clock};
  PolicySpec spec;
  spec.name = "watched";
  spec.watchdog_slice = Millis(20);
  spec.load_deadline = Millis(500);
  PolicyHost policy(engine, spec);
  std::vector<std::string> errors;
  policy.set_error_observer([&](const std::string& task, const std::string& message) {
    errors.push_back(task + ": " + message);
  });
  std::string error;
  REQUIRE(policy.load_source("ticks = 0\n"
                             "rfq.every(100, function() ticks = ticks + 1 end)\n"
                             "rfq.after(150, function() while true do end end)\n",
                             "@two_handlers.lua", error));
  policy.start();
  clock.poll();
  clock.advance(Millis(1000));  // the runaway spins (in real time) until the watchdog stops it
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::StartsWith("after(150) at two_handlers.lua:3: two_handlers.lua:3: "
                                          "ran for more than 20 ms without waiting"));
  lua_State* L = policy.vm().state();
  lua_getglobal(L, "ticks");
  CHECK(lua_tointeger(L, -1) == 10);  // every tick of the other handler ran
  lua_pop(L, 1);
}
