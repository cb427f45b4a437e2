#pragma once
// The engine with venue okx against the in-process OKX simulator on a virtual clock: pacing
// schedules are asserted exactly, without sockets and without waiting. Tests add what they
// need (an audit log, say) before add_okx_venue() and start().
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/sim_transport.hpp"
#include "engine/venues/okx/okx_venue.hpp"

namespace rfq::testing {

struct VirtualOkxWorld {
  boost::asio::io_context io;
  VirtualClock clock{io, 1'700'000'000'000};
  sim::Journal journal;
  sim::OkxSim okx{clock, journal, sim::OkxSimOptions{}};
  Engine engine{io, clock};

  void add_okx_venue() {
    okx::OkxVenueOptions o;
    o.transport = std::make_shared<sim::SimTransport>(io, okx);
    o.credentials = {std::string(sim::kSimApiKey), auth::Secret(std::string(sim::kSimSecret)),
                     auth::Secret(std::string(sim::kSimPassphrase))};
    o.book_refresh = Millis(0);
    engine.add_venue(std::make_unique<okx::OkxVenue>(io, clock, engine.book(), o));
  }

  void start() {
    bool started = false;
    engine.start([&](boost::system::error_code ec) {
      REQUIRE_FALSE(ec);
      started = true;
    });
    for (int i = 0; i < 100 && !started; ++i) clock.advance(Millis(100));
    REQUIRE(started);
  }

  // n active RFQs expiring over n * 10 minutes; their ids, oldest first.
  std::vector<std::string> seed(std::size_t n) {
    okx.seed(n, static_cast<std::int64_t>(n) * 600'000, 3);
    std::vector<std::string> ids;
    for (const auto& r : okx.rfqs()) {
      if (r.state == "active") ids.push_back(r.rfq_id);
    }
    return ids;
  }
};

}  // namespace rfq::testing
