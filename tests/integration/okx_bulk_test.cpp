// cancel_batch, cancel_all and the pacing lanes, through Lua and the engine against the OKX
// simulator over loopback HTTP. Assertions read the simulator's state and journal.
#include <algorithm>

#include "tests/integration/loopback_world.hpp"

using namespace rfq;
using rfq::testing::LoopbackWorld;
using rfq::testing::new_rfq;

namespace {

std::vector<std::string> add_rfqs(LoopbackWorld& w, int n, const std::string& cl_prefix = "") {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    ids.push_back(w.okx.add_rfq(new_rfq(600000, cl_prefix.empty() ? "" : cl_prefix + std::to_string(i))));
  }
  return ids;
}

std::string lua_list(const std::vector<std::string>& ids) {
  std::string s = "{";
  for (const auto& id : ids) s += "'" + id + "',";
  return s + "}";
}

// Largest number of journal entries of `endpoint` inside any window of `window_ms`.
std::size_t max_in_window(const std::vector<boost::json::object>& entries, std::int64_t window_ms) {
  std::size_t best = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::size_t n = 0;
    for (std::size_t j = i; j < entries.size(); ++j) {
      if (entries[j].at("ts_ms").as_int64() - entries[i].at("ts_ms").as_int64() < window_ms) ++n;
    }
    best = std::max(best, n);
  }
  return best;
}

}  // namespace

TEST_CASE("okx cancel_batch: 250 ids become 3 paced requests of at most 100 ids",
          "[integration][okx][batch]") {
  LoopbackWorld w;
  auto ids = add_rfqs(w, 250);
  w.start();
  w.run_policy("local r = assert(rfq.cancel_batch{ venue = 'okx', ids = " + lua_list(ids) +
               ", timeout_ms = 8000 })\n"
               "summary = ('%d %d %d'):format(r.canceled, r.failed, r.requests)\n");
  CHECK(w.global_string("summary") == "250 0 3");
  auto batches = w.journal.find("okx", "cancel-batch-rfqs");
  REQUIRE(batches.size() == 3);
  for (const auto& b : batches) {
    auto body = boost::json::parse(b.at("body").as_string());
    CHECK(body.at("rfqIds").as_array().size() <= 100);
    CHECK(b.at("status").as_int64() == 200);
  }
  CHECK(max_in_window(batches, 2000) <= 2);
  CHECK(w.okx.count_in_state("canceled") == 250);
}

TEST_CASE("okx cancel_batch: a partial answer maps every item, duplicates reported each time",
          "[integration][okx][batch]") {
  LoopbackWorld w;
  auto ids = add_rfqs(w, 3);
  w.start();
  REQUIRE(w.okx.fill(ids[1]));
  w.run_policy("local r = assert(rfq.cancel_batch{ venue = 'okx', ids = { '" + ids[0] +
               "', '999999', '" + ids[1] + "', '" + ids[0] + "', '" + ids[2] + "' } })\n"
               "local out = {}\n"
               "for i, item in ipairs(r) do\n"
               "  out[i] = item.id .. '=' .. (item.ok and 'ok' or item.code) .. ':' .. item.venue_code\n"
               "end\n"
               "summary = table.concat(out, ' ') .. (' | %d %d'):format(r.canceled, r.failed)\n");
  CHECK(w.global_string("summary") ==
        ids[0] + "=ok:0 999999=UNKNOWN_RFQ:70000 " + ids[1] + "=NOT_CANCELABLE:70200 " + ids[0] +
            "=ok:0 " + ids[2] + "=ok:0 | 3 2");
  auto batches = w.journal.find("okx", "cancel-batch-rfqs");
  REQUIRE(batches.size() == 1);
  CHECK(batches[0].at("code").as_string() == "2");  // partially succeeded
  auto sent = boost::json::parse(batches[0].at("body").as_string()).at("rfqIds").as_array();
  CHECK(sent.size() == 4);  // the duplicate went once
}

TEST_CASE("okx cancel_batch: chunks that cannot go out before the deadline are never sent",
          "[integration][okx][batch][limits]") {
  LoopbackWorld w;
  auto ids = add_rfqs(w, 300);
  w.start();
  w.run_policy("local r = assert(rfq.cancel_batch{ venue = 'okx', ids = " + lua_list(ids) +
               ", timeout_ms = 500 })\n"
               "local limited = 0\n"
               "for _, item in ipairs(r) do if item.code == 'RATE_LIMITED' then limited = limited + 1 end end\n"
               "summary = ('%d %d %d'):format(r.canceled, limited, r.requests)\n");
  CHECK(w.global_string("summary") == "200 100 2");
  CHECK(w.journal.find("okx", "cancel-batch-rfqs").size() == 2);
  CHECK(w.okx.count_in_state("active") == 100);
}

TEST_CASE("okx cancel_all is admitted at once while a long sweep saturates the batch lane",
          "[integration][okx][cancel_all]") {
  LoopbackWorld w;
  auto ids = add_rfqs(w, 500);
  w.start();
  w.run_policy("local sweep = rfq.spawn(function()\n"
               "  return rfq.cancel_batch{ venue = 'okx', ids = " + lua_list(ids) +
               ", timeout_ms = 10000 }\n"
               "end)\n"
               "rfq.sleep(50)\n"
               "local t0 = rfq.now()\n"
               "local s = assert(rfq.cancel_all{ venue = 'okx' })\n"
               "took = rfq.now() - t0\n"
               "all_ok = tostring(s.venues.okx.ok)\n"
               "local ok, r = sweep:wait()\n"
               "sweep_done = ('%d %d'):format(r.canceled, r.failed)\n"
               "local again = rfq.cancel_all{ venue = 'okx' }\n"
               "nothing = again.venues.okx.code .. ' ' .. tostring(again.venues.okx.ok) .. ' ' .. again.venues.okx.canceled\n");
  CHECK(w.global_string("all_ok") == "true");
  lua_getglobal(w.policy->vm().state(), "took");
  CHECK(lua_tointeger(w.policy->vm().state(), -1) < 1000);  // not behind the 2 s batch windows
  lua_pop(w.policy->vm().state(), 1);
  CHECK(w.okx.count_in_state("active") == 0);
  auto all = w.journal.find("okx", "cancel-all-rfqs");
  auto batches = w.journal.find("okx", "cancel-batch-rfqs");
  REQUIRE(all.size() == 2);
  REQUIRE(batches.size() >= 3);
  CHECK(all[0].at("seq").as_int64() < batches.back().at("seq").as_int64());
  CHECK(w.global_string("nothing") == "NOTHING_TO_CANCEL true 0");
}

TEST_CASE("okx scoped cancel_all cancels only the matching open RFQs, by batch",
          "[integration][okx][cancel_all]") {
  LoopbackWorld w;
  auto desk7 = add_rfqs(w, 3, "desk7x");
  auto other = add_rfqs(w, 2, "desk8x");
  w.start();
  w.run_policy(R"lua(
    local s = assert(rfq.cancel_all{ venue = "okx", where = { client_id_prefix = "desk7" } })
    by_prefix = s.venues.okx.canceled
    local f = assert(rfq.cancel_all{ venue = "okx", where = function(r)
      return r.client_id == "desk8x0" end })
    by_function = f.venues.okx.canceled
    local none = rfq.cancel_all{ venue = "okx", where = { client_id_prefix = "nobody" } }
    none_code = none.venues.okx.code
    local b = rfq.budget("okx")
    budget = ("%d %d %d"):format(b["cancel-batch-rfqs"].limit, b["cancel-batch-rfqs"].window_ms,
      b["cancel-rfq"].limit)
  )lua");
  lua_State* L = w.policy->vm().state();
  lua_getglobal(L, "by_prefix");
  CHECK(lua_tointeger(L, -1) == 3);
  lua_getglobal(L, "by_function");
  CHECK(lua_tointeger(L, -1) == 1);
  lua_pop(L, 2);
  CHECK(w.global_string("none_code") == "NOTHING_TO_CANCEL");
  CHECK(w.global_string("budget") == "2 2050 5");
  for (const auto& id : desk7) CHECK(w.state_of(id) == "canceled");
  CHECK(w.state_of(other[0]) == "canceled");
  CHECK(w.state_of(other[1]) == "active");
  CHECK(w.journal.find("okx", "cancel-all-rfqs").empty());  // never the account-wide one
  CHECK(w.journal.find("okx", "cancel-batch-rfqs").size() == 2);
}
