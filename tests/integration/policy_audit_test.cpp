// The audit log and dry run, through Lua policies and the engine against the simulators over
// loopback. What the venue got is read from the simulator's journal; what rfqd recorded from
// the audit file, read back while the engine still holds it open.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/auth/sha256.hpp"
#include "engine/core/log.hpp"
#include "tests/integration/deribit_world.hpp"
#include "tests/integration/loopback_world.hpp"

using namespace rfq;
using rfq::testing::DeribitWorld;
using rfq::testing::LoopbackWorld;
using rfq::testing::new_rfq;

namespace {

namespace json = boost::json;

// An audit log on a fresh temporary file, handed to the engine.
struct AuditFile {
  std::filesystem::path path;

  AuditFile(Engine& engine, const char* tag)
      : path(std::filesystem::temp_directory_path() /
             ("rfqd-it-audit-" + std::string(tag) + "-" + std::to_string(::getpid()) + ".jsonl")) {
    std::filesystem::remove(path);
    auto log = std::make_unique<AuditLog>();
    std::string error;
    REQUIRE(log->open(path.string(), error));
    engine.set_audit(std::move(log));
  }
  ~AuditFile() { std::filesystem::remove(path); }

  std::vector<json::object> lines() const {
    std::ifstream in(path);
    std::vector<json::object> out;
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).as_object());
    return out;
  }
};

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

std::string lua_list(const std::vector<std::string>& ids) {
  std::string s = "{";
  for (const auto& id : ids) s += "'" + id + "',";
  return s + "}";
}

std::size_t cancel_entries(const sim::Journal& journal) {
  return journal.find("okx", "cancel-rfq").size() +
         journal.find("okx", "cancel-batch-rfqs").size() +
         journal.find("okx", "cancel-all-rfqs").size();
}

// Checks the fields every line of a policy's request carries.
void check_attribution(const json::object& line, const std::string& source) {
  CHECK(line.at("policy").as_string() == "it");
  CHECK(line.at("script_hash").as_string() == "sha256:" + auth::sha256_hex(source));
  CHECK(line.at("venue").is_string());
  CHECK(line.at("ts").as_string().size() == 24);
  CHECK(line.at("ts_ms").as_int64() > 0);
  CHECK(line.at("corr").to_number<std::int64_t>() > 0);
}

}  // namespace

TEST_CASE("audit: every single cancel a policy sends is one line with who, what and the answer",
          "[integration][audit]") {
  LoopbackWorld w;
  AuditFile audit(w.engine, "single");
  const std::string a = w.okx.add_rfq(new_rfq(60000));
  const std::string b = w.okx.add_rfq(new_rfq(60000, "desk7b"));
  w.start();
  const std::string source = "assert(rfq.cancel{ venue = 'okx', id = '" + a +
                             "' })\n"
                             "assert(rfq.cancel{ venue = 'okx', client_id = 'desk7b' })\n"
                             "local none, err, code = rfq.cancel{ venue = 'okx', id = '999999' }\n"
                             "outcome = code\n";
  w.run_policy(source);
  CHECK(w.global_string("outcome") == "UNKNOWN_RFQ");
  REQUIRE(w.cancels().size() == 3);  // what the venue got...

  auto lines = audit.lines();  // ...is what the audit shows, in order
  REQUIRE(lines.size() == 3);
  for (const auto& l : lines) {
    check_attribution(l, source);
    CHECK(l.at("venue").as_string() == "okx");
    CHECK(l.at("request").as_string() == "cancel");
    CHECK(l.at("sent").as_bool());
    CHECK_FALSE(l.at("dry_run").as_bool());
    CHECK(l.at("latency_us").as_int64() > 0);
  }
  CHECK(strings(lines[0].at("ids")) == std::vector<std::string>{a});
  CHECK_FALSE(lines[0].contains("client_ids"));
  CHECK(lines[0].at("outcome").as_string() == "ok");
  CHECK(lines[0].at("code").is_null());
  CHECK(lines[0].at("venue_code").as_string() == "0");

  CHECK(lines[1].at("ids").as_array().empty());
  CHECK(strings(lines[1].at("client_ids")) == std::vector<std::string>{"desk7b"});
  CHECK(lines[1].at("outcome").as_string() == "ok");

  CHECK(strings(lines[2].at("ids")) == std::vector<std::string>{"999999"});
  CHECK(lines[2].at("outcome").as_string() == "failed");
  CHECK(lines[2].at("code").as_string() == "UNKNOWN_RFQ");
  CHECK(lines[2].at("venue_code").as_string() == "70000");
  CHECK(lines[2].at("err").as_string() == "RFQ does not exist.");
  // Distinct requests, distinct correlation ids.
  CHECK(lines[0].at("corr") != lines[1].at("corr"));
  // Secrets never appear.
  std::ifstream in(audit.path);
  std::stringstream all;
  all << in.rdbuf();
  CHECK(all.str().find(std::string(sim::kSimSecret)) == std::string::npos);
  CHECK(all.str().find(std::string(sim::kSimPassphrase)) == std::string::npos);
  (void)b;
}

TEST_CASE("audit: a batch of 250 ids is one line per request the venue got, results unchanged",
          "[integration][audit][batch]") {
  LoopbackWorld w;
  AuditFile audit(w.engine, "batch");
  std::vector<std::string> ids;
  for (int i = 0; i < 249; ++i) ids.push_back(w.okx.add_rfq(new_rfq(600000)));
  w.start();
  // 249 RFQs, one unknown id, and a duplicate: 251 entries, 250 distinct ids, 3 requests.
  auto list = ids;
  list.push_back("999999");
  list.push_back(ids[0]);
  const std::string source =
      "local r = assert(rfq.cancel_batch{ venue = 'okx', ids = " + lua_list(list) +
      ", timeout_ms = 8000 })\n"
      "summary = ('%d %d %d %d'):format(#r, r.canceled, r.failed, r.requests)\n"
      "tail = r[250].id .. '=' .. r[250].code .. ' ' .. r[251].id .. '=' .. tostring(r[251].ok)\n";
  w.run_policy(source);
  CHECK(w.global_string("summary") == "251 250 1 3");
  CHECK(w.global_string("tail") == "999999=UNKNOWN_RFQ " + ids[0] + "=true");
  REQUIRE(w.journal.find("okx", "cancel-batch-rfqs").size() == 3);
  CHECK(w.okx.count_in_state("canceled") == 249);
  CHECK(w.engine.metrics().get("rfq.batch.requests") == 3);
  CHECK(w.engine.metrics().get("rfq.cancel.ok") == 250);

  auto lines = audit.lines();
  REQUIRE(lines.size() == 3);
  std::set<std::string> seen;
  std::vector<std::size_t> sizes;
  for (const auto& l : lines) {
    check_attribution(l, source);
    CHECK(l.at("request").as_string() == "cancel_batch");
    CHECK(l.at("sent").as_bool());
    CHECK(l.at("latency_us").as_int64() > 0);
    CHECK(l.at("corr") == lines[0].at("corr"));  // one call, one correlation id
    auto chunk = strings(l.at("ids"));
    sizes.push_back(chunk.size());
    seen.insert(chunk.begin(), chunk.end());
    const bool has_unknown = std::count(chunk.begin(), chunk.end(), "999999") == 1;
    if (has_unknown) {
      CHECK(l.at("outcome").as_string() == "partial");
      CHECK(l.at("code").as_string() == "UNKNOWN_RFQ");
      CHECK(l.at("venue_code").as_string() == "70000");
      CHECK(l.at("failed").as_object().at("UNKNOWN_RFQ").as_int64() == 1);
      CHECK(l.at("canceled").as_int64() == static_cast<std::int64_t>(chunk.size()) - 1);
    } else {
      CHECK(l.at("outcome").as_string() == "ok");
      CHECK(l.at("code").is_null());
      CHECK(l.at("venue_code").as_string() == "0");
      CHECK(l.at("canceled").as_int64() == static_cast<std::int64_t>(chunk.size()));
    }
  }
  std::sort(sizes.begin(), sizes.end());
  CHECK(sizes == std::vector<std::size_t>{50, 100, 100});
  CHECK(seen.size() == 250);  // every distinct id, each in one request
}

TEST_CASE("audit: cancel_all is one line per venue; one refused by pacing is logged unsent",
          "[integration][audit]") {
  LoopbackWorld w;
  AuditFile audit(w.engine, "all");
  for (int i = 0; i < 4; ++i) w.okx.add_rfq(new_rfq(600000));
  w.start();
  const std::string source = R"lua(
    local s = assert(rfq.cancel_all())
    first = s.venues.okx.canceled
    local s2 = rfq.cancel_all{ venue = "okx" }
    second = s2.venues.okx.code
    -- the lane allows 2 per 2 s: the third cannot go out before a 300 ms deadline
    local s3, err, code = rfq.cancel_all{ venue = "okx", timeout_ms = 300 }
    third = code
  )lua";
  w.run_policy(source);
  CHECK(w.global_string("second") == "NOTHING_TO_CANCEL");
  CHECK(w.global_string("third") == "RATE_LIMITED");
  CHECK(w.journal.find("okx", "cancel-all-rfqs").size() == 2);
  auto lines = audit.lines();
  REQUIRE(lines.size() == 3);
  for (const auto& l : lines) {
    check_attribution(l, source);
    CHECK(l.at("venue").as_string() == "okx");
    CHECK(l.at("request").as_string() == "cancel_all");
    CHECK(l.at("ids").as_array().empty());
  }
  CHECK(lines[0].at("outcome").as_string() == "ok");
  CHECK(lines[0].at("canceled").as_int64() == 4);
  CHECK(lines[0].at("venue_code").as_string() == "0");
  CHECK(lines[0].at("sent").as_bool());
  CHECK(lines[0].at("latency_us").as_int64() > 0);
  CHECK(lines[1].at("outcome").as_string() == "ok");
  CHECK(lines[1].at("code").as_string() == "NOTHING_TO_CANCEL");
  CHECK(lines[1].at("venue_code").as_string() == "70207");
  CHECK(lines[2].at("outcome").as_string() == "failed");
  CHECK(lines[2].at("code").as_string() == "RATE_LIMITED");
  CHECK_FALSE(lines[2].at("sent").as_bool());
  CHECK(lines[2].at("latency_us").is_null());
}

TEST_CASE("audit: single cancels refused by pacing are logged with sent = false",
          "[integration][audit][limits]") {
  LoopbackWorld w;
  AuditFile audit(w.engine, "paced");
  for (int i = 0; i < 7; ++i) w.okx.add_rfq(new_rfq(60000));
  w.start();
  w.run_policy(R"lua(
    local tasks = {}
    for _, r in ipairs(rfq.open{ venue = "okx" }) do
      tasks[#tasks + 1] = rfq.spawn(function()
        return rfq.cancel{ venue = "okx", id = r.id, timeout_ms = 300 }
      end)
    end
    for _, t in ipairs(tasks) do t:wait() end
  )lua");
  REQUIRE(w.cancels().size() == 5);
  auto lines = audit.lines();
  REQUIRE(lines.size() == 7);
  std::size_t sent = 0, refused = 0;
  for (const auto& l : lines) {
    if (l.at("sent").as_bool()) {
      ++sent;
      CHECK(l.at("outcome").as_string() == "ok");
    } else {
      ++refused;
      CHECK(l.at("code").as_string() == "RATE_LIMITED");
      CHECK(l.at("venue_code").is_null());
      CHECK(l.at("latency_us").is_null());
    }
  }
  CHECK(sent == 5);
  CHECK(refused == 2);
}

TEST_CASE("audit: a deribit batch is one line per cancel_block_rfq",
          "[integration][audit][deribit]") {
  DeribitWorld w;
  AuditFile audit(w.engine, "deribit");
  const auto a = w.add();
  const auto b = w.add();
  w.start();
  const std::string source = "local r = assert(rfq.cancel_batch{ venue = 'deribit', ids = { " +
                             std::to_string(a) + ", " + std::to_string(b) + ", 999999, " +
                             std::to_string(a) +
                             " } })\n"
                             "summary = ('%d %d %d'):format(r.canceled, r.failed, r.requests)\n";
  w.run_policy(source);
  CHECK(w.global_string("summary") == "3 1 3");
  auto lines = audit.lines();
  REQUIRE(lines.size() == 3);
  std::map<std::string, std::string> outcome;  // id -> outcome:venue_code
  for (const auto& l : lines) {
    check_attribution(l, source);
    CHECK(l.at("venue").as_string() == "deribit");
    auto ids = strings(l.at("ids"));
    REQUIRE(ids.size() == 1);
    outcome[ids[0]] = std::string(l.at("outcome").as_string()) + ":" +
                      std::string(l.at("venue_code").as_string());
    CHECK(l.at("latency_us").as_int64() > 0);
  }
  CHECK(outcome[std::to_string(a)] == "ok:0");
  CHECK(outcome[std::to_string(b)] == "ok:0");
  CHECK(outcome["999999"] == "failed:10004");
}

SCENARIO("dry run: policies decide on live data and nothing reaches the venue",
         "[integration][dry_run]") {
  GIVEN("a simulator with RFQs in the book, an audit log and the engine in dry run") {
    LoopbackWorld w;
    AuditFile audit(w.engine, "dry");
    w.engine.set_dry_run(true);
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i)
      ids.push_back(w.okx.add_rfq(new_rfq(600000, "cl" + std::to_string(i))));
    w.start();
    log::Capture logs("info");

    WHEN("a policy cancels one, a batch of three (twice, as a sweep would) and the rest") {
      const std::string source = R"lua(
        local open = rfq.open{ venue = "okx" }
        single_id = open[1].id
        local res = assert(rfq.cancel{ venue = "okx", id = single_id })
        single = ("%s %s %s"):format(res.state, tostring(res.dry_run), tostring(res.venue_code))
        local batch = {}
        for i = 2, 4 do batch[#batch + 1] = open[i].id end
        local r = assert(rfq.cancel_batch{ venue = "okx", ids = batch })
        local oks = 0
        for _, item in ipairs(r) do if item.ok then oks = oks + 1 end end
        batched = ("%d %d %d %s"):format(oks, r.canceled, r.requests, tostring(r.dry_run))
        -- a sweep's next tick: the book no longer lists what it decided to cancel
        left = #rfq.open{ venue = "okx" }
        local s = assert(rfq.cancel_all())
        all = ("%s %d %s"):format(tostring(s.venues.okx.ok), s.venues.okx.canceled, tostring(s.dry_run))
        after = #rfq.open{ venue = "okx" }
      )lua";
      w.run_policy(source);

      THEN("the policy sees ok results marked dry_run, and the book moves on") {
        CHECK(w.global_string("single") == "canceled true nil");
        CHECK(w.global_string("batched") == "3 3 0 true");
        lua_State* L = w.policy->vm().state();
        lua_getglobal(L, "left");
        CHECK(lua_tointeger(L, -1) == 2);
        lua_getglobal(L, "after");
        CHECK(lua_tointeger(L, -1) == 0);
        lua_pop(L, 2);
        CHECK(w.global_string("all") == "true 2 true");
        CHECK(w.engine.book().find("okx", w.global_string("single_id"))->raw_state == "dry_run");
      }
      THEN("the simulator got no cancel at all and still holds every RFQ active") {
        CHECK(cancel_entries(w.journal) == 0);
        CHECK(w.okx.count_in_state("active") == 6);
      }
      THEN("each decision is counted, logged and audited as not sent") {
        const auto& m = w.engine.metrics();
        CHECK(m.get("rfq.dry_run.cancel") == 1);
        CHECK(m.get("rfq.dry_run.batch") == 1);
        CHECK(m.get("rfq.dry_run.cancel_all") == 1);
        CHECK(m.get("rfq.cancel.sent") == 0);
        CHECK(m.get("rfq.batch.requests") == 0);
        CHECK(m.get("rfq.cancel_all.ok") == 0);
        std::size_t would = 0;
        for (const auto& r : logs.records()) {
          if (r.logger == "engine" && r.message.rfind("dry run: would cancel", 0) == 0) ++would;
        }
        CHECK(would == 3);
        auto lines = audit.lines();
        REQUIRE(lines.size() == 3);
        for (const auto& l : lines) {
          check_attribution(l, source);
          CHECK(l.at("dry_run").as_bool());
          CHECK_FALSE(l.at("sent").as_bool());
          CHECK(l.at("outcome").as_string() == "ok");
          CHECK(l.at("latency_us").is_null());
        }
        CHECK(strings(lines[0].at("ids")) ==
              std::vector<std::string>{w.global_string("single_id")});
        CHECK(lines[1].at("request").as_string() == "cancel_batch");
        CHECK(lines[1].at("ids").as_array().size() == 3);
        CHECK(lines[2].at("request").as_string() == "cancel_all");
        CHECK(lines[2].at("canceled").as_int64() == 2);
      }
    }
  }
}
