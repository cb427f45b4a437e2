#pragma once
// One policy: a sandboxed LuaVm with the rfq API bound to the engine, its params, and its
// script logger. The main chunk runs in a task; handlers and timer ticks in their own tasks.
// A task's runtime error is logged and counted; the policy keeps running.

#include <boost/json/value.hpp>
#include <memory>
#include <string>

#include "bindings/lua/lua_vm.hpp"

namespace spdlog {
class logger;
}

namespace rfq {
class Engine;
}

namespace rfq::lua {

class LuaTask;

struct PolicySpec {
  std::string name;              // defaults to the script's file stem
  std::string script;            // path of the policy file
  boost::json::value params;     // object from the config (plain data), or null
  std::string scripts_lib_dir;   // shared Lua helpers for require()
  Millis default_timeout{5000};  // timeout_ms of rfq.* calls when the script gives none
};

enum class LogLevel { debug, info, warn, error };

class PolicyHost {
 public:
  PolicyHost(Engine& engine, PolicySpec spec);
  ~PolicyHost();
  PolicyHost(const PolicyHost&) = delete;
  PolicyHost& operator=(const PolicyHost&) = delete;

  // Compiles the script. False with "file:line: msg" when it does not compile.
  bool load(std::string& error);
  // Compiles Lua source instead of a file (tests).
  bool load_source(const std::string& source, const std::string& chunk_name, std::string& error);
  // Schedules the compiled main chunk as a task (it runs on the next loop turn).
  void start();

  const std::string& name() const { return spec_.name; }
  const PolicySpec& spec() const { return spec_; }
  Engine& engine() { return engine_; }
  LuaVm& vm() { return *vm_; }
  std::shared_ptr<LuaTask> main_task() const { return main_; }
  std::uint64_t errors() const { return vm_->errors(); }

  // The script logger: "[policy] file:line: message". Never throws.
  void log(LogLevel level, const char* where, const char* message) noexcept;

 private:
  bool compiled_ = false;

  Engine& engine_;
  PolicySpec spec_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<LuaVm> vm_;
  std::shared_ptr<LuaTask> main_;
};

// Opens the rfq module (global `rfq` and require "rfq") in the host's VM.
void open_rfq_module(PolicyHost& host);

}  // namespace rfq::lua
