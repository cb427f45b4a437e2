#pragma once
// One sandboxed lua_State per policy. Generic: knows coroutines, timers and the loop, nothing
// about RFQs (bindings/modules adds the API surface).
//
// Sandbox: no io, os.execute/exit/getenv/remove/rename, dofile, loadfile, binary chunks,
// package.loadlib or C modules; require() only finds Lua files in the allowed folders.
// Memory is accounted through the allocator and capped.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/core/unique_function.hpp"

struct lua_State;
struct lua_Debug;

namespace boost::asio {
class io_context;
}

namespace rfq::lua {

class LuaTask;

struct VmOptions {
  std::string name = "policy";            // policy name, used in logs and errors
  std::vector<std::string> require_paths;  // folders require() searches ("?.lua" appended)
  std::size_t memory_limit = 256u << 20;   // bytes; 0 = unlimited
  // Lua instructions one slice (a task's resume, see start_slice) may run before it is ended
  // with instruction_limit_message; 0 = no limit. The count hook it needs costs time on every
  // instruction, so it is set only where a runaway must be stopped deterministically (rfqd
  // test, rfqd check).
  std::uint64_t instruction_limit = 0;
  // Default: "instruction limit exceeded (N per resume): runaway code stopped".
  std::string instruction_limit_message;
  // Wall-clock budget of one resume under `rfqd run`: past it, the watchdog thread interrupts
  // the resume ("ran for more than N ms without waiting: runaway code stopped"); 0 = off.
  // Unlike instruction_limit it costs nothing until a resume overruns. Not used together with
  // instruction_limit (which wins).
  Millis watchdog_slice{0};
  // The watchdog budget of the first resume of the VM's first task (a policy's main chunk, up to
  // its first wait; compiling is not part of it): 0 = watchdog_slice.
  Millis load_deadline{0};
  // Error that ends a task which yields without an API call having parked it.
  std::string bad_yield_message =
      "attempt to yield from a task outside a yielding API call (coroutine.yield at task level "
      "is not allowed)";
};

class LuaVm {
 public:
  using ErrorSink = std::function<void(const std::string& task_name, const std::string& message)>;

  LuaVm(boost::asio::io_context& io, Clock& clock, VmOptions options);
  ~LuaVm();
  LuaVm(const LuaVm&) = delete;
  LuaVm& operator=(const LuaVm&) = delete;

  static LuaVm& from(lua_State* L);

  lua_State* state() const { return L_; }
  boost::asio::io_context& io() const { return io_; }
  Clock& clock() const { return clock_; }
  const VmOptions& options() const { return options_; }
  const std::string& name() const { return options_.name; }
  // Changes whenever a VM is created; completions carry it to tell stale deliveries apart.
  std::uint64_t generation() const { return generation_; }

  // Compiles a Lua source file (text only) and leaves the function on the stack. On failure
  // returns false with "file:line: message" in error and leaves the stack unchanged.
  bool load_file(const std::string& path, std::string& error) {
    return load_file(L_, path, error);
  }
  bool load_string(const std::string& source, const std::string& chunk_name, std::string& error) {
    return load_string(L_, source, chunk_name, error);
  }
  // The same onto the stack of `target` (a thread of this VM, e.g. the task calling require).
  static bool load_file(lua_State* target, const std::string& path, std::string& error);
  static bool load_string(lua_State* target, const std::string& source,
                          const std::string& chunk_name, std::string& error);

  // Moves the function and nargs arguments on top of the main stack into a new task, which
  // starts on the next turn of the loop.
  std::shared_ptr<LuaTask> spawn(int nargs, std::string task_name);
  // The same, taking the function and arguments from the stack of `from` (a running task).
  // Returns nullptr (arguments popped) when the thread cannot be created (memory).
  std::shared_ptr<LuaTask> spawn_from(lua_State* from, int nargs, std::string task_name);

  // Instruction accounting of one slice of work (a task's resume, a test case): the code run
  // on `thread` and on every coroutine it runs counts toward one instruction_limit, checked
  // every 1000 instructions. Past it, the running thread raises the limit's message and keeps
  // raising on each instruction, so neither pcall nor a coroutine boundary can swallow it.
  // No-op when the limit is 0.
  // `slice`: this resume's watchdog budget instead of watchdog_slice (a main chunk's load
  // deadline); 0 = watchdog_slice.
  void start_slice(lua_State* thread, Millis slice = Millis(0));
  void end_slice(lua_State* thread);
  // The current slice ran past its limit or its watchdog budget (its code may have caught the
  // error and finished).
  bool slice_over() const { return slice_over_; }
  // What a slice past its limit or budget ends with.
  const std::string& runaway_message() const {
    return watched_ ? runaway_message_ : options_.instruction_limit_message;
  }

  // Pops the value on top of the main stack and makes require(name) return it.
  void provide_module(const char* name);

  // Called when a task ends with an error (message includes the traceback).
  void set_error_sink(ErrorSink sink) { error_sink_ = std::move(sink); }
  void report_error(const std::string& task_name, const std::string& message);

  // Opaque per-VM slot for the API module (the policy host).
  void set_host(void* host) { host_ = host; }
  void* host() const { return host_; }

  // The files require() loaded (or found and failed to load), in order: what a hot reload
  // watches beside the policy file.
  const std::vector<std::string>& required_files() const { return required_files_; }
  // Records a file require() found (once per path) and tells the observer of a new one.
  void note_required_file(const std::string& path);
  void set_require_observer(std::function<void()> fn) { require_observer_ = std::move(fn); }

  std::size_t memory_used() const { return memory_used_; }
  std::uint64_t tasks_started() const { return next_task_id_ - 1; }
  std::size_t live_tasks() const { return tasks_.size(); }
  std::uint64_t errors() const { return errors_; }
  bool closing() const { return closing_; }

  // Timers owned by the VM (rfq.every / rfq.after): fn is registry ref, runs in a new task.
  std::uint64_t add_timer(int fn_ref, Millis delay, Millis interval, std::string name);
  void cancel_timer(std::uint64_t id);
  std::size_t timer_count() const { return timers_.size(); }
  std::uint64_t skipped_ticks() const { return skipped_ticks_; }
  // Pause (rfqd ctl pause, the embedding API): the VM keeps its state, timers and in-flight
  // operations, but runs no Lua. While paused, a task start or an operation's result is held
  // and runs on resume, in order; a repeating timer's ticks are skipped (counted in
  // skipped_ticks); a one-shot timer that comes due fires on resume. Events are the host's
  // business (PolicyHost drops them and counts them in note_dropped_event).
  void set_paused(bool paused);
  bool paused() const { return paused_; }
  // Runs fn now, or on resume when paused. A template, so the running case (every task start)
  // costs no type-erased copy.
  template <typename F>
  void when_running(F&& fn) {
    if (paused_) {
      held_.emplace_back(std::forward<F>(fn));
    } else {
      fn();
    }
  }
  std::size_t held() const { return held_.size(); }
  void note_dropped_event() { ++dropped_events_; }
  std::uint64_t dropped_events() const { return dropped_events_; }
  // Set false when the VM closes; tasks that outlive it (held by a late completion) check it.
  std::shared_ptr<const bool> alive() const { return alive_; }

  // While C++ code of a Lua-callable function runs, the memory cap is not enforced: an
  // allocation failure there would longjmp over live C++ objects. The trampoline checks the
  // cap when the body returns instead.
  void enter_host() { ++host_depth_; }
  void leave_host() { --host_depth_; }
  bool over_limit() const {
    return options_.memory_limit != 0 && memory_used_ > options_.memory_limit;
  }

 private:
  friend class LuaTask;
  struct Timer;
  static void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize);
  static void instruction_hook(lua_State* L, lua_Debug* ar);
  void open_sandbox();
  void arm(std::uint64_t id);
  void fire(std::uint64_t id);
  void forget(LuaTask* task);

  boost::asio::io_context& io_;
  Clock& clock_;
  VmOptions options_;
  lua_State* L_ = nullptr;
  std::uint64_t generation_;
  std::size_t memory_used_ = 0;
  bool closing_ = false;
  void* host_ = nullptr;
  std::uint64_t errors_ = 0;
  std::uint64_t skipped_ticks_ = 0;
  bool paused_ = false;
  std::vector<UniqueFunction<void()>> held_;  // work that came while paused, in order
  std::uint64_t dropped_events_ = 0;
  std::vector<std::string> required_files_;
  std::function<void()> require_observer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  int host_depth_ = 0;
  int hook_every_ = 0;           // instructions between two hook calls
  std::uint64_t slice_used_ = 0;  // instructions of the current slice (in hook_every_ steps)
  bool slice_over_ = false;
  std::uint64_t watchdog_token_ = 0;  // of the resume running under the watchdog, or 0
  bool watched_ = false;          // watchdog_slice in use
  std::string runaway_message_;  // of the latest watched resume
  lua_State* slice_thread_ = nullptr;  // the thread start_slice() was given
  std::uint64_t next_task_id_ = 1;
  std::uint64_t next_timer_id_ = 1;
  ErrorSink error_sink_;
  std::unordered_map<LuaTask*, std::shared_ptr<LuaTask>> tasks_;  // running or suspended
  std::unordered_map<std::uint64_t, std::unique_ptr<Timer>> timers_;
};

}  // namespace rfq::lua
