// PolicySet: hot reload in place (a task suspended in rfq.cancel is never resumed, its answer is
// still recorded, the new version runs with rfq.state carried over), refused reloads keep the
// old version serving, pause/resume hold work instead of losing it, and the files a policy
// was loaded from (its modules included) are known for inotify.

#include "bindings/modules/policy_set.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "bindings/lua/lua_vm.hpp"
#include "engine/core/audit.hpp"
#include "engine/core/log.hpp"
#include "engine/engine.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/sim_world.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace {

using namespace rfq;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("rfq-policy-set-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::trunc) << text;
    return (path / name).string();
  }
};

struct World {
  sim::SimWorld sim;
  TempDir dir;
  lua::PolicySet set{sim.engine()};
  std::optional<std::vector<lua::ReloadOutcome>> outcomes;

  World() { REQUIRE(sim.start().empty()); }

  lua::PolicySpec spec(const std::string& script) {
    lua::PolicySpec s;
    s.name = "p";
    s.script = script;
    s.instruction_limit = 1'000'000;  // deterministic runaway stop (the watchdog is wall time)
    return s;
  }

  void load(const std::string& source) {
    std::string error;
    REQUIRE(set.add(spec(dir.write("p.lua", source)), error));
    std::optional<std::vector<std::string>> failures;
    set.start([&](std::vector<std::string> f) { failures = std::move(f); });
    sim.poll();
    REQUIRE(failures.has_value());
    REQUIRE(failures->empty());
  }

  lua::ReloadOutcome reload(const std::string& source) {
    dir.write("p.lua", source);
    outcomes.reset();
    std::string error;
    REQUIRE(set.reload(
        "p", "test", [this](auto o) { outcomes = std::move(o); }, error));
    sim.poll();
    REQUIRE(outcomes.has_value());
    REQUIRE(outcomes->size() == 1);
    CHECK(lua_gettop(L()) == 0);  // the serving version's stack, after a swap or a refusal
    return outcomes->front();
  }

  lua_State* L() { return set.find("p")->vm().state(); }

  // rfq.state[key] of the live version as an integer (-1 when not a number).
  lua_Integer state(const char* key) {
    lua_getglobal(L(), "rfq");
    lua_getfield(L(), -1, "state");
    lua_getfield(L(), -1, key);
    const lua_Integer v = lua_isinteger(L(), -1) ? lua_tointeger(L(), -1) : -1;
    lua_pop(L(), 3);
    return v;
  }
  bool state_nil(const char* key) {
    lua_getglobal(L(), "rfq");
    lua_getfield(L(), -1, "state");
    const bool nil = lua_getfield(L(), -1, key) == LUA_TNIL;
    lua_pop(L(), 3);
    return nil;
  }
  std::string status(const char* key) {
    auto st = set.status("p");
    const auto& p = st["policies"].as_array().at(0).as_object();
    return boost::json::serialize(p.at(key));
  }
};

bool run(lua_State* L, const char* code) {
  if (luaL_dostring(L, code) == LUA_OK) return true;
  UNSCOPED_INFO(lua_tostring(L, -1));
  lua_pop(L, 1);
  return false;
}

std::string okx_rfq(sim::SimWorld& w) {
  sim::NewRfq r;
  r.legs = {{"BTC-USD-260327-100000-C", "buy", "25"}};
  r.expires_in_ms = 600000;
  return w.okx().add_rfq(std::move(r));
}

constexpr const char* kTicker = R"(
rfq.state.ticks = rfq.state.ticks or 0
rfq.every(100, function() rfq.state.ticks = rfq.state.ticks + 1 end)
)";

}  // namespace

TEST_CASE(
    "reload while a task is suspended in rfq.cancel: answer recorded, old task never "
    "resumes, new version runs with rfq.state",
    "[policy_set]") {
  World w;
  log::Capture logs("info");
  TempDir audit_dir;
  auto audit = std::make_unique<AuditLog>();
  std::string error;
  const std::string audit_path = (audit_dir.path / "audit.jsonl").string();
  REQUIRE(audit->open(audit_path, error));
  w.sim.engine().set_audit(std::move(audit));
  const std::string id = okx_rfq(w.sim);
  w.sim.okx().inject({"cancel-rfq", sim::FaultKind::delay, 1000, 1});

  w.load(
      "rfq.after(10, function()\n"
      "  rfq.state.sent = (rfq.state.sent or 0) + 1\n"
      "  local res, err = rfq.cancel{ venue = 'okx', id = '" +
      id +
      "' }\n"
      "  rfq.state.resumed = true\n"
      "  rfq.log.info('v1 resumed after the cancel')\n"
      "end)\n");
  const std::string v1 = w.set.find("p")->script_hash();
  w.sim.advance(milliseconds(50));
  REQUIRE(w.sim.engine().in_flight() == 1);  // suspended in rfq.cancel, the venue holds it

  auto out = w.reload(
      "rfq.state.saw_sent = rfq.state.sent\n"
      "rfq.state.v2_ticks = 0\n"
      "rfq.every(100, function() rfq.state.v2_ticks = rfq.state.v2_ticks + 1 end)\n");
  CHECK(out.ok);
  CHECK(out.error.empty());
  CHECK(out.version == w.set.find("p")->script_hash());
  CHECK(out.version != v1);
  CHECK(w.state("saw_sent") == 1);  // rfq.state carried over

  w.sim.advance(milliseconds(2000));
  // The venue answered and the engine recorded it; the old task did not resume.
  CHECK(w.sim.engine().in_flight() == 0);
  CHECK(w.sim.engine().metrics().get("rfq.cancel.ok") == 1);
  CHECK(w.sim.rfq("okx", id)->state == "canceled");
  std::ifstream in(audit_path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("\"script_hash\":\"" + v1 + "\""));
  CHECK_THAT(lines[0], Catch::Contains("\"outcome\":\"ok\""));
  for (const auto& r : logs.records()) CHECK_THAT(r.message, !Catch::Contains("v1 resumed"));
  CHECK(w.state("v2_ticks") == 20);  // the new version's timer runs
  CHECK(lua_gettop(w.L()) == 0);
  CHECK(w.set.find("p")->vm().timer_count() == 1);
  CHECK(w.status("reloads") == "1");
}

TEST_CASE("a refused reload keeps the old version serving and reports why", "[policy_set]") {
  World w;
  w.load(kTicker);
  const std::string v1 = w.set.find("p")->script_hash();
  w.sim.advance(milliseconds(500));
  CHECK(w.state("ticks") == 5);

  SECTION("syntax error") {
    auto out = w.reload("rfq.every(100, function() end");
    CHECK_FALSE(out.ok);
    CHECK_THAT(out.error, Catch::Contains("p.lua:1:"));
  }
  SECTION("runtime error in the main chunk") {
    auto out = w.reload("rfq.every(100, function() end)\nerror('no way')\n");
    CHECK_FALSE(out.ok);
    CHECK_THAT(out.error, Catch::Contains("p.lua:2: no way"));
  }
  SECTION("runaway main chunk") {
    auto out = w.reload("while true do end\n");
    CHECK_FALSE(out.ok);
    CHECK_THAT(out.error, Catch::Contains("instruction limit"));
  }
  SECTION("rfq.state that is not plain data") {
    REQUIRE(run(w.L(), "rfq.state.cb = { f = function() end }"));
    auto out = w.reload(kTicker);
    CHECK_FALSE(out.ok);
    CHECK_THAT(out.error, Catch::Contains("rfq.state.cb.f: a function is not plain data"));
  }
  CHECK(w.set.find("p")->script_hash() == v1);
  CHECK_FALSE(w.set.find("p")->paused());
  w.sim.advance(milliseconds(500));
  CHECK(w.state("ticks") == 10);  // still serving, with its own state
  CHECK(w.status("reload_failures") == "1");
  CHECK_THAT(w.status("last_reload_error"), Catch::Contains("\"message\""));
  CHECK(w.status("state") == "\"running\"");
}

TEST_CASE("pause holds work and drops events; resume runs what was held", "[policy_set]") {
  World w;
  w.load(R"(
rfq.state.ticks = 0
rfq.every(100, function() rfq.state.ticks = rfq.state.ticks + 1 end)
rfq.after(250, function() rfq.state.after_ran_at = rfq.now() end)
rfq.spawn(function() rfq.sleep(150); rfq.state.woke_at = rfq.now() end)
rfq.on("exposure", function() rfq.state.events = (rfq.state.events or 0) + 1 end)
)");
  const std::int64_t t0 = w.sim.now_ms();
  w.sim.advance(milliseconds(120));
  CHECK(w.state("ticks") == 1);
  std::string error;
  REQUIRE(w.set.pause("p", error));
  CHECK(w.status("state") == "\"paused\"");
  w.sim.advance(milliseconds(1000));
  CHECK(w.state("ticks") == 1);        // ticks skipped
  CHECK(w.state_nil("woke_at"));       // the sleeper's wake-up is held
  CHECK(w.state_nil("after_ran_at"));  // the one-shot is due, not run
  CHECK(w.set.find("p")->publish("exposure", boost::json::object{{"x", 1}}) == 0);
  CHECK(w.set.find("p")->vm().dropped_events() == 1);
  CHECK(w.set.find("p")->vm().skipped_ticks() == 10);
  CHECK(w.set.find("p")->vm().held() == 1);

  REQUIRE(w.set.resume("p", error));
  w.sim.poll();
  const std::int64_t resumed_at = w.sim.now_ms();
  CHECK(w.state("woke_at") == resumed_at);
  CHECK(w.state("after_ran_at") == resumed_at);
  CHECK(resumed_at - t0 == 1120);
  CHECK(w.state_nil("events"));  // dropped while paused, never replayed
  w.sim.advance(milliseconds(100));
  CHECK(w.state("ticks") == 2);
  CHECK(w.set.find("p")->publish("exposure", boost::json::object{{"x", 1}}) == 1);
  w.sim.poll();
  CHECK(w.state("events") == 1);
}

TEST_CASE("a reload of a paused policy loads the new version paused", "[policy_set]") {
  World w;
  w.load(kTicker);
  std::string error;
  REQUIRE(w.set.pause("", error));
  auto out = w.reload("rfq.state.ticks = 100\n" + std::string(kTicker));
  CHECK(out.ok);
  CHECK(w.set.find("p")->paused());
  CHECK(w.state("ticks") == 100);  // the main chunk ran (that is the load)
  w.sim.advance(milliseconds(500));
  CHECK(w.state("ticks") == 100);
  REQUIRE(w.set.resume("", error));
  w.sim.advance(milliseconds(500));
  CHECK(w.state("ticks") == 105);
}

TEST_CASE("a refused reload of a paused policy leaves it paused", "[policy_set]") {
  World w;
  w.load(kTicker);
  std::string error;
  REQUIRE(w.set.pause("p", error));
  CHECK_FALSE(w.reload("error('bad')").ok);
  CHECK(w.set.find("p")->paused());
  w.sim.advance(milliseconds(500));
  CHECK(w.state("ticks") == 0);
}

TEST_CASE("rfq.state carries plain data exactly", "[policy_set]") {
  World w;
  w.load(R"(
local shared = { 1, 2 }
rfq.state.int = 7
rfq.state.float = 7.5
rfq.state.text = "a\0b"
rfq.state.flags = { [true] = "yes", [3] = "three", [2.5] = "x" }
rfq.state.a, rfq.state.b = shared, shared
rfq.state.self = rfq.state
)");
  auto out = w.reload(R"(
local s = rfq.state
rfq.state.checks = (math.type(s.int) == "integer" and s.int == 7
  and math.type(s.float) == "float" and s.float == 7.5
  and s.text == "a\0b" and s.flags[true] == "yes" and s.flags[3] == "three"
  and s.flags[2.5] == "x" and s.a == s.b and s.a[2] == 2 and s.self == s) and 1 or 0
)");
  CHECK(out.ok);
  CHECK(w.state("checks") == 1);
}

TEST_CASE(
    "a second reload asked during one runs after it; reload of every policy; unknown "
    "names are refused",
    "[policy_set]") {
  World w;
  w.load(kTicker);
  w.dir.write("p.lua", "rfq.state.version = 2\n" + std::string(kTicker));
  int calls = 0;
  std::vector<lua::ReloadOutcome> all;
  std::string error;
  REQUIRE(w.set.reload(
      "p", "first",
      [&](auto o) {
        ++calls;
        all.insert(all.end(), o.begin(), o.end());
      },
      error));
  REQUIRE(w.set.reload(
      "", "second",
      [&](auto o) {
        ++calls;
        all.insert(all.end(), o.begin(), o.end());
      },
      error));
  CHECK(w.status("state") == "\"reloading\"");
  w.sim.poll();
  CHECK(calls == 2);
  REQUIRE(all.size() == 2);
  CHECK(all[0].ok);
  CHECK(all[1].ok);
  CHECK(w.status("reloads") == "2");
  CHECK(w.state("version") == 2);
  CHECK_FALSE(w.set.reload("nope", "x", {}, error));
  CHECK(error == "no policy named 'nope'");
  CHECK_FALSE(w.set.pause("nope", error));
  CHECK_FALSE(w.set.resume("nope", error));
}

TEST_CASE("files: the policy and the modules it requires; a new require is picked up",
          "[policy_set]") {
  World w;
  w.dir.write("helper_one.lua", "return { n = 1 }");
  w.dir.write("helper_two.lua", "return { n = 2 }");
  int changed = 0;
  w.set.on_files_changed([&] { ++changed; });
  w.load("local h = require 'helper_one'\nrfq.state.n = h.n\n");
  auto names = [&] {
    std::vector<std::string> out;
    for (const auto& [path, policies] : w.set.files()) {
      out.push_back(fs::path(path).filename().string());
      CHECK(policies == std::vector<std::string>{"p"});
    }
    return out;
  };
  CHECK(names() == std::vector<std::string>{"helper_one.lua", "p.lua"});
  const int before = changed;
  auto out = w.reload("local h = require 'helper_two'\nrfq.state.n = h.n\n");
  CHECK(out.ok);
  CHECK(w.state("n") == 2);
  CHECK(names() == std::vector<std::string>{"helper_two.lua", "p.lua"});
  CHECK(changed == before + 1);
  // A failed attempt's module stays watched, so fixing it reloads.
  w.dir.write("broken.lua", "return {");
  CHECK_FALSE(w.reload("require 'broken'").ok);
  CHECK(names() == std::vector<std::string>{"broken.lua", "helper_two.lua", "p.lua"});
}

TEST_CASE("policy names are unique in a set", "[policy_set]") {
  World w;
  std::string error;
  REQUIRE(w.set.add(w.spec(w.dir.write("a.lua", "")), error));
  CHECK_FALSE(w.set.add(w.spec(w.dir.write("b.lua", "")), error));
  CHECK_THAT(error, Catch::Contains("a policy named 'p' is already loaded"));
}

TEST_CASE("no reload before start: the venues have not loaded their books", "[policy_set]") {
  World w;
  std::string error;
  REQUIRE(w.set.add(w.spec(w.dir.write("p.lua", kTicker)), error));
  bool called = false;
  CHECK_FALSE(w.set.reload(
      "", "SIGHUP", [&](auto) { called = true; }, error));
  CHECK_THAT(error, Catch::Contains("not started yet"));
  w.sim.poll();
  CHECK_FALSE(called);
  CHECK(w.set.find("p")->main_task() == nullptr);  // its main chunk has not run
}

TEST_CASE("a pause asked for during a reload applies to the new version", "[policy_set]") {
  World w;
  w.load(kTicker);
  w.dir.write("p.lua", "rfq.state.ticks = 50\n" + std::string(kTicker));
  std::string error;
  std::optional<std::vector<lua::ReloadOutcome>> out;
  REQUIRE(w.set.reload(
      "p", "test", [&](auto o) { out = std::move(o); }, error));
  REQUIRE(w.set.pause("p", error));
  w.sim.poll();
  REQUIRE(out.has_value());
  CHECK(out->front().ok);
  CHECK(w.set.find("p")->paused());
  w.sim.advance(milliseconds(500));
  CHECK(w.state("ticks") == 50);
  REQUIRE(w.set.resume("p", error));
  w.sim.advance(milliseconds(500));
  CHECK(w.state("ticks") == 55);
}

TEST_CASE("a module first required by a timer is watched from then on", "[policy_set]") {
  World w;
  w.dir.write("late.lua", "return { n = 9 }");
  int changed = 0;
  w.set.on_files_changed([&] { ++changed; });
  w.load("rfq.after(100, function() rfq.state.n = require('late').n end)\n");
  const int before = changed;
  CHECK(w.set.files().size() == 1);
  w.sim.advance(milliseconds(150));
  CHECK(w.state("n") == 9);
  CHECK(changed == before + 1);
  std::vector<std::string> names;
  for (const auto& [path, policies] : w.set.files()) names.push_back(fs::path(path).filename());
  CHECK(names == std::vector<std::string>{"late.lua", "p.lua"});
}

TEST_CASE("rfq.state is read raw: a script's metatables never run during a reload",
          "[policy_set]") {
  World w;
  // rfq.state removed, and a trap on the rfq table: a plain read would call it (unprotected).
  w.load("rfq.state = nil\n"
         "setmetatable(rfq, { __index = function() error('boom') end })\n");
  auto out = w.reload("rfq.state = rfq.state or { fresh = 1 }\n");
  CHECK(out.ok);
  CHECK(w.state("fresh") == 1);
}
