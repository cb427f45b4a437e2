#pragma once
// A real loopback world for venue deribit: the Deribit simulator served over HTTP and
// WebSocket on 127.0.0.1, an engine with venue deribit pointed at it, and a policy host.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>

#include "bindings/modules/policy_host.hpp"
#include "engine/core/error.hpp"
#include "engine/engine.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/deribit/deribit_venue.hpp"
#include "tests/integration/policy_world.hpp"

namespace rfq::testing {

struct DeribitWorldOptions {
  sim::DeribitSimOptions sim;
  int heartbeat_s = 10;
  bool client_credentials = false;
  bool cancel_on_disconnect = false;
  bool credits_as_sim = true;  // the venue's pool mirrors the simulator's
};

// run_until waits 15 s by default, run_policy 60 s for a policy's main chunk.
struct DeribitWorld : PolicyWorld<DeribitWorld, 15, 60> {
  boost::asio::io_context io;
  RealClock clock{io};
  sim::Journal journal;
  sim::OkxSim okx{clock, journal, sim::OkxSimOptions{}};
  std::unique_ptr<sim::DeribitSim> deribit;
  std::unique_ptr<sim::SimServer> server;
  std::uint16_t port = 0;
  Engine engine{io, clock};
  deribit::DeribitVenue* venue = nullptr;
  std::unique_ptr<lua::PolicyHost> policy;

  explicit DeribitWorld(DeribitWorldOptions wo = {}) {
    deribit = std::make_unique<sim::DeribitSim>(clock, journal, wo.sim);
    server = std::make_unique<sim::SimServer>(io, okx);
    server->serve_deribit(*deribit);
    port = server->listen(0);
    deribit::DeribitVenueOptions o;
    std::string error;
    REQUIRE(net::parse_origin("ws://127.0.0.1:" + std::to_string(port) + "/ws/api/v2", o.ws, error));
    o.http.emplace();
    REQUIRE(net::parse_origin("http://127.0.0.1:" + std::to_string(port), *o.http, error));
    o.credentials = {wo.sim.client_id, auth::Secret(wo.sim.client_secret)};
    o.client_credentials = wo.client_credentials;
    o.heartbeat_s = wo.heartbeat_s;
    o.cancel_on_disconnect = wo.cancel_on_disconnect;
    if (wo.credits_as_sim) {
      o.credit_cost = wo.sim.credit_cost;
      o.credit_pool = wo.sim.credit_pool;
      o.credit_refill_per_s = wo.sim.credit_refill_per_s;
    }
    o.book_refresh = Millis(0);
    auto v = std::make_unique<deribit::DeribitVenue>(io, clock, engine.book(), o);
    venue = v.get();
    engine.add_venue(std::move(v));
  }

  ~DeribitWorld() {
    policy.reset();
    engine.stop();
    server->stop();
  }

  std::int64_t add(std::int64_t expires_in_ms = 60000) {
    sim::NewBlockRfq r;
    r.legs = {{"BTC-PERPETUAL", "buy", 1}};
    r.expires_in_ms = expires_in_ms;
    return deribit->add_rfq(std::move(r));
  }

  std::string state_of(std::int64_t id) { return deribit->rfq(id).value().state; }

  // Journal entries of one method with a given error code (0: success).
  std::size_t answered(std::string_view method, std::int64_t code) {
    std::size_t n = 0;
    for (const auto& venue_name : {"deribit", "deribit_ws"}) {
      for (const auto& e : journal.find(venue_name, method)) {
        const auto* c = e.if_contains("code");
        if (c && c->is_int64() && c->as_int64() == code) ++n;
      }
    }
    return n;
  }
};

}  // namespace rfq::testing
