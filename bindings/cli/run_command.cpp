#include "bindings/cli/run_command.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <iostream>
#include <memory>

#include <boost/json.hpp>
#include <unistd.h>

#include "bindings/cli/config.hpp"
#include "bindings/cli/control.hpp"
#include "bindings/lua/lua_task.hpp"
#include "bindings/modules/policy_set.hpp"
#include "engine/core/file_watch.hpp"
#include "engine/core/audit.hpp"
#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/engine.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/deribit/deribit_venue.hpp"
#include "engine/venues/okx/okx_venue.hpp"
#include "engine/venues/okx_spread/okx_spread_venue.hpp"

namespace rfq::cli {
namespace {

namespace asio = boost::asio;

constexpr Millis kDrainDeadline{2000};  // in-flight cancels get this long to finish on exit
// cancel_on_exit: the deadline of each venue's cancel_all (pacing, round trip, deribit's
// listing and cancels). Shutdown waits for every outcome, or this plus a margin at most.
constexpr Millis kExitCancelDeadline{5000};
constexpr Millis kExitCancelMargin{1000};

// The simulator `--sim` starts on loopback inside the same loop.
struct EmbeddedSim {
  sim::Journal journal;
  std::unique_ptr<sim::OkxSim> okx;
  std::unique_ptr<sim::DeribitSim> deribit;
  std::unique_ptr<sim::SimServer> server;
  std::uint16_t port = 0;
};

std::unique_ptr<EmbeddedSim> start_sim(asio::io_context& io, Clock& clock, const Config& cfg) {
  auto s = std::make_unique<EmbeddedSim>();
  s->okx = std::make_unique<sim::OkxSim>(clock, s->journal, sim::OkxSimOptions{});
  if (cfg.sim.seed_rfqs > 0) {
    s->okx->seed(static_cast<std::size_t>(cfg.sim.seed_rfqs), cfg.sim.seed_spread_ms,
                 static_cast<std::uint64_t>(cfg.sim.seed));
  }
  if (cfg.deribit) {
    s->deribit = std::make_unique<sim::DeribitSim>(clock, s->journal, sim::DeribitSimOptions{});
    // As many block RFQs as OKX RFQs, expiring over the same spread, so the demo cancels on both.
    for (std::int64_t i = 0; i < cfg.sim.seed_rfqs; ++i) {
      sim::NewBlockRfq r;
      r.legs = {{"BTC-PERPETUAL", i % 2 ? "sell" : "buy", 1}};
      r.label = "seed" + std::to_string(i + 1);
      r.expires_in_ms = cfg.sim.seed_spread_ms * (i + 1) / cfg.sim.seed_rfqs;
      s->deribit->add_rfq(std::move(r));
    }
  }
  s->server = std::make_unique<sim::SimServer>(io, *s->okx);
  if (s->deribit) s->server->serve_deribit(*s->deribit);
  s->port = s->server->listen(0);
  return s;
}

std::string require_env(const Config& cfg, const std::string& var, const char* key) {
  auto v = auth::from_env(var);
  if (!v) {
    throw ConfigError("config " + cfg.path + ": key '" + key + "': environment variable " + var +
                      " is not set");
  }
  return *v;
}

okx::OkxVenueOptions okx_options(const Config& cfg, const EmbeddedSim* sim) {
  OkxConfig oc = cfg.okx.value_or(OkxConfig{});
  okx::OkxVenueOptions o;
  std::string error;
  std::string url = sim ? "http://127.0.0.1:" + std::to_string(sim->port) : oc.rest;
  if (!net::parse_origin(url, o.rest, error)) {
    throw ConfigError("config " + cfg.path + ": key 'venues.okx.rest': " + error);
  }
  o.demo = oc.demo;
  o.ca_file = oc.ca_file.empty() ? cfg.ca_file : oc.ca_file;
  o.pool_size = static_cast<std::size_t>(oc.pool_size);
  o.book_refresh = Millis(oc.book_refresh_ms);
  o.batch_reserve = static_cast<std::size_t>(oc.batch_reserve);
  if (!oc.business_ws.empty()) {
    // --sim points the feed at the simulator's business WebSocket, like the REST origin.
    const std::string ws =
        sim ? "ws://127.0.0.1:" + std::to_string(sim->port) + "/ws/v5/business" : oc.business_ws;
    o.business_ws.emplace();
    if (!net::parse_origin(ws, *o.business_ws, error)) {
      throw ConfigError("config " + cfg.path + ": key 'venues.okx.business_ws': " + error);
    }
  }
  if (sim) {
    const auto& so = sim->okx->options();
    o.credentials = {so.api_key, auth::Secret(so.secret), auth::Secret(so.passphrase)};
  } else {
    o.credentials.api_key = require_env(cfg, oc.key_env, "venues.okx.key_env");
    o.credentials.secret = auth::Secret(require_env(cfg, oc.secret_env, "venues.okx.secret_env"));
    o.credentials.passphrase =
        auth::Secret(require_env(cfg, oc.passphrase_env, "venues.okx.passphrase_env"));
  }
  return o;
}

okx_spread::OkxSpreadVenueOptions okx_spread_options(const Config& cfg, const EmbeddedSim* sim) {
  OkxSpreadConfig sc = cfg.okx_spread.value_or(OkxSpreadConfig{});
  okx_spread::OkxSpreadVenueOptions o;
  std::string error;
  const std::string url =
      sim ? "ws://127.0.0.1:" + std::to_string(sim->port) + "/ws/v5/business" : sc.business_ws;
  if (!net::parse_origin(url, o.business_ws, error)) {
    throw ConfigError("config " + cfg.path + ": key 'venues.okx_spread.business_ws': " + error);
  }
  o.ca_file = sc.ca_file.empty() ? cfg.ca_file : sc.ca_file;
  if (sim) {
    const auto& so = sim->okx->options();
    o.credentials = {so.api_key, auth::Secret(so.secret), auth::Secret(so.passphrase)};
  } else {
    o.credentials.api_key = require_env(cfg, sc.key_env, "venues.okx_spread.key_env");
    o.credentials.secret =
        auth::Secret(require_env(cfg, sc.secret_env, "venues.okx_spread.secret_env"));
    o.credentials.passphrase =
        auth::Secret(require_env(cfg, sc.passphrase_env, "venues.okx_spread.passphrase_env"));
  }
  return o;
}

deribit::DeribitVenueOptions deribit_options(const Config& cfg, const EmbeddedSim* sim) {
  const DeribitConfig& dc = *cfg.deribit;
  deribit::DeribitVenueOptions o;
  std::string error;
  const std::string port = sim ? std::to_string(sim->port) : std::string();
  const std::string ws = sim ? "ws://127.0.0.1:" + port + "/ws/api/v2" : dc.ws;
  if (!net::parse_origin(ws, o.ws, error)) {
    throw ConfigError("config " + cfg.path + ": key 'venues.deribit.ws': " + error);
  }
  if (dc.http != "none") {
    // Default: the WebSocket's host over http(s), where Deribit serves /api/v2/.
    const std::string http =
        sim ? "http://127.0.0.1:" + port
            : !dc.http.empty() ? dc.http
                               : std::string(o.ws.tls ? "https://" : "http://") + o.ws.host + ":" +
                                     o.ws.port;
    o.http.emplace();
    if (!net::parse_origin(http, *o.http, error)) {
      throw ConfigError("config " + cfg.path + ": key 'venues.deribit.http': " + error);
    }
  }
  o.client_credentials = dc.grant == "client_credentials";
  o.ca_file = dc.ca_file.empty() ? cfg.ca_file : dc.ca_file;
  o.currencies = dc.currencies;
  o.heartbeat_s = static_cast<int>(dc.heartbeat_s);
  o.cancel_on_disconnect = dc.cancel_on_disconnect;
  o.credit_cost = dc.credit_cost;
  o.credit_pool = dc.credit_pool;
  o.credit_refill_per_s = dc.credit_refill_per_s;
  o.book_refresh = Millis(dc.book_refresh_ms);
  if (sim) {
    const auto& so = sim->deribit->options();
    o.credentials = {so.client_id, auth::Secret(so.client_secret)};
  } else {
    o.credentials.client_id = require_env(cfg, dc.client_id_env, "venues.deribit.client_id_env");
    o.credentials.client_secret =
        auth::Secret(require_env(cfg, dc.client_secret_env, "venues.deribit.client_secret_env"));
  }
  return o;
}

// Opened before anything starts: a path that cannot be appended to is a config error.
std::unique_ptr<AuditLog> open_audit(const Config& cfg) {
  auto audit = std::make_unique<AuditLog>();
  std::string error;
  if (!audit->open(cfg.audit_log, error)) {
    throw ConfigError("config " + cfg.path + ": key 'audit_log': " + error);
  }
  return audit;
}

void print_summary(std::ostream& out, const Engine& engine, double seconds) {
  const Metrics& m = engine.metrics();
  char line[256];
  out << "\nrfqd summary\n";
  std::snprintf(line, sizeof line, "  run time         %.1f s\n", seconds);
  out << line;
  const auto all_requests = m.get("rfq.cancel_all.ok") + m.get("rfq.cancel_all.failed");
  out << "  requests sent    "
      << m.get("rfq.cancel.sent") + m.get("rfq.batch.requests") + all_requests
      << "  (cancel " << m.get("rfq.cancel.sent") << ", batch " << m.get("rfq.batch.requests")
      << ", cancel-all " << all_requests << ")\n";
  out << "  RFQs canceled    " << m.get("rfq.cancel.ok") + m.get("rfq.cancel_all.canceled")
      << "  (cancel and batch " << m.get("rfq.cancel.ok") << ", cancel-all "
      << m.get("rfq.cancel_all.canceled") << ")\n";
  out << "  failed           " << m.get("rfq.cancel.failed");
  std::string by_code;
  for (const auto& [name, n] : m.counters()) {
    constexpr std::string_view prefix = "rfq.cancel.failed.";
    if (name.rfind(prefix, 0) == 0) {
      by_code += (by_code.empty() ? "" : ", ") + name.substr(prefix.size()) + " " + std::to_string(n);
    }
  }
  out << (by_code.empty() ? "" : "  (" + by_code + ")") << "\n";
  out << "  auth failures    " << m.get("rfq.cancel.failed.AUTH") << "\n";
  auto latency = [&](const char* label, std::string_view series, const char* note) {
    if (m.samples(series) == 0) {
      out << label << "n/a" << note << "\n";
      return;
    }
    std::snprintf(line, sizeof line, "%sp50 %lld us, p99 %lld us%s\n", label,
                  static_cast<long long>(m.percentile_us(series, 0.50)),
                  static_cast<long long>(m.percentile_us(series, 0.99)), note);
    out << line;
  };
  latency("  round trip       ", "rfq.cancel.rtt_us", "");
  latency("  engine overhead  ", "engine.overhead_us",
          " (single cancels: script call -> socket, waits excluded)");
  out << "  script errors    " << m.get("lua.errors") << "\n";
  if (engine.dry_run()) {
    const auto cancel = m.get("rfq.dry_run.cancel");
    const auto batch = m.get("rfq.dry_run.batch");
    const auto all = m.get("rfq.dry_run.cancel_all");
    out << "  dry run          " << cancel + batch + all << " decisions, none sent  (cancel "
        << cancel << ", batch " << batch << ", cancel-all " << all << ")\n";
  }
  out.flush();
}

class Runner {
 public:
  Runner(const RunOptions& opts, Config cfg)
      : opts_(opts), cfg_(std::move(cfg)), clock_(io_), engine_(io_, clock_), signals_(io_) {
    policies_.on_files_changed([this] { watch_files(); });
  }

  int run() {
    if (!cfg_.audit_log.empty()) engine_.set_audit(open_audit(cfg_));
    engine_.set_dry_run(opts_.dry_run);
    if (opts_.sim) sim_ = start_sim(io_, clock_, cfg_);
    if (cfg_.okx || (sim_ && !cfg_.okx_spread && !cfg_.deribit)) {
      engine_.add_venue(std::make_unique<okx::OkxVenue>(io_, clock_, engine_.book(),
                                                        okx_options(cfg_, sim_.get())));
    }
    if (cfg_.okx_spread) {
      engine_.add_venue(std::make_unique<okx_spread::OkxSpreadVenue>(
          io_, clock_, okx_spread_options(cfg_, sim_.get())));
    }
    if (cfg_.deribit) {
      engine_.add_venue(std::make_unique<deribit::DeribitVenue>(
          io_, clock_, engine_.book(), deribit_options(cfg_, sim_.get())));
    }
    if (int rc = load_policies(); rc != 0) return rc;
    if (int rc = open_control(); rc != 0) return rc;
    if (opts_.dry_run) log_->warn("dry run: policies run on live data; no cancel is sent");
    if (engine_.audit()) log_->info("audit log: {}", engine_.audit()->path());
    started_ = clock_.steady_now();
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.add(SIGHUP);
    wait_for_signal();
    if (opts_.duration_s > 0) {
      duration_timer_ = clock_.schedule(std::chrono::duration_cast<Nanos>(
                                            std::chrono::duration<double>(opts_.duration_s)),
                                        [this] { shutdown(); });
    }
    engine_.start([this](boost::system::error_code) { start_policies(); });
    io_.run();
    double secs = std::chrono::duration<double>(clock_.steady_now() - started_).count();
    print_summary(std::cout, engine_, secs);
    return exit_code_;
  }

 private:
  // SIGINT/SIGTERM stop cleanly; SIGHUP reloads every policy.
  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        std::string error;
        if (!stopping_ && !policies_.reload("", "SIGHUP", {}, error)) {
          log_->warn("SIGHUP: no reload: {}", error);
        }
        return wait_for_signal();
      }
      log_->info("signal {}: shutting down", sig);
      shutdown();
    });
  }

  int load_policies() {
    for (const auto& pc : cfg_.policies) {
      lua::PolicySpec spec{pc.name, pc.script, pc.params, RFQ_SCRIPTS_DIR "/lib",
                           Millis(cfg_.timeout_ms)};
      spec.watchdog_slice = Millis(cfg_.slice_ms);
      spec.load_deadline = Millis(cfg_.load_deadline_ms);
      std::string error;
      if (!policies_.add(std::move(spec), error)) {
        std::cerr << "rfqd: policy " << error << "\n";
        return 2;
      }
    }
    return 0;
  }

  // The control socket: a configured path that cannot be used is a config error; the default
  // one, when another rfqd holds it, is skipped with a warning.
  int open_control() {
    if (!cfg_.control) return 0;
    control_ = std::make_unique<ControlServer>(
        io_, [this](const boost::json::object& req, ControlServer::Reply reply) {
          control(req, std::move(reply));
        });
    const std::string path =
        cfg_.control_socket.empty() ? default_control_socket() : cfg_.control_socket;
    std::string error;
    if (control_->listen(path, error)) {
      log_->info("control socket: {}", path);
      return 0;
    }
    control_.reset();
    if (!cfg_.control_socket.empty()) {
      std::cerr << "rfqd: config " << cfg_.path << ": key 'control_socket': " << error << "\n";
      return 2;
    }
    log_->warn("control socket off: {} (set control_socket in the config)", error);
    return 0;
  }

  // One `rfqd ctl` request.
  void control(const boost::json::object& req, ControlServer::Reply reply) {
    namespace json = boost::json;
    auto field = [&](const char* key) {
      const auto* v = req.if_contains(key);
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    const std::string command = field("command");
    const std::string policy = field("policy");
    auto refuse = [&](const std::string& message) {
      reply(json::object{{"ok", false}, {"error", message}});
    };
    if (const auto* p = req.if_contains("policy"); p && !p->is_string() && !p->is_null()) {
      return refuse("'policy' must be a policy name (a string)");  // never "every policy"
    }
    if (stopping_) return refuse("rfqd is shutting down");
    std::string error;
    if (command == "status") {
      if (!policy.empty() && policies_.find(policy) == nullptr) {
        return refuse("no policy named '" + policy + "'");
      }
      json::object out = policies_.status(policy);
      out["ok"] = true;
      out["pid"] = static_cast<std::int64_t>(::getpid());
      out["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(
                            clock_.steady_now() - started_).count();
      out["dry_run"] = engine_.dry_run();
      out["in_flight"] = engine_.in_flight();
      json::array venues;
      for (const auto& name : engine_.venue_names()) {
        const Venue* v = engine_.venue(name);
        json::object vo{{"name", name}};
        const auto st = v->status();
        vo["connection"] = st == VenueStatus::up ? "up" : st == VenueStatus::down ? "down" : "starting";
        json::array lanes;
        for (const auto& l : v->budget()) {
          lanes.push_back(json::object{{"endpoint", l.endpoint}, {"limit", l.limit},
                                       {"window_ms", l.window.count()}, {"remaining", l.remaining},
                                       {"queued", l.queued}});
        }
        vo["budget"] = std::move(lanes);
        venues.push_back(std::move(vo));
      }
      out["venues"] = std::move(venues);
      json::object counters;
      for (const auto& [k, n] : engine_.metrics().counters()) counters[k] = n;
      out["counters"] = std::move(counters);
      return reply(std::move(out));
    }
    if (command == "reload") {
      auto shared = std::make_shared<ControlServer::Reply>(std::move(reply));
      const bool known = policies_.reload(
          policy, "rfqd ctl", [shared](std::vector<lua::ReloadOutcome> outcomes) {
            json::array results;
            bool all_ok = true;
            for (const auto& o : outcomes) {
              json::object r{{"policy", o.policy}, {"ok", o.ok}, {"version", o.version},
                             {"took_us", o.took_us}};
              if (!o.ok) r["error"] = o.error;
              all_ok = all_ok && o.ok;
              results.push_back(std::move(r));
            }
            (*shared)(json::object{{"ok", all_ok}, {"results", std::move(results)}});
          },
          error);
      if (!known) (*shared)(json::object{{"ok", false}, {"error", error}});  // unknown, or starting
      return;
    }
    if (command == "pause" || command == "resume") {
      const bool ok = command == "pause" ? policies_.pause(policy, error)
                                         : policies_.resume(policy, error);
      if (!ok) return refuse(error);
      json::array results;
      json::object st = policies_.status(policy);
      for (const auto& p : st["policies"].as_array()) {
        results.push_back(json::object{{"policy", p.as_object().at("name")}, {"ok", true},
                                       {"state", p.as_object().at("state")}});
      }
      return reply(json::object{{"ok", true}, {"results", std::move(results)}});
    }
    refuse("unknown command '" + command + "' (status, reload, pause or resume)");
  }

  // inotify on every policy file and module: a change reloads the policies that use it.
  void watch_files() {
    if (!cfg_.reload_on_change || stopping_) return;
    if (!watch_) {
      watch_ = std::make_unique<FileWatch>(io_, [this](const std::string& path) {
        if (stopping_) return;
        const auto files = policies_.files();
        auto it = files.find(path);
        if (it == files.end()) return;
        const std::string reason = "file changed: " + path;
        std::string error;
        for (const auto& name : it->second) policies_.reload(name, reason, {}, error);
      });
    }
    std::set<std::string> paths;
    for (const auto& [path, names] : policies_.files()) paths.insert(path);
    std::string error;
    if (!watch_->watch(paths, error)) log_->warn("reload on change: {}", error);
  }

  // Venues have loaded their books; run each policy's main chunk. A main chunk that fails
  // before its first yield is a start-up error (exit 2), like a syntax error.
  void start_policies() {
    if (stopping_) return;
    policies_.start([this](std::vector<std::string> failures) {
      if (stopping_) return;
      if (!failures.empty()) {
        for (const auto& f : failures) std::cerr << "rfqd: policy " << f << "\n";
        exit_code_ = 2;
        shutdown();
        return;
      }
      log_->info("{} policies running", policies_.size());
    });
  }

  // Detach policies first (nothing new starts); with cancel_on_exit, cancel_all on every
  // venue; let in-flight cancels finish up to a deadline; then close the venues and the
  // simulator.
  void shutdown() {
    if (stopping_) return;
    stopping_ = true;
    duration_timer_.cancel();
    signals_.cancel();
    watch_.reset();
    control_.reset();
    policies_.clear();
    drain_until_ = clock_.steady_now() + kDrainDeadline;
    if (cfg_.cancel_on_exit) return cancel_on_exit();
    drain();
  }

  // The kill switch on behalf of the host (audited as policy "rfqd", script_hash ""). Venues
  // run concurrently; the drain starts once each has an outcome (or the deadline is long past).
  void cancel_on_exit() {
    const auto names = engine_.venue_names();
    if (names.empty()) return drain();
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : ", ") + n;
    log_->info("cancel_on_exit: cancel_all on {} (deadline {} ms)", joined,
               kExitCancelDeadline.count());
    exit_cancels_left_ = names.size();
    exit_cancel_timer_ = clock_.schedule(kExitCancelDeadline + kExitCancelMargin, [this] {
      log_->warn("cancel_on_exit: {} venue(s) without an outcome; stopping anyway",
                 exit_cancels_left_);
      drain();
    });
    const auto origin = std::make_shared<const Origin>(Origin{"rfqd", ""});
    for (const auto& name : names) {
      CancelAllRequest req;
      req.timeout = kExitCancelDeadline;
      engine_.cancel_all(name, std::move(req), origin, [this, name](CancelAllResult r) {
        const bool ok = !r.ec || code_of(r.ec) == Errc::nothing_to_cancel;
        if (ok) {
          std::string detail;  // okx_spread's mass cancel reports no count
          if (r.canceled >= 0) detail = std::to_string(r.canceled) + " canceled";
          if (r.ec) detail += (detail.empty() ? "" : ", ") + std::string(code_name(code_of(r.ec)));
          log_->info("cancel_on_exit: {} ok{}", name, detail.empty() ? "" : " (" + detail + ")");
        } else {
          log_->error("cancel_on_exit: {} failed: {} {}", name, code_name(code_of(r.ec)),
                      r.message);
        }
        if (--exit_cancels_left_ == 0) {
          exit_cancel_timer_.cancel();
          drain();
        }
      });
    }
  }

  // May be called more than once (the last exit cancel, its safety timer): each call
  // replaces the pending poll, and the end runs once.
  void drain() {
    if (drained_) return;
    drain_timer_.cancel();
    if (engine_.in_flight() > 0 && clock_.steady_now() < drain_until_) {
      drain_timer_ = clock_.schedule(Millis(10), [this] { drain(); });
      return;
    }
    drained_ = true;
    exit_cancel_timer_.cancel();
    if (engine_.in_flight() > 0) log_->warn("{} cancels still in flight at exit", engine_.in_flight());
    engine_.stop();
    if (sim_) sim_->server->stop();
    io_.stop();
  }

  const RunOptions& opts_;
  Config cfg_;
  asio::io_context io_;
  RealClock clock_;
  Engine engine_;
  asio::signal_set signals_;
  std::unique_ptr<EmbeddedSim> sim_;
  lua::PolicySet policies_{engine_};
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<FileWatch> watch_;
  TimerHandle duration_timer_;
  TimerHandle drain_timer_;
  TimerHandle exit_cancel_timer_;
  std::size_t exit_cancels_left_ = 0;
  bool drained_ = false;
  SteadyTime started_{};
  SteadyTime drain_until_{};
  bool stopping_ = false;
  int exit_code_ = 0;
  std::shared_ptr<spdlog::logger> log_ = log::get("engine");
};

}  // namespace

int run_command(const RunOptions& opts) {
  Config cfg;
  try {
    cfg = opts.config_path.empty() ? Config{} : load_config(opts.config_path);
    if (opts.config_path.empty() && !opts.sim) {
      std::cerr << "rfqd run: --config FILE is required (or --sim for the simulator)\n";
      return 2;
    }
    Runner runner(opts, std::move(cfg));
    return runner.run();
  } catch (const ConfigError& e) {
    std::cerr << "rfqd: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "rfqd: start-up failed: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace rfq::cli
