#include "bindings/modules/policy_set.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <chrono>
#include <filesystem>

#include "bindings/lua/lua_task.hpp"
#include "bindings/lua/plain_copy.hpp"
#include "engine/core/log.hpp"
#include "engine/engine.hpp"

extern "C" {
#include <lua.h>
}

namespace rfq::lua {

namespace json = boost::json;
using Stopwatch = std::chrono::steady_clock;  // real time, whatever the engine clock

// The outcomes of one reload request, over the policies it names.
struct PolicySet::Batch {
  std::size_t left = 0;
  std::vector<ReloadOutcome> outcomes;
  ReloadDone done;

  void add(ReloadOutcome o) {
    outcomes.push_back(std::move(o));
    if (--left == 0 && done) done(std::move(outcomes));
  }
};

struct PolicySet::Slot {
  PolicySpec spec;
  std::unique_ptr<PolicyHost> live;
  std::unique_ptr<PolicyHost> next;  // the version being started by a reload
  bool paused = false;               // by the operator: kept across reloads
  std::int64_t loaded_at_ms = 0;
  std::uint64_t reloads = 0;
  std::uint64_t reload_failures = 0;
  std::string last_reload_error;
  std::int64_t last_reload_error_ms = 0;
  std::vector<std::string> files;  // live version's, plus the latest attempt's
  Stopwatch::time_point reload_started{};
  std::string reason;
  std::vector<std::shared_ptr<Batch>> waiting;  // on the reload in progress
  std::vector<std::shared_ptr<Batch>> queued;   // asked during it: one more reload after
  std::string queued_reason;
};

namespace {

std::shared_ptr<spdlog::logger> logger() { return log::get("engine"); }

std::string short_hash(const std::string& version) {
  // "sha256:" and 12 hex digits: enough to tell versions apart in a log line.
  return version.substr(0, std::min<std::size_t>(version.size(), 19));
}

// Pushes rfq.state of L (nil when the script removed or replaced the rfq table) by raw access,
// under lua_pcall: a script's metatables never run here, and a memory error cannot escape.
int raw_state(lua_State* L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushliteral(L, "rfq");
  if (lua_rawget(L, -2) != LUA_TTABLE) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushliteral(L, "state");
  lua_rawget(L, -2);
  return 1;
}

bool push_state(lua_State* L, std::string& error) {
  lua_pushcfunction(L, &raw_state);
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
    error = std::string("rfq.state: ") + (lua_tostring(L, -1) ? lua_tostring(L, -1) : "unreadable");
    lua_pop(L, 1);
    return false;
  }
  return true;
}

}  // namespace

PolicySet::PolicySet(Engine& engine) : engine_(engine) {}

PolicySet::~PolicySet() { clear(); }

PolicySet::Slot* PolicySet::slot(std::string_view name) const {
  for (const auto& s : slots_) {
    if (s->spec.name == name) return s.get();
  }
  return nullptr;
}

PolicyHost* PolicySet::find(std::string_view name) const {
  Slot* s = slot(name);
  return s ? s->live.get() : nullptr;
}

std::vector<std::string> PolicySet::files_of(PolicyHost& host) {
  std::vector<std::string> out;
  // Absolute, but symlinks kept: a policy file that is a symlink is watched by its own name.
  auto canonical = [](const std::string& p) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(p, ec);
    return ec ? p : abs.lexically_normal().string();
  };
  out.push_back(canonical(host.spec().script));
  for (const auto& f : host.vm().required_files()) {
    auto c = canonical(f);
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

bool PolicySet::add(PolicySpec spec, std::string& error) {
  auto s = std::make_unique<Slot>();
  s->spec = std::move(spec);
  auto host = prepare_version(engine_, s->spec, nullptr, error);
  if (!host) {
    error = s->spec.script + ": " + error;
    return false;
  }
  s->spec = host->spec();  // with its name filled in
  if (slot(s->spec.name) != nullptr) {
    error = s->spec.script + ": a policy named '" + s->spec.name +
            "' is already loaded (give one of them a name)";
    return false;
  }
  s->live = std::move(host);
  s->files = files_of(*s->live);
  slots_.push_back(std::move(s));
  return true;
}

void PolicySet::start(UniqueFunction<void(std::vector<std::string>)> done) {
  started_ = true;
  for (auto& s : slots_) {
    track_requires(*s);
    s->live->start();
    s->loaded_at_ms = engine_.clock().now_ms();
  }
  // Each main chunk's first resume was posted by start(); this runs after all of them.
  boost::asio::post(engine_.io(), [this, alive = alive_, done = std::move(done)]() mutable {
    if (!*alive) return;
    std::vector<std::string> failures;
    for (auto& s : slots_) {
      auto main = s->live->main_task();
      if (main && main->state() == TaskState::Finished && !main->ok()) {
        failures.push_back(s->spec.script + " failed at start: " + main->error());
      }
      s->files = files_of(*s->live);
    }
    if (files_changed_) files_changed_();
    done(std::move(failures));
  });
}

bool PolicySet::reload(std::string_view name, const std::string& reason, ReloadDone done,
                       std::string& error) {
  if (!started_) {
    error = "the policies have not started yet (venues still starting)";
    return false;
  }
  std::vector<Slot*> targets;
  if (!select(name, targets, error)) return false;
  auto batch = std::make_shared<Batch>();
  batch->left = targets.size();
  batch->done = std::move(done);
  if (targets.empty()) {
    if (batch->done) batch->done({});
    return true;
  }
  for (Slot* s : targets) {
    if (s->next) {
      s->queued.push_back(batch);  // a reload is running: one more after it
      s->queued_reason = reason;
      continue;
    }
    s->reason = reason;
    begin_reload(*s, batch);
  }
  return true;
}

std::unique_ptr<PolicyHost> prepare_version(Engine& engine, const PolicySpec& spec,
                                            PolicyHost* live, std::string& error) {
  auto host = std::make_unique<PolicyHost>(engine, spec);
  if (!host->load(error)) return nullptr;  // "file:line: message" (or "file: cannot open file")
  if (live == nullptr) return host;
  lua_State* from = live->vm().state();
  lua_State* to = host->vm().state();
  if (!push_state(from, error)) return nullptr;
  const bool copied = copy_plain(from, -1, to, "rfq.state", error);
  lua_pop(from, 1);
  if (!copied) return nullptr;
  // The new state is fresh (its main chunk has not run): plain table access is safe.
  lua_getglobal(to, "rfq");
  lua_insert(to, -2);
  lua_setfield(to, -2, "state");
  lua_pop(to, 1);
  live->pause();  // its state stays as copied until the swap (or resumes on refusal)
  return host;
}

bool version_started(const PolicyHost& next, std::string& error) {
  auto main = next.main_task();
  if (main && !(main->state() == TaskState::Finished && !main->ok())) return true;
  error = main ? main->error() : "the main chunk could not start";
  return false;
}

void PolicySet::begin_reload(Slot& s, std::shared_ptr<Batch> batch) {
  s.waiting.push_back(std::move(batch));
  s.reload_started = Stopwatch::now();
  std::string error;
  auto host = prepare_version(engine_, s.spec, s.live.get(), error);
  if (!host) return refuse(s, error);  // the policy file itself is always watched
  s.next = std::move(host);
  s.next->start();
  // After the main chunk's first resume, which start() posted.
  boost::asio::post(engine_.io(), [this, alive = alive_, sp = &s] {
    if (*alive && sp->next) end_reload(*sp);
  });
}

void PolicySet::end_reload(Slot& s) {
  std::string error;
  if (!version_started(*s.next, error)) {
    // Keep watching the modules the failed attempt required: fixing one reloads.
    for (auto& f : files_of(*s.next)) {
      if (std::find(s.files.begin(), s.files.end(), f) == s.files.end()) s.files.push_back(f);
    }
    s.next.reset();
    if (files_changed_) files_changed_();
    return refuse(s, error);
  }
  auto old = std::move(s.live);
  s.live = std::move(s.next);
  track_requires(s);
  if (s.paused) s.live->pause();
  old.reset();  // timers stop; pending results are dropped by their tickets
  s.loaded_at_ms = engine_.clock().now_ms();
  ++s.reloads;
  auto files = files_of(*s.live);
  const bool files_changed = files != s.files;
  s.files = std::move(files);
  const auto took =
      std::chrono::duration_cast<std::chrono::microseconds>(Stopwatch::now() - s.reload_started)
          .count();
  engine_.metrics().inc("policy.reloads");
  logger()->info("reload {} ({}): version {} live in {} us", s.spec.name, s.reason,
                 short_hash(s.live->script_hash()), took);
  auto waiting = std::exchange(s.waiting, {});
  if (files_changed && files_changed_) files_changed_();
  for (auto& b : waiting) b->add({s.spec.name, true, s.live->script_hash(), {}, took});
  run_queued(s);
}

void PolicySet::refuse(Slot& s, const std::string& error) {
  if (s.live && !s.paused) s.live->resume();
  ++s.reload_failures;
  s.last_reload_error = error;
  s.last_reload_error_ms = engine_.clock().now_ms();
  const auto took =
      std::chrono::duration_cast<std::chrono::microseconds>(Stopwatch::now() - s.reload_started)
          .count();
  engine_.metrics().inc("policy.reload_failures");
  const std::string version = s.live ? s.live->script_hash() : std::string();
  logger()->error("reload {} ({}) failed: {}; version {} keeps serving", s.spec.name, s.reason,
                  error, short_hash(version));
  auto waiting = std::exchange(s.waiting, {});
  for (auto& b : waiting) b->add({s.spec.name, false, version, error, took});
  run_queued(s);
}

// A module the live version requires later (in a timer or a handler) is watched from then on.
// Told from inside require(): the file list is updated on the next loop turn.
void PolicySet::track_requires(Slot& s) {
  s.live->vm().set_require_observer([this, alive = alive_, sp = &s] {
    boost::asio::post(engine_.io(), [this, alive, sp] {
      if (!*alive || !sp->live) return;
      bool added = false;
      for (auto& f : files_of(*sp->live)) {
        if (std::find(sp->files.begin(), sp->files.end(), f) == sp->files.end()) {
          sp->files.push_back(f);
          added = true;
        }
      }
      if (added && files_changed_) files_changed_();
    });
  });
}

// The reload asked for while one ran: once, for every request that waited.
void PolicySet::run_queued(Slot& s) {
  if (s.queued.empty() || s.next) return;
  auto queued = std::exchange(s.queued, {});
  s.reason = std::exchange(s.queued_reason, {});
  for (std::size_t i = 1; i < queued.size(); ++i) s.waiting.push_back(queued[i]);
  begin_reload(s, queued.front());
}

bool PolicySet::select(std::string_view name, std::vector<Slot*>& out, std::string& error) const {
  out.clear();
  for (const auto& s : slots_) {
    if (name.empty() || s->spec.name == name) out.push_back(s.get());
  }
  if (!name.empty() && out.empty()) {
    error = "no policy named '" + std::string(name) + "'";
    return false;
  }
  return true;
}

bool PolicySet::pause(std::string_view name, std::string& error) {
  std::vector<Slot*> targets;
  if (!select(name, targets, error)) return false;
  for (Slot* s : targets) {
    if (!s->paused) logger()->info("policy {} paused", s->spec.name);
    s->paused = true;
    if (s->live) s->live->pause();
  }
  return true;
}

bool PolicySet::resume(std::string_view name, std::string& error) {
  std::vector<Slot*> targets;
  if (!select(name, targets, error)) return false;
  for (Slot* s : targets) {
    if (s->paused) logger()->info("policy {} resumed", s->spec.name);
    s->paused = false;
    // During a reload the live version stays paused until the swap (or refusal) resumes it.
    if (s->live && !s->next) s->live->resume();
  }
  return true;
}

json::object PolicySet::status(std::string_view name) const {
  json::array list;
  for (const auto& s : slots_) {
    if (!name.empty() && s->spec.name != name) continue;
    json::object p;
    p["name"] = s->spec.name;
    p["script"] = s->spec.script;
    p["version"] = s->live ? s->live->script_hash() : "";
    p["state"] = s->next ? "reloading" : s->paused ? "paused" : "running";
    p["loaded_at_ms"] = s->loaded_at_ms;
    p["reloads"] = s->reloads;
    p["reload_failures"] = s->reload_failures;
    if (s->last_reload_error.empty()) {
      p["last_reload_error"] = nullptr;
    } else {
      p["last_reload_error"] = {{"at_ms", s->last_reload_error_ms},
                                {"message", s->last_reload_error}};
    }
    if (s->live && !s->live->last_error().empty()) {
      p["last_error"] = {{"at_ms", s->live->last_error_ms()}, {"message", s->live->last_error()}};
    } else {
      p["last_error"] = nullptr;
    }
    json::object c;
    if (s->live) {
      const LuaVm& vm = s->live->vm();
      c["tasks_started"] = vm.tasks_started();
      c["tasks_live"] = vm.live_tasks();
      c["errors"] = vm.errors();
      c["timers"] = vm.timer_count();
      c["handlers"] = s->live->handler_count();
      c["skipped_ticks"] = vm.skipped_ticks();
      c["dropped_events"] = vm.dropped_events();
      c["held"] = vm.held();
      c["memory_bytes"] = vm.memory_used();
    }
    p["counters"] = std::move(c);
    json::array files;
    for (const auto& f : s->files) files.emplace_back(f);
    p["files"] = std::move(files);
    list.emplace_back(std::move(p));
  }
  json::object out;
  out["policies"] = std::move(list);
  return out;
}

std::map<std::string, std::vector<std::string>> PolicySet::files() const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& s : slots_) {
    for (const auto& f : s->files) out[f].push_back(s->spec.name);
  }
  return out;
}

void PolicySet::clear() {
  // Reloads in progress end with the set: their requesters hear nothing more.
  for (auto& s : slots_) {
    s->waiting.clear();
    s->queued.clear();
    s->next.reset();
    s->live.reset();
  }
  slots_.clear();
  *alive_ = false;  // posted reload ends refer to slots that are gone
  alive_ = std::make_shared<bool>(true);
}

}  // namespace rfq::lua
