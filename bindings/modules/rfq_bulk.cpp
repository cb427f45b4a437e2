// rfq.cancel_batch, rfq.cancel_all (one venue, scoped, or every venue at once) and rfq.budget.

#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "bindings/modules/module_util.hpp"
#include "engine/core/error.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lauxlib.h>
}

namespace rfq::lua {
namespace {

// Reads the list at t[key] (strings or integers) into out. False when t[key] is nil.
bool read_id_list(lua_State* L, int idx, const char* key, const char* fn,
                  std::vector<std::string>& out) {
  idx = lua_absindex(L, idx);
  lua_pushstring(L, key);
  const int t = lua_rawget(L, idx);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return false;
  }
  if (t != LUA_TTABLE) {
    std::string got(type_name(L, -1));
    lua_pop(L, 1);
    throw LuaMisuse(std::string(fn) + ": bad argument '" + key + "' (list expected, got " + got +
                    ")");
  }
  const auto n = static_cast<lua_Integer>(lua_rawlen(L, -1));
  for (lua_Integer i = 1; i <= n; ++i) {
    const int et = lua_rawgeti(L, -1, i);
    int is_int = 0;
    const lua_Integer as_int = et == LUA_TNUMBER ? lua_tointegerx(L, -1, &is_int) : 0;
    if (et == LUA_TSTRING) {
      out.emplace_back(lua_tostring(L, -1));
    } else if (et == LUA_TNUMBER && is_int) {
      out.push_back(std::to_string(as_int));
    } else {
      std::string got(type_name(L, -1));
      lua_pop(L, 2);
      throw LuaMisuse(std::string(fn) + ": bad argument '" + key + "[" + std::to_string(i) +
                      "]' (string or integer expected, got " + got + ")");
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return true;
}

void push_code(lua_State* L, boost::system::error_code ec) {
  const std::string_view code = code_name(code_of(ec));
  lua_pushlstring(L, code.data(), code.size());
}

void set_dry_run(lua_State* co, bool dry_run) {
  if (!dry_run) return;
  lua_pushboolean(co, 1);
  lua_setfield(co, -2, "dry_run");
}

int push_batch_result(lua_State* co, const BatchResult& r, bool dry_run) {
  if (r.ec) {  // nothing reached the venue
    lua_pushnil(co);
    lua_pushstring(co, r.message.empty() ? r.ec.message().c_str() : r.message.c_str());
    push_code(co, r.ec);
    return 3;
  }
  lua_createtable(co, static_cast<int>(r.items.size()), 3);
  lua_Integer i = 1;
  for (const auto& item : r.items) {
    lua_createtable(co, 0, 6);
    set_optional(co, "id", item.id);
    set_optional(co, "client_id", item.client_id);
    lua_pushboolean(co, !item.ec);
    lua_setfield(co, -2, "ok");
    if (item.ec) {
      push_code(co, item.ec);
      lua_setfield(co, -2, "code");
      set_field(co, "err", item.message);
    }
    set_optional(co, "venue_code", item.venue_code);
    lua_rawseti(co, -2, i++);
  }
  set_field(co, "canceled", static_cast<std::int64_t>(r.canceled));
  set_field(co, "failed", static_cast<std::int64_t>(r.failed));
  set_field(co, "requests", static_cast<std::int64_t>(r.requests));
  set_dry_run(co, dry_run);
  return 1;
}

// results, err, code = rfq.cancel_batch{ venue = "okx", ids = {...} | client_ids = {...},
//                                        timeout_ms = ?, confirm = ? } -- yields; chunked
//                                        and paced
CallResult l_cancel_batch(lua_State* L) {
  constexpr const char* fn = "rfq.cancel_batch";
  check_table(L, 1, fn, "request");
  check_known_fields(L, 1, fn, {"venue", "ids", "client_ids", "timeout_ms", "confirm"});
  auto venue = opt_string_field(L, 1, "venue", fn);
  if (!venue) throw LuaMisuse("rfq.cancel_batch: bad argument 'venue' (string expected, got nil)");
  check_venue(L, fn, *venue);
  BatchRequest req;
  // ids wins over client_ids, as rfqIds does on OKX.
  if (!read_id_list(L, 1, "ids", fn, req.ids)) {
    req.client_ids = read_id_list(L, 1, "client_ids", fn, req.ids);
  }
  if (req.ids.empty()) {
    throw LuaMisuse("rfq.cancel_batch: bad argument 'ids' (non-empty list of ids or client_ids "
                    "expected)");
  }
  req.confirm = confirm_option(L, 1, fn);
  Engine& engine = host_of(L).engine();
  if (std::string err = engine.venue(*venue)->check_batch(req); !err.empty()) {
    throw LuaMisuse("rfq.cancel_batch: " + err);
  }
  req.timeout = timeout_option(L, 1, fn);
  LuaTask& task = require_task(L, fn);
  Ticket ticket = task.suspend(fn);
  const bool dry_run = engine.dry_run();
  engine.cancel_batch(*venue, std::move(req), host_of(L).origin(), [ticket, dry_run](BatchResult r) {
    LuaTask::deliver(ticket, [r = std::move(r), dry_run](lua_State* co) {
      return push_batch_result(co, r, dry_run);
    });
  });
  return CallResult::suspend();
}

// ---- cancel_all ----------------------------------------------------------------------------

struct VenueOutcome {
  std::string venue{};
  boost::system::error_code ec{};  // NOTHING_TO_CANCEL counts as ok
  std::string message{};
  std::int64_t canceled = -1;
  std::int64_t failed = 0;
  bool confirmed = false;  // confirm = true applied: the feed showed the outcome
  bool ok() const { return !ec || code_of(ec) == Errc::nothing_to_cancel; }
};

struct AllOp {
  std::vector<VenueOutcome> outcomes;
  std::size_t left = 0;
  Ticket ticket;
  OriginRef origin;
  bool dry_run = false;  // the engine sent nothing (summary.dry_run)
};

int push_summary(lua_State* co, const std::vector<VenueOutcome>& outcomes, bool dry_run) {
  lua_createtable(co, 0, 1);
  lua_createtable(co, 0, static_cast<int>(outcomes.size()));
  const VenueOutcome* first_failure = nullptr;
  for (const auto& o : outcomes) {
    lua_createtable(co, 0, 5);
    lua_pushboolean(co, o.ok());
    lua_setfield(co, -2, "ok");
    if (o.ec) {
      push_code(co, o.ec);
      lua_setfield(co, -2, "code");
      set_field(co, "err", o.message);
    }
    if (o.canceled >= 0) set_field(co, "canceled", o.canceled);
    if (o.failed > 0) set_field(co, "failed", o.failed);
    if (o.confirmed) {
      lua_pushboolean(co, 1);
      lua_setfield(co, -2, "confirmed");
    }
    lua_setfield(co, -2, o.venue.c_str());
    if (!o.ok() && first_failure == nullptr) first_failure = &o;
  }
  lua_setfield(co, -2, "venues");
  set_dry_run(co, dry_run);
  if (first_failure == nullptr) return 1;
  lua_pushstring(co, (first_failure->venue + ": " + first_failure->message).c_str());
  push_code(co, first_failure->ec);
  return 3;
}

void outcome_done(const std::shared_ptr<AllOp>& op) {
  if (--op->left > 0) return;
  LuaTask::deliver(op->ticket,
                   [op](lua_State* co) { return push_summary(co, op->outcomes, op->dry_run); });
}

// Scoped: the matching open RFQs from the book, cancelled by urgent batch (never the venue's
// account-wide cancel-all).
void start_scoped(Engine& engine, const std::shared_ptr<AllOp>& op, std::size_t slot,
                  std::vector<std::string> ids, Millis timeout, bool confirm) {
  if (ids.empty()) {
    op->outcomes[slot].ec = make_error_code(Errc::nothing_to_cancel);
    op->outcomes[slot].message = "no open RFQ matches 'where'";
    op->outcomes[slot].canceled = 0;
    return outcome_done(op);  // deliver() posts: the task is never resumed inside the call
  }
  BatchRequest req;
  req.ids = std::move(ids);
  req.timeout = timeout;
  req.urgent = true;
  req.confirm = confirm;
  engine.cancel_batch(op->outcomes[slot].venue, std::move(req), op->origin,
                      [op, slot, confirm](BatchResult r) {
    auto& o = op->outcomes[slot];
    o.confirmed = confirm && !r.ec && r.failed == 0;
    o.canceled = static_cast<std::int64_t>(r.canceled);
    o.failed = static_cast<std::int64_t>(r.failed);
    if (r.ec) {
      o.ec = r.ec;
      o.message = r.message;
    } else if (r.failed > 0) {
      for (const auto& item : r.items) {
        if (item.ec) {
          o.ec = item.ec;
          o.message = std::to_string(r.failed) + " of " + std::to_string(r.items.size()) +
                      " failed, first: " + item.message;
          break;
        }
      }
    }
    outcome_done(op);
  });
}

void start_account_wide(Engine& engine, const std::shared_ptr<AllOp>& op, std::size_t slot,
                        CancelAllRequest req) {
  const bool confirm = req.confirm;
  engine.cancel_all(op->outcomes[slot].venue, std::move(req), op->origin,
                    [op, slot, confirm](CancelAllResult r) {
    auto& o = op->outcomes[slot];
    o.ec = r.ec;
    o.confirmed = confirm && !r.ec;
    o.message = r.message;
    o.canceled = code_of(r.ec) == Errc::nothing_to_cancel ? 0 : r.canceled;
    outcome_done(op);
  });
}

// Ids of the venue's open RFQs matching where = { client_id_prefix, label_prefix } or the
// internal where = { ids = {...} } that the Lua wrapper builds from a predicate function.
std::vector<std::string> scoped_ids(lua_State* L, int where_idx, const std::string& venue) {
  constexpr const char* fn = "rfq.cancel_all";
  std::vector<std::string> ids;
  check_known_fields(L, where_idx, fn, {"client_id_prefix", "label_prefix", "ids"});
  if (read_id_list(L, where_idx, "ids", fn, ids)) {
    BatchRequest probe;
    probe.ids = ids;
    if (std::string err = host_of(L).engine().venue(venue)->check_batch(probe); !err.empty()) {
      throw LuaMisuse("rfq.cancel_all: where.ids: " + err);
    }
    return ids;
  }
  auto cl = opt_string_field(L, where_idx, "client_id_prefix", fn);
  auto label = opt_string_field(L, where_idx, "label_prefix", fn);
  if (!cl && !label) {
    throw LuaMisuse("rfq.cancel_all: bad argument 'where' (client_id_prefix, label_prefix or a "
                    "function expected)");
  }
  Engine& engine = host_of(L).engine();
  OpenQuery q;
  q.venue = venue;
  for (const Rfq* r : engine.book().open(q, engine.clock().now_ms())) {
    if (cl && r->client_id.rfind(*cl, 0) != 0) continue;
    if (label && r->label.rfind(*label, 0) != 0) continue;
    ids.push_back(r->id);
  }
  return ids;
}

// summary, err, code = rfq.cancel_all{ venue = ?, where = ?, spread_id = ?, timeout_ms = ?,
//                                      confirm = ? }
// -- yields; without venue: every configured venue at once (the kill switch), confirming on
// those that can (summary.venues[v].confirmed)
CallResult l_cancel_all(lua_State* L) {
  constexpr const char* fn = "rfq.cancel_all";
  Engine& engine = host_of(L).engine();
  auto op = std::make_shared<AllOp>();
  std::optional<std::string> venue;
  Millis timeout = host_of(L).spec().default_timeout;
  bool scoped = false;
  std::vector<std::string> ids;
  std::string spread_id;
  bool confirm = false;
  if (!lua_isnoneornil(L, 1)) {
    check_table(L, 1, fn, "options");
    check_known_fields(L, 1, fn, {"venue", "where", "spread_id", "timeout_ms", "confirm"});
    confirm = confirm_option(L, 1, fn);
    venue = opt_string_field(L, 1, "venue", fn);
    if (venue) {
      check_venue(L, fn, *venue);
      CancelAllRequest probe;
      probe.confirm = confirm;
      if (std::string err = engine.venue(*venue)->check_all(probe); !err.empty()) {
        throw LuaMisuse("rfq.cancel_all: " + err);
      }
    }
    timeout = timeout_option(L, 1, fn);
    spread_id = opt_string_field(L, 1, "spread_id", fn).value_or("");
    if (!spread_id.empty() && venue != "okx_spread") {
      throw LuaMisuse("rfq.cancel_all: bad argument 'spread_id' (only for venue okx_spread)");
    }
    lua_pushstring(L, "where");
    const int wt = lua_rawget(L, 1);
    if (wt != LUA_TNIL) {
      if (wt != LUA_TTABLE) {
        lua_pop(L, 1);
        throw LuaMisuse("rfq.cancel_all: bad argument 'where' (table or function expected)");
      }
      if (!venue) {
        lua_pop(L, 1);
        throw LuaMisuse("rfq.cancel_all: bad argument 'where' (needs a venue)");
      }
      scoped = true;
      ids = scoped_ids(L, -1, *venue);
    }
    lua_pop(L, 1);
  }
  std::vector<std::string> venues = venue ? std::vector<std::string>{*venue} : engine.venue_names();
  if (venues.empty()) throw LuaMisuse("rfq.cancel_all: no venue is configured");
  LuaTask& task = require_task(L, fn);
  op->ticket = task.suspend(fn);
  op->origin = host_of(L).origin();
  op->dry_run = engine.dry_run();
  op->left = venues.size();
  for (const auto& v : venues) op->outcomes.push_back({v});
  for (std::size_t i = 0; i < venues.size(); ++i) {
    // The kill switch confirms where a venue can; a named venue that cannot has raised above.
    const bool venue_confirms = confirm && engine.venue(venues[i])->can_confirm();
    if (scoped) {
      start_scoped(engine, op, i, std::move(ids), timeout, venue_confirms);
    } else {
      CancelAllRequest req;
      req.timeout = timeout;
      req.spread_id = spread_id;
      req.confirm = venue_confirms;
      start_account_wide(engine, op, i, std::move(req));
    }
  }
  return CallResult::suspend();
}

// b = rfq.budget("okx") -- per endpoint: { limit, window_ms, remaining, queued }
CallResult l_budget(lua_State* L) {
  std::string venue = check_string(L, 1, "rfq.budget", "venue");
  check_venue(L, "rfq.budget", venue);
  auto lanes = host_of(L).engine().venue(venue)->budget();
  lua_createtable(L, 0, static_cast<int>(lanes.size()));
  for (const auto& lane : lanes) {
    lua_createtable(L, 0, 4);
    set_field(L, "limit", static_cast<std::int64_t>(lane.limit));
    set_field(L, "window_ms", static_cast<std::int64_t>(lane.window.count()));
    set_field(L, "remaining", static_cast<std::int64_t>(lane.remaining));
    set_field(L, "queued", static_cast<std::int64_t>(lane.queued));
    lua_setfield(L, -2, lane.endpoint.c_str());
  }
  return CallResult::values(1);
}

// where = function(r) ... end is evaluated in Lua (a predicate may not be called from C++
// safely): the wrapper turns it into the internal where = { ids = {...} }.
constexpr const char* kCancelAllWrapper = R"lua(
local c_cancel_all, open = ...
return function(opts)
  if type(opts) == "table" and type(opts.where) == "function" then
    if opts.venue == nil then
      error("rfq.cancel_all: bad argument 'where' (needs a venue)", 2)
    end
    local ids, copy = {}, {}
    for _, r in ipairs(open{ venue = opts.venue }) do
      if opts.where(r) then ids[#ids + 1] = r.id end
    end
    for k, v in pairs(opts) do copy[k] = v end
    copy.where = { ids = ids }
    return c_cancel_all(copy)
  end
  return c_cancel_all(opts)
end
)lua";

}  // namespace

void register_bulk(lua_State* L) {
  set_function(L, "cancel_batch", &trampoline<l_cancel_batch>);
  set_function(L, "budget", &trampoline<l_budget>);
  if (luaL_loadbufferx(L, kCancelAllWrapper, std::strlen(kCancelAllWrapper), "=rfq.cancel_all",
                       "t") != LUA_OK) {
    throw std::runtime_error(std::string("rfq.cancel_all wrapper: ") + lua_tostring(L, -1));
  }
  lua_pushcfunction(L, &trampoline<l_cancel_all>);
  lua_getfield(L, -3, "open");
  lua_call(L, 2, 1);
  lua_setfield(L, -2, "cancel_all");
}

}  // namespace rfq::lua
