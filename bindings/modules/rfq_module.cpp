// The Lua API surface (DESIGN §4): module `rfq`. Every function goes through trampoline<>;
// bodies throw LuaMisuse for misuse and return nil, message, CODE for operational failure.

#include <algorithm>
#include <chrono>
#include <set>

#include "bindings/lua/json_bridge.hpp"
#include "bindings/lua/lua_task.hpp"
#include "bindings/lua/trampoline.hpp"
#include "bindings/modules/module_util.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/core/error.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::lua {
namespace {

constexpr const char* kTimerMeta = "rfq.timer";
constexpr const char* kTaskMeta = "rfq.task";







// ---- time and tasks -------------------------------------------------------------------------

// rfq.sleep(ms) -- yields the calling task for ms (virtual-time aware)
CallResult l_sleep(lua_State* L) {
  std::int64_t ms = check_integer(L, 1, "rfq.sleep", "ms");
  if (ms < 0 || ms > kMaxMs) {
    throw LuaMisuse("rfq.sleep: bad argument 'ms' (integer from 0 to 30 days in ms expected)");
  }
  LuaTask& task = require_task(L, "rfq.sleep");
  Ticket ticket = task.suspend("rfq.sleep");
  task.hold(LuaVm::from(L).clock().schedule(Millis(ms), [ticket] {
    LuaTask::deliver(ticket, [](lua_State*) { return 0; });
  }));
  return CallResult::suspend();
}

// ms = rfq.now() -- wall time in Unix milliseconds (virtual under `rfqd test`)
CallResult l_now(lua_State* L) {
  lua_pushinteger(L, LuaVm::from(L).clock().now_ms());
  return CallResult::values(1);
}

CallResult add_timer(lua_State* L, const char* fn, bool repeat) {
  std::int64_t ms = check_integer(L, 1, fn, "ms");
  if ((repeat ? ms <= 0 : ms < 0) || ms > kMaxMs) {
    throw LuaMisuse(std::string(fn) + ": bad argument 'ms' (" +
                    (repeat ? "positive" : "non-negative") +
                    " integer up to 30 days in ms expected)");
  }
  check_function(L, 2, fn, "fn");
  LuaVm& vm = LuaVm::from(L);
  std::string name = std::string(repeat ? "every(" : "after(") + std::to_string(ms) + ") at " +
                     where(L, 1);
  lua_pushvalue(L, 2);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  std::uint64_t id = vm.add_timer(ref, Millis(ms), repeat ? Millis(ms) : Millis(0), std::move(name));
  auto* slot = static_cast<std::uint64_t*>(lua_newuserdatauv(L, sizeof(std::uint64_t), 0));
  *slot = id;
  luaL_setmetatable(L, kTimerMeta);
  return CallResult::values(1);
}

// timer = rfq.every(ms, fn) -- fn runs every ms in its own task; a tick is skipped while the
// previous one is still running
CallResult l_every(lua_State* L) { return add_timer(L, "rfq.every", true); }

// timer = rfq.after(ms, fn) -- fn runs once after ms in its own task
CallResult l_after(lua_State* L) { return add_timer(L, "rfq.after", false); }

// timer:cancel()
CallResult l_timer_cancel(lua_State* L) {
  auto* slot = static_cast<std::uint64_t*>(luaL_testudata(L, 1, kTimerMeta));
  if (slot == nullptr) throw LuaMisuse("timer:cancel: bad self (timer expected)");
  LuaVm::from(L).cancel_timer(*slot);
  return CallResult::values(0);
}

using TaskRef = std::shared_ptr<LuaTask>;

// t = rfq.spawn(fn, ...) -- runs fn(...) in a new task, starting on the next loop turn
CallResult l_spawn(lua_State* L) {
  check_function(L, 1, "rfq.spawn", "fn");
  const int nargs = lua_gettop(L) - 1;
  auto task = LuaVm::from(L).spawn_from(L, nargs, "spawn at " + where(L, 1));
  if (!task) throw LuaMisuse("rfq.spawn: could not start the task (not enough memory)");
  void* mem = lua_newuserdatauv(L, sizeof(TaskRef), 0);
  new (mem) TaskRef(std::move(task));
  luaL_setmetatable(L, kTaskMeta);
  return CallResult::values(1);
}

// ok, ... = t:wait() -- yields until the task ends: true + its results, or false + error
CallResult l_task_wait(lua_State* L) {
  auto* ref = static_cast<TaskRef*>(luaL_testudata(L, 1, kTaskMeta));
  if (ref == nullptr || !*ref) throw LuaMisuse("task:wait: bad self (task expected)");
  LuaTask& target = **ref;
  if (target.state() == TaskState::Finished) return CallResult::values(target.push_outcome(L));
  LuaTask& self = require_task(L, "task:wait");
  if (&self == &target) throw LuaMisuse("task:wait: a task cannot wait for itself");
  target.add_waiter(self.suspend("task:wait"));
  return CallResult::suspend();
}

int l_task_gc(lua_State* L) {
  auto* ref = static_cast<TaskRef*>(luaL_testudata(L, 1, kTaskMeta));
  if (ref != nullptr) ref->~TaskRef();
  return 0;
}

// rfq.log.info(...) (also debug, warn, error; and print) -- values joined with spaces, sent to
// the script logger with the caller's file:line. Not trampolined on purpose: it keeps no C++
// objects in its frame, and luaL_tolstring may run a __tostring that raises.
template <LogLevel Level>
int l_log(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, ' ');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_Debug ar;
  char at[128] = "?";
  if (lua_getstack(L, 1, &ar) != 0 && lua_getinfo(L, "Sl", &ar) != 0 && ar.currentline > 0) {
    std::snprintf(at, sizeof at, "%s:%d:", ar.short_src, ar.currentline);
  }
  host_of(L).log(Level, at, lua_tostring(L, -1));
  return 0;
}

// ---- params ------------------------------------------------------------------------------

// Overlays config values onto the defaults table at idx (recursively for nested tables).
void overlay(lua_State* L, int idx, const boost::json::object& values) {
  idx = lua_absindex(L, idx);
  for (const auto& [key, value] : values) {
    lua_pushlstring(L, key.data(), key.size());
    const int existing = lua_rawget(L, idx);
    if (existing == LUA_TTABLE && value.is_object()) {
      overlay(L, -1, value.get_object());
      lua_pop(L, 1);
      continue;
    }
    lua_pop(L, 1);
    lua_pushlstring(L, key.data(), key.size());
    push_json(L, value);
    lua_rawset(L, idx);
  }
}

// cfg = rfq.params{ window_ms = 5000, ... } -- defaults merged with the config's params
CallResult l_params(lua_State* L) {
  PolicyHost& host = host_of(L);
  if (lua_isnoneornil(L, 1)) {
    lua_newtable(L);
  } else {
    check_table(L, 1, "rfq.params", "defaults");
    boost::json::value defaults;
    std::string error;
    if (!to_json(L, 1, defaults, error, "defaults")) throw LuaMisuse("rfq.params: " + error);
    push_json(L, defaults);  // a copy: the script's defaults table stays untouched
    if (!defaults.is_object()) {
      throw LuaMisuse("rfq.params: bad argument 'defaults' (table with string keys expected)");
    }
    const auto& params = host.spec().params;
    if (params.is_object()) {
      for (const auto& [key, value] : params.get_object()) {
        if (!defaults.get_object().contains(key)) {
          host.log(LogLevel::warn, (where(L, 1) + ":").c_str(),
                   ("param '" + std::string(key) + "' is not among the policy's defaults").c_str());
        }
      }
    }
  }
  if (host.spec().params.is_object()) overlay(L, -1, host.spec().params.get_object());
  return CallResult::values(1);
}

// ---- book --------------------------------------------------------------------------------



// list = rfq.open{ venue = ?, expiring_within_ms = ?, older_than_ms = ? } -- from the book,
// soonest expiry first
CallResult l_open(lua_State* L) {
  OpenQuery q;
  if (!lua_isnoneornil(L, 1)) {
    check_table(L, 1, "rfq.open", "options");
    check_known_fields(L, 1, "rfq.open", {"venue", "expiring_within_ms", "older_than_ms"});
    if (auto v = opt_string_field(L, 1, "venue", "rfq.open")) {
      check_venue(L, "rfq.open", *v);
      q.venue = *v;
    }
    q.expiring_within_ms = opt_integer_field(L, 1, "expiring_within_ms", "rfq.open");
    q.older_than_ms = opt_integer_field(L, 1, "older_than_ms", "rfq.open");
    for (const auto& [name, v] : {std::pair{"expiring_within_ms", q.expiring_within_ms},
                                  std::pair{"older_than_ms", q.older_than_ms}}) {
      if (v && (*v < 0 || *v > kMaxMs)) {
        throw LuaMisuse(std::string("rfq.open: bad argument '") + name +
                        "' (integer from 0 to 30 days in ms expected)");
      }
    }
  }
  Engine& engine = host_of(L).engine();
  auto list = engine.book().open(q, engine.clock().now_ms());
  lua_createtable(L, static_cast<int>(list.size()), 0);
  lua_Integer i = 1;
  for (const Rfq* r : list) {
    push_rfq(L, *r);
    lua_rawseti(L, -2, i++);
  }
  return CallResult::values(1);
}

// ---- cancel ------------------------------------------------------------------------------

// Reads id (string or integer) and client_id, validating the venue's identifier rules.
void read_ids(lua_State* L, const std::string& venue, CancelRequest& req) {
  lua_pushstring(L, "id");
  const int t = lua_rawget(L, 1);
  int is_int = 0;
  const lua_Integer as_int = t == LUA_TNUMBER ? lua_tointegerx(L, -1, &is_int) : 0;
  if (t == LUA_TSTRING) {
    req.id = lua_tostring(L, -1);
  } else if (t == LUA_TNUMBER && is_int) {
    req.id = std::to_string(as_int);
  } else if (t != LUA_TNIL) {
    std::string got(type_name(L, -1));
    lua_pop(L, 1);
    throw LuaMisuse("rfq.cancel: bad argument 'id' (string or integer expected, got " + got + ")");
  }
  lua_pop(L, 1);
  req.client_id = opt_string_field(L, 1, "client_id", "rfq.cancel").value_or("");
  // The venue owns its identifier rules (OKX: decimal rfqId, 1-32 alnum clRfqId).
  if (std::string err = host_of(L).engine().venue(venue)->check(req); !err.empty()) {
    throw LuaMisuse("rfq.cancel: " + err);
  }
}

int push_cancel_result(lua_State* co, const std::string& venue, const CancelResult& r,
                       bool dry_run) {
  if (r.ec) {
    lua_pushnil(co);
    lua_pushstring(co, r.message.empty() ? r.ec.message().c_str() : r.message.c_str());
    const std::string_view code = code_name(code_of(r.ec));
    lua_pushlstring(co, code.data(), code.size());
    if (r.venue_code.empty()) return 3;
    lua_pushstring(co, r.venue_code.c_str());  // the venue's own code, when it answered
    return 4;
  }
  lua_createtable(co, 0, 6);
  set_field(co, "venue", venue);
  if (!dry_run || !r.id.empty()) set_field(co, "id", r.id);  // dry run by an unknown client id
  set_optional(co, "client_id", r.client_id);
  set_field(co, "state", r.state);
  set_field(co, "latency_us", r.latency_us);
  if (!dry_run) {
    set_field(co, "venue_code", r.venue_code);
    return 1;
  }
  lua_pushboolean(co, 1);  // nothing was sent: no venue_code
  lua_setfield(co, -2, "dry_run");
  return 1;
}

// res, err, code, venue_code = rfq.cancel{ venue = "okx", id = "22535" | client_id = "rfq001",
//                                          timeout_ms = ?, confirm = ? } -- yields until the
//                                          venue answered (confirm: until its feed shows it)
CallResult l_cancel(lua_State* L) {
  const SteadyTime entered = std::chrono::steady_clock::now();
  check_table(L, 1, "rfq.cancel", "request");
  check_known_fields(L, 1, "rfq.cancel", {"venue", "id", "client_id", "timeout_ms", "confirm"});
  auto venue = opt_string_field(L, 1, "venue", "rfq.cancel");
  if (!venue) throw LuaMisuse("rfq.cancel: bad argument 'venue' (string expected, got nil)");
  check_venue(L, "rfq.cancel", *venue);
  CancelRequest req;
  req.confirm = confirm_option(L, 1, "rfq.cancel");
  read_ids(L, *venue, req);
  PolicyHost& host = host_of(L);
  req.timeout = host.spec().default_timeout;
  if (auto t = opt_integer_field(L, 1, "timeout_ms", "rfq.cancel")) {
    if (*t <= 0 || *t > kMaxMs) {
      throw LuaMisuse("rfq.cancel: bad argument 'timeout_ms' (positive integer up to 30 days in "
                      "ms expected)");
    }
    req.timeout = Millis(*t);
  }
  req.entered = entered;
  LuaTask& task = require_task(L, "rfq.cancel");
  Ticket ticket = task.suspend("rfq.cancel");
  const bool dry_run = host.engine().dry_run();
  host.engine().cancel(*venue, std::move(req), host.origin(),
                       [ticket, v = *venue, dry_run](CancelResult r) {
    LuaTask::deliver(ticket, [v, r = std::move(r), dry_run](lua_State* co) {
      return push_cancel_result(co, v, r, dry_run);
    });
  });
  return CallResult::suspend();
}


void register_metatables(lua_State* L) {
  luaL_newmetatable(L, kTimerMeta);
  lua_newtable(L);
  set_function(L, "cancel", &trampoline<l_timer_cancel>);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "rfq.timer");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newmetatable(L, kTaskMeta);
  lua_newtable(L);
  set_function(L, "wait", &trampoline<l_task_wait>);
  lua_setfield(L, -2, "__index");
  set_function(L, "__gc", &l_task_gc);
  lua_pop(L, 1);
}

}  // namespace

void open_rfq_module(PolicyHost& host) {
  lua_State* L = host.vm().state();
  register_metatables(L);
  lua_newtable(L);
  set_function(L, "sleep", &trampoline<l_sleep>);
  set_function(L, "now", &trampoline<l_now>);
  set_function(L, "every", &trampoline<l_every>);
  set_function(L, "after", &trampoline<l_after>);
  set_function(L, "spawn", &trampoline<l_spawn>);
  set_function(L, "params", &trampoline<l_params>);
  set_function(L, "open", &trampoline<l_open>);
  set_function(L, "cancel", &trampoline<l_cancel>);
  register_bulk(L);  // cancel_batch, cancel_all, budget (after open: cancel_all uses it)
  register_events(L);  // on
  lua_newtable(L);  // rfq.state: plain data a hot reload copies into the new version
  lua_setfield(L, -2, "state");
  lua_newtable(L);
  set_function(L, "debug", &l_log<LogLevel::debug>);
  set_function(L, "info", &l_log<LogLevel::info>);
  set_function(L, "warn", &l_log<LogLevel::warn>);
  set_function(L, "error", &l_log<LogLevel::error>);
  lua_setfield(L, -2, "log");
  // print() goes to the script log too: a daemon has no terminal for it.
  lua_pushcfunction(L, &l_log<LogLevel::info>);
  lua_setglobal(L, "print");
  lua_pushvalue(L, -1);
  lua_setglobal(L, "rfq");
  lua_getfield(L, LUA_REGISTRYINDEX, "rfq.loaded");
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "rfq");
  lua_pop(L, 2);
}

}  // namespace rfq::lua
