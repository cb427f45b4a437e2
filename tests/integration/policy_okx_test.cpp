// A Lua policy through the engine against the OKX simulator over real loopback HTTP. Asserts
// on what the simulator holds and journaled, not on what the client believes.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>

#include "bindings/lua/lua_task.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/core/error.hpp"
#include "engine/engine.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/okx/okx_venue.hpp"
#include "tests/integration/loopback_world.hpp"

extern "C" {
#include <lua.h>
}

using namespace rfq;

using rfq::testing::LoopbackWorld;
using rfq::testing::new_rfq;

SCENARIO("a Lua policy cancels OKX RFQs through the engine over loopback HTTP",
         "[integration][okx]") {
  GIVEN("a simulator with RFQs expiring soon and later, loaded into the book at start") {
    LoopbackWorld w;
    const std::string soon = w.okx.add_rfq(new_rfq(3000));
    const std::string later = w.okx.add_rfq(new_rfq(60000));
    const std::string by_client = w.okx.add_rfq(new_rfq(4000, "desk7b"));
    w.start();
    CHECK(w.engine.book().active_count() == 3);
    CHECK(w.journal.find("okx", "rfqs").size() == 1);

    WHEN("the policy cancels what expires within 5 s, one by client id, and an unknown id") {
      w.run_policy(R"lua(
        local due = rfq.open{ venue = "okx", expiring_within_ms = 5000 }
        local states = {}
        for _, r in ipairs(due) do
          if r.client_id ~= "desk7b" then
            local res, err, code = rfq.cancel{ venue = "okx", id = r.id }
            states[#states + 1] = res and res.state or code
          end
        end
        local res = assert(rfq.cancel{ venue = "okx", client_id = "desk7b" })
        states[#states + 1] = res.state .. ":" .. res.venue_code
        local none, err, code, venue_code = rfq.cancel{ venue = "okx", id = "999999" }
        unknown = tostring(none) .. "|" .. code .. "|" .. err .. "|" .. venue_code
        outcome = table.concat(states, ",")
        open_after = #rfq.open{ venue = "okx" }
      )lua");

      THEN("the simulator holds them canceled and the later one active") {
        CHECK(w.state_of(soon) == "canceled");
        CHECK(w.state_of(by_client) == "canceled");
        CHECK(w.state_of(later) == "active");
        CHECK(w.global_string("outcome") == "canceled,canceled:0");
        CHECK(w.global_string("unknown") == "nil|UNKNOWN_RFQ|RFQ does not exist.|70000");
      }
      THEN("the journal shows three signed, accepted cancel-rfq requests with the right bodies") {
        auto cancels = w.cancels();
        REQUIRE(cancels.size() == 3);
        CHECK(cancels[0].at("body").as_string() == R"({"rfqId":")" + soon + R"("})");
        CHECK(cancels[1].at("body").as_string() == R"({"clRfqId":"desk7b"})");
        CHECK(cancels[0].at("status").as_int64() == 200);
        CHECK(cancels[0].at("code").as_string() == "0");
        CHECK(cancels[2].at("code").as_string() == "1");  // per-item sCode 70000
        for (const auto& c : cancels) CHECK(c.at("method").as_string() == "POST");
      }
      THEN("the book and the counters agree") {
        lua_State* L = w.policy->vm().state();
        lua_getglobal(L, "open_after");
        CHECK(lua_tointeger(L, -1) == 1);
        lua_pop(L, 1);
        CHECK(w.engine.metrics().get("rfq.cancel.sent") == 3);
        CHECK(w.engine.metrics().get("rfq.cancel.ok") == 2);
        CHECK(w.engine.metrics().get("rfq.cancel.failed.UNKNOWN_RFQ") == 1);
        CHECK(w.engine.metrics().get("rfq.cancel.failed.AUTH") == 0);
      }
    }
  }
}

TEST_CASE("okx venue: cancel-rfq over 5 per 2 s fails RATE_LIMITED without being sent",
          "[integration][okx][limits]") {
  LoopbackWorld w;
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(w.okx.add_rfq(new_rfq(60000)));
  w.start();
  // Seven concurrent cancels with a 300 ms deadline: five fit the window, two cannot get a
  // slot before their deadline and must not reach the wire.
  w.run_policy(R"lua(
    local tasks = {}
    for _, r in ipairs(rfq.open{ venue = "okx" }) do
      tasks[#tasks + 1] = rfq.spawn(function()
        local res, err, code = rfq.cancel{ venue = "okx", id = r.id, timeout_ms = 300 }
        return res and "ok" or code
      end)
    end
    local counts = {}
    for _, t in ipairs(tasks) do
      local ok, what = t:wait()
      counts[what] = (counts[what] or 0) + 1
    end
    summary = ("ok=%d limited=%d"):format(counts.ok or 0, counts.RATE_LIMITED or 0)
  )lua");
  CHECK(w.global_string("summary") == "ok=5 limited=2");
  CHECK(w.cancels().size() == 5);
  for (const auto& c : w.cancels()) CHECK(c.at("status").as_int64() == 200);
  CHECK(w.okx.count_in_state("canceled") == 5);
  CHECK(w.okx.count_in_state("active") == 2);
}

TEST_CASE("okx venue: demo mode sends x-simulated-trading and the sim still verifies it",
          "[integration][okx]") {
  LoopbackWorld w(/*demo=*/true);
  const std::string id = w.okx.add_rfq(new_rfq(60000));
  w.start();
  w.run_policy("ok_state = assert(rfq.cancel{ venue = 'okx', id = '" + id + "' }).state");
  CHECK(w.global_string("ok_state") == "canceled");
  auto cancels = w.cancels();
  REQUIRE(cancels.size() == 1);
  REQUIRE(cancels[0].contains("simulated_trading"));
  CHECK(cancels[0].at("simulated_trading").as_string() == "1");
  CHECK(cancels[0].at("code").as_string() == "0");
}

TEST_CASE("okx venue: a simulator with other credentials answers AUTH, never a success",
          "[integration][okx]") {
  boost::asio::io_context io;
  RealClock clock{io};
  sim::Journal journal;
  sim::OkxSimOptions so;
  so.secret = "a-different-secret";
  sim::OkxSim okx{clock, journal, so};
  sim::SimServer server{io, okx};
  auto port = server.listen(0);
  Engine engine{io, clock};
  okx::OkxVenueOptions o;
  std::string error;
  REQUIRE(net::parse_origin("http://127.0.0.1:" + std::to_string(port), o.rest, error));
  o.credentials = {std::string(sim::kSimApiKey), auth::Secret(std::string(sim::kSimSecret)),
                   auth::Secret(std::string(sim::kSimPassphrase))};
  o.book_refresh = Millis(0);
  engine.add_venue(std::make_unique<okx::OkxVenue>(io, clock, engine.book(), o));

  bool started = false;
  boost::system::error_code ec;
  engine.start([&](boost::system::error_code e) {
    ec = e;
    started = true;
  });
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!started && std::chrono::steady_clock::now() < end) io.run_one_for(Millis(50));
  REQUIRE(started);
  CHECK(code_of(ec) == Errc::auth);
  auto gets = journal.find("okx", "rfqs");
  REQUIRE(gets.size() == 1);
  CHECK(gets[0].at("code").as_string() == "50113");
  CHECK(gets[0].at("status").as_int64() == 401);
  engine.stop();
  server.stop();
}
