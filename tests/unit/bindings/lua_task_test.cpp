// LuaTask and LuaVm: the suspended-coroutine machinery, tested without any RFQ code.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "bindings/lua/lua_task.hpp"
#include "bindings/lua/lua_vm.hpp"
#include "bindings/lua/trampoline.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

using namespace rfq;
using namespace rfq::lua;

namespace {

// What the test-only yielding function parked, so the test can complete it later.
using Parked = Ticket;
std::vector<Parked> g_parked;
int g_destroyed = 0;  // RAII probes destroyed

struct Probe {
  ~Probe() { ++g_destroyed; }
};

// v = wait_op() -- parks the task; the test delivers the value
CallResult l_wait_op(lua_State* L) {
  LuaTask* task = LuaTask::current(L);
  if (task == nullptr) throw LuaMisuse("wait_op: not in a task");
  g_parked.push_back(task->suspend("wait_op"));
  return CallResult::suspend();
}

// check_int(x) -- raises a misuse error through the trampoline when x is not an integer
CallResult l_check_int(lua_State* L) {
  Probe probe;  // a C++ local that must be destroyed before the raise
  std::int64_t v = check_integer(L, 1, "check_int", "x");
  lua_pushinteger(L, v * 2);
  return CallResult::values(1);
}

struct World {
  boost::asio::io_context io;
  VirtualClock clock{io, 1'700'000'000'000};
  std::unique_ptr<LuaVm> vm;
  std::vector<std::pair<std::string, std::string>> errors;

  explicit World(std::size_t memory_limit = 64u << 20) {
    g_parked.clear();
    VmOptions o;
    o.name = "test";
    o.memory_limit = memory_limit;
    vm = std::make_unique<LuaVm>(io, clock, o);
    vm->set_error_sink([this](const std::string& task, const std::string& msg) {
      errors.emplace_back(task, msg);
    });
    lua_State* L = vm->state();
    lua_pushcfunction(L, &trampoline<l_wait_op>);
    lua_setglobal(L, "wait_op");
    lua_pushcfunction(L, &trampoline<l_check_int>);
    lua_setglobal(L, "check_int");
  }

  std::shared_ptr<LuaTask> spawn(const std::string& source, const std::string& chunk = "=test") {
    std::string error;
    REQUIRE(vm->load_string(source, chunk, error));
    return vm->spawn(0, "task " + chunk);
  }

  lua_Integer global_int(const char* name) {
    lua_State* L = vm->state();
    lua_getglobal(L, name);
    lua_Integer v = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
  }

  bool global_is_nil(const char* name) {
    lua_State* L = vm->state();
    bool nil = lua_getglobal(L, name) == LUA_TNIL;
    lua_pop(L, 1);
    return nil;
  }
};

LuaTask::Pusher push_int(lua_Integer v, bool* called = nullptr) {
  return [v, called](lua_State* co) {
    if (called != nullptr) *called = true;
    lua_pushinteger(co, v);
    return 1;
  };
}

}  // namespace

TEST_CASE("lua task: resumes only after its completion is posted and the loop runs",
          "[lua][task]") {
  World w;
  auto task = w.spawn("local v = wait_op(); result = v + 1");
  CHECK(task->state() == TaskState::NotStarted);
  w.clock.poll();
  REQUIRE(task->state() == TaskState::Suspended);
  CHECK(std::string(task->waiting_for()) == "wait_op");
  REQUIRE(g_parked.size() == 1);

  LuaTask::deliver(g_parked[0], push_int(41));
  CHECK(task->state() == TaskState::Suspended);  // posted, not run inline
  CHECK(w.global_is_nil("result"));
  w.clock.poll();
  CHECK(task->state() == TaskState::Finished);
  CHECK(task->ok());
  CHECK(w.global_int("result") == 42);
  CHECK(lua_gettop(w.vm->state()) == 0);
}

TEST_CASE("lua task: a script error ends only its own task, with a traceback naming file:line",
          "[lua][task]") {
  World w;
  auto failing = w.spawn("local function inner()\n  local x = nil\n  return x.field\nend\ninner()\n",
                         "@policies/broken.lua");
  auto healthy = w.spawn("local v = wait_op(); survived = v");
  w.clock.poll();

  CHECK(failing->state() == TaskState::Finished);
  CHECK_FALSE(failing->ok());
  REQUIRE(w.errors.size() == 1);
  CHECK_THAT(w.errors[0].second, Catch::Contains("policies/broken.lua:3:"));
  CHECK_THAT(w.errors[0].second, Catch::Contains("stack traceback"));
  CHECK_THAT(w.errors[0].second, Catch::Contains("policies/broken.lua:5:"));  // the caller frame
  CHECK(w.vm->errors() == 1);

  REQUIRE(healthy->state() == TaskState::Suspended);
  LuaTask::deliver(g_parked.at(0), push_int(7));
  w.clock.poll();
  CHECK(healthy->ok());
  CHECK(w.global_int("survived") == 7);
  CHECK(w.vm->live_tasks() == 0);
}

TEST_CASE("lua task: misuse raised through the trampoline names the function and argument",
          "[lua][task]") {
  World w;
  g_destroyed = 0;
  auto task = w.spawn("ok_value = check_int(21)\ncheck_int('x')\n", "@p.lua");
  w.clock.poll();
  CHECK(g_destroyed == 2);  // the raising call's C++ local was destroyed too
  CHECK(w.global_int("ok_value") == 42);
  REQUIRE_FALSE(task->ok());
  CHECK_THAT(task->error(), Catch::Contains("p.lua:2: check_int: bad argument 'x' "
                                            "(integer expected, got string)"));
}

TEST_CASE("lua task: a bare coroutine.yield at task level is an error", "[lua][task]") {
  World w;
  auto task = w.spawn("coroutine.yield(1)\nnever = 1\n");
  w.clock.poll();
  REQUIRE(task->state() == TaskState::Finished);
  CHECK_FALSE(task->ok());
  CHECK_THAT(task->error(), Catch::Contains("coroutine.yield at task level is not allowed"));
  CHECK(w.global_is_nil("never"));

  SECTION("but coroutines the script makes for itself still work") {
    auto gen = w.spawn(
        "local co = coroutine.wrap(function() coroutine.yield(5); coroutine.yield(6) end)\n"
        "sum = co() + co()\n");
    w.clock.poll();
    CHECK(gen->ok());
    CHECK(w.global_int("sum") == 11);
  }
}

TEST_CASE("lua task: a completion that arrives after its VM is gone is dropped safely",
          "[lua][task]") {
  boost::asio::io_context io;
  VirtualClock clock(io, 0);
  bool called = false;
  Parked parked;
  {
    g_parked.clear();
    LuaVm vm(io, clock, VmOptions{});
    lua_pushcfunction(vm.state(), &trampoline<l_wait_op>);
    lua_setglobal(vm.state(), "wait_op");
    std::string error;
    REQUIRE(vm.load_string("wait_op()", "=t", error));
    auto task = vm.spawn(0, "t");
    clock.poll();
    REQUIRE(task->state() == TaskState::Suspended);
    parked = g_parked.at(0);

    SECTION("delivered (posted) before the VM closes, run after") {
      LuaTask::deliver(parked, push_int(1, &called));
    }
    SECTION("delivered after the VM closed") {}
  }
  CHECK(parked.task.expired());
  LuaTask::deliver(parked, push_int(1, &called));
  clock.poll();
  CHECK_FALSE(called);
}

TEST_CASE("lua task: a completion from an older generation is not delivered", "[lua][task]") {
  World w;
  auto task = w.spawn("wait_op(); done = 1");
  w.clock.poll();
  bool called = false;
  Ticket stale = g_parked.at(0);
  stale.generation += 1;
  LuaTask::deliver(stale, push_int(1, &called));
  w.clock.poll();
  CHECK_FALSE(called);
  CHECK(task->state() == TaskState::Suspended);
}

TEST_CASE("lua task: a suspended task survives forced garbage collection", "[lua][task]") {
  World w;
  auto task = w.spawn(
      "local t = {}\nfor i = 1, 1000 do t[i] = {i} end\n"
      "local v = wait_op()\nafter_gc = #t + v\n");
  w.clock.poll();
  REQUIRE(task->state() == TaskState::Suspended);
  std::weak_ptr<LuaTask> weak = task;
  task.reset();  // only the VM keeps it now
  for (int i = 0; i < 3; ++i) lua_gc(w.vm->state(), LUA_GCCOLLECT);
  REQUIRE_FALSE(weak.expired());
  LuaTask::deliver(g_parked.at(0), push_int(5));
  w.clock.poll();
  lua_gc(w.vm->state(), LUA_GCCOLLECT);
  CHECK(w.global_int("after_gc") == 1005);
  CHECK(weak.expired());  // finished and released
  CHECK(lua_gettop(w.vm->state()) == 0);
}

TEST_CASE("lua task: results of a finished task can be pushed to another", "[lua][task]") {
  World w;
  auto task = w.spawn("return 1, 'two', 3");
  w.clock.poll();
  REQUIRE(task->ok());
  lua_State* L = w.vm->state();
  int n = task->push_outcome(L);
  REQUIRE(n == 4);
  CHECK(lua_toboolean(L, -4));
  CHECK(lua_tointeger(L, -3) == 1);
  CHECK(std::string(lua_tostring(L, -2)) == "two");
  CHECK(lua_tointeger(L, -1) == 3);
  lua_pop(L, n);
  CHECK(lua_gettop(L) == 0);
}

TEST_CASE("lua vm: the sandbox has no file, process or binary-chunk access", "[lua][sandbox]") {
  World w;
  auto task = w.spawn(
      "no_io = io == nil\n"
      "no_exec = os.execute == nil and os.exit == nil and os.getenv == nil\n"
      "no_files = dofile == nil and loadfile == nil\n"
      "local ok, err = pcall(function() return load(string.dump(function() end)) end)\n"
      "local f, lerr = load(string.dump(function() end))\n"
      "binary_refused = f == nil and lerr:find('binary') ~= nil\n"
      "text_ok = load('return 3')() == 3\n"
      "local rok, rerr = pcall(require, 'os')\n"
      "require_refused = not rok and rerr:find('not found') ~= nil\n");
  w.clock.poll();
  REQUIRE(task->ok());
  for (const char* name : {"no_io", "no_exec", "no_files", "binary_refused", "text_ok",
                           "require_refused"}) {
    INFO(name);
    lua_getglobal(w.vm->state(), name);
    CHECK(lua_toboolean(w.vm->state(), -1));
    lua_pop(w.vm->state(), 1);
  }
}

TEST_CASE("lua vm: a memory bomb fails its task and the VM keeps working", "[lua][sandbox]") {
  World w(8u << 20);
  auto bomb = w.spawn("local s = string.rep('x', 64 * 1024 * 1024)");
  w.clock.poll();
  REQUIRE(bomb->state() == TaskState::Finished);
  CHECK_FALSE(bomb->ok());
  CHECK_THAT(bomb->error(), Catch::Contains("not enough memory"));
  auto after = w.spawn("fine = 1");
  w.clock.poll();
  CHECK(after->ok());
  CHECK(w.global_int("fine") == 1);
  CHECK(w.vm->memory_used() < (8u << 20));
}

TEST_CASE("lua vm: compile errors report chunk:line and leave the stack alone", "[lua][vm]") {
  World w;
  std::string error;
  CHECK_FALSE(w.vm->load_string("local x = = 1", "@bad.lua", error));
  CHECK_THAT(error, Catch::StartsWith("bad.lua:1:"));
  CHECK(lua_gettop(w.vm->state()) == 0);
  CHECK_FALSE(w.vm->load_file("/nonexistent/policy.lua", error));
  CHECK_THAT(error, Catch::Contains("cannot open"));
}

TEST_CASE("lua task: a completion for an operation the task already left is dropped",
          "[lua][task]") {
  World w;
  auto task = w.spawn("a = wait_op(); b = wait_op(); done = 1");
  w.clock.poll();
  REQUIRE(g_parked.size() == 1);
  const Ticket first = g_parked[0];
  LuaTask::deliver(first, push_int(1));
  w.clock.poll();
  REQUIRE(g_parked.size() == 2);  // now parked on the second wait_op
  bool called = false;
  LuaTask::deliver(first, push_int(99, &called));  // a late duplicate of the first answer
  w.clock.poll();
  CHECK_FALSE(called);
  CHECK(task->state() == TaskState::Suspended);
  LuaTask::deliver(g_parked[1], push_int(2));
  w.clock.poll();
  CHECK(task->ok());
  CHECK(w.global_int("a") == 1);
  CHECK(w.global_int("b") == 2);
}

TEST_CASE("lua task: a script cannot resume or close another task's coroutine", "[lua][task]") {
  World w;
  auto victim = w.spawn("victim = coroutine.running()\nwoke = wait_op()\n");
  w.clock.poll();
  REQUIRE(victim->state() == TaskState::Suspended);
  auto attacker = w.spawn(
      "local ok1, e1 = pcall(coroutine.resume, victim, 'fake')\n"
      "local ok2, e2 = pcall(coroutine.close, victim)\n"
      "refused = (not ok1 and e1:find('cannot resume a policy task') ~= nil) and\n"
      "          (not ok2 and e2:find('cannot close a policy task') ~= nil)\n");
  w.clock.poll();
  REQUIRE(attacker->ok());
  lua_getglobal(w.vm->state(), "refused");
  CHECK(lua_toboolean(w.vm->state(), -1));
  lua_pop(w.vm->state(), 1);
  CHECK(victim->state() == TaskState::Suspended);
  LuaTask::deliver(g_parked.at(0), push_int(5));
  w.clock.poll();
  CHECK(w.global_int("woke") == 5);
}

TEST_CASE("lua task: an error object whose __tostring misbehaves is reported, not fatal",
          "[lua][task]") {
  World w;
  auto task = w.spawn(
      "tostring = nil\n"
      "error(setmetatable({}, { __tostring = function() error('nested') end }))\n");
  w.clock.poll();
  REQUIRE(task->state() == TaskState::Finished);
  CHECK_FALSE(task->ok());
  CHECK_FALSE(task->error().empty());
  auto after = w.spawn("alive = 1");
  w.clock.poll();
  CHECK(w.global_int("alive") == 1);
}

TEST_CASE("lua task: many results move to a waiter without overflowing its stack",
          "[lua][task]") {
  World w;
  auto producer = w.spawn("return table.unpack((function() local t = {} "
                          "for i = 1, 300 do t[i] = i end return t end)())");
  w.clock.poll();
  REQUIRE(producer->ok());
  lua_State* L = w.vm->state();
  const int n = producer->push_outcome(L);
  CHECK(n == 301);
  CHECK(lua_tointeger(L, -1) == 300);
  lua_settop(L, 0);
}
