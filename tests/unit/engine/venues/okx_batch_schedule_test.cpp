// The OKX venue against the in-process simulator in virtual time: the pacing schedule is
// asserted exactly, without sockets and without waiting.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "engine/core/error.hpp"
#include "tests/unit/engine/virtual_okx_world.hpp"

using namespace rfq;

namespace {

struct VirtualVenueWorld : testing::VirtualOkxWorld {
  VirtualVenueWorld() {
    add_okx_venue();
    start();
  }
};

}  // namespace

TEST_CASE("okx cancel_batch in virtual time: 10,000 ids within 5% of the least time the "
          "limits allow, with no 50011",
          "[venues][okx][batch][virtual]") {
  VirtualVenueWorld w;
  auto ids = w.seed(10'000);
  const auto t0 = w.clock.steady_now();
  std::optional<BatchResult> result;
  SteadyTime done_at{};
  BatchRequest req;
  req.ids = ids;
  req.timeout = Millis(300'000);
  w.engine.cancel_batch("okx", std::move(req), [&](BatchResult r) {
    result = std::move(r);
    done_at = w.clock.steady_now();
  });
  for (int i = 0; i < 400 && !result; ++i) w.clock.advance(Millis(500));
  REQUIRE(result);
  CHECK(result->canceled == 10'000);
  CHECK(result->failed == 0);
  CHECK(result->requests == 100);
  CHECK(w.okx.count_in_state("canceled") == 10'000);

  // The schedule: two requests every window, never three inside 2 s, nothing refused.
  auto batches = w.journal.find("okx", "cancel-batch-rfqs");
  REQUIRE(batches.size() == 100);
  for (std::size_t i = 0; i < batches.size(); ++i) {
    CHECK(batches[i].at("code").as_string() == "0");
    if (i >= 2) {
      const auto gap = batches[i].at("ts_ms").as_int64() - batches[i - 2].at("ts_ms").as_int64();
      CHECK(gap >= 2000);
      CHECK(gap <= 2100);  // the 50 ms safety margin, not more
    }
  }
  const double minimum_s = (10'000 / 100 / 2 - 1) * 2.0;  // 98 s
  const double took_s = std::chrono::duration<double>(done_at - t0).count();
  CHECK(took_s >= minimum_s);
  CHECK(took_s <= minimum_s * 1.05);
}

TEST_CASE("okx venue in virtual time: a dropped or delayed answer ends as the deadline says",
          "[venues][okx][virtual]") {
  VirtualVenueWorld w;
  auto ids = w.seed(3);
  std::vector<CancelResult> results;
  auto cancel = [&](const std::string& id, Millis timeout) {
    CancelRequest req;
    req.id = id;
    req.timeout = timeout;
    w.engine.cancel("okx", std::move(req), [&](CancelResult r) { results.push_back(std::move(r)); });
  };
  w.okx.inject({"cancel-rfq", sim::FaultKind::drop, 0, 1});
  cancel(ids[0], Millis(1000));
  w.clock.advance(Millis(10));
  REQUIRE(results.size() == 1);
  CHECK(code_of(results[0].ec) == Errc::disconnected);

  w.okx.inject({"cancel-rfq", sim::FaultKind::delay, 3000, 1});
  cancel(ids[1], Millis(1000));
  w.clock.advance(Millis(999));
  CHECK(results.size() == 1);
  w.clock.advance(Millis(2));
  REQUIRE(results.size() == 2);
  CHECK(code_of(results[1].ec) == Errc::timeout);

  w.okx.inject({"cancel-rfq", sim::FaultKind::unavailable, 0, 1});
  cancel(ids[2], Millis(1000));
  w.clock.advance(Millis(10));
  REQUIRE(results.size() == 3);
  CHECK(code_of(results[2].ec) == Errc::unavailable);
  CHECK(results[2].venue_code == "50001");
}
