#include "bindings/lua/trampoline.hpp"

#include "bindings/lua/lua_vm.hpp"

#include <cstring>

extern "C" {
#include <lauxlib.h>
}

namespace rfq::lua {
namespace detail {

// Runs with no C++ locals alive in the caller's body; lua_error longjmps from here. The
// position is the script's: frames of the API's own Lua wrappers (chunks named "=rfq...")
// are skipped, so an error raised under rfq.cancel_all points at the policy line.
int raise(lua_State* L, const char* message) {
  lua_Debug ar;
  int level = 1;
  while (lua_getstack(L, level, &ar) != 0 && lua_getinfo(L, "S", &ar) != 0 &&
         std::strncmp(ar.source, "=rfq", 4) == 0) {
    ++level;
  }
  luaL_where(L, level);
  lua_pushstring(L, message);
  lua_concat(L, 2);
  return lua_error(L);
}

void enter(lua_State* L) { LuaVm::from(L).enter_host(); }

bool leave(lua_State* L) {
  LuaVm& vm = LuaVm::from(L);
  vm.leave_host();
  return vm.over_limit();
}

}  // namespace detail

namespace {

[[noreturn]] void bad(const char* fn, const char* what, std::string_view expected,
                      std::string_view got) {
  throw LuaMisuse(std::string(fn) + ": bad argument '" + what + "' (" + std::string(expected) +
                  " expected, got " + std::string(got) + ")");
}

}  // namespace

std::string_view type_name(lua_State* L, int idx) { return lua_typename(L, lua_type(L, idx)); }

void check_table(lua_State* L, int idx, const char* fn, const char* what) {
  if (lua_type(L, idx) != LUA_TTABLE) bad(fn, what, "table", type_name(L, idx));
}

void check_function(lua_State* L, int idx, const char* fn, const char* what) {
  if (lua_type(L, idx) != LUA_TFUNCTION) bad(fn, what, "function", type_name(L, idx));
}

std::int64_t check_integer(lua_State* L, int idx, const char* fn, const char* what) {
  int isnum = 0;
  lua_Integer v = lua_tointegerx(L, idx, &isnum);
  if (!isnum || lua_type(L, idx) != LUA_TNUMBER) bad(fn, what, "integer", type_name(L, idx));
  return v;
}

std::string check_string(lua_State* L, int idx, const char* fn, const char* what) {
  if (lua_type(L, idx) != LUA_TSTRING) bad(fn, what, "string", type_name(L, idx));
  std::size_t n = 0;
  const char* s = lua_tolstring(L, idx, &n);
  return std::string(s, n);
}

namespace {

// Pushes t[key] (raw) and returns its type; the caller pops.
int raw_field(lua_State* L, int idx, const char* key) {
  idx = lua_absindex(L, idx);
  lua_pushstring(L, key);
  return lua_rawget(L, idx);
}

}  // namespace

std::optional<std::string> opt_string_field(lua_State* L, int idx, const char* key,
                                            const char* fn) {
  int t = raw_field(L, idx, key);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return std::nullopt;
  }
  if (t != LUA_TSTRING) {
    std::string got(type_name(L, -1));
    lua_pop(L, 1);
    bad(fn, key, "string", got);
  }
  std::size_t n = 0;
  const char* s = lua_tolstring(L, -1, &n);
  std::string out(s, n);
  lua_pop(L, 1);
  return out;
}

std::optional<std::int64_t> opt_integer_field(lua_State* L, int idx, const char* key,
                                              const char* fn) {
  int t = raw_field(L, idx, key);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return std::nullopt;
  }
  int isnum = 0;
  lua_Integer v = lua_tointegerx(L, -1, &isnum);
  std::string got(type_name(L, -1));
  lua_pop(L, 1);
  if (t != LUA_TNUMBER || !isnum) bad(fn, key, "integer", got);
  return v;
}

std::optional<bool> opt_bool_field(lua_State* L, int idx, const char* key, const char* fn) {
  int t = raw_field(L, idx, key);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return std::nullopt;
  }
  bool v = lua_toboolean(L, -1) != 0;
  std::string got(type_name(L, -1));
  lua_pop(L, 1);
  if (t != LUA_TBOOLEAN) bad(fn, key, "boolean", got);
  return v;
}

void check_known_fields(lua_State* L, int idx, const char* fn,
                        std::initializer_list<std::string_view> allowed) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);  // value
    if (lua_type(L, -1) == LUA_TSTRING) {
      std::string_view key = lua_tostring(L, -1);
      bool known = false;
      for (auto a : allowed) known = known || a == key;
      if (!known) {
        std::string k(key);
        lua_pop(L, 1);
        throw LuaMisuse(std::string(fn) + ": unknown option '" + k + "'");
      }
    }
  }
}

}  // namespace rfq::lua
