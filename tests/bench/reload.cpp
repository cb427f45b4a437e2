// make bench, hot reload phase: a policy file rewritten 100 times while the policy keeps
// cancelling RFQs on the OKX simulator over loopback (REST, the documented limits on, so
// cancels wait in the pacing queue across reloads). Measured: time from the file's write
// (close) to the new version live, through inotify, the compile, the rfq.state copy and the new
// main chunk, as rfqd run does it; and whether any cancel a replaced version started went
// unanswered (requests the policies made, from rfq.state, against outcomes the engine
// recorded once everything in flight has finished).
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bindings/modules/policy_set.hpp"
#include "engine/core/file_watch.hpp"
#include "engine/engine.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/okx/okx_venue.hpp"
#include "tests/bench/bench.hpp"

extern "C" {
#include <lua.h>
}

namespace rfq::bench {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr int kReloads = 100;
constexpr auto kBetween = std::chrono::milliseconds(20);

// Version k of the policy: every 100 ms (timed through rfq.state, as each version's timers
// start afresh) it asks to cancel one RFQ it has not asked for yet,
// in its own task, up to 15 in all (OKX paces cancel-rfq at 5 per 2 s, so they overlap the
// reloads); rfq.state (carried across reloads) remembers what was asked.
std::string policy_source(int version) {
  return "-- version " + std::to_string(version) + R"(
rfq.state.asked = rfq.state.asked or {}
rfq.state.requests = rfq.state.requests or 0
rfq.every(5, function()
  if rfq.state.requests >= 15 or rfq.now() - (rfq.state.last_ms or 0) < 100 then return end
  for _, r in ipairs(rfq.open{ venue = "okx" }) do
    if not rfq.state.asked[r.id] then
      rfq.state.last_ms = rfq.now()
      rfq.spawn(function()
        -- Counted where the request is made: a task a replaced version spawned but never
        -- started asks for nothing.
        rfq.state.asked[r.id] = true
        rfq.state.requests = rfq.state.requests + 1
        rfq.cancel{ venue = "okx", id = r.id, timeout_ms = 60000 }
      end)
      return
    end
  end
end)
)";
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::int64_t requests_asked(lua::PolicyHost& p) {
  lua_State* L = p.vm().state();
  lua_getglobal(L, "rfq");
  lua_getfield(L, -1, "state");
  lua_getfield(L, -1, "requests");
  const std::int64_t n = lua_tointeger(L, -1);
  lua_pop(L, 3);
  return n;
}

}  // namespace

void reload() {
  asio::io_context sim_io;
  RealClock sim_clock{sim_io};
  sim::Journal journal;
  sim::OkxSim okx{sim_clock, journal, sim::OkxSimOptions{}};
  okx.seed(100, 100 * 600'000, 11);  // one page of the book's snapshot: a quick start
  sim::SimServer server{sim_io, okx};
  const auto port = server.listen(0);
  std::thread sim_thread([&] { sim_io.run(); });

  asio::io_context io;
  RealClock clock{io};
  Engine engine{io, clock};
  okx::OkxVenueOptions o;
  std::string error;
  net::parse_origin("http://127.0.0.1:" + std::to_string(port), o.rest, error);
  o.credentials = okx_sim_credentials();
  o.book_refresh = Millis(0);
  engine.add_venue(std::make_unique<okx::OkxVenue>(io, clock, engine.book(), o));
  start_engine(io, engine, "reload bench");

  const fs::path dir =
      fs::temp_directory_path() / ("rfq-reload-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "churn.lua";
  write_file(file, policy_source(0));

  lua::PolicySet set{engine};
  lua::PolicySpec spec;
  spec.script = file.string();
  spec.watchdog_slice = Millis(40);
  spec.load_deadline = Millis(2000);
  if (!set.add(spec, error)) {
    std::fprintf(stderr, "reload bench: %s\n", error.c_str());
    std::exit(1);
  }
  // As rfqd run wires it: a changed file reloads the policy; done records the moment.
  SteadyClock::time_point live_at{};  // the reload's outcome came (live, or refused)
  bool last_ok = false;
  int refused = 0;
  std::vector<double> reload_us;  // of which the reload itself (compile, copy, main chunk)
  FileWatch watch{io, [&](const std::string&) {
                    set.reload(
                        "churn", "file changed",
                        [&](std::vector<lua::ReloadOutcome> out) {
                          live_at = SteadyClock::now();
                          for (const auto& r : out) {
                            last_ok = r.ok;
                            refused += r.ok ? 0 : 1;
                            if (r.ok) reload_us.push_back(static_cast<double>(r.took_us));
                          }
                        },
                        error);
                  }};
  std::set<std::string> paths;
  for (const auto& [p, names] : set.files()) paths.insert(p);
  if (!watch.watch(paths, error)) {
    std::fprintf(stderr, "reload bench: %s\n", error.c_str());
    std::exit(1);
  }
  bool running = false;
  set.start([&](std::vector<std::string> failures) { running = failures.empty(); });
  io.restart();
  io.run_for(kBetween);
  if (!running) {
    std::fprintf(stderr, "reload bench: the policy did not start\n");
    std::exit(1);
  }

  std::vector<double> latency_us;
  for (int k = 1; k <= kReloads; ++k) {
    live_at = {};
    const auto t0 = SteadyClock::now();
    write_file(file, policy_source(k));
    io.restart();
    while (live_at == SteadyClock::time_point{} &&
           SteadyClock::now() - t0 < std::chrono::seconds(5)) {
      io.run_one_for(std::chrono::milliseconds(100));
    }
    if (live_at == SteadyClock::time_point{}) {
      std::fprintf(stderr, "reload bench: reload %d never went live\n", k);
      std::exit(1);
    }
    // Only versions that went live count (a refused one would be reported as refused).
    if (last_ok)
      latency_us.push_back(std::chrono::duration<double, std::micro>(live_at - t0).count());
    io.restart();
    io.run_for(kBetween);
  }
  const std::int64_t asked = requests_asked(*set.find("churn"));
  const std::size_t in_flight_after = engine.in_flight();
  // Every cancel already asked for gets its answer (the pacing queue drains at 5 per 2 s).
  const auto drain_start = SteadyClock::now();
  set.pause("", error);
  while (engine.in_flight() > 0 && SteadyClock::now() - drain_start < std::chrono::seconds(120)) {
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
  }
  const auto& m = engine.metrics();
  const std::uint64_t answered = m.get("rfq.cancel.ok") + m.get("rfq.cancel.failed");
  std::promise<std::size_t> journaled;
  asio::post(sim_io, [&] { journaled.set_value(journal.find("okx", "cancel-rfq").size()); });
  const std::size_t at_venue = journaled.get_future().get();
  engine.stop();
  server.stop();
  sim_thread.join();
  std::error_code ec;
  fs::remove_all(dir, ec);

  const double drain_s = std::chrono::duration<double>(SteadyClock::now() - drain_start).count();
  auto pct = [](std::vector<double>& v, double q) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
  };
  std::printf("\nHot reload: %d rewrites of a policy file while it cancels on OKX over loopback\n",
              kReloads);
  std::printf(
      "  file written -> new version live (inotify, compile, rfq.state copy, main chunk):\n");
  const double p50 = pct(latency_us, 0.50), p99 = pct(latency_us, 0.99);
  std::printf("    p50 %.0f us, p99 %.0f us, max %.0f us (budget: <= 10 ms); refused: %d\n", p50,
              p99, latency_us.back(), refused);
  std::printf("    of which the reload itself: p50 %.0f us, p99 %.0f us\n", pct(reload_us, 0.50),
              pct(reload_us, 0.99));
  std::printf("  cancels the policy versions asked for: %lld; in flight at the last reload: %zu\n",
              static_cast<long long>(asked), in_flight_after);
  std::printf(
      "  answered and recorded after the drain (%.1f s): %llu (ok %llu); at the venue: "
      "%zu; lost: %lld\n",
      drain_s, static_cast<unsigned long long>(answered),
      static_cast<unsigned long long>(m.get("rfq.cancel.ok")), at_venue,
      static_cast<long long>(asked) - static_cast<long long>(answered));
}

}  // namespace rfq::bench
