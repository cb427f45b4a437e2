// Venue okx_spread against the simulator's business WebSocket over loopback: login,
// sprd-mass-cancel correlated by id, the kill switch across venues, and a dropped connection.
#include "engine/venues/okx_spread/okx_spread_venue.hpp"
#include "tests/integration/loopback_world.hpp"

using namespace rfq;
using rfq::testing::LoopbackWorld;
using rfq::testing::new_rfq;

namespace {

void add_spread_venue(LoopbackWorld& w) {
  okx_spread::OkxSpreadVenueOptions o;
  std::string error;
  REQUIRE(net::parse_origin("ws://127.0.0.1:" + std::to_string(w.port) + "/ws/v5/business",
                            o.business_ws, error));
  o.credentials = {std::string(sim::kSimApiKey), auth::Secret(std::string(sim::kSimSecret)),
                   auth::Secret(std::string(sim::kSimPassphrase))};
  w.engine.add_venue(std::make_unique<okx_spread::OkxSpreadVenue>(w.io, w.clock, o));
}

}  // namespace

TEST_CASE("okx_spread: cancel_all sends sprd-mass-cancel after login; the kill switch covers "
          "every venue",
          "[integration][okx_spread]") {
  LoopbackWorld w;
  const std::string rfq_id = w.okx.add_rfq(new_rfq(60000));
  add_spread_venue(w);
  w.start();
  w.run_policy(R"lua(
    local s = assert(rfq.cancel_all{ venue = "okx_spread", spread_id = "BTC-USDT_BTC-USDT-SWAP" })
    one = ("%s %s"):format(tostring(s.venues.okx_spread.ok), tostring(s.venues.okx))
    local all, err, code = rfq.cancel_all()
    kill = ("%s %s %s"):format(tostring(all.venues.okx.ok), tostring(all.venues.okx_spread.ok),
      tostring(err))
    local ok, e = pcall(rfq.cancel, { venue = "okx_spread", id = "1" })
    misuse = e
    b = rfq.budget("okx_spread")["sprd-mass-cancel"].limit
  )lua");
  CHECK(w.global_string("one") == "true nil");
  CHECK(w.global_string("kill") == "true true nil");
  CHECK_THAT(w.global_string("misuse"), Catch::Contains("okx_spread has only cancel_all"));
  CHECK(w.okx.sprd_mass_cancels("BTC-USDT_BTC-USDT-SWAP") == 1);
  CHECK(w.okx.sprd_mass_cancels("") == 1);  // the kill switch: every spread
  CHECK(w.state_of(rfq_id) == "canceled");  // and okx's cancel-all-rfqs
  lua_getglobal(w.policy->vm().state(), "b");
  CHECK(lua_tointeger(w.policy->vm().state(), -1) == 5);
  lua_pop(w.policy->vm().state(), 1);
}

TEST_CASE("okx_spread: a mass cancel in flight when the connection drops answers DISCONNECTED; "
          "the venue reconnects, logs in again and the next one succeeds",
          "[integration][okx_spread]") {
  LoopbackWorld w;
  add_spread_venue(w);
  w.start();
  w.okx.inject({"ws", sim::FaultKind::ws_close, 0, 1});
  w.run_policy(R"lua(
    local first = rfq.cancel_all{ venue = "okx_spread" }
    first_code = first.venues.okx_spread.code
    local second
    for i = 1, 40 do
      rfq.sleep(100)
      second = rfq.cancel_all{ venue = "okx_spread" }
      if second.venues.okx_spread.ok then break end
    end
    second_ok = tostring(second.venues.okx_spread.ok)
  )lua");
  CHECK(w.global_string("first_code") == "DISCONNECTED");
  CHECK(w.global_string("second_ok") == "true");
  CHECK(w.okx.sprd_mass_cancels("") == 1);
}
