// copy_plain: rfq.state's copy between two Lua states keeps integers, floats, strings with
// zeros, non-string keys, shared tables and cycles; refuses functions, userdata and threads
// naming where they are; refuses absurd nesting; fails cleanly when the target is out of
// memory; never touches metatables.

#include "bindings/lua/plain_copy.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace {

using State = std::unique_ptr<lua_State, decltype(&lua_close)>;

State fresh() {
  State L(luaL_newstate(), &lua_close);
  luaL_openlibs(L.get());
  return L;
}

// Evaluates `expr` in `from`, copies the result into `to` as global `v`.
bool copy(lua_State* from, lua_State* to, const std::string& expr, std::string& error) {
  REQUIRE(luaL_dostring(from, ("return " + expr).c_str()) == LUA_OK);
  const int top = lua_gettop(from);
  const bool ok = rfq::lua::copy_plain(from, -1, to, "rfq.state", error);
  CHECK(lua_gettop(from) == top);
  lua_pop(from, 1);
  if (ok) lua_setglobal(to, "v");
  return ok;
}

bool holds(lua_State* L, const char* condition) {
  const std::string code = std::string("return ") + condition;
  REQUIRE(luaL_dostring(L, code.c_str()) == LUA_OK);
  const bool b = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return b;
}

}  // namespace

TEST_CASE("copy_plain keeps plain data exactly", "[plain_copy]") {
  auto a = fresh();
  auto b = fresh();
  std::string error;
  REQUIRE(luaL_dostring(a.get(), R"(
    local shared = { "s" }
    t = { i = 3, f = 3.0, s = "x\0y", yes = true, no = false, [1] = "one", [2.5] = "half",
          [true] = "t", a = shared, b = shared, nested = { deep = { deeper = { 1, 2, 3 } } } }
    t.me = t
    setmetatable(t, { __index = function() return "meta" end })
  )") == LUA_OK);
  REQUIRE(copy(a.get(), b.get(), "t", error));
  CHECK(holds(b.get(), "math.type(v.i) == 'integer' and v.i == 3"));
  CHECK(holds(b.get(), "math.type(v.f) == 'float' and v.f == 3.0"));
  CHECK(holds(b.get(), "v.s == 'x\\0y' and #v.s == 3"));
  CHECK(holds(b.get(), "v.yes == true and v.no == false"));
  CHECK(holds(b.get(), "v[1] == 'one' and v[2.5] == 'half' and v[true] == 't'"));
  CHECK(holds(b.get(), "v.a == v.b and v.a[1] == 's'"));
  CHECK(holds(b.get(), "v.me == v"));
  CHECK(holds(b.get(), "v.nested.deep.deeper[3] == 3"));
  CHECK(holds(b.get(), "getmetatable(v) == nil and v.missing == nil"));
  CHECK(lua_gettop(b.get()) == 0);
}

TEST_CASE("copy_plain copies scalars and nil", "[plain_copy]") {
  auto a = fresh();
  auto b = fresh();
  std::string error;
  REQUIRE(copy(a.get(), b.get(), "42", error));
  CHECK(holds(b.get(), "v == 42 and math.type(v) == 'integer'"));
  REQUIRE(copy(a.get(), b.get(), "nil", error));
  CHECK(holds(b.get(), "v == nil"));
}

TEST_CASE("copy_plain refuses what is not plain data, naming where", "[plain_copy]") {
  auto a = fresh();
  auto b = fresh();
  std::string error;
  CHECK_FALSE(copy(a.get(), b.get(), "{ cb = { [2] = print } }", error));
  CHECK(error ==
        "rfq.state.cb[2]: a function is not plain data (only nil, booleans, numbers, "
        "strings and tables carry over)");
  CHECK_FALSE(copy(a.get(), b.get(), "{ co = coroutine.create(print) }", error));
  CHECK_THAT(error, Catch::StartsWith("rfq.state.co: a thread is not plain data"));
  CHECK_FALSE(copy(a.get(), b.get(), "{ [print] = 1 }", error));
  CHECK_THAT(error, Catch::StartsWith("rfq.state[function key] (key): a function"));
  CHECK_FALSE(copy(a.get(), b.get(), "{ f = io.stdout }", error));
  CHECK_THAT(error, Catch::StartsWith("rfq.state.f: a userdata is not plain data"));
  CHECK(lua_gettop(b.get()) == 0);
}

TEST_CASE("copy_plain refuses nesting deeper than 200 tables", "[plain_copy]") {
  auto a = fresh();
  auto b = fresh();
  REQUIRE(
      luaL_dostring(a.get(), "deep = {} local t = deep for i = 1, 300 do t.x = {} t = t.x end") ==
      LUA_OK);
  std::string error;
  CHECK_FALSE(copy(a.get(), b.get(), "deep", error));
  CHECK_THAT(error, Catch::EndsWith("nested deeper than 200 tables"));
  REQUIRE(luaL_dostring(a.get(), "ok = {} local t = ok for i = 1, 150 do t.x = {} t = t.x end") ==
          LUA_OK);
  CHECK(copy(a.get(), b.get(), "ok", error));
}

namespace {

// An allocator that fails past a budget.
struct Budget {
  std::size_t used = 0;
  std::size_t limit = 0;
};

void* limited(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* b = static_cast<Budget*>(ud);
  const std::size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    b->used -= old;
    std::free(ptr);
    return nullptr;
  }
  if (b->limit && b->used - old + nsize > b->limit) return nullptr;
  void* p = std::realloc(ptr, nsize);
  if (p) b->used = b->used - old + nsize;
  return p;
}

}  // namespace

TEST_CASE("copy_plain fails cleanly when the target runs out of memory", "[plain_copy]") {
  auto a = fresh();
  Budget budget;
  lua_State* b = lua_newstate(&limited, &budget);
  REQUIRE(b != nullptr);
  budget.limit = budget.used + 64 * 1024;
  REQUIRE(luaL_dostring(a.get(), "big = {} for i = 1, 100000 do big[i] = 'item' .. i end") ==
          LUA_OK);
  std::string error;
  lua_getglobal(a.get(), "big");
  CHECK_FALSE(rfq::lua::copy_plain(a.get(), -1, b, "rfq.state", error));
  CHECK_THAT(error, Catch::Contains("not enough memory"));
  CHECK(lua_gettop(b) == 0);
  CHECK(lua_gettop(a.get()) == 1);
  budget.limit = 0;
  lua_close(b);
}
