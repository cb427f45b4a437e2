// rfq.on: handlers for engine events, each run in its own task; rfq.exposure and rfq.venues,
// the state those events report (DESIGN §4 "State and events").

#include <string>

#include "bindings/lua/trampoline.hpp"
#include "bindings/modules/module_util.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::lua {
namespace {

constexpr const char* kSubscriptionMeta = "rfq.subscription";

// sub = rfq.on("rfq", function(r, previous_state) end) -- fn runs in a new task after every
// RFQ state change the book records (previous_state is nil for an RFQ new to the book)
// sub = rfq.on("fill", function(trade) end) -- once per fill the venues report
// sub = rfq.on("exposure", function(exposure, source) end) -- source "engine": rfq.exposure()
// after it changed (at most once per loop turn); "host": a value the host published
// sub = rfq.on("venue", function(venue, status) end) -- status "down" | "up"
CallResult l_on(lua_State* L) {
  std::string event = check_string(L, 1, "rfq.on", "event");
  if (event != "rfq" && event != "fill" && event != "exposure" && event != "venue") {
    throw LuaMisuse("rfq.on: bad argument 'event' ('rfq', 'fill', 'exposure' or 'venue' "
                    "expected, got '" +
                    event + "')");
  }
  check_function(L, 2, "rfq.on", "fn");
  std::string name = "on(" + event + ") at " + where(L, 1);
  lua_pushvalue(L, 2);
  const int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  const std::uint64_t id = host_of(L).on(std::move(event), ref, std::move(name));
  auto* slot = static_cast<std::uint64_t*>(lua_newuserdatauv(L, sizeof(std::uint64_t), 0));
  *slot = id;
  luaL_setmetatable(L, kSubscriptionMeta);
  return CallResult::values(1);
}

// sub:cancel() -- no more events for this handler; tasks already started run to their end
CallResult l_subscription_cancel(lua_State* L) {
  auto* slot = static_cast<std::uint64_t*>(luaL_testudata(L, 1, kSubscriptionMeta));
  if (slot == nullptr) throw LuaMisuse("subscription:cancel: bad self (subscription expected)");
  host_of(L).off(*slot);
  return CallResult::values(0);
}

// x = rfq.exposure() -- { [venue] = { [underlying] = { filled_net, open_gross } } }, from the
// book now (expiry applied first)
CallResult l_exposure(lua_State* L) {
  Engine& engine = host_of(L).engine();
  engine.book().expire_due(engine.clock().now_ms());
  push_exposure(L, engine.book().exposure());
  return CallResult::values(1);
}

// v = rfq.venues() -- { [venue] = "starting" | "up" | "down" } for every configured venue
CallResult l_venues(lua_State* L) {
  Engine& engine = host_of(L).engine();
  const auto names = engine.venue_names();
  lua_createtable(L, 0, static_cast<int>(names.size()));
  for (const auto& name : names) {
    lua_pushstring(L, status_name(engine.venue(name)->status()));
    lua_setfield(L, -2, name.c_str());
  }
  return CallResult::values(1);
}

}  // namespace

void register_events(lua_State* L) {
  luaL_newmetatable(L, kSubscriptionMeta);
  lua_newtable(L);
  set_function(L, "cancel", &trampoline<l_subscription_cancel>);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, kSubscriptionMeta);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  set_function(L, "on", &trampoline<l_on>);
  set_function(L, "exposure", &trampoline<l_exposure>);
  set_function(L, "venues", &trampoline<l_venues>);
}

}  // namespace rfq::lua
