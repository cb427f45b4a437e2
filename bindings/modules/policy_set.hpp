#pragma once
// The policies of one process (DESIGN §5): each loaded from its spec, started, reloaded in
// place, paused and resumed by name, and described for `rfqd ctl status`.
//
// Hot reload builds the new version in a fresh state: it compiles the file, copies rfq.state
// (plain data) over, pauses the live version (so its state cannot change meanwhile) and runs
// the new main chunk up to its first wait, under the load deadline. Only if that succeeds does
// the new version replace the old one; otherwise the old version resumes and keeps serving,
// and the error is logged and kept for status. The old version's timers stop with its state;
// its in-flight cancels still complete in the engine (counted, audited) but never resume it.
// Reloads of one policy do not overlap: a request during a reload runs once more after it.

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/modules/policy_host.hpp"
#include "engine/core/unique_function.hpp"

namespace rfq::lua {

struct ReloadOutcome {
  std::string policy;
  bool ok = false;
  std::string version;       // the version serving afterwards ("sha256:...")
  std::string error;         // why the new version was refused
  std::int64_t took_us = 0;  // request to new version live (or refused), real time
};

// The steps of a hot reload whoever asks for it (PolicySet; s:reload in rfqd test):
//
// A new version of `live`'s policy from `spec`: compiled in a fresh state, with live's
// rfq.state copied in (plain data, read raw), and live paused. nullptr with the reason when it
// does not compile or the state is not plain data (live is then left as it was). With no live
// version: just the compiled policy.
std::unique_ptr<PolicyHost> prepare_version(Engine& engine, const PolicySpec& spec,
                                            PolicyHost* live, std::string& error);
// After the new version's start() and its main chunk's first resume: false, with the error,
// when that main chunk failed (the new version is to be discarded and live resumed).
bool version_started(const PolicyHost& next, std::string& error);

class PolicySet {
 public:
  using ReloadDone = UniqueFunction<void(std::vector<ReloadOutcome>)>;

  explicit PolicySet(Engine& engine);
  ~PolicySet();
  PolicySet(const PolicySet&) = delete;
  PolicySet& operator=(const PolicySet&) = delete;

  // Compiles a policy (not started yet). False with "script: file:line: message". Names are
  // unique: a second policy of the same name is refused.
  bool add(PolicySpec spec, std::string& error);
  // Runs every main chunk; done gets, after their first resumes, one message per policy whose
  // main chunk failed before its first wait ("script failed at start: error").
  void start(UniqueFunction<void(std::vector<std::string> failures)> done);

  // Reloads one policy (by name) or, with an empty name, every policy; `reason` is logged
  // ("SIGHUP", "file changed: x.lua", "rfqd ctl"). done gets one outcome per policy. False,
  // with the error, for an unknown name or before start() (done is not called): a main chunk
  // must not run before the venues have loaded their books.
  bool reload(std::string_view name, const std::string& reason, ReloadDone done,
              std::string& error);
  // Pause / resume one policy or (empty name) all. False for an unknown name.
  bool pause(std::string_view name, std::string& error);
  bool resume(std::string_view name, std::string& error);

  // Status of one policy or (empty name) all: {"policies": [{name, script, version, state,
  // loaded_at_ms, reloads, reload_failures, last_reload_error, last_error, counters}]}.
  boost::json::object status(std::string_view name) const;

  // Every file the live versions (and the latest attempts) were loaded from: the policy files
  // and the modules they required (also later, from a timer or handler), each with the
  // policies that use it.
  std::map<std::string, std::vector<std::string>> files() const;
  // Told after a reload changed the set of files (a new require, a new module path).
  void on_files_changed(std::function<void()> fn) { files_changed_ = std::move(fn); }

  // The live version of a policy, or nullptr.
  PolicyHost* find(std::string_view name) const;
  std::size_t size() const { return slots_.size(); }
  // Shutdown: every policy detached (its state closed; in-flight cancels finish in the engine).
  void clear();

 private:
  struct Slot;
  struct Batch;
  Slot* slot(std::string_view name) const;
  // The policy of that name, or every policy for "" (false for an unknown name).
  bool select(std::string_view name, std::vector<Slot*>& out, std::string& error) const;
  void begin_reload(Slot& s, std::shared_ptr<Batch> batch);
  void end_reload(Slot& s);
  void refuse(Slot& s, const std::string& error);
  void run_queued(Slot& s);
  void track_requires(Slot& s);
  static std::vector<std::string> files_of(PolicyHost& host);

  Engine& engine_;
  std::vector<std::unique_ptr<Slot>> slots_;
  bool started_ = false;
  std::function<void()> files_changed_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rfq::lua
