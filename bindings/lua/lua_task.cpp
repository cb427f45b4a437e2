#include "bindings/lua/lua_task.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <utility>

#include "bindings/lua/lua_vm.hpp"

extern "C" {
#include <lauxlib.h>
}

namespace rfq::lua {
namespace {

// Host-side Lua work that allocates (traceback text, result tables) runs under lua_pcall, so a
// memory error or a script's metamethod cannot longjmp out of the loop and abort the process.
struct Describe {
  lua_State* co;
  const char* prefix;  // replaces the error object's text when set
};

// Pushes the traceback of d->co headed by its error text. Protected.
int describe(lua_State* L) {
  auto* d = static_cast<Describe*>(lua_touserdata(L, 1));
  if (d->prefix != nullptr) {
    luaL_traceback(L, d->co, d->prefix, 0);
    return 1;
  }
  if (!lua_checkstack(d->co, 1)) return luaL_error(L, "no stack space");
  lua_pushvalue(d->co, -1);
  lua_xmove(d->co, L, 1);
  if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
    // No __tostring: script code run here would be outside any instruction limit.
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
    lua_replace(L, -2);
  }
  const char* msg = lua_tostring(L, -1);
  luaL_traceback(L, d->co, msg != nullptr ? msg : "(error object is not a string)", 0);
  return 1;
}

std::string describe_failure(LuaVm& vm, lua_State* co, const char* prefix) {
  lua_State* M = vm.state();
  const int base = lua_gettop(M);
  Describe d{co, prefix};
  std::string out;
  lua_pushcfunction(M, &describe);
  lua_pushlightuserdata(M, &d);
  if (lua_pcall(M, 1, 1, 0) == LUA_OK && lua_type(M, -1) == LUA_TSTRING) {
    out = lua_tostring(M, -1);
  } else {
    out = prefix != nullptr ? prefix : "task failed (its error could not be described: no memory)";
  }
  lua_settop(M, base);
  return out;
}

struct PushCall {
  LuaTask::Pusher* push;
};

int run_pusher(lua_State* L) {
  auto* pc = static_cast<PushCall*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  return (*pc->push)(L);
}

}  // namespace

LuaTask::LuaTask(LuaVm& vm, lua_State* co, int ref, std::uint64_t id, std::string name)
    : vm_(vm),
      vm_alive_(vm.alive()),
      co_(co),
      ref_(ref),
      id_(id),
      generation_(vm.generation()),
      name_(std::move(name)) {}

LuaTask::~LuaTask() {
  if (*vm_alive_) {
    *static_cast<LuaTask**>(lua_getextraspace(co_)) = nullptr;
    luaL_unref(vm_.state(), LUA_REGISTRYINDEX, ref_);
  }
}

LuaTask* LuaTask::current(lua_State* L) { return *static_cast<LuaTask**>(lua_getextraspace(L)); }

Ticket LuaTask::suspend(const char* operation) {
  operation_ = operation;
  return Ticket{weak_from_this(), generation_, ++operation_seq_};
}

void LuaTask::deliver(const Ticket& ticket, Pusher push) {
  auto t = ticket.task.lock();
  if (!t || !*t->vm_alive_) return;
  boost::asio::post(t->vm_.io(), [ticket, push = std::move(push)]() mutable {
    resume_if_current(ticket, std::move(push));
  });
}

// A paused VM holds the result until it resumes; the ticket is checked again then.
void LuaTask::resume_if_current(const Ticket& ticket, Pusher push) {
  auto t = ticket.task.lock();
  if (!t || !*t->vm_alive_ || t->generation_ != ticket.generation) return;  // stale: dropped
  if (t->state_ != TaskState::Suspended || t->operation_seq_ != ticket.operation) return;
  if (t->vm_.paused()) {
    t->vm_.when_running([ticket, push = std::move(push)]() mutable {
      resume_if_current(ticket, std::move(push));
    });
    return;
  }
  t->resume_with(push);
}

// The completion's values are built on the main thread under pcall, then moved over.
void LuaTask::resume_with(Pusher& push) {
  auto keep = shared_from_this();
  lua_State* M = vm_.state();
  const int base = lua_gettop(M);
  PushCall pc{&push};
  lua_pushcfunction(M, &run_pusher);
  lua_pushlightuserdata(M, &pc);
  if (lua_pcall(M, 1, LUA_MULTRET, 0) != LUA_OK) {
    lua_settop(M, base);
    return fail("could not deliver an operation's result (not enough memory)");
  }
  const int n = lua_gettop(M) - base;
  if (!lua_checkstack(co_, n + 1)) {
    lua_settop(M, base);
    return fail("could not deliver an operation's result (stack overflow)");
  }
  lua_xmove(M, co_, n);
  resume(n);
}

void LuaTask::fail(const char* message) {
  std::string msg = describe_failure(vm_, co_, message);
  lua_resetthread(co_);
  finish(false, std::move(msg), 0);
}

void LuaTask::start(int nargs) { resume(nargs); }

void LuaTask::resume(int nargs) {
  auto keep = shared_from_this();  // finish() may drop the VM's reference
  state_ = TaskState::Running;
  operation_ = nullptr;
  int nres = 0;
  vm_.start_slice(co_, std::exchange(first_slice_, Millis(0)));
  const int status = lua_resume(co_, nullptr, nargs, &nres);
  vm_.end_slice(co_);
  if (status != LUA_ERRRUN && vm_.slice_over()) {
    // The limit struck in a coroutine and the task got to its end or a wait before its next
    // instruction: it still ends with the limit's error.
    lua_pop(co_, nres);
    return fail(vm_.runaway_message().c_str());
  }
  if (status == LUA_YIELD) {
    lua_pop(co_, nres);  // yielded values are never used
    if (operation_ == nullptr) return fail(vm_.options().bad_yield_message.c_str());
    state_ = TaskState::Suspended;
    return;
  }
  if (status == LUA_OK) return finish(true, {}, nres);
  // Traceback first (the failed coroutine's stack is still intact), then reset the thread.
  std::string msg = describe_failure(vm_, co_, nullptr);
  lua_resetthread(co_);
  finish(false, std::move(msg), 0);
}

void LuaTask::finish(bool ok, std::string error, int nresults) {
  state_ = TaskState::Finished;
  ok_ = ok;
  error_ = std::move(error);
  nresults_ = nresults;
  operation_ = nullptr;
  if (!ok) vm_.report_error(name_, error_);
  auto self = shared_from_this();
  for (auto& w : waiters_) {
    deliver(w, [self](lua_State* to) { return self->push_outcome(to); });
  }
  waiters_.clear();
  vm_.forget(this);
}

void LuaTask::add_waiter(Ticket waiter) { waiters_.push_back(std::move(waiter)); }

int LuaTask::push_outcome(lua_State* to) const {
  if (!lua_checkstack(to, 2 + nresults_) || !lua_checkstack(co_, 1)) {
    // Only with absurd result counts. No C++ object lives in the frames this unwinds.
    return luaL_error(to, "task:wait: too many results to move (%d)", nresults_);
  }
  if (!ok_) {
    lua_pushboolean(to, 0);
    lua_pushstring(to, error_.c_str());
    return 2;
  }
  lua_pushboolean(to, 1);
  const int top = lua_gettop(co_);
  for (int i = top - nresults_ + 1; i <= top; ++i) {
    lua_pushvalue(co_, i);
    lua_xmove(co_, to, 1);
  }
  return 1 + nresults_;
}

}  // namespace rfq::lua
