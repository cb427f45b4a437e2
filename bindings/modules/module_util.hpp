#pragma once
// Helpers shared by the files that make up the rfq Lua module. Internal to bindings/modules.

#include <cstdint>
#include <string>

#include "bindings/lua/lua_task.hpp"
#include "bindings/lua/lua_vm.hpp"
#include "bindings/lua/trampoline.hpp"
#include "bindings/modules/policy_host.hpp"

extern "C" {
#include <lua.h>
}

namespace rfq::lua {

// Durations beyond 30 days are refused: they are mistakes, and they overflow nanoseconds.
inline constexpr std::int64_t kMaxMs = 30LL * 24 * 3600 * 1000;

PolicyHost& host_of(lua_State* L);
LuaTask& require_task(lua_State* L, const char* fn);
std::string where(lua_State* L, int level);
void set_field(lua_State* L, const char* key, const std::string& value);
void set_field(lua_State* L, const char* key, std::int64_t value);
void set_optional(lua_State* L, const char* key, const std::string& value);
void check_venue(lua_State* L, const char* fn, const std::string& venue);
void set_function(lua_State* L, const char* name, lua_CFunction fn);
// Reads an optional timeout_ms option of the table at idx (defaults to the policy's).
Millis timeout_option(lua_State* L, int idx, const char* fn);
// Registers cancel_batch, cancel_all and budget into the rfq table on top of the stack.
void register_bulk(lua_State* L);

}  // namespace rfq::lua
