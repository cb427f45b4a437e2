#pragma once
// One policy: a sandboxed LuaVm with the rfq API bound to the engine, its params, and its
// script logger. The main chunk runs in a task; handlers and timer ticks in their own tasks.
// A task's runtime error is logged and counted; the policy keeps running.

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/lua/lua_vm.hpp"

namespace spdlog {
class logger;
}

namespace rfq {
class Engine;
struct Origin;
struct Rfq;
}

namespace rfq::lua {

class LuaTask;

struct PolicySpec {
  std::string name;              // defaults to the script's file stem
  std::string script;            // path of the policy file
  boost::json::value params;     // object from the config (plain data), or null
  std::string scripts_lib_dir;   // shared Lua helpers for require()
  Millis default_timeout{5000};  // timeout_ms of rfq.* calls when the script gives none
  std::uint64_t instruction_limit = 0;  // per resume of a task (VmOptions); 0 = none
  Millis watchdog_slice{0};  // wall-clock budget of a resume (VmOptions); 0 = no watchdog
  Millis load_deadline{0};   // the main chunk's first resume; 0 = watchdog_slice
};

enum class LogLevel { debug, info, warn, error };

class PolicyHost {
 public:
  PolicyHost(Engine& engine, PolicySpec spec);
  ~PolicyHost();
  PolicyHost(const PolicyHost&) = delete;
  PolicyHost& operator=(const PolicyHost&) = delete;

  // Compiles the script. False with "file:line: msg" when it does not compile. The text it
  // compiles is the text it hashes (script_hash).
  bool load(std::string& error);
  // Compiles Lua source instead of a file (tests); the source is hashed likewise.
  bool load_source(const std::string& source, const std::string& chunk_name, std::string& error);
  // Schedules the compiled main chunk as a task (it runs on the next loop turn).
  void start();

  const std::string& name() const { return spec_.name; }
  const PolicySpec& spec() const { return spec_; }
  Engine& engine() { return engine_; }
  LuaVm& vm() { return *vm_; }
  std::shared_ptr<LuaTask> main_task() const { return main_; }
  std::uint64_t errors() const { return vm_->errors(); }
  // "sha256:<hex>" of the script's content as last loaded ("" before a load).
  const std::string& script_hash() const;
  // Who this policy's cancels come from, for the audit log: name and script_hash.
  const std::shared_ptr<const Origin>& origin() const { return origin_; }

  // Also told of every task error (after it is logged and counted): rfqd test fails a case on
  // errors its test did not expect.
  using ErrorObserver = std::function<void(const std::string& task, const std::string& message)>;
  void set_error_observer(ErrorObserver observer) { error_observer_ = std::move(observer); }

  // The script logger: "[policy] file:line: message". Never throws.
  void log(LogLevel level, const char* where, const char* message) noexcept;

  // rfq.on: fn_ref (a registry reference the host now owns) runs in a new task for every
  // event of that name. Events: "rfq" (fn(r, previous_state), from the book) and "exposure"
  // (fn(value), values the host publishes). Returns an id for off().
  std::uint64_t on(std::string event, int fn_ref, std::string name);
  void off(std::uint64_t id);
  std::size_t handler_count() const { return handlers_.size(); }

  // Delivers a host-published value (plain data: objects, arrays, strings, numbers, booleans)
  // to every handler of `event`, each in its own task; the value is copied into the policy's
  // state. Returns the handlers it started; "rfq" handlers never get a published value (RFQ
  // events come from the book only): 0.
  std::size_t publish(std::string_view event, const boost::json::value& value);

 private:
  struct Handler {
    std::uint64_t id;
    std::string event;
    int fn_ref;
    std::string name;
  };
  void dispatch_rfq(const Rfq& rfq, const std::string& previous);
  // Starts one task per handler of `event`; push(L) gets `args` as its light userdata and
  // pushes the nargs arguments. Returns the tasks started.
  std::size_t dispatch(std::string_view event, int (*push)(lua_State*), void* args, int nargs);

  void set_origin(const std::string& text);

  bool compiled_ = false;
  std::shared_ptr<const Origin> origin_;
  std::vector<Handler> handlers_;
  std::uint64_t next_handler_ = 1;
  std::uint64_t book_listener_ = 0;  // registered with the book while an "rfq" handler exists
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  ErrorObserver error_observer_;

  Engine& engine_;
  PolicySpec spec_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<LuaVm> vm_;
  std::shared_ptr<LuaTask> main_;
};

// Opens the rfq module (global `rfq` and require "rfq") in the host's VM.
void open_rfq_module(PolicyHost& host);

}  // namespace rfq::lua
