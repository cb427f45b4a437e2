// Venue status notifications (Engine::listen_status, rfq.on("venue")): each venue tells the
// engine when its connection or feed goes down and when it is back, once per change, in
// virtual time against the in-process simulators (SimWorld::ws_outage).
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/sim_world.hpp"
#include "engine/venues/venue.hpp"

using namespace rfq;
using std::chrono::milliseconds;

namespace {

using Change = std::pair<std::string, VenueStatus>;

struct World {
  sim::SimWorld sim;
  std::vector<Change> changes;
  std::uint64_t listener = 0;

  World() {
    REQUIRE(sim.start().empty());
    listener = sim.engine().listen_status(
        [this](std::string_view venue, VenueStatus s) { changes.emplace_back(venue, s); });
  }

  // The world's teardown stops the venues (down, each): nobody is left to hear it.
  ~World() { sim.engine().unlisten_status(listener); }

  VenueStatus status(const char* venue) { return sim.engine().venue(venue)->status(); }
};

const char* name(VenueStatus s) {
  return s == VenueStatus::up ? "up" : s == VenueStatus::down ? "down" : "starting";
}

std::string show(const std::vector<Change>& changes) {
  std::string out;
  for (const auto& [venue, s] : changes) out += venue + ":" + name(s) + " ";
  return out;
}

}  // namespace

TEST_CASE("venue status: every venue is up once the world has started", "[venues][status]") {
  World w;
  for (const char* v : {"okx", "okx_spread", "deribit"}) {
    INFO(v);
    CHECK(w.status(v) == VenueStatus::up);
  }
  CHECK(w.changes.empty());
}

TEST_CASE("venue status: an OKX WebSocket outage takes okx and okx_spread down, then up",
          "[venues][status]") {
  World w;
  w.sim.ws_outage("okx", milliseconds(3000));
  w.sim.poll();
  INFO(show(w.changes));
  CHECK(w.status("okx") == VenueStatus::down);
  CHECK(w.status("okx_spread") == VenueStatus::down);
  CHECK(w.status("deribit") == VenueStatus::up);
  REQUIRE(w.changes.size() == 2);
  for (const auto& [venue, s] : w.changes) CHECK(s == VenueStatus::down);

  SECTION("still down while the outage lasts, whatever the reconnects try") {
    w.sim.advance(milliseconds(2900));
    CHECK(w.status("okx") == VenueStatus::down);
    CHECK(w.changes.size() == 2);  // refused reconnects are no new change
  }
  SECTION("up again after it (reconnect backoff, login, subscribe), each told once") {
    w.sim.advance(milliseconds(10000));
    CHECK(w.status("okx") == VenueStatus::up);
    CHECK(w.status("okx_spread") == VenueStatus::up);
    REQUIRE(w.changes.size() == 4);
    int ups = 0;
    for (const auto& [venue, s] : w.changes) ups += s == VenueStatus::up;
    CHECK(ups == 2);
    // Counted as told (the start-up's first up included).
    CHECK(w.sim.engine().metrics().get("venue.okx.down") == 1);
    CHECK(w.sim.engine().metrics().get("venue.okx.up") == 2);
    CHECK(w.sim.engine().metrics().get("venue.deribit.up") == 1);
    CHECK(w.sim.engine().metrics().get("venue.deribit.down") == 0);
  }
}

TEST_CASE("venue status: a Deribit outage is deribit down, then up; REST keeps okx up",
          "[venues][status]") {
  World w;
  w.sim.ws_outage("deribit", milliseconds(2000));
  w.sim.poll();
  CHECK(w.status("deribit") == VenueStatus::down);
  CHECK(w.status("okx") == VenueStatus::up);
  REQUIRE(w.changes == std::vector<Change>{{"deribit", VenueStatus::down}});
  w.sim.advance(milliseconds(10000));
  CHECK(w.status("deribit") == VenueStatus::up);
  CHECK(w.changes == std::vector<Change>{{"deribit", VenueStatus::down},
                                         {"deribit", VenueStatus::up}});
}

TEST_CASE("venue status: an OKX feed close without an outage is down, then up at once",
          "[venues][status]") {
  World w;
  // The next message on the business WebSocket closes its connection (1011); the client
  // reconnects after its first backoff (250 ms).
  w.sim.okx().inject({"ws", sim::FaultKind::ws_close, 0, 1, {}, {}});
  w.sim.advance(milliseconds(30000));  // the feed's ping after 20 s of silence takes the fault
  INFO(show(w.changes));
  REQUIRE(w.changes.size() >= 2);
  CHECK(w.changes[0].second == VenueStatus::down);
  CHECK(w.changes.back().second == VenueStatus::up);
  CHECK(w.status("okx") == VenueStatus::up);
}

TEST_CASE("venue status: an unlistened listener hears nothing; stop() is down, but no news",
          "[venues][status]") {
  World w;
  SECTION("unlisten (twice: an unknown id is ignored)") {
    w.sim.engine().unlisten_status(w.listener);
    w.sim.ws_outage("deribit", milliseconds(1000));
    w.sim.advance(milliseconds(5000));
    CHECK(w.changes.empty());
  }
  SECTION("stop") {
    w.sim.engine().stop();
    CHECK(w.status("okx") == VenueStatus::down);
    CHECK(w.status("deribit") == VenueStatus::down);
    // Closing on purpose is not an outage: listeners (a guard policy) hear nothing, nothing
    // is counted as down.
    CHECK(w.changes.empty());
    CHECK(w.sim.engine().metrics().get("venue.okx.down") == 0);
  }
}
