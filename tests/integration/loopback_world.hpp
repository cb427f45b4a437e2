#pragma once
// A real loopback world for integration tests: the OKX simulator served over HTTP on
// 127.0.0.1, an engine with venue okx pointed at it, and a policy host to run Lua in.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>

#include "bindings/modules/policy_host.hpp"
#include "engine/core/error.hpp"
#include "engine/engine.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/okx/okx_venue.hpp"
#include "tests/integration/policy_world.hpp"

namespace rfq::testing {
struct LoopbackOptions {
  bool demo = false;
  bool feed = false;  // venue okx subscribes to the simulator's rfqs channel
  Millis feed_ping_after{20000};
};

// run_until and run_policy wait 10 s at most.
struct LoopbackWorld : PolicyWorld<LoopbackWorld, 10> {
  boost::asio::io_context io;
  RealClock clock{io};
  sim::Journal journal;
  sim::OkxSim okx{clock, journal, sim::OkxSimOptions{}};
  sim::SimServer server{io, okx};
  std::uint16_t port = server.listen(0);
  Engine engine{io, clock};
  std::unique_ptr<lua::PolicyHost> policy;

  explicit LoopbackWorld(bool demo = false) : LoopbackWorld(LoopbackOptions{demo}) {}

  explicit LoopbackWorld(LoopbackOptions lo) {
    okx::OkxVenueOptions o;
    std::string error;
    REQUIRE(net::parse_origin("http://127.0.0.1:" + std::to_string(port), o.rest, error));
    if (lo.feed) {
      o.business_ws.emplace();
      REQUIRE(net::parse_origin("ws://127.0.0.1:" + std::to_string(port) + "/ws/v5/business",
                                *o.business_ws, error));
      o.feed_ping_after = lo.feed_ping_after;
    }
    o.credentials = {std::string(sim::kSimApiKey), auth::Secret(std::string(sim::kSimSecret)),
                     auth::Secret(std::string(sim::kSimPassphrase))};
    o.demo = lo.demo;
    o.book_refresh = Millis(0);  // one snapshot at start; the test controls the rest
    engine.add_venue(std::make_unique<okx::OkxVenue>(io, clock, engine.book(), o));
  }

  ~LoopbackWorld() {
    policy.reset();
    engine.stop();
    server.stop();
  }

  std::string state_of(const std::string& id) { return okx.rfq(id).value().state; }

  std::vector<boost::json::object> cancels() { return journal.find("okx", "cancel-rfq"); }
};

inline sim::NewRfq new_rfq(std::int64_t expires_in_ms, std::string cl_id = "") {
  sim::NewRfq r;
  r.cl_rfq_id = std::move(cl_id);
  r.legs = {{"BTC-USD-260327-100000-C", "buy", "25"}};
  r.expires_in_ms = expires_in_ms;
  return r;
}


}  // namespace rfq::testing
