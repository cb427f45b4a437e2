#pragma once
// LuaTask: one suspended-able coroutine (policy main chunk, timer tick, handler, rfq.spawn).
// Its thread is anchored in the registry; it finds itself from its lua_State through the
// thread's extra space. It is resumed only from the loop: a yielding API function parks the
// task (suspend), returns lua_yield, and the operation's completion is posted to the loop,
// where deliver() resumes it with the values the completion pushes. Completions hold a weak
// reference plus the VM generation, so an answer that arrives after the task or its VM is gone
// is dropped safely. A yield that no rfq.* call asked for (a bare coroutine.yield at task
// level) is an error that ends the task.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/core/unique_function.hpp"

struct lua_State;

namespace rfq::lua {

class LuaVm;

enum class TaskState { NotStarted, Running, Suspended, Finished };

class LuaTask;

// Names one parked operation of one task: a completion is delivered only if the task still
// exists, belongs to the same VM generation and is still parked on this very operation.
struct Ticket {
  std::weak_ptr<LuaTask> task;
  std::uint64_t generation = 0;
  std::uint64_t operation = 0;
};

class LuaTask : public std::enable_shared_from_this<LuaTask> {
 public:
  // Pushes the values the resumed coroutine will receive; returns how many.
  using Pusher = UniqueFunction<int(lua_State* co)>;

  LuaTask(LuaVm& vm, lua_State* co, int ref, std::uint64_t id, std::string name);
  ~LuaTask();
  LuaTask(const LuaTask&) = delete;
  LuaTask& operator=(const LuaTask&) = delete;

  // The task whose coroutine is L, or nullptr (main thread, or a coroutine the script made).
  static LuaTask* current(lua_State* L);

  // Parks the running task on an operation; the caller returns lua_yield(L, 0) next and hands
  // the ticket to whatever completes the operation.
  Ticket suspend(const char* operation);
  // Keeps a timer alive while the task waits on it (rfq.sleep); dropped with the task.
  void hold(TimerHandle timer) { wait_timer_ = std::move(timer); }
  // Posts a resume: if the ticket is still current, push() builds the values (in a protected
  // call on the main thread, moved to the task's coroutine) and the task continues. Otherwise
  // push is destroyed unused.
  static void deliver(const Ticket& ticket, Pusher push);

  // Registers a parked waiter to be resumed when this task finishes (t:wait()).
  void add_waiter(Ticket waiter);
  // Pushes (true, results...) or (false, error) for a finished task; returns the count.
  int push_outcome(lua_State* to) const;

  TaskState state() const { return state_; }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  std::uint64_t id() const { return id_; }
  std::uint64_t generation() const { return generation_; }
  const char* waiting_for() const { return operation_; }
  lua_State* thread() const { return co_; }

 private:
  friend class LuaVm;
  static void resume_if_current(const Ticket& ticket, Pusher push);
  void start(int nargs);
  void resume(int nargs);
  void resume_with(Pusher& push);
  void fail(const char* message);  // ends the task from the host side (protected)
  void finish(bool ok, std::string error, int nresults);

  LuaVm& vm_;
  std::shared_ptr<const bool> vm_alive_;
  lua_State* co_;
  int ref_;
  std::uint64_t id_;
  std::uint64_t generation_;
  std::string name_;
  TaskState state_ = TaskState::NotStarted;
  const char* operation_ = nullptr;
  std::uint64_t operation_seq_ = 0;
  bool ok_ = false;
  std::string error_;
  int nresults_ = 0;
  std::vector<Ticket> waiters_;
  TimerHandle wait_timer_;
  Millis first_slice_{0};  // the watchdog budget of the first resume (LuaVm sets it), or 0
};

}  // namespace rfq::lua
