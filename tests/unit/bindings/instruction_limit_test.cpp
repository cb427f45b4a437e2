// VmOptions::instruction_limit: a task that runs more than the limit in one resume is ended
// with "instruction limit exceeded" at its position; pcall cannot swallow it; each resume has a
// fresh budget; the VM and its other tasks carry on; 0 means no limit. Mostly on a bare LuaVm
// with a test-only yielding function (as in lua_task_test.cpp), once through a policy and
// rfq.sleep.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "bindings/lua/lua_task.hpp"
#include "bindings/lua/lua_vm.hpp"
#include "bindings/lua/trampoline.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lua.h>
}

using namespace rfq;
using namespace rfq::lua;

namespace {

constexpr std::int64_t kStartMs = 1'700'000'000'000;

std::vector<Ticket> g_waiting;  // tasks parked by park()

// park() -- parks the task until the test resumes it
CallResult l_park(lua_State* L) {
  LuaTask* task = LuaTask::current(L);
  if (task == nullptr) throw LuaMisuse("park: not in a task");
  g_waiting.push_back(task->suspend("park"));
  return CallResult::suspend();
}

struct LimitedVm {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  std::unique_ptr<LuaVm> vm;
  std::vector<std::string> errors;

  explicit LimitedVm(std::uint64_t limit) {
    g_waiting.clear();
    VmOptions o;
    o.name = "limited";
    o.instruction_limit = limit;
    vm = std::make_unique<LuaVm>(io, clock, o);
    vm->set_error_sink([this](const std::string&, const std::string& msg) {
      errors.push_back(msg);
    });
    lua_pushcfunction(vm->state(), &trampoline<l_park>);
    lua_setglobal(vm->state(), "park");
  }

  std::shared_ptr<LuaTask> run(const std::string& source, const std::string& chunk = "=limited") {
    std::string error;
    REQUIRE(vm->load_string(source, chunk, error));
    auto task = vm->spawn(0, chunk);
    clock.poll();
    return task;
  }

  // Resumes every parked task once (with no values) and runs what follows.
  void resume_parked() {
    auto parked = std::exchange(g_waiting, {});
    for (const auto& t : parked) LuaTask::deliver(t, [](lua_State*) { return 0; });
    clock.poll();
  }

  bool global_is_nil(const char* name) {
    const bool nil = lua_getglobal(vm->state(), name) == LUA_TNIL;
    lua_pop(vm->state(), 1);
    return nil;
  }
  lua_Integer global_int(const char* name) {
    lua_getglobal(vm->state(), name);
    const lua_Integer v = lua_tointeger(vm->state(), -1);
    lua_pop(vm->state(), 1);
    return v;
  }
};

// A numeric for loop with an empty body costs one instruction (FORLOOP) per iteration.
std::string spin(long n) { return "for _ = 1, " + std::to_string(n) + " do end\n"; }

}  // namespace

TEST_CASE("instruction limit: an endless loop ends its task with the error and its position",
          "[lua][limit]") {
  LimitedVm w(10000);
  auto task = w.run("local x = 0\nrunaway_started = 1\nwhile true do x = x + 1 end\n",
                    "@policies/runaway.lua");
  REQUIRE(task->state() == TaskState::Finished);
  CHECK_FALSE(task->ok());
  CHECK_THAT(task->error(), Catch::Contains("policies/runaway.lua:3: instruction limit exceeded "
                                            "(10000 per resume)"));
  CHECK(w.global_int("runaway_started") == 1);
  REQUIRE(w.errors.size() == 1);  // reported like any task error
  CHECK_THAT(w.errors[0], Catch::Contains("instruction limit exceeded"));
  CHECK(w.vm->errors() == 1);
  CHECK(w.vm->live_tasks() == 0);
  CHECK(lua_gettop(w.vm->state()) == 0);
}

namespace {

// Runs `source`, which wraps an endless loop in some error-catching construct and then sets
// `swallowed`: the task must end with the limit's error before it gets there.
void expect_not_swallowed(const std::string& source) {
  LimitedVm w(10000);
  auto task = w.run(source, "@swallow.lua");
  REQUIRE(task->state() == TaskState::Finished);
  CHECK_FALSE(task->ok());
  CHECK_THAT(task->error(), Catch::Contains("instruction limit exceeded"));
  CHECK(w.global_is_nil("swallowed"));
  CHECK(w.global_int("tries") <= 1);  // a retry loop never came round again
}

}  // namespace

TEST_CASE("instruction limit: pcall around the runaway cannot swallow it", "[lua][limit]") {
  SECTION("pcall") {
    expect_not_swallowed(
        "local ok, err = pcall(function() while true do end end)\n"
        "swallowed = 1\n");
  }
  SECTION("pcall in a loop, retrying") {
    expect_not_swallowed(
        "for i = 1, 100 do\n"
        "  local ok = pcall(function() while true do end end)\n"
        "  tries = i\n"
        "end\n"
        "swallowed = 1\n");
  }
  SECTION("xpcall with a message handler") {
    expect_not_swallowed(
        "xpcall(function() while true do end end, function(e) return 'handled' end)\n"
        "swallowed = 1\n");
  }
  SECTION("pcall around pcall") {
    expect_not_swallowed(
        "pcall(pcall, function() while true do end end)\n"
        "swallowed = 1\n");
  }
}

// A coroutine the task creates inherits the count hook and keeps its own count: its
// instructions must still count toward the task's resume, and once the runaway inside it is
// stopped, the task that caught the error through pcall or coroutine.resume must stop too.
TEST_CASE("instruction limit: a runaway inside a coroutine cannot be swallowed either",
          "[lua][limit]") {
  SECTION("pcall(coroutine.wrap(runaway))") {
    expect_not_swallowed(
        "local ok = pcall(coroutine.wrap(function() while true do end end))\n"
        "swallowed = 1\n");
  }
  SECTION("coroutine.resume(coroutine.create(runaway))") {
    expect_not_swallowed(
        "local ok = coroutine.resume(coroutine.create(function() while true do end end))\n"
        "swallowed = 1\n");
  }
}

TEST_CASE("instruction limit: each resume of a task has a fresh budget", "[lua][limit]") {
  constexpr long kLimit = 100000;
  LimitedVm w(kLimit);

  SECTION("0.6 of the limit before a yield and 0.6 after it pass") {
    auto task = w.run(spin(kLimit * 6 / 10) + "park()\n" + spin(kLimit * 6 / 10) + "done = 1\n");
    REQUIRE(task->state() == TaskState::Suspended);
    w.resume_parked();
    REQUIRE(task->state() == TaskState::Finished);
    CHECK(task->ok());
    CHECK(w.global_int("done") == 1);
  }
  SECTION("many resumes, each under the limit, add up to far more than it") {
    auto task = w.run("for round = 1, 20 do\n" + spin(kLimit / 2) + "park()\nend\ndone = 1\n");
    for (int i = 0; i < 20; ++i) w.resume_parked();
    REQUIRE(task->state() == TaskState::Finished);
    CHECK(task->ok());
    CHECK(w.global_int("done") == 1);
  }
  SECTION("the same 1.2 of the limit without the yield is stopped") {
    auto task = w.run(spin(kLimit * 6 / 10) + spin(kLimit * 6 / 10) + "done = 1\n");
    REQUIRE(task->state() == TaskState::Finished);
    CHECK_FALSE(task->ok());
    CHECK_THAT(task->error(), Catch::Contains("instruction limit exceeded"));
    CHECK(w.global_is_nil("done"));
  }
}

// A coroutine the script keeps (a generator) runs a little on each resume of its task. The
// budget is "per resume of a task"; the generator's instructions must not add up across them.
TEST_CASE("instruction limit: a generator coroutine resumed a little per task resume is not "
          "stopped",
          "[lua][limit]") {
  constexpr long kLimit = 10000;
  LimitedVm w(kLimit);
  auto task = w.run(
      "local gen = coroutine.wrap(function()\n"
      "  while true do\n" +
      spin(kLimit / 10) +
      "    coroutine.yield()\n"
      "  end\n"
      "end)\n"
      "for round = 1, 30 do gen(); rounds = round; park() end\n"
      "done = 1\n");
  for (int i = 0; i < 30; ++i) w.resume_parked();
  REQUIRE(task->state() == TaskState::Finished);
  CHECK(task->ok());
  CHECK(task->error() == "");
  CHECK(w.global_int("rounds") == 30);
}

TEST_CASE("instruction limit: other tasks of the VM keep running after one was stopped",
          "[lua][limit]") {
  LimitedVm w(10000);
  auto waiting = w.run("park()\nwaiter_done = 1\n", "=waiter");
  auto runaway = w.run("while true do end\n", "=runaway");
  REQUIRE(runaway->state() == TaskState::Finished);
  CHECK_FALSE(runaway->ok());
  REQUIRE(waiting->state() == TaskState::Suspended);

  w.resume_parked();
  CHECK(waiting->ok());
  CHECK(w.global_int("waiter_done") == 1);

  auto later = w.run(spin(5000) + "later_done = 1\n", "=later");
  CHECK(later->ok());
  CHECK(w.global_int("later_done") == 1);
  CHECK(w.errors.size() == 1);
  CHECK(lua_gettop(w.vm->state()) == 0);
}

TEST_CASE("instruction limit: 0 means no limit", "[lua][limit]") {
  const std::string source = spin(3'000'000) + "done = 1\n";
  SECTION("limit 0: three million instructions in one resume run to the end") {
    LimitedVm w(0);
    auto task = w.run(source);
    CHECK(task->ok());
    CHECK(w.global_int("done") == 1);
  }
  SECTION("limit 1,000,000: the same task is stopped") {
    LimitedVm w(1'000'000);
    auto task = w.run(source);
    CHECK_FALSE(task->ok());
    CHECK_THAT(task->error(), Catch::Contains("instruction limit exceeded (1000000 per resume)"));
  }
}

// ---- through a policy: PolicySpec::instruction_limit and rfq.sleep --------------------------

TEST_CASE("instruction limit: a policy task gets a fresh budget after each rfq.sleep",
          "[lua][limit][rfq]") {
  boost::asio::io_context io;
  VirtualClock clock(io, kStartMs);
  Engine engine(io, clock);
  PolicySpec spec;
  spec.name = "limited";
  spec.instruction_limit = 50000;
  PolicyHost policy(engine, spec);
  std::vector<std::string> observed;
  policy.set_error_observer(
      [&](const std::string&, const std::string& message) { observed.push_back(message); });
  std::string error;
  REQUIRE(policy.load_source("for i = 1, 5 do\n" + spin(40000) +
                                 "  rfq.sleep(100)\nend\n"
                                 "rfq.spawn(function() while true do end end)\n"
                                 "rfq.sleep(10)\n"
                                 "survived = rfq.now()\n",
                             "@policy.lua", error));
  policy.start();
  clock.advance(Millis(1000));
  auto main = policy.main_task();
  REQUIRE(main->state() == TaskState::Finished);
  CHECK(main->ok());
  lua_getglobal(policy.vm().state(), "survived");
  CHECK(lua_tointeger(policy.vm().state(), -1) == kStartMs + 510);
  lua_pop(policy.vm().state(), 1);
  REQUIRE(observed.size() == 1);  // the spawned runaway, and only it
  CHECK_THAT(observed[0], Catch::Contains("policy.lua:5: instruction limit exceeded"));
  CHECK(engine.metrics().get("lua.errors") == 1);
}
