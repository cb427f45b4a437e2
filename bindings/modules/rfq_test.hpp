#pragma once
// The `rfq.test` module of scripted regression tests (`rfqd test`, DESIGN §4):
//
//   local t = require "rfq.test"
//   t.case(name, function(s) ... end)        -- registers a case; s is a fresh TestWorld
//   t.eq / t.ok / t.near / t.match / t.raises -- assertions raising "file:line: ..." on failure
//
// A test file runs in its own sandboxed LuaVm (not a policy state). Each case gets a new
// TestWorld: the simulated venues in-process, a virtual clock, the engine, and the policies the
// case loads (each in its own policy state, exactly as `rfqd run` builds them). `s` is the
// world's handle in the test file; its methods are documented in docs/lua-api.md.

#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/log.hpp"
#include "engine/sim/sim_world.hpp"

struct lua_State;

namespace rfq::lua {

class LuaVm;
class PolicyHost;

struct TestCase {
  std::string name;
  int fn_ref = 0;     // registry reference in the test VM
  std::string where;  // file:line of t.case
};

// What a test file's main chunk registered.
struct TestRegistry {
  std::vector<TestCase> cases;
  bool running = false;  // cases run: t.case may no longer add one
};

struct TestWorldOptions {
  std::uint64_t seed = 1;
  std::string test_dir;                          // relative policy paths are also looked up here
  std::string scripts_lib_dir;                   // require() path of the policies
  std::uint64_t instruction_limit = 10'000'000;  // per resume of a policy task
  std::size_t settle_limit = 1'000'000;          // handlers at one virtual instant
};

class TestWorld {
 public:
  explicit TestWorld(TestWorldOptions options);
  ~TestWorld();
  TestWorld(const TestWorld&) = delete;
  TestWorld& operator=(const TestWorld&) = delete;

  // Starts the venues (virtual time moves until they are ready). Empty on success.
  std::string start();

  sim::SimWorld& sim() { return *world_; }
  const TestWorldOptions& options() const { return options_; }
  const log::Capture& capture() const { return capture_; }

  // Loads a policy from a file, or from source text when `source` is set, with params (a
  // JSON object or null), and runs its main chunk until it finishes or first suspends.
  // Empty on success, else the compile or main-chunk error.
  std::string load_policy(const std::string& script, const std::string* source,
                          const boost::json::value& params);
  std::vector<std::unique_ptr<PolicyHost>>& policies() { return policies_; }
  // A loaded policy by its name, the path it was loaded from, or that path's file name.
  PolicyHost* find_policy(const std::string& policy) const;
  // A hot reload of a loaded policy, as rfqd run does it (prepare_version /
  // version_started): the new version from `path`, or its own file again when empty. False
  // with the reason when it is refused (the old version keeps serving).
  bool reload_policy(PolicyHost& host, const std::string& path, std::string& error);

  // Task errors of the policies not yet taken by s:errors(); a case ends failed while any
  // remain.
  std::vector<std::string> take_errors();
  const std::vector<std::string>& unread_errors() const { return errors_; }

  // Set once the world did not settle (the loop stopped half-way): later s:* calls raise.
  void mark_unsettled() { unsettled_ = true; }
  bool unsettled() const { return unsettled_; }

 private:
  TestWorldOptions options_;
  log::Capture capture_;
  std::unique_ptr<sim::SimWorld> world_;
  void observe_errors(PolicyHost& host);

  std::vector<std::unique_ptr<PolicyHost>> policies_;
  std::vector<std::string> errors_;
  std::size_t next_source_ = 1;
  bool unsettled_ = false;
};

// Makes require "rfq.test" return the module in `vm`; t.case fills `registry`.
void open_test_module(LuaVm& vm, TestRegistry& registry);

// Pushes `s` for a case: a userdata that refers to `world`. Pass it to retire_test_world()
// (at stack index idx) when the case ends: a copy the test kept then raises when used.
void push_test_world(lua_State* L, TestWorld& world);
void retire_test_world(lua_State* L, int idx);

}  // namespace rfq::lua
