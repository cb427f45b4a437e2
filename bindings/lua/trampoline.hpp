#pragma once
// The one entry point for every Lua-callable C++ function. Bodies are plain C++: they report
// misuse by throwing LuaMisuse and never call luaL_error/lua_error/lua_yield themselves. The
// trampoline raises the Lua error (or yields) only after the body's C++ locals are destroyed,
// because the C build of Lua longjmps and would skip their destructors.
//
// Bodies also avoid Lua API calls that can raise for ordinary reasons (metamethods, luaL_check*):
// use the raw accessors and the Args helpers below.

#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

extern "C" {
#include <lua.h>
}

namespace rfq::lua {

// "rfq.cancel: bad argument 'id' (string expected, got nil)" — raised with the caller's
// file:line prefixed.
class LuaMisuse : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CallResult {
  int nresults = 0;
  bool yield = false;
  static CallResult values(int n) { return {n, false}; }
  static CallResult suspend() { return {0, true}; }
};

using Body = CallResult (*)(lua_State* L);

namespace detail {
int raise(lua_State* L, const char* message);
// Lifts the VM's memory cap while the body runs; leave() says whether the body went over it.
void enter(lua_State* L);
bool leave(lua_State* L);
}  // namespace detail

template <Body F>
int trampoline(lua_State* L) {
  char message[2048];  // room for a policy's error with its traceback
  message[0] = '\0';
  CallResult result;
  bool failed = false;
  detail::enter(L);
  {
    try {
      result = F(L);
    } catch (const std::exception& e) {
      std::snprintf(message, sizeof message, "%s", e.what());
      failed = true;
    } catch (...) {
      std::snprintf(message, sizeof message, "internal error (non-standard exception)");
      failed = true;
    }
  }
  const bool over_limit = detail::leave(L);
  if (failed) return detail::raise(L, message);
  if (over_limit) return detail::raise(L, "not enough memory");
  if (result.yield) return lua_yield(L, 0);
  return result.nresults;
}

// Argument helpers that throw LuaMisuse with the function and argument named.
std::string_view type_name(lua_State* L, int idx);
void check_table(lua_State* L, int idx, const char* fn, const char* what);
void check_function(lua_State* L, int idx, const char* fn, const char* what);
std::int64_t check_integer(lua_State* L, int idx, const char* fn, const char* what);
std::string check_string(lua_State* L, int idx, const char* fn, const char* what);
// Fields of the options table at idx, read raw (no metamethods). Absent (nil) -> nullopt.
std::optional<std::string> opt_string_field(lua_State* L, int idx, const char* key,
                                            const char* fn);
std::optional<std::int64_t> opt_integer_field(lua_State* L, int idx, const char* key,
                                              const char* fn);
std::optional<bool> opt_bool_field(lua_State* L, int idx, const char* key, const char* fn);
// Raises when the table at idx has a string key not in `allowed` (typos must not pass).
void check_known_fields(lua_State* L, int idx, const char* fn,
                        std::initializer_list<std::string_view> allowed);

}  // namespace rfq::lua
