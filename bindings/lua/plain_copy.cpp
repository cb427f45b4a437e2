#include "bindings/lua/plain_copy.hpp"

#include <string>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::lua {
namespace {

constexpr int kMaxDepth = 200;  // nesting deeper than this is refused, not a C stack overflow

// Why a copy stopped, found inside the protected call; the message is built after it returns.
enum class Refusal { none, not_plain, too_deep, no_stack };

// The copy's frames allocate in `to` under lua_pcall, so a memory error there longjmps over
// them: they hold no C++ object with a destructor. What they need lives here, sized before the
// call. `keys` holds the stack index (in `from`) of each table key on the way down; on a
// refusal those keys stay on `from`'s stack, so the path can be named afterwards.
struct Copy {
  lua_State* from = nullptr;
  int index = 0;
  int seen = 0;  // stack index (in `to`) of the table: source table pointer -> copy
  int keys[kMaxDepth + 1] = {};
  int depth = 0;        // keys in use
  bool at_key = false;  // the refused value is the key at keys[depth - 1], not its value
  Refusal refusal = Refusal::none;
  int bad = 0;  // stack index (in `from`) of the refused value
};

bool copy_value(Copy& c, lua_State* to, int idx);

bool copy_table(Copy& c, lua_State* to, int idx) {
  lua_State* from = c.from;
  const void* id = lua_topointer(from, idx);
  lua_pushlightuserdata(to, const_cast<void*>(id));
  if (lua_rawget(to, c.seen) == LUA_TTABLE) return true;  // shared or cyclic: the same copy
  lua_pop(to, 1);
  if (c.depth >= kMaxDepth) {
    c.refusal = Refusal::too_deep;
    return false;
  }
  if (!lua_checkstack(from, 3) || !lua_checkstack(to, 4)) {
    c.refusal = Refusal::no_stack;
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
    c.keys[c.depth++] = key;
    c.at_key = true;
    if (!copy_value(c, to, key)) return false;  // key and value stay on `from` for the path
    c.at_key = false;
    if (!copy_value(c, to, key + 1)) return false;
    --c.depth;
    lua_rawset(to, dest);
    lua_pop(from, 1);  // the value; the key stays for lua_next
  }
  return true;
}

// Pushes onto `to` the copy of from's value at `idx` (absolute).
bool copy_value(Copy& c, lua_State* to, int idx) {
  lua_State* from = c.from;
  switch (lua_type(from, idx)) {
    case LUA_TNIL:
      lua_pushnil(to);
      return true;
    case LUA_TBOOLEAN:
      lua_pushboolean(to, lua_toboolean(from, idx));
      return true;
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
    case LUA_TTABLE:
      return copy_table(c, to, idx);
    default:
      c.refusal = Refusal::not_plain;
      c.bad = idx;
      return false;
  }
}

// Runs on `to` under lua_pcall, so running out of memory there is an error, not an abort.
int run_copy(lua_State* to) {
  auto* c = static_cast<Copy*>(lua_touserdata(to, 1));
  lua_settop(to, 0);
  lua_newtable(to);
  c->seen = 1;
  if (!copy_value(*c, to, c->index)) return 0;
  return 1;
}

// "rfq.state.cb[2]" from the keys still on `from`'s stack.
std::string path_of(const Copy& c, const std::string& root) {
  std::string path = root;
  for (int i = 0; i < c.depth; ++i) {
    const int key = c.keys[i];
    switch (lua_type(c.from, key)) {
      case LUA_TSTRING:
        path += "." + std::string(lua_tostring(c.from, key));
        break;
      case LUA_TNUMBER:
        path += "[" +
                (lua_isinteger(c.from, key) ? std::to_string(lua_tointeger(c.from, key))
                                            : std::to_string(lua_tonumber(c.from, key))) +
                "]";
        break;
      case LUA_TBOOLEAN:
        path += lua_toboolean(c.from, key) ? "[true]" : "[false]";
        break;
      default:
        path += "[" + std::string(luaL_typename(c.from, key)) + " key]";
        break;
    }
  }
  return path;
}

}  // namespace

bool copy_plain(lua_State* from, int index, lua_State* to, const std::string& path,
                std::string& error) {
  Copy c;
  c.from = from;
  c.index = lua_absindex(from, index);
  const int from_top = lua_gettop(from);
  const int base = lua_gettop(to);
  if (!lua_checkstack(to, 3)) {
    error = path + ": no stack space";
    return false;
  }
  lua_pushcfunction(to, &run_copy);
  lua_pushlightuserdata(to, &c);
  const int status = lua_pcall(to, 1, 1, 0);
  if (status != LUA_OK) {
    const char* msg = lua_tostring(to, -1);
    error = path + ": " + (msg != nullptr ? msg : "copy failed");
  } else if (c.refusal != Refusal::none) {
    std::string where = path_of(c, path) + (c.at_key ? " (key)" : "");
    switch (c.refusal) {
      case Refusal::not_plain:
        error = where + ": a " + luaL_typename(from, c.bad) +
                " is not plain data (only nil, booleans, numbers, strings and tables carry over)";
        break;
      case Refusal::too_deep:
        error = where + ": nested deeper than " + std::to_string(kMaxDepth) + " tables";
        break;
      default:
        error = where + ": no stack space";
        break;
    }
  }
  lua_settop(from, from_top);  // keys left on the way down
  if (status != LUA_OK || c.refusal != Refusal::none) {
    lua_settop(to, base);
    return false;
  }
  return true;
}

}  // namespace rfq::lua
