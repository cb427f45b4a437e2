// The engine's audit and dry run against the in-process OKX simulator in virtual time: an
// audited batch keeps the venue's exact pacing schedule while each wire request becomes one
// line; a dry run sends nothing. (Through Lua over loopback: tests/integration/
// policy_audit_test.cpp.)
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/core/audit.hpp"
#include "engine/core/error.hpp"
#include "tests/unit/engine/virtual_okx_world.hpp"

using namespace rfq;

namespace {

namespace json = boost::json;

struct AuditedWorld : testing::VirtualOkxWorld {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("rfqd-engine-audit-" + std::to_string(::getpid()) + ".jsonl");

  AuditedWorld() {
    std::filesystem::remove(path);
    auto log = std::make_unique<AuditLog>();
    std::string error;
    REQUIRE(log->open(path.string(), error));
    engine.set_audit(std::move(log));
    add_okx_venue();
  }
  ~AuditedWorld() { std::filesystem::remove(path); }

  std::vector<json::object> lines() const {
    std::ifstream in(path);
    std::vector<json::object> out;
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).as_object());
    return out;
  }
};

const auto kOrigin = std::make_shared<const Origin>(Origin{"sweep", "sha256:00"});

}  // namespace

TEST_CASE("engine audit: a 10,000-id batch keeps its pacing schedule, one line per request",
          "[engine][audit][virtual]") {
  AuditedWorld w;
  w.start();
  auto ids = w.seed(10'000);
  std::optional<BatchResult> result;
  BatchRequest req;
  req.ids = ids;
  req.timeout = Millis(300'000);
  w.engine.cancel_batch("okx", std::move(req), kOrigin,
                        [&](BatchResult r) { result = std::move(r); });
  for (int i = 0; i < 400 && !result; ++i) w.clock.advance(Millis(500));
  REQUIRE(result);
  CHECK(result->canceled == 10'000);
  CHECK(result->failed == 0);
  CHECK(result->requests == 100);
  CHECK(result->items.size() == 10'000);
  CHECK(result->items[9'999].id == ids[9'999]);

  // The venue's schedule is the same as for an unaudited batch (okx_batch_schedule_test).
  auto batches = w.journal.find("okx", "cancel-batch-rfqs");
  REQUIRE(batches.size() == 100);
  for (std::size_t i = 2; i < batches.size(); ++i) {
    const auto gap = batches[i].at("ts_ms").as_int64() - batches[i - 2].at("ts_ms").as_int64();
    CHECK(gap >= 2000);
    CHECK(gap <= 2100);
  }
  auto lines = w.lines();
  REQUIRE(lines.size() == 100);
  std::set<std::string> seen;
  for (const auto& l : lines) {
    CHECK(l.at("policy").as_string() == "sweep");
    CHECK(l.at("outcome").as_string() == "ok");
    CHECK(l.at("canceled").as_int64() == 100);
    CHECK(l.at("ids").as_array().size() == 100);
    for (const auto& id : l.at("ids").as_array()) seen.emplace(id.as_string());
  }
  CHECK(seen.size() == 10'000);
  // Written as each answer came: the times never go back.
  for (std::size_t i = 1; i < lines.size(); ++i) {
    CHECK(lines[i].at("ts_ms").as_int64() >= lines[i - 1].at("ts_ms").as_int64());
  }
}

TEST_CASE("engine audit: a stopped venue refuses each request unsent, and says so",
          "[engine][audit][virtual]") {
  AuditedWorld w;
  w.start();
  auto ids = w.seed(150);
  w.engine.venue("okx")->stop();
  std::optional<BatchResult> batch;
  BatchRequest req;
  req.ids = ids;
  w.engine.cancel_batch("okx", std::move(req), kOrigin,
                        [&](BatchResult r) { batch = std::move(r); });
  std::optional<CancelResult> single;
  CancelRequest one;
  one.id = ids[0];
  w.engine.cancel("okx", std::move(one), kOrigin, [&](CancelResult r) { single = std::move(r); });
  for (int i = 0; i < 10 && !(batch && single); ++i) w.clock.advance(Millis(10));
  REQUIRE(batch);
  REQUIRE(single);
  // As the venue reports a refused batch: nothing reached it, no items.
  CHECK(code_of(batch->ec) == Errc::disconnected);
  CHECK(batch->items.empty());
  CHECK(code_of(single->ec) == Errc::disconnected);
  CHECK(w.journal.find("okx", "cancel-batch-rfqs").empty());
  auto lines = w.lines();
  REQUIRE(lines.size() == 3);  // two batch requests (100 + 50 ids) and the single cancel
  for (const auto& l : lines) {
    CHECK_FALSE(l.at("sent").as_bool());
    CHECK(l.at("outcome").as_string() == "failed");
    CHECK(l.at("code").as_string() == "DISCONNECTED");
    CHECK(l.at("latency_us").is_null());
  }
}

TEST_CASE("engine dry run: decisions are answered, counted and audited, nothing is sent",
          "[engine][dry_run][virtual]") {
  AuditedWorld w;
  w.engine.set_dry_run(true);
  auto ids = w.seed(250);
  w.start();  // the book loads them
  REQUIRE(w.engine.book().active_count() == 250);
  std::optional<BatchResult> batch;
  BatchRequest req;
  req.ids = std::vector<std::string>(ids.begin(), ids.begin() + 240);
  w.engine.cancel_batch("okx", std::move(req), kOrigin,
                        [&](BatchResult r) { batch = std::move(r); });
  std::optional<CancelAllResult> all;
  w.engine.cancel_all("okx", CancelAllRequest{}, kOrigin,
                      [&](CancelAllResult r) { all = std::move(r); });
  CHECK_FALSE(batch);  // never inside the call
  w.clock.advance(Millis(1));
  REQUIRE(batch);
  REQUIRE(all);
  CHECK(batch->canceled == 240);
  CHECK(batch->requests == 0);
  CHECK(all->canceled == 10);  // what the book still held open
  CHECK_FALSE(all->ec);
  CHECK(w.journal.find("okx", "cancel-batch-rfqs").empty());
  CHECK(w.journal.find("okx", "cancel-all-rfqs").empty());
  CHECK(w.okx.count_in_state("active") == 250);
  CHECK(w.engine.book().active_count() == 0);
  CHECK(w.engine.metrics().get("rfq.dry_run.batch") == 1);
  CHECK(w.engine.metrics().get("rfq.dry_run.cancel_all") == 1);
  CHECK(w.engine.in_flight() == 0);
  auto lines = w.lines();
  REQUIRE(lines.size() == 4);  // 100 + 100 + 40 ids, then the cancel-all
  for (const auto& l : lines) {
    CHECK(l.at("dry_run").as_bool());
    CHECK_FALSE(l.at("sent").as_bool());
  }
  CHECK(lines[2].at("ids").as_array().size() == 40);
  CHECK(lines[3].at("request").as_string() == "cancel_all");
}
