#include "bindings/lua/json_bridge.hpp"

#include <boost/json.hpp>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::lua {

void push_json(lua_State* L, const boost::json::value& v) {
  // A container holds its table, a key and a value on the stack per level. Values that come
  // from Lua are at most 33 levels deep (to_json), far below what the stack can grow to.
  if (!lua_checkstack(L, 3)) {
    lua_pushnil(L);
    return;
  }
  switch (v.kind()) {
    case boost::json::kind::null: lua_pushnil(L); break;
    case boost::json::kind::bool_: lua_pushboolean(L, v.get_bool()); break;
    case boost::json::kind::int64: lua_pushinteger(L, v.get_int64()); break;
    case boost::json::kind::uint64: lua_pushinteger(L, static_cast<lua_Integer>(v.get_uint64())); break;
    case boost::json::kind::double_: lua_pushnumber(L, v.get_double()); break;
    case boost::json::kind::string: {
      const auto& s = v.get_string();
      lua_pushlstring(L, s.data(), s.size());
      break;
    }
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      lua_createtable(L, static_cast<int>(a.size()), 0);
      lua_Integer i = 1;
      for (const auto& e : a) {
        push_json(L, e);
        lua_rawseti(L, -2, i++);
      }
      break;
    }
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      lua_createtable(L, 0, static_cast<int>(o.size()));
      for (const auto& [k, e] : o) {
        lua_pushlstring(L, k.data(), k.size());
        push_json(L, e);
        lua_rawset(L, -3);
      }
      break;
    }
  }
}

namespace {

bool value_to_json(lua_State* L, int idx, boost::json::value& out, std::string& error,
                   const std::string& path, int depth);

bool table_to_json(lua_State* L, int idx, boost::json::value& out, std::string& error,
                   const std::string& path, int depth) {
  if (depth > 32) {
    error = path + ": nested too deeply (or a cycle)";
    return false;
  }
  idx = lua_absindex(L, idx);
  const auto n = static_cast<lua_Integer>(lua_rawlen(L, idx));
  lua_Integer count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    ++count;
    lua_pop(L, 1);
  }
  if (count > 0 && count == n) {
    boost::json::array arr;
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, idx, i);
      boost::json::value e;
      bool ok = value_to_json(L, -1, e, error, path + "[" + std::to_string(i) + "]", depth + 1);
      lua_pop(L, 1);
      if (!ok) return false;
      arr.push_back(std::move(e));
    }
    out = std::move(arr);
    return true;
  }
  boost::json::object obj;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      error = path + ": keys must be strings (or the table a sequence 1..n)";
      lua_pop(L, 2);
      return false;
    }
    std::string key = lua_tostring(L, -2);
    boost::json::value e;
    bool ok = value_to_json(L, -1, e, error, path + "." + key, depth + 1);
    lua_pop(L, 1);
    if (!ok) {
      lua_pop(L, 1);
      return false;
    }
    obj[key] = std::move(e);
  }
  out = std::move(obj);
  return true;
}

bool value_to_json(lua_State* L, int idx, boost::json::value& out, std::string& error,
                   const std::string& path, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL: out = nullptr; return true;
    case LUA_TBOOLEAN: out = lua_toboolean(L, idx) != 0; return true;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        out = static_cast<std::int64_t>(lua_tointeger(L, idx));
      } else {
        out = lua_tonumber(L, idx);
      }
      return true;
    case LUA_TSTRING: {
      std::size_t len = 0;
      const char* s = lua_tolstring(L, idx, &len);
      out = boost::json::string(s, len);
      return true;
    }
    case LUA_TTABLE: return table_to_json(L, idx, out, error, path, depth);
    default:
      error = path + ": a " + std::string(luaL_typename(L, idx)) + " is not plain data";
      return false;
  }
}

}  // namespace

bool to_json(lua_State* L, int idx, boost::json::value& out, std::string& error,
             const std::string& path) {
  return value_to_json(L, idx, out, error, path, 0);
}

}  // namespace rfq::lua
