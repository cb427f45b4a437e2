#include "bindings/lua/lua_task.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "bindings/lua/lua_vm.hpp"

extern "C" {
#include <lauxlib.h>
}

namespace rfq::lua {
namespace {

// Text of the error object on top of the failed coroutine. Works on a copy in the main
// state: a coroutine that died with an error may not run anything else.
std::string error_text(lua_State* main, lua_State* co) {
  lua_pushvalue(co, -1);
  lua_xmove(co, main, 1);
  std::string out;
  if (lua_type(main, -1) == LUA_TSTRING) {
    out = lua_tostring(main, -1);
  } else if (luaL_getmetafield(main, -1, "__tostring") != LUA_TNIL) {
    lua_pop(main, 1);
    lua_getglobal(main, "tostring");
    lua_pushvalue(main, -2);
    if (lua_pcall(main, 1, 1, 0) == LUA_OK && lua_type(main, -1) == LUA_TSTRING) {
      out = lua_tostring(main, -1);
    } else {
      out = "(error object's __tostring failed)";
    }
    lua_pop(main, 1);
  } else {
    out = std::string("(error object is a ") + luaL_typename(main, -1) + " value)";
  }
  lua_pop(main, 1);
  return out;
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

void LuaTask::suspend(const char* operation) { operation_ = operation; }

void LuaTask::deliver(const std::weak_ptr<LuaTask>& task, std::uint64_t generation, Pusher push) {
  auto t = task.lock();
  if (!t || !*t->vm_alive_) return;
  boost::asio::post(t->vm_.io(), [task, generation, push = std::move(push)]() mutable {
    auto t = task.lock();
    if (!t || !*t->vm_alive_ || t->generation_ != generation) return;  // stale: dropped
    if (t->state_ != TaskState::Suspended) return;
    int n = push(t->co_);
    t->resume(n);
  });
}

void LuaTask::start(int nargs) { resume(nargs); }

void LuaTask::resume(int nargs) {
  auto keep = shared_from_this();  // finish() may drop the VM's reference
  state_ = TaskState::Running;
  operation_ = nullptr;
  int nres = 0;
  const int status = lua_resume(co_, nullptr, nargs, &nres);
  if (status == LUA_YIELD) {
    lua_pop(co_, nres);  // yielded values are never used
    if (operation_ == nullptr) {
      luaL_traceback(vm_.state(), co_,
                     "attempt to yield from a policy task outside an rfq.* call "
                     "(coroutine.yield at task level is not allowed; use rfq.sleep)",
                     0);
      std::string msg = lua_tostring(vm_.state(), -1);
      lua_pop(vm_.state(), 1);
      lua_resetthread(co_);
      return finish(false, std::move(msg), 0);
    }
    state_ = TaskState::Suspended;
    return;
  }
  if (status == LUA_OK) return finish(true, {}, nres);
  // Traceback first (the failed coroutine's stack is still intact), then reset the thread.
  std::string msg = error_text(vm_.state(), co_);
  luaL_traceback(vm_.state(), co_, msg.c_str(), 0);
  msg = lua_tostring(vm_.state(), -1);
  lua_pop(vm_.state(), 1);
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
    deliver(w, generation_, [self](lua_State* to) { return self->push_outcome(to); });
  }
  waiters_.clear();
  vm_.forget(this);
}

void LuaTask::add_waiter(std::weak_ptr<LuaTask> waiter) { waiters_.push_back(std::move(waiter)); }

int LuaTask::push_outcome(lua_State* to) const {
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
