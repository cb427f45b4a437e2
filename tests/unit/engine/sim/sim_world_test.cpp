// SimWorld: the in-process world of `rfqd test`. start() brings venues okx, okx_spread and
// deribit up in virtual time; a cancel through the engine reaches each simulator (the journal
// shows it); the same seed gives the same journal; worlds are independent of each other.

#include "engine/sim/sim_world.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/engine.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/venue.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using std::chrono::milliseconds;

constexpr std::string_view kSpread = "BTC-USDT_BTC-USDT-SWAP";

std::string okx_rfq(SimWorld& w, std::string cl_id = "") {
  NewRfq r;
  r.cl_rfq_id = std::move(cl_id);
  r.legs = {{"BTC-USD-260327-100000-C", "buy", "25"}};
  r.expires_in_ms = 60000;
  return w.okx().add_rfq(std::move(r));
}

std::int64_t deribit_rfq(SimWorld& w) {
  NewBlockRfq r;
  r.legs = {{"BTC-1NOV24", "sell", 1}, {"BTC-PERPETUAL", "buy", 1}};
  r.expires_in_ms = 60000;
  return w.deribit().add_rfq(std::move(r));
}

// Runs one engine cancel to its completion in virtual time (at most 10 s).
CancelResult cancel(SimWorld& w, std::string_view venue, std::string id) {
  std::optional<CancelResult> out;
  CancelRequest req;
  req.id = std::move(id);
  w.engine().cancel(venue, std::move(req), [&out](CancelResult r) { out = std::move(r); });
  for (int i = 0; i < 1000 && !out; ++i) w.advance(milliseconds(10));
  REQUIRE(out.has_value());
  return *out;
}

CancelAllResult cancel_all(SimWorld& w, std::string_view venue, std::string spread_id = "") {
  std::optional<CancelAllResult> out;
  CancelAllRequest req;
  req.spread_id = std::move(spread_id);
  w.engine().cancel_all(venue, std::move(req), [&out](CancelAllResult r) { out = std::move(r); });
  for (int i = 0; i < 1000 && !out; ++i) w.advance(milliseconds(10));
  REQUIRE(out.has_value());
  return *out;
}

std::vector<std::string> journal_text(SimWorld& w) {
  std::vector<std::string> out;
  for (const auto& e : w.journal().entries()) {
    out.push_back(boost::json::serialize(e));
  }
  return out;
}

// The same story every time: start, one cancel per venue, a cancel-all, some time passing.
void script(SimWorld& w) {
  REQUIRE(w.start() == "");
  const auto okx_id = okx_rfq(w, "c1");
  const auto der_id = deribit_rfq(w);
  w.okx().add_spread_order(std::string(kSpread));
  w.advance(milliseconds(500));
  CHECK_FALSE(cancel(w, "okx", okx_id).ec);
  CHECK_FALSE(cancel(w, "deribit", std::to_string(der_id)).ec);
  CHECK_FALSE(cancel_all(w, "okx_spread", std::string(kSpread)).ec);
  w.advance(milliseconds(45000));
}

}  // namespace

TEST_CASE("sim world: start() brings every venue up in virtual time", "[sim][world]") {
  SimWorld w;
  const auto t0 = w.now_ms();
  CHECK(t0 == SimWorldOptions{}.start_ms);
  CHECK(w.engine().venue_names() == std::vector<std::string>{"deribit", "okx", "okx_spread"});
  for (const auto* name : {"okx", "okx_spread", "deribit"}) {
    REQUIRE(w.engine().venue(name) != nullptr);
  }

  CHECK(w.start() == "");
  for (const auto* name : {"okx", "okx_spread", "deribit"}) {
    INFO(name);
    CHECK(w.engine().venue(name)->status() == VenueStatus::up);
  }
  CHECK(w.now_ms() - t0 < 30000);  // within start()'s own limit of virtual time
  // Each venue really talked to its simulator.
  CHECK(w.journal().find("okx_ws", "login").size() == 2);  // okx's feed and okx_spread
  CHECK_FALSE(w.journal().find("okx", "rfqs").empty());
  CHECK_FALSE(w.journal().find("deribit_ws", "public/auth").empty());
}

TEST_CASE("sim world: a cancel through the engine reaches each venue's simulator",
          "[sim][world]") {
  SimWorld w;
  REQUIRE(w.start() == "");

  SECTION("okx: cancel-rfq") {
    const auto id = okx_rfq(w);
    const auto r = cancel(w, "okx", id);
    CHECK_FALSE(r.ec);
    CHECK(r.state == "canceled");
    CHECK(w.okx().rfq(id)->state == "canceled");
    const auto sent = w.journal().find("okx", "cancel-rfq");
    REQUIRE(sent.size() == 1);
    CHECK(boost::json::serialize(sent[0]).find(id) != std::string::npos);
  }
  SECTION("okx: cancel-all-rfqs") {
    const auto a = okx_rfq(w);
    const auto b = okx_rfq(w);
    const auto r = cancel_all(w, "okx");
    CHECK_FALSE(r.ec);
    CHECK(w.okx().rfq(a)->state == "canceled");
    CHECK(w.okx().rfq(b)->state == "canceled");
    CHECK(w.journal().find("okx", "cancel-all-rfqs").size() == 1);
  }
  SECTION("okx_spread: sprd-mass-cancel of one spread") {
    const auto mine = w.okx().add_spread_order(std::string(kSpread));
    const auto other = w.okx().add_spread_order("ETH-USDT_ETH-USDT-SWAP");
    const auto r = cancel_all(w, "okx_spread", std::string(kSpread));
    CHECK_FALSE(r.ec);
    CHECK(w.okx().spread_order(mine)->state == "canceled");
    CHECK(w.okx().spread_order(other)->state == "live");
    const auto sent = w.journal().find("okx_ws", "sprd-mass-cancel");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].at("code").as_string() == "0");
    CHECK(w.okx().sprd_mass_cancels(kSpread) == 1);
  }
  SECTION("deribit: private/cancel_block_rfq") {
    const auto id = deribit_rfq(w);
    const auto r = cancel(w, "deribit", std::to_string(id));
    CHECK_FALSE(r.ec);
    CHECK(w.deribit().rfq(id)->state == "cancelled");
    const auto sent = w.journal().find("deribit_ws", "private/cancel_block_rfq");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].at("code").as_int64() == 0);
  }
  SECTION("an unknown RFQ is answered, not hung") {
    const auto r = cancel(w, "okx", "99999999");
    CHECK(r.ec == make_error_code(Errc::unknown_rfq));
    CHECK(w.journal().find("okx", "cancel-rfq").size() == 1);
  }
}

TEST_CASE("sim world: the same seed gives the same journal", "[sim][world][determinism]") {
  SimWorld a(SimWorldOptions{7});
  script(a);
  SimWorld b(SimWorldOptions{7});
  script(b);
  const auto ja = journal_text(a);
  const auto jb = journal_text(b);
  REQUIRE(ja.size() > 10);
  REQUIRE(ja.size() == jb.size());
  for (std::size_t i = 0; i < ja.size(); ++i) {
    INFO("entry " << i);
    CHECK(ja[i] == jb[i]);
  }
  CHECK(a.now_ms() == b.now_ms());
  CHECK(a.rng()() == b.rng()());
}

TEST_CASE("sim world: worlds are independent of each other", "[sim][world][determinism]") {
  SimWorld reference(SimWorldOptions{3});
  script(reference);

  // Two worlds alive at once, one of them busy before the other starts: ids, connection ids
  // and time of one never leak into the other.
  SimWorld busy(SimWorldOptions{3});
  REQUIRE(busy.start() == "");
  for (int i = 0; i < 5; ++i) okx_rfq(busy);
  deribit_rfq(busy);
  busy.advance(milliseconds(90000));
  SimWorld fresh(SimWorldOptions{3});
  script(fresh);

  CHECK(journal_text(fresh) == journal_text(reference));
  CHECK(fresh.now_ms() == reference.now_ms());
  CHECK(busy.now_ms() != fresh.now_ms());
}

TEST_CASE("sim world: a seed reaches the world's rng", "[sim][world][determinism]") {
  SimWorld a(SimWorldOptions{1});
  SimWorld b(SimWorldOptions{2});
  CHECK(a.seed() == 1);
  CHECK(b.seed() == 2);
  CHECK(a.rng()() != b.rng()());
}

TEST_CASE("sim world: advance moves now_ms by exactly the time asked for", "[sim][world]") {
  constexpr std::int64_t kStart = 1'780'000'000'000;
  SimWorld w(SimWorldOptions{1, kStart});
  CHECK(w.now_ms() == kStart);
  w.advance(milliseconds(1234));
  CHECK(w.now_ms() == kStart + 1234);
  CHECK(w.clock().now_ms() == kStart + 1234);
  w.poll();
  CHECK(w.now_ms() == kStart + 1234);  // poll never moves time
  w.advance(milliseconds(0));
  CHECK(w.now_ms() == kStart + 1234);

  SECTION("also after start(), with every venue's timers running") {
    REQUIRE(w.start() == "");
    const auto t = w.now_ms();
    w.advance(milliseconds(60000));
    CHECK(w.now_ms() == t + 60000);
  }
}
