#include "bindings/modules/module_util.hpp"

#include <cmath>

#include "engine/book/exposure.hpp"
#include "engine/book/fill.hpp"
#include "engine/book/rfq.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lauxlib.h>
}

namespace rfq::lua {

PolicyHost& host_of(lua_State* L) { return *static_cast<PolicyHost*>(LuaVm::from(L).host()); }

// The running task, or a misuse error naming the function: yielding calls need a task, and a
// place where Lua can yield (not inside table.sort, gsub, a metamethod or a require'd module's
// main chunk). Checked before anything is armed, so a refused call leaves nothing behind.
LuaTask& require_task(lua_State* L, const char* fn) {
  LuaTask* task = LuaTask::current(L);
  if (task == nullptr) {
    throw LuaMisuse(std::string(fn) +
                    ": cannot yield here (call it from the policy's main chunk, a timer "
                    "callback or an rfq.spawn function, not from a coroutine the script created)");
  }
  if (!lua_isyieldable(L)) {
    throw LuaMisuse(std::string(fn) +
                    ": cannot yield here (inside a C function such as table.sort, string.gsub, "
                    "a metamethod or a module being required)");
  }
  return *task;
}

// "file.lua:12" of the Lua function `level` frames up, without raising.
std::string where(lua_State* L, int level) {
  lua_Debug ar;
  if (lua_getstack(L, level, &ar) == 0 || lua_getinfo(L, "Sl", &ar) == 0 || ar.currentline <= 0) {
    return "?";
  }
  return std::string(ar.short_src) + ":" + std::to_string(ar.currentline);
}

void set_field(lua_State* L, const char* key, const std::string& value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, key);
}

void set_field(lua_State* L, const char* key, std::int64_t value) {
  lua_pushinteger(L, value);
  lua_setfield(L, -2, key);
}

void set_optional(lua_State* L, const char* key, const std::string& value) {
  if (!value.empty()) set_field(L, key, value);
}

void check_venue(lua_State* L, const char* fn, const std::string& venue) {
  if (host_of(L).engine().venue(venue) == nullptr) {
    throw LuaMisuse(std::string(fn) + ": bad argument 'venue' (unknown or unconfigured venue '" +
                    venue + "')");
  }
}

void set_function(lua_State* L, const char* name, lua_CFunction fn) {
  lua_pushcfunction(L, fn);
  lua_setfield(L, -2, name);
}

Millis timeout_option(lua_State* L, int idx, const char* fn) {
  Millis timeout = host_of(L).spec().default_timeout;
  if (auto t = opt_integer_field(L, idx, "timeout_ms", fn)) {
    if (*t <= 0 || *t > kMaxMs) {
      throw LuaMisuse(std::string(fn) +
                      ": bad argument 'timeout_ms' (positive integer up to 30 days in ms expected)");
    }
    timeout = Millis(*t);
  }
  return timeout;
}

void push_rfq(lua_State* L, const Rfq& r) {
  lua_createtable(L, 0, 10);
  set_field(L, "venue", r.venue);
  set_field(L, "id", r.id);
  set_optional(L, "client_id", r.client_id);
  set_field(L, "state", r.state);
  set_field(L, "raw_state", r.raw_state);
  set_optional(L, "label", r.label);
  set_field(L, "created_ms", r.created_ms);
  set_field(L, "expires_ms", r.expires_ms);
  lua_createtable(L, static_cast<int>(r.legs.size()), 0);
  lua_Integer i = 1;
  for (const auto& leg : r.legs) {
    lua_createtable(L, 0, 3);
    set_field(L, "instrument", leg.instrument);
    set_field(L, "side", leg.side);
    set_field(L, "size", leg.size);
    lua_rawseti(L, -2, i++);
  }
  lua_setfield(L, -2, "legs");
}

void push_number(lua_State* L, double value) {
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) <= kExact) {
    lua_pushinteger(L, static_cast<lua_Integer>(value));
  } else {
    lua_pushnumber(L, value);
  }
}

void push_fill(lua_State* L, const Fill& f) {
  lua_createtable(L, 0, 7);
  set_field(L, "venue", f.venue);
  set_field(L, "id", f.id);
  set_optional(L, "client_id", f.client_id);
  set_optional(L, "label", f.label);
  set_field(L, "time_ms", f.time_ms);
  if (f.price) {
    push_number(L, *f.price);
    lua_setfield(L, -2, "price");
  }
  lua_createtable(L, static_cast<int>(f.legs.size()), 0);
  lua_Integer i = 1;
  for (const auto& leg : f.legs) {
    lua_createtable(L, 0, 5);
    set_field(L, "instrument", leg.instrument);
    set_field(L, "underlying", leg.underlying);
    set_field(L, "side", leg.side);
    push_number(L, leg.size);
    lua_setfield(L, -2, "size");
    if (leg.price) {
      push_number(L, *leg.price);
      lua_setfield(L, -2, "price");
    }
    lua_rawseti(L, -2, i++);
  }
  lua_setfield(L, -2, "legs");
}

void push_exposure(lua_State* L, const Exposure& exposure) {
  lua_createtable(L, 0, static_cast<int>(exposure.venues().size()));
  for (const auto& [venue, underlyings] : exposure.venues()) {
    lua_pushlstring(L, venue.data(), venue.size());
    lua_createtable(L, 0, static_cast<int>(underlyings.size()));
    for (const auto& [underlying, bucket] : underlyings) {
      lua_pushlstring(L, underlying.data(), underlying.size());
      lua_createtable(L, 0, 2);
      push_number(L, bucket.filled_net);
      lua_setfield(L, -2, "filled_net");
      push_number(L, bucket.open_gross);
      lua_setfield(L, -2, "open_gross");
      lua_rawset(L, -3);
    }
    lua_rawset(L, -3);
  }
}

const char* status_name(VenueStatus status) {
  switch (status) {
    case VenueStatus::starting: return "starting";
    case VenueStatus::up: return "up";
    case VenueStatus::down: return "down";
  }
  return "down";
}

bool confirm_option(lua_State* L, int idx, const char* fn) {
  return opt_bool_field(L, idx, "confirm", fn).value_or(false);
}

}  // namespace rfq::lua
