// make bench, kill switch phase: rfq.cancel_all() with no venue runs every configured venue at
// once, so it should take about the slowest venue's time, not the sum. Measured against the
// simulator with every documented limit on: OKX cancel-all-rfqs is one request, okx_spread's
// sprd-mass-cancel one WebSocket op, and Deribit (no taker cancel-all) lists the open RFQs and
// cancels each through its credit pool (100 at once, then 20/s), which makes it the slowest.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>

#include "bindings/lua/lua_task.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/engine.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/deribit/deribit_venue.hpp"
#include "engine/venues/okx/okx_venue.hpp"
#include "engine/venues/okx_spread/okx_spread_venue.hpp"
#include "tests/bench/bench.hpp"

extern "C" {
#include <lua.h>
}

namespace rfq::bench {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kOkxRfqs = 500;
constexpr int kDeribitRfqs = 300;

struct Side {
  asio::io_context io;
  RealClock clock{io};
  Engine engine{io, clock};

  explicit Side(std::uint16_t port) {
    const std::string base = "127.0.0.1:" + std::to_string(port);
    std::string error;
    const auth::OkxCredentials okx_creds = okx_sim_credentials();
    okx::OkxVenueOptions o;
    net::parse_origin("http://" + base, o.rest, error);
    o.credentials = okx_creds;
    o.book_refresh = Millis(0);
    o.business_ws.emplace();  // the rfqs feed puts seeded RFQs in the book: cancel_all counts them
    net::parse_origin("ws://" + base + "/ws/v5/business", *o.business_ws, error);
    engine.add_venue(std::make_unique<okx::OkxVenue>(io, clock, engine.book(), o));
    okx_spread::OkxSpreadVenueOptions so;
    net::parse_origin("ws://" + base + "/ws/v5/business", so.business_ws, error);
    so.credentials = okx_creds;
    engine.add_venue(std::make_unique<okx_spread::OkxSpreadVenue>(io, clock, so));
    deribit::DeribitVenueOptions d;
    net::parse_origin("ws://" + base + "/ws/api/v2", d.ws, error);
    d.credentials = {std::string(sim::kDeribitSimClientId),
                     auth::Secret(std::string(sim::kDeribitSimClientSecret))};
    d.book_refresh = Millis(0);
    engine.add_venue(std::make_unique<deribit::DeribitVenue>(io, clock, engine.book(), d));
    start_engine(io, engine, "kill switch bench");
  }

  // Lets the loop run for `d` (credit pools refill, pushes land).
  void idle(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }

  // Runs rfq.cancel_all(opts) from a policy; returns seconds and the summary line.
  std::pair<double, std::string> cancel_all(const std::string& opts) {
    lua::PolicySpec spec;
    spec.name = "bench-kill";
    auto policy = std::make_unique<lua::PolicyHost>(engine, spec);
    std::string error;
    policy->load_source(
        "local s = assert(rfq.cancel_all(" + opts +
            "))\n"
            "local parts = {}\n"
            "for v, o in pairs(s.venues) do\n"
            "  parts[#parts + 1] = v .. ' ' .. (o.canceled and tostring(o.canceled) or 'ok')\n"
            "end\n"
            "table.sort(parts)\n"
            "outcome = table.concat(parts, ', ')\n",
        "=bench-kill", error);
    const auto t0 = std::chrono::steady_clock::now();
    policy->start();
    auto main = policy->main_task();
    while (main->state() != lua::TaskState::Finished) {
      if (io.run_one() == 0) io.restart();
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!main->ok()) {
      std::fprintf(stderr, "kill switch bench policy failed: %s\n", main->error().c_str());
      std::exit(1);
    }
    lua_State* L = policy->vm().state();
    lua_getglobal(L, "outcome");
    std::string out = lua_tostring(L, -1);
    lua_pop(L, 1);
    return {secs, out};
  }
};

}  // namespace

void kill_switch() {
  asio::io_context sim_io;
  RealClock sim_clock{sim_io};
  sim::Journal journal;
  sim::OkxSim okx{sim_clock, journal, sim::OkxSimOptions{}};
  sim::DeribitSim deribit{sim_clock, journal, sim::DeribitSimOptions{}};
  sim::SimServer server{sim_io, okx};
  server.serve_deribit(deribit);
  const auto port = server.listen(0);
  std::thread sim_thread([&] { sim_io.run(); });

  auto seed = [&](bool on_okx, bool on_deribit, std::uint64_t salt) {
    std::promise<void> done;
    asio::post(sim_io, [&] {
      if (on_okx) okx.seed(kOkxRfqs, std::int64_t{kOkxRfqs} * 600'000, salt);
      for (int i = 0; on_deribit && i < kDeribitRfqs; ++i) {
        sim::NewBlockRfq r;
        r.legs = {{"BTC-PERPETUAL", "buy", 1}};
        r.expires_in_ms = 3'600'000;
        deribit.add_rfq(std::move(r));
      }
      done.set_value();
    });
    done.get_future().get();
  };

  Side side(port);
  const char* venues[] = {"okx", "okx_spread", "deribit"};
  double alone[3] = {0, 0, 0};
  std::string outcomes[3];
  for (int i = 0; i < 3; ++i) {
    seed(i == 0, i == 2, 100 + static_cast<std::uint64_t>(i));
    side.idle(std::chrono::milliseconds(6000));  // full credit pool, pushes landed, lanes clear
    auto [secs, out] =
        side.cancel_all(std::string("{ venue = '") + venues[i] + "', timeout_ms = 60000 }");
    alone[i] = secs;
    outcomes[i] = out;
  }
  seed(true, true, 200);
  side.idle(std::chrono::milliseconds(6000));
  auto [all_secs, all_out] = side.cancel_all("{ timeout_ms = 60000 }");

  side.engine.stop();
  server.stop();
  sim_thread.join();
  std::size_t limited = 0;
  for (const auto& e : journal.find("deribit_ws", "private/cancel_block_rfq")) {
    const auto* c = e.if_contains("code");
    if (c && c->is_int64() && c->as_int64() == 10028) ++limited;
  }
  const double slowest = std::max({alone[0], alone[1], alone[2]});
  std::printf(
      "\nKill switch: rfq.cancel_all() across okx (%zu RFQs), okx_spread and deribit (%d "
      "block RFQs), limits on\n",
      kOkxRfqs, kDeribitRfqs);
  for (int i = 0; i < 3; ++i) {
    std::printf("  %-10s alone  %7.3f s   (%s)\n", venues[i], alone[i], outcomes[i].c_str());
  }
  std::printf("  all three at once %6.3f s   (%s)\n", all_secs, all_out.c_str());
  std::printf("  sum of the three alone %.3f s; at once / slowest alone = %.3f (budget: about 1)\n",
              alone[0] + alone[1] + alone[2], all_secs / slowest);
  std::printf("  Deribit 10028 answers: %zu\n", limited);
}

}  // namespace rfq::bench
