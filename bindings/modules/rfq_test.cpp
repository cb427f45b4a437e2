// rfq.test: t.case and the assertions (Lua, below), and `s`, the handle of a case's world
// (C++, through the trampoline like every Lua-callable function of the host).

#include "bindings/modules/rfq_test.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "bindings/lua/json_bridge.hpp"
#include "bindings/lua/lua_task.hpp"
#include "bindings/lua/lua_vm.hpp"
#include "bindings/lua/trampoline.hpp"
#include "bindings/modules/module_util.hpp"
#include "bindings/modules/policy_host.hpp"
#include "bindings/modules/policy_set.hpp"
#include "engine/engine.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/deribit/deribit_rpc.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::lua {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kWorldMeta = "rfq.test.world";
constexpr std::int64_t kMaxAdvanceMs = 30LL * 24 * 3600 * 1000;
constexpr std::int64_t kMaxExpiresInMs = 30LL * 24 * 3600 * 1000;
constexpr const char* kDefaultSpread = "BTC-USDT_BTC-USDT-SWAP";

// The assertions are Lua: error(msg, 2) puts the caller's file:line in front, and values are
// shown the way a Lua programmer writes them. `register` is the C function that records a case.
constexpr const char* kModule = R"lua(
local register = ...
local t = {}

local function show(v, depth)
  depth = depth or 0
  local kind = type(v)
  if kind == "string" then return string.format("%q", v) end
  if kind ~= "table" then return tostring(v) end
  if depth >= 3 then return "{...}" end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
    return type(a) < type(b)
  end)
  local parts, n = {}, #v
  for _, k in ipairs(keys) do
    if #parts == 20 then parts[#parts + 1] = "..."; break end
    if math.type(k) == "integer" and k >= 1 and k <= n then
      parts[#parts + 1] = show(v[k], depth + 1)
    elseif type(k) == "string" and k:match("^[%a_][%w_]*$") then
      parts[#parts + 1] = k .. " = " .. show(v[k], depth + 1)
    else
      parts[#parts + 1] = "[" .. show(k, depth + 1) .. "] = " .. show(v[k], depth + 1)
    end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function same(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    if not same(v, b[k], seen) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function fail(what, text, msg)
  if msg ~= nil then text = text .. " (" .. tostring(msg) .. ")" end
  error(what .. ": " .. text, 3)
end

local function check_arg(fn, name, value, expected)
  if type(value) ~= expected then
    error(string.format("%s: bad argument '%s' (%s expected, got %s)", fn, name, expected,
                        type(value)), 3)
  end
end

function t.case(name, fn)
  check_arg("t.case", "name", name, "string")
  check_arg("t.case", "fn", fn, "function")
  register(name, fn)
end

function t.eq(actual, expected, msg)
  if not same(actual, expected) then
    fail("t.eq", "expected " .. show(expected) .. ", got " .. show(actual), msg)
  end
end

function t.ok(value, msg)
  if not value then fail("t.ok", "expected a true value, got " .. show(value), msg) end
  return value
end

function t.near(actual, expected, tolerance, msg)
  check_arg("t.near", "expected", expected, "number")
  check_arg("t.near", "tolerance", tolerance, "number")
  if type(actual) ~= "number" or not (math.abs(actual - expected) <= tolerance) then
    fail("t.near", "expected " .. show(expected) .. " +/- " .. show(tolerance) .. ", got " ..
         show(actual), msg)
  end
end

function t.match(text, pattern, msg)
  check_arg("t.match", "pattern", pattern, "string")
  if type(text) ~= "string" or not string.find(text, pattern) then
    fail("t.match", show(text) .. " does not match pattern " .. show(pattern), msg)
  end
  return text
end

function t.raises(fn, pattern, msg)
  check_arg("t.raises", "fn", fn, "function")
  if pattern ~= nil then check_arg("t.raises", "pattern", pattern, "string") end
  local ok, err = pcall(fn)
  if ok then fail("t.raises", "expected an error, none was raised", msg) end
  local text = type(err) == "string" and err or show(err)
  if pattern ~= nil and not string.find(text, pattern) then
    fail("t.raises", "error " .. show(text) .. " does not match pattern " .. show(pattern), msg)
  end
  return text
end

return t
)lua";

// ---- t.case's recorder -------------------------------------------------------------------

int l_register(lua_State* L) {
  auto* registry = static_cast<TestRegistry*>(lua_touserdata(L, lua_upvalueindex(1)));
  if (registry->running) {
    luaL_where(L, 2);
    lua_pushstring(L, "t.case: cases are registered by the file's main chunk, not inside a case");
    lua_concat(L, 2);
    return lua_error(L);
  }
  lua_pushvalue(L, 2);
  const int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  registry->cases.push_back({lua_tostring(L, 1), ref, where(L, 2)});
  return 0;
}

// ---- s -----------------------------------------------------------------------------------

struct WorldRef {
  TestWorld* world;
};

TestWorld& world_of(lua_State* L, const char* fn) {
  auto* ref = static_cast<WorldRef*>(luaL_testudata(L, 1, kWorldMeta));
  if (ref == nullptr) {
    throw LuaMisuse(std::string(fn) + ": bad self (the case's world expected: call it with ':')");
  }
  if (ref->world == nullptr) throw LuaMisuse(std::string(fn) + ": this world's case has ended");
  if (ref->world->unsettled()) {
    throw LuaMisuse(std::string(fn) + ": this world did not settle earlier; the case cannot go on");
  }
  return *ref->world;
}

std::string required_string(lua_State* L, int idx, const char* key, const char* fn) {
  auto v = opt_string_field(L, idx, key, fn);
  if (!v)
    throw LuaMisuse(std::string(fn) + ": bad argument '" + key + "' (string expected, got nil)");
  return *v;
}

// An RFQ's venue and id from a handle s:add_rfq returned or an RFQ table a policy saw.
std::pair<std::string, std::string> rfq_key(lua_State* L, int idx, const char* fn) {
  check_table(L, idx, fn, "rfq");
  std::string venue = required_string(L, idx, "venue", fn);
  idx = lua_absindex(L, idx);
  lua_pushstring(L, "id");
  lua_rawget(L, idx);  // raw: no metamethod may run (and raise) inside this body
  std::string id;
  if (lua_type(L, -1) == LUA_TSTRING) {
    id = lua_tostring(L, -1);
  } else if (lua_isinteger(L, -1)) {
    id = std::to_string(lua_tointeger(L, -1));
  } else {
    std::string got(type_name(L, -1));
    lua_pop(L, 1);
    throw LuaMisuse(std::string(fn) + ": bad argument 'rfq.id' (string expected, got " + got + ")");
  }
  lua_pop(L, 1);
  return {venue, id};
}

void unknown_venue(const char* fn, const std::string& venue) {
  throw LuaMisuse(std::string(fn) +
                  ": bad argument 'venue' (okx, okx_spread or deribit expected, got '" + venue +
                  "')");
}

// A spread order in the RFQ shape: state live -> active, the spread in sprd_id.
void push_spread_order(lua_State* L, const sim::SimSpreadOrder& o) {
  Rfq r{"okx_spread", o.ord_id, "",          o.state == "live" ? "active" : o.state,
        o.state,      "",       o.c_time_ms, 0,
        {},           true,     {}};
  push_rfq(L, r);
  set_field(L, "sprd_id", o.sprd_id);
}

// Runs what is ready now; a world that never settles fails the calling method.
void settle(TestWorld& w, const char* fn) {
  try {
    w.sim().poll();
  } catch (const VirtualClock::NotSettled& e) {
    w.mark_unsettled();
    throw LuaMisuse(std::string(fn) + ": the world did not settle: " + e.what());
  }
}

void push_handle(lua_State* L, const std::string& venue, const std::string& id) {
  lua_createtable(L, 0, 2);
  set_field(L, "venue", venue);
  set_field(L, "id", id);
}

// Legs of an options table: { {instrument=, side=, size=|ratio=}, ... }; none: venue default.
template <typename Leg, typename Make>
std::vector<Leg> read_legs(lua_State* L, int idx, const char* fn, Make make) {
  std::vector<Leg> legs;
  idx = lua_absindex(L, idx);
  lua_pushstring(L, "legs");
  if (lua_rawget(L, idx) == LUA_TNIL) {
    lua_pop(L, 1);
    return legs;
  }
  if (!lua_istable(L, -1)) {
    std::string got(type_name(L, -1));
    lua_pop(L, 1);
    throw LuaMisuse(std::string(fn) + ": bad argument 'legs' (table expected, got " + got + ")");
  }
  const int t = lua_gettop(L);
  for (lua_Integer i = 1; lua_rawgeti(L, t, i) == LUA_TTABLE; ++i) {
    try {
      legs.push_back(make(L, lua_gettop(L)));
    } catch (...) {
      lua_settop(L, t - 1);
      throw;
    }
    lua_pop(L, 1);
  }
  lua_settop(L, t - 1);
  return legs;
}

std::optional<std::int64_t> expires_in(lua_State* L, const char* fn) {
  auto ms = opt_integer_field(L, 2, "expires_in_ms", fn);
  if (ms && (*ms <= 0 || *ms > kMaxExpiresInMs)) {
    throw LuaMisuse(std::string(fn) +
                    ": bad argument 'expires_in_ms' (integer from 1 to 30 days in ms expected)");
  }
  return ms;
}

std::string leg_side(lua_State* L, int idx) {
  std::string side = opt_string_field(L, idx, "side", "s:add_rfq legs").value_or("buy");
  if (side != "buy" && side != "sell") {
    throw LuaMisuse("s:add_rfq: bad argument 'legs[].side' ('buy' or 'sell' expected, got '" +
                    side + "')");
  }
  return side;
}

int leg_ratio(lua_State* L, int idx) {
  const std::int64_t ratio = opt_integer_field(L, idx, "ratio", "s:add_rfq legs").value_or(1);
  if (ratio < 1 || ratio > 1'000'000) {
    throw LuaMisuse("s:add_rfq: bad argument 'legs[].ratio' (integer from 1 to 1000000 expected)");
  }
  return static_cast<int>(ratio);
}

// h = s:add_rfq{ venue = "okx"|"deribit"|"okx_spread", ... } -- an RFQ (or spread order) on
// the simulated venue; its creation reaches the engine's book before this returns
CallResult l_add_rfq(lua_State* L) {
  constexpr const char* fn = "s:add_rfq";
  TestWorld& w = world_of(L, fn);
  check_table(L, 2, fn, "options");
  const std::string venue = required_string(L, 2, "venue", fn);
  std::string id;
  try {
    if (venue == "okx") {
      check_known_fields(L, 2, fn, {"venue", "expires_in_ms", "client_id", "label", "legs"});
      sim::NewRfq r;
      r.cl_rfq_id = opt_string_field(L, 2, "client_id", fn).value_or("");
      r.tag = opt_string_field(L, 2, "label", fn).value_or("");
      r.expires_in_ms = expires_in(L, fn);
      r.legs = read_legs<sim::SimLeg>(L, 2, fn, [](lua_State* S, int i) {
        return sim::SimLeg{required_string(S, i, "instrument", "s:add_rfq legs"), leg_side(S, i),
                           opt_string_field(S, i, "size", "s:add_rfq legs").value_or("25")};
      });
      if (r.legs.empty()) r.legs.push_back({"BTC-USD-261225-100000-C", "buy", "25"});
      id = w.sim().okx().add_rfq(std::move(r));
    } else if (venue == "deribit") {
      check_known_fields(L, 2, fn,
                         {"venue", "expires_in_ms", "label", "legs", "amount", "currency"});
      sim::NewBlockRfq r;
      r.label = opt_string_field(L, 2, "label", fn).value_or("");
      r.expires_in_ms = expires_in(L, fn);
      if (auto c = opt_string_field(L, 2, "currency", fn)) r.currency = *c;
      if (auto a = opt_integer_field(L, 2, "amount", fn)) r.amount = static_cast<double>(*a);
      r.legs = read_legs<sim::DeribitLeg>(L, 2, fn, [](lua_State* S, int i) {
        return sim::DeribitLeg{required_string(S, i, "instrument", "s:add_rfq legs"),
                               leg_side(S, i), leg_ratio(S, i)};
      });
      if (r.legs.empty()) r.legs.push_back({"BTC-PERPETUAL", "buy", 1});
      id = std::to_string(w.sim().deribit().add_rfq(std::move(r)));
    } else if (venue == "okx_spread") {
      check_known_fields(L, 2, fn, {"venue", "sprd_id"});
      id = w.sim().okx().add_spread_order(
          opt_string_field(L, 2, "sprd_id", fn).value_or(kDefaultSpread));
    } else {
      unknown_venue(fn, venue);
    }
  } catch (const std::invalid_argument& e) {
    throw LuaMisuse(std::string(fn) + ": " + e.what());
  }
  settle(w, fn);  // creation pushes reach the engine's book now
  push_handle(L, venue, id);
  return CallResult::values(1);
}

// Pushes the simulator's view of one RFQ (or spread order), or nil when it does not know it.
void push_sim_rfq(lua_State* L, TestWorld& w, const std::string& venue, const std::string& id,
                  const char* fn) {
  if (venue == "okx" || venue == "deribit") {
    if (auto r = w.sim().rfq(venue, id)) return push_rfq(L, *r);
  } else if (venue == "okx_spread") {
    if (auto o = w.sim().okx().spread_order(id)) return push_spread_order(L, *o);
  } else {
    unknown_venue(fn, venue);
  }
  lua_pushnil(L);
}

// r = s:rfq(h) -- the simulator's view of one RFQ or spread order, or nil
CallResult l_rfq(lua_State* L) {
  constexpr const char* fn = "s:rfq";
  TestWorld& w = world_of(L, fn);
  auto [venue, id] = rfq_key(L, 2, fn);
  push_sim_rfq(L, w, venue, id, fn);
  return CallResult::values(1);
}

// list = s:rfqs{ venue = V, state = S } -- every RFQ and spread order the simulators hold
CallResult l_rfqs(lua_State* L) {
  constexpr const char* fn = "s:rfqs";
  TestWorld& w = world_of(L, fn);
  std::optional<std::string> venue, state;
  if (!lua_isnoneornil(L, 2)) {
    check_table(L, 2, fn, "filter");
    check_known_fields(L, 2, fn, {"venue", "state"});
    venue = opt_string_field(L, 2, "venue", fn);
    state = opt_string_field(L, 2, "state", fn);
    if (venue && *venue != "okx" && *venue != "deribit" && *venue != "okx_spread") {
      unknown_venue(fn, *venue);
    }
  }
  lua_createtable(L, 0, 0);
  lua_Integer i = 1;
  for (const char* v : {"okx", "okx_spread", "deribit"}) {
    if (venue && *venue != v) continue;
    if (std::string_view(v) == "okx_spread") {
      for (const auto& o : w.sim().okx().spread_orders()) {
        if (state && (o.state == "live" ? "active" : o.state) != *state) continue;
        push_spread_order(L, o);
        lua_rawseti(L, -2, i++);
      }
      continue;
    }
    for (const auto& r : w.sim().rfqs(v)) {
      if (state && r.state != *state) continue;
      push_rfq(L, r);
      lua_rawseti(L, -2, i++);
    }
  }
  return CallResult::values(1);
}

json::value params_arg(lua_State* L, int idx, const char* fn) {
  if (lua_isnoneornil(L, idx)) return json::value(json::object());
  check_table(L, idx, fn, "params");
  json::value params;
  std::string error;
  if (!to_json(L, idx, params, error, "params")) {
    throw LuaMisuse(std::string(fn) + ": bad argument 'params' (" + error + ")");
  }
  if (params.is_array() && params.as_array().empty()) params = json::object();
  if (!params.is_object()) {
    throw LuaMisuse(std::string(fn) + ": bad argument 'params' (table with string keys expected)");
  }
  return params;
}

// A policy file as the test names it: from the working directory, else the test's folder.
std::string resolve_path(TestWorld& w, const std::string& path, const char* fn, const char* arg) {
  std::string resolved = path;
  if (!fs::exists(resolved) && !w.options().test_dir.empty() && fs::path(path).is_relative()) {
    resolved = (fs::path(w.options().test_dir) / path).string();
  }
  if (!fs::exists(resolved)) {
    throw LuaMisuse(
        std::string(fn) + ": bad argument '" + arg + "' (no file '" + path + "'" +
        (w.options().test_dir.empty() ? "" : ", also looked in " + w.options().test_dir) + ")");
  }
  return resolved;
}

// s:load_policy(path[, params]) -- a policy as rfqd run loads it; raises when it fails to load
CallResult l_load_policy(lua_State* L) {
  constexpr const char* fn = "s:load_policy";
  TestWorld& w = world_of(L, fn);
  const std::string path = check_string(L, 2, fn, "path");
  const json::value params = params_arg(L, 3, fn);
  const std::string resolved = resolve_path(w, path, fn, "path");
  std::string error = w.load_policy(resolved, nullptr, params);
  if (!error.empty()) throw LuaMisuse(std::string(fn) + ": " + error);
  return CallResult::values(0);
}

// s:run_policy_source(source[, params]) -- the same from Lua source text
CallResult l_run_policy_source(lua_State* L) {
  constexpr const char* fn = "s:run_policy_source";
  TestWorld& w = world_of(L, fn);
  const std::string source = check_string(L, 2, fn, "source");
  const json::value params = params_arg(L, 3, fn);
  std::string error = w.load_policy("", &source, params);
  if (!error.empty()) throw LuaMisuse(std::string(fn) + ": " + error);
  return CallResult::values(0);
}

// s:advance(ms) -- virtual time moves, running everything due on the way
CallResult l_advance(lua_State* L) {
  constexpr const char* fn = "s:advance";
  TestWorld& w = world_of(L, fn);
  const std::int64_t ms = check_integer(L, 2, fn, "ms");
  if (ms < 0 || ms > kMaxAdvanceMs) {
    throw LuaMisuse(std::string(fn) +
                    ": bad argument 'ms' (integer from 0 to 30 days in ms expected)");
  }
  try {
    w.sim().advance(Millis(ms));
  } catch (const VirtualClock::NotSettled& e) {
    w.mark_unsettled();
    throw LuaMisuse(std::string(fn) + ": the world did not settle: " + e.what());
  }
  return CallResult::values(0);
}

// ms = s:now() -- virtual Unix ms
CallResult l_now(lua_State* L) {
  TestWorld& w = world_of(L, "s:now");
  lua_pushinteger(L, w.sim().now_ms());
  return CallResult::values(1);
}

// A number field of the table at idx (raw); nullopt when absent.
std::optional<double> opt_number_field(lua_State* L, int idx, const char* key, const char* fn) {
  lua_pushstring(L, key);
  const int t = lua_rawget(L, idx);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return std::nullopt;
  }
  if (t != LUA_TNUMBER) {
    std::string got(type_name(L, -1));
    lua_pop(L, 1);
    throw LuaMisuse(std::string(fn) + ": bad argument '" + key + "' (number expected, got " + got +
                    ")");
  }
  const double v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

// How s:fill's options execute a Deribit block RFQ; none of them on OKX (its rfqs channel
// reports neither a price nor which side of a quote was executed).
sim::DeribitFill fill_options(lua_State* L, const std::string& venue, const char* fn) {
  sim::DeribitFill how;
  if (lua_isnoneornil(L, 3)) return how;
  check_table(L, 3, fn, "options");
  check_known_fields(L, 3, fn, {"price", "side", "amount"});
  const auto price = opt_number_field(L, 3, "price", fn);
  const auto side = opt_string_field(L, 3, "side", fn);
  const auto amount = opt_number_field(L, 3, "amount", fn);
  if (venue == "okx" && (price || side || amount)) {
    throw LuaMisuse(std::string(fn) + ": bad argument '" +
                    (price  ? "price"
                     : side ? "side"
                            : "amount") +
                    "' (okx fills carry no trade: the rfqs channel reports only the state)");
  }
  if (price) how.price = *price;
  if (side) how.direction = *side;
  how.amount = amount;
  return how;
}

// ok = s:fill(h[, { price = P, side = "buy"|"sell", amount = A }]) -- active -> filled on the
// simulated venue (the options: deribit's trade)
CallResult l_fill(lua_State* L) {
  constexpr const char* fn = "s:fill";
  TestWorld& w = world_of(L, fn);
  auto [venue, id] = rfq_key(L, 2, fn);
  const sim::DeribitFill how = fill_options(L, venue, fn);
  bool filled = false;
  if (venue == "okx") {
    filled = w.sim().okx().fill(id);
  } else if (venue == "deribit") {
    std::int64_t n = 0;
    try {
      filled = deribit::parse_rfq_id(id, n) && w.sim().deribit().fill(n, how);
    } catch (const std::invalid_argument& e) {
      throw LuaMisuse(std::string(fn) + ": " + e.what());
    }
  } else if (venue == "okx_spread") {
    throw LuaMisuse(std::string(fn) +
                    ": bad argument 'rfq' (spread orders are not filled by the simulator)");
  } else {
    unknown_venue(fn, venue);
  }
  settle(w, fn);
  lua_pushboolean(L, filled ? 1 : 0);
  return CallResult::values(1);
}

// s:fault{ venue, kind = "outage", duration_ms } -- the venue's WebSocket goes away now
void outage(lua_State* L, TestWorld& w, const std::string& venue, const char* fn) {
  check_known_fields(L, 2, fn, {"venue", "kind", "duration_ms"});
  if (venue != "okx" && venue != "okx_spread" && venue != "deribit") unknown_venue(fn, venue);
  const auto ms = opt_integer_field(L, 2, "duration_ms", fn);
  if (!ms) {
    throw LuaMisuse(std::string(fn) +
                    ": bad argument 'duration_ms' (an outage needs its duration in ms)");
  }
  if (*ms < 1 || *ms > kMaxAdvanceMs) {
    throw LuaMisuse(std::string(fn) +
                    ": bad argument 'duration_ms' (integer from 1 to 30 days in ms expected)");
  }
  w.sim().ws_outage(venue, Millis(*ms));
}

// s:fault{ venue, kind, endpoint, count, delay_ms, code, message } -- queues a simulator fault
CallResult l_fault(lua_State* L) {
  constexpr const char* fn = "s:fault";
  TestWorld& w = world_of(L, fn);
  check_table(L, 2, fn, "fault");
  const std::string venue = required_string(L, 2, "venue", fn);
  const std::string kind_name = required_string(L, 2, "kind", fn);
  if (kind_name == "outage") {
    outage(L, w, venue, fn);
    return CallResult::values(0);
  }
  check_known_fields(L, 2, fn,
                     {"venue", "kind", "count", "endpoint", "delay_ms", "code", "message"});
  const auto kind = sim::fault_kind_from(kind_name);
  if (!kind) {
    throw LuaMisuse(std::string(fn) +
                    ": bad argument 'kind' (delay, unavailable, drop, ws_close, auth, reject or "
                    "outage expected, got '" +
                    kind_name + "')");
  }
  const std::int64_t count = opt_integer_field(L, 2, "count", fn).value_or(1);
  const std::int64_t delay_ms = opt_integer_field(L, 2, "delay_ms", fn).value_or(0);
  std::string endpoint = opt_string_field(L, 2, "endpoint", fn).value_or("");
  const std::string message =
      opt_string_field(L, 2, "message", fn).value_or("rejected by the simulator");
  // reject's code: a string on OKX ("51008"), an integer on Deribit (10009).
  std::string code;
  lua_pushstring(L, "code");
  lua_rawget(L, 2);
  if (lua_type(L, -1) == LUA_TSTRING || lua_isinteger(L, -1)) {
    code = lua_tostring(L, -1);
  } else if (!lua_isnil(L, -1)) {
    std::string got(type_name(L, -1));
    lua_pop(L, 1);
    throw LuaMisuse(std::string(fn) + ": bad argument 'code' (string or integer expected, got " +
                    got + ")");
  }
  lua_pop(L, 1);
  if (*kind == sim::FaultKind::reject && code.empty()) {
    throw LuaMisuse(std::string(fn) +
                    ": bad argument 'code' (a reject fault needs the venue code to answer)");
  }
  if (*kind != sim::FaultKind::reject && !code.empty()) {
    throw LuaMisuse(std::string(fn) + ": bad argument 'code' (only a reject fault takes a code)");
  }
  if (delay_ms != 0 && *kind != sim::FaultKind::delay) {
    throw LuaMisuse(std::string(fn) + ": bad argument 'delay_ms' (only a delay fault takes one)");
  }
  if (count < 1 || count > 1'000'000) {
    throw LuaMisuse(std::string(fn) +
                    ": bad argument 'count' (integer from 1 to 1000000 expected)");
  }
  try {
    if (venue == "okx" || venue == "okx_spread") {
      // okx_spread lives on OKX's business WebSocket: ws_close is the one fault of its traffic.
      if (venue == "okx_spread" && *kind != sim::FaultKind::ws_close) {
        throw LuaMisuse(std::string(fn) +
                        ": bad argument 'kind' (okx_spread takes only ws_close: its "
                        "requests are messages on the business WebSocket)");
      }
      w.sim().okx().inject({endpoint, *kind, delay_ms, static_cast<int>(count), code, message});
    } else if (venue == "deribit") {
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), n);
      if (!code.empty() && (ec != std::errc() || end != code.data() + code.size() ||
                            n < INT32_MIN || n > INT32_MAX)) {
        throw LuaMisuse(std::string(fn) +
                        ": bad argument 'code' (Deribit codes are 32-bit integers)");
      }
      w.sim().deribit().inject({endpoint, *kind, delay_ms, static_cast<int>(count), n, message});
    } else {
      unknown_venue(fn, venue);
    }
  } catch (const std::invalid_argument& e) {
    throw LuaMisuse(std::string(fn) + ": " + e.what());
  }
  return CallResult::values(0);
}

// n = s:publish("exposure", value) -- a host-published value to every policy's handlers
CallResult l_publish(lua_State* L) {
  constexpr const char* fn = "s:publish";
  TestWorld& w = world_of(L, fn);
  const std::string event = check_string(L, 2, fn, "event");
  if (event != "exposure") {
    throw LuaMisuse(std::string(fn) + ": bad argument 'event' ('exposure' expected, got '" + event +
                    "')");
  }
  if (lua_isnone(L, 3)) {
    throw LuaMisuse(std::string(fn) + ": bad argument 'value' (plain data expected, got no value)");
  }
  json::value value;
  std::string error;
  if (!to_json(L, 3, value, error, "value")) {
    throw LuaMisuse(std::string(fn) + ": bad argument 'value' (" + error + ")");
  }
  std::size_t started = 0;
  for (auto& p : w.policies()) started += p->publish(event, value);
  settle(w, fn);
  lua_pushinteger(L, static_cast<lua_Integer>(started));
  return CallResult::values(1);
}

// A journal entry matches when every filter key equals its field; "venue" also matches the
// venue's other transport ("okx" matches "okx_ws", "deribit" matches "deribit_ws").
bool matches(const json::object& entry, const json::object& filter) {
  for (const auto& [key, want] : filter) {
    const json::value* have = entry.if_contains(key);
    if (key == "venue" && have && have->is_string() && want.is_string()) {
      const std::string_view h = have->get_string(), v = want.get_string();
      if (h != v && !(h.starts_with(v) && h.size() > v.size() && h[v.size()] == '_')) return false;
      continue;
    }
    if (!have || *have != want) return false;
  }
  return true;
}

// list = s:requests{ field = value, ... } -- the simulators' journal, filtered
CallResult l_requests(lua_State* L) {
  constexpr const char* fn = "s:requests";
  TestWorld& w = world_of(L, fn);
  json::object filter;
  if (!lua_isnoneornil(L, 2)) {
    check_table(L, 2, fn, "filter");
    json::value v;
    std::string error;
    if (!to_json(L, 2, v, error, "filter")) {
      throw LuaMisuse(std::string(fn) + ": bad argument 'filter' (" + error + ")");
    }
    if (v.is_array() && !v.as_array().empty()) {
      throw LuaMisuse(std::string(fn) +
                      ": bad argument 'filter' (table with string keys expected)");
    }
    if (v.is_object()) filter = v.as_object();
  }
  lua_createtable(L, 0, 0);
  lua_Integer i = 1;
  for (const auto& entry : w.sim().journal().entries()) {
    const json::value* venue = entry.if_contains("venue");
    if (venue && venue->is_string() && venue->get_string() == "sim") continue;
    if (!matches(entry, filter)) continue;
    push_json(L, json::value(entry));
    lua_rawseti(L, -2, i++);
  }
  return CallResult::values(1);
}

// list = s:logs() -- every log record of the case: { logger, level, message }
CallResult l_logs(lua_State* L) {
  TestWorld& w = world_of(L, "s:logs");
  const auto& records = w.capture().records();
  lua_createtable(L, static_cast<int>(records.size()), 0);
  lua_Integer i = 1;
  for (const auto& r : records) {
    lua_createtable(L, 0, 3);
    set_field(L, "logger", r.logger);
    set_field(L, "level", r.level);
    set_field(L, "message", r.message);
    lua_rawseti(L, -2, i++);
  }
  return CallResult::values(1);
}

// list = s:errors() -- the policies' task errors not taken yet (taking them clears them)
CallResult l_errors(lua_State* L) {
  TestWorld& w = world_of(L, "s:errors");
  const auto errors = w.take_errors();
  lua_createtable(L, static_cast<int>(errors.size()), 0);
  lua_Integer i = 1;
  for (const auto& e : errors) {
    lua_pushlstring(L, e.data(), e.size());
    lua_rawseti(L, -2, i++);
  }
  return CallResult::values(1);
}

// n = s:random(m, n) -- from the world's seeded generator
CallResult l_random(lua_State* L) {
  constexpr const char* fn = "s:random";
  TestWorld& w = world_of(L, fn);
  const std::int64_t lo = check_integer(L, 2, fn, "m");
  const std::int64_t hi = check_integer(L, 3, fn, "n");
  if (hi < lo) throw LuaMisuse(std::string(fn) + ": bad argument 'n' (n >= m expected)");
  // Not std::uniform_int_distribution: its algorithm differs between standard libraries.
  const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1;
  const std::uint64_t draw = span == 0 ? w.sim().rng()() : w.sim().rng()() % span;
  lua_pushinteger(L, static_cast<lua_Integer>(static_cast<std::uint64_t>(lo) + draw));
  return CallResult::values(1);
}

}  // namespace

// ---- TestWorld ---------------------------------------------------------------------------

// ok, err = s:reload(policy[, path]) -- a hot reload, as rfqd run does it: the policy loaded
// as `policy` (its name or the path it was loaded from) gets a new version from `path` (default:
// its own file, read again); true, or nil and why the new version was refused (the old one
// keeps serving)
CallResult l_reload(lua_State* L) {
  constexpr const char* fn = "s:reload";
  TestWorld& w = world_of(L, fn);
  const std::string policy = check_string(L, 2, fn, "policy");
  std::string path;
  if (!lua_isnoneornil(L, 3)) path = resolve_path(w, check_string(L, 3, fn, "path"), fn, "path");
  PolicyHost* host = w.find_policy(policy);
  if (host == nullptr && !w.options().test_dir.empty() && fs::path(policy).is_relative()) {
    host = w.find_policy((fs::path(w.options().test_dir) / policy).string());
  }
  if (host == nullptr) {
    throw LuaMisuse(std::string(fn) + ": bad argument 'policy' (no policy '" + policy +
                    "' is loaded)");
  }
  std::string error;
  if (w.reload_policy(*host, path, error)) {
    lua_pushboolean(L, 1);
    return CallResult::values(1);
  }
  lua_pushnil(L);
  lua_pushstring(L, error.c_str());
  return CallResult::values(2);
}

TestWorld::TestWorld(TestWorldOptions options)
    : options_(std::move(options)),
      world_(std::make_unique<sim::SimWorld>(sim::SimWorldOptions{options_.seed})) {
  world_->clock().set_settle_limit(options_.settle_limit);
}

TestWorld::~TestWorld() {
  // Policies first: their tasks and handlers refer to the engine.
  policies_.clear();
  world_->clock().set_settle_limit(0);
}

std::string TestWorld::start() {
  try {
    return world_->start();
  } catch (const VirtualClock::NotSettled& e) {
    return std::string("the world did not settle while starting: ") + e.what();
  }
}

std::string TestWorld::load_policy(const std::string& script, const std::string* source,
                                   const json::value& params) {
  PolicySpec spec;
  spec.script = script;
  spec.params = params;
  spec.scripts_lib_dir = options_.scripts_lib_dir;
  spec.instruction_limit = options_.instruction_limit;
  if (source != nullptr) spec.name = "source" + std::to_string(next_source_++);
  auto host = std::make_unique<PolicyHost>(world_->engine(), spec);
  const std::string name = host->name();
  observe_errors(*host);
  std::string error;
  const bool compiled =
      source != nullptr ? host->load_source(*source, "=" + name, error) : host->load(error);
  if (!compiled) return error;
  host->start();
  PolicyHost& p = *host;
  policies_.push_back(std::move(host));
  try {
    world_->poll();
  } catch (const VirtualClock::NotSettled& e) {
    unsettled_ = true;
    return std::string("the world did not settle: ") + e.what();
  }
  auto main = p.main_task();
  if (main && main->state() == TaskState::Finished && !main->ok()) {
    // Reported as the load's failure, not again as an unexpected task error.
    const std::string own = "[" + name + "] main chunk: " + main->error();
    if (auto it = std::find(errors_.rbegin(), errors_.rend(), own); it != errors_.rend()) {
      errors_.erase(std::next(it).base());
    }
    const std::string message = main->error();
    policies_.pop_back();
    return "main chunk failed: " + message;
  }
  return {};
}

void TestWorld::observe_errors(PolicyHost& host) {
  host.set_error_observer(
      [this, name = host.name()](const std::string& task, const std::string& message) {
        errors_.push_back("[" + name + "] " + task + ": " + message);
      });
}

PolicyHost* TestWorld::find_policy(const std::string& policy) const {
  for (const auto& p : policies_) {
    const std::string& script = p->spec().script;
    if (p->name() == policy ||
        (!script.empty() && (script == policy || fs::path(script).filename() == policy))) {
      return p.get();
    }
  }
  return nullptr;
}

bool TestWorld::reload_policy(PolicyHost& host, const std::string& path, std::string& error) {
  auto it = std::find_if(policies_.begin(), policies_.end(),
                         [&](const auto& p) { return p.get() == &host; });
  if (it == policies_.end()) {
    error = "the policy is no longer loaded";
    return false;
  }
  PolicySpec spec = (*it)->spec();
  if (!path.empty()) spec.script = path;
  if (spec.script.empty()) {
    error = "no policy file to read again (a policy from source text): give a path";
    return false;
  }
  auto next = prepare_version(world_->engine(), spec, it->get(), error);
  if (!next) return false;
  observe_errors(*next);
  next->start();
  PolicyHost& fresh = *next;
  try {
    world_->poll();  // the new main chunk's first resume
  } catch (const VirtualClock::NotSettled& e) {
    unsettled_ = true;
    error = std::string("the world did not settle: ") + e.what();
    return false;
  }
  if (!version_started(fresh, error)) {
    // Reported as the reload's refusal, not again as an unexpected task error.
    const std::string own = "[" + fresh.name() + "] main chunk: " + error;
    if (auto e = std::find(errors_.rbegin(), errors_.rend(), own); e != errors_.rend()) {
      errors_.erase(std::next(e).base());
    }
    (*it)->resume();
    return false;
  }
  *it = std::move(next);  // the old version ends here: timers stop, answers never resume it
  return true;
}

std::vector<std::string> TestWorld::take_errors() {
  std::vector<std::string> out;
  out.swap(errors_);
  return out;
}

// ---- registration ------------------------------------------------------------------------

void open_test_module(LuaVm& vm, TestRegistry& registry) {
  lua_State* L = vm.state();
  if (luaL_loadbuffer(L, kModule, std::char_traits<char>::length(kModule), "=rfq.test") != LUA_OK) {
    std::string err = lua_tostring(L, -1);
    lua_pop(L, 1);
    throw std::runtime_error("rfq.test module failed to compile: " + err);
  }
  lua_pushlightuserdata(L, &registry);
  lua_pushcclosure(L, &l_register, 1);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    std::string err = lua_tostring(L, -1);
    lua_pop(L, 1);
    throw std::runtime_error("rfq.test module failed to load: " + err);
  }
  vm.provide_module("rfq.test");

  luaL_newmetatable(L, kWorldMeta);
  lua_newtable(L);
  set_function(L, "add_rfq", &trampoline<l_add_rfq>);
  set_function(L, "rfq", &trampoline<l_rfq>);
  set_function(L, "rfqs", &trampoline<l_rfqs>);
  set_function(L, "load_policy", &trampoline<l_load_policy>);
  set_function(L, "run_policy_source", &trampoline<l_run_policy_source>);
  set_function(L, "reload", &trampoline<l_reload>);
  set_function(L, "advance", &trampoline<l_advance>);
  set_function(L, "now", &trampoline<l_now>);
  set_function(L, "fill", &trampoline<l_fill>);
  set_function(L, "fault", &trampoline<l_fault>);
  set_function(L, "publish", &trampoline<l_publish>);
  set_function(L, "requests", &trampoline<l_requests>);
  set_function(L, "logs", &trampoline<l_logs>);
  set_function(L, "errors", &trampoline<l_errors>);
  set_function(L, "random", &trampoline<l_random>);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, kWorldMeta);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

void push_test_world(lua_State* L, TestWorld& world) {
  auto* ref = static_cast<WorldRef*>(lua_newuserdatauv(L, sizeof(WorldRef), 0));
  ref->world = &world;
  luaL_setmetatable(L, kWorldMeta);
}

void retire_test_world(lua_State* L, int idx) {
  if (auto* ref = static_cast<WorldRef*>(luaL_testudata(L, idx, kWorldMeta))) ref->world = nullptr;
}

}  // namespace rfq::lua
