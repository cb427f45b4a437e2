// OkxSim::on_rfq_change: which changes observers see (every state change, wherever it happens),
// tick() making expiry observable on time, and removing observers, also from a callback.

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "engine/sim/okx_sim.hpp"
#include "tests/unit/engine/sim/okx_sim_world.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using namespace rfq::sim::test;
using std::chrono::milliseconds;

// "<rfqId>:<state>" per notification.
struct Seen {
  explicit Seen(OkxSim& okx)
      : id(okx.on_rfq_change(
            [this](const SimRfq& r) { log.push_back(r.rfq_id + ":" + r.state); })) {}
  std::vector<std::string> log;
  std::uint64_t id;
};

}  // namespace

TEST_CASE("okx sim observers: every state change is reported once, wherever it happens",
          "[sim][okx][observer]") {
  World w;
  Seen seen(w.okx);
  const auto a = w.add("a", 60000);
  const auto b = w.add("b", 60000);
  const auto c = w.add("c", 1000);
  const auto d = w.add("d", 60000);
  const auto e = w.add("e", 60000);
  CHECK(seen.log == std::vector<std::string>{a + ":active", b + ":active", c + ":active",
                                             d + ":active", e + ":active"});
  seen.log.clear();

  w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + a + R"("})"));
  w.okx.handle(signed_request(w.clock, "POST", "/api/v5/rfq/cancel-batch-rfqs",
                              R"({"rfqIds":[")" + b + R"(",")" + a + R"("]})"));
  REQUIRE(w.okx.fill(d));
  w.clock.advance(milliseconds(1000));
  w.okx.tick();
  w.okx.handle(signed_request(w.clock, "POST", "/api/v5/rfq/cancel-all-rfqs", "{}"));
  CHECK(seen.log == std::vector<std::string>{a + ":canceled", b + ":canceled", d + ":filled",
                                             c + ":expired", e + ":canceled"});
}

TEST_CASE("okx sim observers: lazy expiry is reported by whatever applies it first",
          "[sim][okx][observer]") {
  World w;
  Seen seen(w.okx);
  const auto id = w.add("", 500);
  seen.log.clear();
  w.clock.advance(milliseconds(500));
  CHECK(seen.log.empty());  // time alone changes nothing observable
  SECTION("an accessor") { CHECK(w.okx.count_in_state("active") == 0); }
  SECTION("a request") { w.okx.handle({"GET", "/api/v5/public/time", "", {}}); }
  SECTION("tick") { w.okx.tick(); }
  CHECK(seen.log == std::vector<std::string>{id + ":expired"});
  w.okx.tick();
  CHECK(seen.log.size() == 1);
}

TEST_CASE("okx sim observers: seeded RFQs are reported as created", "[sim][okx][observer]") {
  World w;
  Seen seen(w.okx);
  w.okx.seed(3, 1000, 7);
  CHECK(seen.log.size() == 3);
}

TEST_CASE("okx sim observers: a removed observer hears nothing more, and others go on",
          "[sim][okx][observer]") {
  World w;
  Seen first(w.okx);
  Seen second(w.okx);
  CHECK(first.id != second.id);
  w.add();
  w.okx.remove_observer(first.id);
  w.okx.remove_observer(first.id);  // twice: ignored
  w.okx.remove_observer(12345);     // unknown: ignored
  w.add();
  CHECK(first.log.size() == 1);
  CHECK(second.log.size() == 2);
}

TEST_CASE("okx sim observers: a callback may remove itself and the observer after it",
          "[sim][okx][observer]") {
  World w;
  int self_removing_calls = 0;
  int later_calls = 0;
  std::uint64_t later = 0;
  std::uint64_t self = 0;
  self = w.okx.on_rfq_change([&](const SimRfq&) {
    ++self_removing_calls;
    w.okx.remove_observer(self);
    w.okx.remove_observer(later);
  });
  later = w.okx.on_rfq_change([&](const SimRfq&) { ++later_calls; });
  Seen last(w.okx);
  w.add();
  w.add();
  CHECK(self_removing_calls == 1);
  CHECK(later_calls == 0);  // removed before its turn
  CHECK(last.log.size() == 2);
}
