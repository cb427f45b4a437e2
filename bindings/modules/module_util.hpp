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

namespace rfq {
class Exposure;
struct Fill;
struct Rfq;
enum class VenueStatus;
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
// Pushes an RFQ as scripts see it: { venue, id, client_id?, state, raw_state, label?,
// created_ms, expires_ms, legs = { { instrument, side, size } } }.
void push_rfq(lua_State* L, const Rfq& r);
// A number as scripts read it: an integer when the value is integral (and exactly
// representable), else a float.
void push_number(lua_State* L, double value);
// Pushes a fill as scripts see it (rfq.on("fill")): { venue, id, client_id?, label?, time_ms,
// price?, legs = { { instrument, underlying, side, size, price? } } }.
void push_fill(lua_State* L, const Fill& fill);
// Pushes exposure as rfq.exposure() returns it:
// { [venue] = { [underlying] = { filled_net = N, open_gross = N } } }.
void push_exposure(lua_State* L, const Exposure& exposure);
// "starting", "up" or "down".
const char* status_name(VenueStatus status);
// Registers rfq.on, rfq.exposure and rfq.venues into the rfq table on top of the stack.
void register_events(lua_State* L);
// Reads an optional boolean confirm option of the table at idx (false when absent).
bool confirm_option(lua_State* L, int idx, const char* fn);
// Registers cancel_batch, cancel_all and budget into the rfq table on top of the stack.
void register_bulk(lua_State* L);

}  // namespace rfq::lua
