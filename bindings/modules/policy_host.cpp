#include "bindings/modules/policy_host.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bindings/lua/json_bridge.hpp"
#include "bindings/lua/lua_task.hpp"
#include "engine/auth/sha256.hpp"
#include "engine/book/fill.hpp"
#include "engine/core/audit.hpp"
#include "engine/core/log.hpp"
#include "bindings/modules/module_util.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::lua {
namespace {

VmOptions vm_options(const PolicySpec& spec) {
  VmOptions o;
  o.name = spec.name;
  o.instruction_limit = spec.instruction_limit;
  o.watchdog_slice = spec.watchdog_slice;
  o.load_deadline = spec.load_deadline;
  o.bad_yield_message =
      "attempt to yield from a policy task outside an rfq.* call (coroutine.yield at task "
      "level is not allowed; use rfq.sleep)";
  if (!spec.script.empty()) {
    auto dir = std::filesystem::path(spec.script).parent_path();
    o.require_paths.push_back(dir.empty() ? "." : dir.string());
  }
  if (!spec.scripts_lib_dir.empty()) o.require_paths.push_back(spec.scripts_lib_dir);
  return o;
}

PolicySpec with_name(PolicySpec spec) {
  if (spec.name.empty()) {
    spec.name = spec.script.empty() ? "policy" : std::filesystem::path(spec.script).stem().string();
  }
  return spec;
}

}  // namespace

PolicyHost::PolicyHost(Engine& engine, PolicySpec spec)
    : engine_(engine), spec_(with_name(std::move(spec))), logger_(log::get("script")) {
  vm_ = std::make_unique<LuaVm>(engine_.io(), engine_.clock(), vm_options(spec_));
  vm_->set_host(this);
  vm_->set_error_sink([this](const std::string& task, const std::string& message) {
    engine_.metrics().inc("lua.errors");
    logger_->error("[{}] task '{}' failed: {}", spec_.name, task, message);
    last_error_ = task + ": " + message;
    last_error_ms_ = engine_.clock().now_ms();
    if (error_observer_) error_observer_(task, message);
  });
  origin_ = std::make_shared<const Origin>(Origin{spec_.name, ""});
  open_rfq_module(*this);
}

PolicyHost::~PolicyHost() {
  *alive_ = false;
  handlers_.clear();
  unlisten_unused();
}

std::uint64_t PolicyHost::on(std::string event, int fn_ref, std::string name) {
  const std::uint64_t id = next_handler_++;
  listen_for(event);
  handlers_.push_back({id, std::move(event), fn_ref, std::move(name)});
  return id;
}

void PolicyHost::off(std::uint64_t id) {
  auto it = std::find_if(handlers_.begin(), handlers_.end(), [id](const Handler& h) { return h.id == id; });
  if (it == handlers_.end()) return;
  luaL_unref(vm_->state(), LUA_REGISTRYINDEX, it->fn_ref);
  handlers_.erase(it);
  unlisten_unused();
}

// Events are copied and posted: a handler never runs inside the engine's change (which may be
// inside another rfq.* call), and always in its own task.
void PolicyHost::listen_for(const std::string& event) {
  Book& book = engine_.book();
  auto& io = engine_.io();
  if (event == "rfq" && book_listener_ == 0) {
    book_listener_ = book.listen([this, alive = alive_, &io](const Rfq& r, std::string_view prev) {
      boost::asio::post(io, [this, alive, r, prev = std::string(prev)] {
        if (*alive) dispatch_rfq(r, prev);
      });
    });
  } else if (event == "fill" && fill_listener_ == 0) {
    fill_listener_ = book.listen_fills([this, alive = alive_, &io](const Fill& f) {
      boost::asio::post(io, [this, alive, f] {
        if (*alive) dispatch_fill(f);
      });
    });
  } else if (event == "exposure" && exposure_listener_ == 0) {
    // Coalesced: one posted event carries every change made before it runs.
    exposure_listener_ = book.listen_exposure([this, alive = alive_, &io] {
      if (exposure_pending_) return;
      exposure_pending_ = true;
      boost::asio::post(io, [this, alive] {
        if (*alive) dispatch_exposure();
      });
    });
  } else if (event == "venue" && status_listener_ == 0) {
    status_listener_ = engine_.listen_status(
        [this, alive = alive_, &io](std::string_view venue, VenueStatus status) {
          boost::asio::post(io, [this, alive, venue = std::string(venue), status] {
            if (*alive) dispatch_venue(venue, status);
          });
        });
  }
}

void PolicyHost::unlisten_unused() {
  const auto unused = [this](const char* event) {
    return std::none_of(handlers_.begin(), handlers_.end(),
                        [event](const Handler& h) { return h.event == event; });
  };
  for (auto [event, id] : {std::pair{"rfq", &book_listener_}, std::pair{"fill", &fill_listener_},
                           std::pair{"exposure", &exposure_listener_}}) {
    if (*id != 0 && unused(event)) {
      engine_.book().unlisten(*id);
      *id = 0;
    }
  }
  if (status_listener_ != 0 && unused("venue")) {
    engine_.unlisten_status(status_listener_);
    status_listener_ = 0;
  }
}

namespace {

struct RfqEvent {
  const Rfq* rfq;
  const std::string* previous;
};

int push_rfq_event(lua_State* L) {
  const auto* ev = static_cast<const RfqEvent*>(lua_touserdata(L, 1));
  push_rfq(L, *ev->rfq);
  if (ev->previous->empty()) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, ev->previous->data(), ev->previous->size());
  }
  return 2;
}

}  // namespace

void PolicyHost::dispatch_rfq(const Rfq& rfq, const std::string& previous) {
  RfqEvent ev{&rfq, &previous};
  dispatch("rfq", &push_rfq_event, &ev, 2);
}

namespace {

int push_fill_event(lua_State* L) {
  push_fill(L, *static_cast<const Fill*>(lua_touserdata(L, 1)));
  return 1;
}

struct VenueEvent {
  const std::string* venue;
  VenueStatus status;
};

int push_venue_event(lua_State* L) {
  const auto* ev = static_cast<const VenueEvent*>(lua_touserdata(L, 1));
  lua_pushlstring(L, ev->venue->data(), ev->venue->size());
  lua_pushstring(L, status_name(ev->status));
  return 2;
}

int push_exposure_event(lua_State* L) {
  push_exposure(L, static_cast<const Book*>(lua_touserdata(L, 1))->exposure());
  lua_pushliteral(L, "engine");
  return 2;
}

}  // namespace

void PolicyHost::dispatch_fill(const Fill& fill) {
  dispatch("fill", &push_fill_event, const_cast<Fill*>(&fill), 1);
}

void PolicyHost::dispatch_venue(const std::string& venue, VenueStatus status) {
  VenueEvent ev{&venue, status};
  dispatch("venue", &push_venue_event, &ev, 2);
}

void PolicyHost::dispatch_exposure() {
  Book& book = engine_.book();
  // Expiry first (its changes join this event: the flag is still set), so that open_gross
  // counts only RFQs that can still trade.
  book.expire_due(engine_.clock().now_ms());
  exposure_pending_ = false;
  dispatch("exposure", &push_exposure_event, &book, 2);
}

namespace {

struct PublishedEvent {
  const boost::json::value* value;
};

int push_published(lua_State* L) {
  const auto* ev = static_cast<const PublishedEvent*>(lua_touserdata(L, 1));
  push_json(L, *ev->value);
  lua_pushliteral(L, "host");
  return 2;
}

}  // namespace

std::size_t PolicyHost::publish(std::string_view event, const boost::json::value& value) {
  if (event != "exposure") return 0;  // the others come from the engine only
  PublishedEvent ev{&value};
  return dispatch(event, &push_published, &ev, 2);
}

std::size_t PolicyHost::dispatch(std::string_view event, lua_CFunction push, void* args,
                                 int nargs) {
  // A paused policy runs nothing: events that come meanwhile are dropped, not replayed later.
  if (vm_->paused()) {
    if (std::any_of(handlers_.begin(), handlers_.end(),
                    [event](const Handler& h) { return h.event == event; })) {
      vm_->note_dropped_event();
    }
    return 0;
  }
  lua_State* L = vm_->state();
  // A handler may cancel itself or others from its task; tasks start later, so a copy of the
  // list as it is now is what this event goes to.
  std::vector<std::pair<int, std::string>> targets;
  for (const auto& h : handlers_) {
    if (h.event == event) targets.emplace_back(h.fn_ref, h.name);
  }
  std::size_t started = 0;
  for (const auto& [ref, name] : targets) {
    if (!lua_checkstack(L, nargs + 3)) {
      vm_->report_error(name, "event dropped: no stack space");
      break;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_pushcfunction(L, push);
    lua_pushlightuserdata(L, args);
    // Arguments are built under lua_pcall: running out of memory fails this event, not the
    // process.
    if (lua_pcall(L, 1, nargs, 0) != LUA_OK) {
      const char* msg = lua_tostring(L, -1);
      std::string text = std::string("event dropped: ") + (msg ? msg : "error building arguments");
      lua_pop(L, 2);  // the error and the handler
      vm_->report_error(name, text);
      continue;
    }
    if (vm_->spawn(nargs, name)) ++started;
  }
  return started;
}

bool PolicyHost::load(std::string& error) {
  // Read once: the bytes hashed for the audit log are the bytes compiled (as LuaVm::load_file
  // would: the whole file, chunk name "@path").
  std::ifstream in(spec_.script, std::ios::binary);
  if (!in) {
    error = spec_.script + ": cannot open file";
    compiled_ = false;
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_source(text.str(), "@" + spec_.script, error);
}

bool PolicyHost::load_source(const std::string& source, const std::string& chunk_name,
                             std::string& error) {
  compiled_ = vm_->load_string(source, chunk_name, error);
  if (compiled_) set_origin(source);
  return compiled_;
}

void PolicyHost::set_origin(const std::string& text) {
  origin_ = std::make_shared<const Origin>(Origin{spec_.name, "sha256:" + auth::sha256_hex(text)});
}

const std::string& PolicyHost::script_hash() const { return origin_->script_hash; }

void PolicyHost::start() {
  if (!compiled_ || main_) return;
  main_ = vm_->spawn(0, "main chunk");  // takes the compiled function off the stack
}

void PolicyHost::log(LogLevel level, const char* where, const char* message) noexcept {
  try {
    switch (level) {
      case LogLevel::debug: logger_->debug("[{}] {} {}", spec_.name, where, message); break;
      case LogLevel::info: logger_->info("[{}] {} {}", spec_.name, where, message); break;
      case LogLevel::warn: logger_->warn("[{}] {} {}", spec_.name, where, message); break;
      case LogLevel::error: logger_->error("[{}] {} {}", spec_.name, where, message); break;
    }
  } catch (...) {
    // Logging must never take a policy down.
  }
}

}  // namespace rfq::lua
