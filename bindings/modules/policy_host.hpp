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
struct Fill;
struct Origin;
struct Rfq;
enum class VenueStatus;
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
  // The latest task error ("task: message", traceback included) and its wall time (ms), or "".
  const std::string& last_error() const { return last_error_; }
  std::int64_t last_error_ms() const { return last_error_ms_; }
  // Pause keeps the policy loaded but runs none of its Lua (LuaVm::set_paused); events that
  // come while paused are dropped and counted (vm().dropped_events()).
  void pause() { vm_->set_paused(true); }
  void resume() { vm_->set_paused(false); }
  bool paused() const { return vm_->paused(); }
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
  // event of that name. Events (each posted, never run inside the change that caused it):
  //   "rfq"       fn(r, previous_state): every state change the book records
  //   "fill"      fn(trade): every fill the book records (once per fill)
  //   "exposure"  fn(exposure, "engine"): the book's exposure after it changed, at most once per
  //               loop turn (changes meanwhile join the pending event); and fn(value, "host")
  //               for every value the host publishes
  //   "venue"     fn(venue, status): a venue went "down" or came "up"
  // The engine listeners behind an event are registered while the event has a handler.
  // Returns an id for off().
  std::uint64_t on(std::string event, int fn_ref, std::string name);
  void off(std::uint64_t id);
  std::size_t handler_count() const { return handlers_.size(); }

  // Delivers a host-published value (plain data: objects, arrays, strings, numbers, booleans)
  // to every "exposure" handler as fn(value, "host"), each in its own task; the value is copied
  // into the policy's state. Returns the handlers it started; any other event is the engine's
  // own (RFQ states, fills, venue status), never published: 0.
  std::size_t publish(std::string_view event, const boost::json::value& value);

 private:
  struct Handler {
    std::uint64_t id;
    std::string event;
    int fn_ref;
    std::string name;
  };
  void dispatch_rfq(const Rfq& rfq, const std::string& previous);
  void dispatch_fill(const Fill& fill);
  void dispatch_venue(const std::string& venue, VenueStatus status);
  void dispatch_exposure();
  // Registers the engine listener behind `event` if none is, or drops it when `event` has
  // no handler left.
  void listen_for(const std::string& event);
  void unlisten_unused();
  // Starts one task per handler of `event`; push(L) gets `args` as its light userdata and
  // pushes the nargs arguments. Returns the tasks started.
  std::size_t dispatch(std::string_view event, int (*push)(lua_State*), void* args, int nargs);

  void set_origin(const std::string& text);

  bool compiled_ = false;
  std::shared_ptr<const Origin> origin_;
  std::vector<Handler> handlers_;
  std::uint64_t next_handler_ = 1;
  // Engine listeners, registered while a handler of their event exists (0: none).
  std::uint64_t book_listener_ = 0;      // book: "rfq"
  std::uint64_t fill_listener_ = 0;      // book: "fill"
  std::uint64_t exposure_listener_ = 0;  // book: "exposure"
  std::uint64_t status_listener_ = 0;    // engine: "venue"
  bool exposure_pending_ = false;        // an "exposure" event is posted and not yet run
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  ErrorObserver error_observer_;
  std::string last_error_;
  std::int64_t last_error_ms_ = 0;

  Engine& engine_;
  PolicySpec spec_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<LuaVm> vm_;
  std::shared_ptr<LuaTask> main_;
};

// Opens the rfq module (global `rfq` and require "rfq") in the host's VM.
void open_rfq_module(PolicyHost& host);

}  // namespace rfq::lua
