#include "bindings/lua/plain_copy.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::lua {
namespace {

constexpr int kMaxDepth = 200;  // nesting deeper than this is refused, not a C stack overflow

struct Copy {
  lua_State* from;
  int index;
  const std::string* path;
  std::string error;
  int seen = 0;  // stack index (in `to`) of the table: source table pointer -> copy
};

std::string key_path(lua_State* from, int key, const std::string& parent) {
  switch (lua_type(from, key)) {
    case LUA_TSTRING: return parent + "." + lua_tostring(from, key);
    case LUA_TNUMBER:
      return parent + "[" +
             (lua_isinteger(from, key) ? std::to_string(lua_tointeger(from, key))
                                       : std::to_string(lua_tonumber(from, key))) +
             "]";
    case LUA_TBOOLEAN: return parent + "[" + (lua_toboolean(from, key) ? "true" : "false") + "]";
    default: return parent + "[" + luaL_typename(from, key) + " key]";
  }
}

// Pushes onto `to` the copy of from's value at `idx` (absolute). False leaves `to` as it was.
bool copy_value(Copy& c, lua_State* to, int idx, const std::string& path, int depth) {
  lua_State* from = c.from;
  switch (lua_type(from, idx)) {
    case LUA_TNIL: lua_pushnil(to); return true;
    case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return true;
    case LUA_TNUMBER:
      if (lua_isinteger(from, idx)) {
        lua_pushinteger(to, lua_tointeger(from, idx));
      } else {
        lua_pushnumber(to, lua_tonumber(from, idx));
      }
      return true;
    case LUA_TSTRING: {
      std::size_t n = 0;
      const char* s = lua_tolstring(from, idx, &n);
      lua_pushlstring(to, s, n);
      return true;
    }
    case LUA_TTABLE: break;
    default:
      c.error = path + ": a " + std::string(luaL_typename(from, idx)) +
                " is not plain data (only nil, booleans, numbers, strings and tables carry over)";
      return false;
  }
  const void* id = lua_topointer(from, idx);
  lua_pushlightuserdata(to, const_cast<void*>(id));
  if (lua_rawget(to, c.seen) == LUA_TTABLE) return true;  // shared or cyclic: the same copy
  lua_pop(to, 1);
  if (depth >= kMaxDepth) {
    c.error = path + ": nested deeper than " + std::to_string(kMaxDepth) + " tables";
    return false;
  }
  if (!lua_checkstack(from, 3) || !lua_checkstack(to, 4)) {
    c.error = path + ": no stack space";
    return false;
  }
  lua_newtable(to);
  lua_pushlightuserdata(to, const_cast<void*>(id));
  lua_pushvalue(to, -2);
  lua_rawset(to, c.seen);
  const int dest = lua_gettop(to);
  lua_pushnil(from);
  while (lua_next(from, idx) != 0) {
    const int key = lua_gettop(from) - 1;
    const std::string where = key_path(from, key, path);
    if (!copy_value(c, to, key, where + " (key)", depth + 1)) {
      lua_pop(from, 2);
      lua_settop(to, dest - 1);
      return false;
    }
    if (!copy_value(c, to, key + 1, where, depth + 1)) {
      lua_pop(from, 2);
      lua_settop(to, dest - 1);
      return false;
    }
    lua_rawset(to, dest);
    lua_pop(from, 1);  // the value; the key stays for lua_next
  }
  return true;
}

// Runs on `to` under lua_pcall, so running out of memory there is an error, not an abort.
int run_copy(lua_State* to) {
  auto* c = static_cast<Copy*>(lua_touserdata(to, 1));
  lua_settop(to, 0);
  lua_newtable(to);
  c->seen = 1;
  if (!copy_value(*c, to, c->index, *c->path, 0)) return 0;
  return 1;
}

}  // namespace

bool copy_plain(lua_State* from, int index, lua_State* to, const std::string& path,
                std::string& error) {
  Copy c{from, lua_absindex(from, index), &path, {}};
  const int from_top = lua_gettop(from);
  const int base = lua_gettop(to);
  if (!lua_checkstack(to, 3)) {
    error = path + ": no stack space";
    return false;
  }
  lua_pushcfunction(to, &run_copy);
  lua_pushlightuserdata(to, &c);
  const int status = lua_pcall(to, 1, 1, 0);
  lua_settop(from, from_top);  // a memory error may have left keys on `from`
  if (status != LUA_OK) {
    const char* msg = lua_tostring(to, -1);
    error = path + ": " + (msg != nullptr ? msg : "copy failed");
    lua_settop(to, base);
    return false;
  }
  if (!c.error.empty()) {
    error = std::move(c.error);
    lua_settop(to, base);
    return false;
  }
  return true;
}

}  // namespace rfq::lua
