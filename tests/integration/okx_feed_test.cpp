// Venue okx with its rfqs feed: the simulator's business WebSocket over real loopback sockets.
// Asserts what scripts see (rfq.on events, confirm = true outcomes) against what the
// simulator did and journaled.
#include <catch2/catch.hpp>
#include <chrono>

#include "engine/book/book.hpp"
#include "tests/integration/loopback_world.hpp"

using namespace rfq;
using rfq::testing::LoopbackOptions;
using rfq::testing::LoopbackWorld;
using rfq::testing::new_rfq;

namespace {

LoopbackOptions with_feed(Millis ping_after = Millis(20000)) {
  LoopbackOptions o;
  o.feed = true;
  o.feed_ping_after = ping_after;
  return o;
}

// A global Lua list of "id:previous>state" strings, appended by an rfq.on("rfq") handler.
constexpr const char* kRecordEvents = R"lua(
  events = {}
  rfq.on("rfq", function(r, previous)
    events[#events + 1] = r.id .. ":" .. tostring(previous) .. ">" .. r.state
  end)
)lua";

std::vector<std::string> events(LoopbackWorld& w) {
  lua_State* L = w.policy->vm().state();
  std::vector<std::string> out;
  lua_getglobal(L, "events");
  const auto n = luaL_len(L, -1);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, -1, i);
    out.emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return out;
}

// Runs what is ready now (posted events and the tasks they start), without waiting for I/O.
void drain(LoopbackWorld& w) {
  for (int i = 0; i < 10; ++i) w.io.poll();
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Starts a task running `source` (it may yield) and drives the loop until it ends.
std::shared_ptr<lua::LuaTask> run_task(LoopbackWorld& w, const std::string& source) {
  lua_State* L = w.policy->vm().state();
  std::string error;
  REQUIRE(lua::LuaVm::load_string(L, source, "@task.lua", error));
  auto task = w.policy->vm().spawn(0, "test task");
  REQUIRE(w.run_until([&] { return task->state() == lua::TaskState::Finished; }));
  INFO(task->error());
  REQUIRE(task->ok());
  return task;
}

}  // namespace

TEST_CASE("okx feed: rfq.on sees RFQs created, filled and expired on the venue, once each",
          "[integration][okx][feed]") {
  LoopbackWorld w(with_feed());
  const std::string before = w.okx.add_rfq(new_rfq(60000));
  w.start();
  // Start waited for the subscription: logged in and subscribed once, snapshot loaded.
  CHECK(w.journal.find("okx_ws", "login").size() == 1);
  CHECK(w.journal.find("okx_ws", "subscribe").size() == 1);
  REQUIRE(w.engine.book().find("okx", before) != nullptr);
  CHECK(w.engine.book().find("okx", before)->confirmed);
  w.run_policy(kRecordEvents);

  const std::string created = w.okx.add_rfq(new_rfq(60000, "feed01"));
  REQUIRE(w.run_until([&] { return has(events(w), created + ":nil>active"); }));
  const Rfq* r = w.engine.book().find("okx", created);
  REQUIRE(r != nullptr);
  CHECK(r->client_id == "feed01");
  CHECK(r->confirmed);

  REQUIRE(w.okx.fill(created));
  REQUIRE(w.run_until([&] { return has(events(w), created + ":active>filled"); }));

  const std::string short_lived = w.okx.add_rfq(new_rfq(300));
  REQUIRE(w.run_until([&] { return has(events(w), short_lived + ":active>expired"); }));
  CHECK(w.engine.book().find("okx", short_lived)->confirmed);  // the venue said so, not our clock

  // The handler's own cancel: one "canceled" event, although the book heard it twice (the
  // accepted answer and the push).
  run_task(w, "assert(rfq.cancel{ venue = 'okx', id = '" + before + "' })");
  REQUIRE(w.run_until([&] { return w.engine.book().find("okx", before)->confirmed; }));
  REQUIRE(w.run_until([&] { return has(events(w), before + ":active>canceled"); }));
  drain(w);
  const auto seen = events(w);
  INFO(::Catch::Detail::stringify(seen));
  CHECK(std::count(seen.begin(), seen.end(), before + ":active>canceled") == 1);
  CHECK(std::count(seen.begin(), seen.end(), created + ":nil>active") == 1);
  CHECK(w.state_of(before) == "canceled");
}

TEST_CASE("okx feed: a subscription cancelled stops its events", "[integration][okx][feed]") {
  LoopbackWorld w(with_feed());
  w.start();
  w.run_policy(R"lua(
    count = "0"
    sub = rfq.on("rfq", function() count = tostring(tonumber(count) + 1) end)
  )lua");
  w.okx.add_rfq(new_rfq(60000));
  REQUIRE(w.run_until([&] { return w.global_string("count") == "1"; }));
  run_task(w, "sub:cancel()");
  const std::string later = w.okx.add_rfq(new_rfq(60000));
  REQUIRE(w.run_until([&] { return w.engine.book().find("okx", later) != nullptr; }));
  drain(w);
  CHECK(w.global_string("count") == "1");
  CHECK(w.policy->handler_count() == 0);
}

TEST_CASE("okx feed: confirm = true returns only after the rfqs channel shows the cancel",
          "[integration][okx][feed][confirm]") {
  LoopbackWorld w(with_feed());
  const std::string a = w.okx.add_rfq(new_rfq(60000));
  const std::string b = w.okx.add_rfq(new_rfq(60000));
  w.start();
  w.run_policy("");

  SECTION("the push is held 400 ms: the call waits for it") {
    w.okx.inject({"ws-push", sim::FaultKind::delay, 400, 1});
    run_task(w, R"lua(
      local t0 = rfq.now()
      local res, err, code = rfq.cancel{ venue = "okx", id = ")lua" + a + R"lua(", confirm = true,
                                          timeout_ms = 3000 }
      outcome = res and (res.state .. ":" .. res.venue_code) or code
      waited = rfq.now() - t0
    )lua");
    CHECK(w.global_string("outcome") == "canceled:0");
    lua_State* L = w.policy->vm().state();
    lua_getglobal(L, "waited");
    CHECK(lua_tointeger(L, -1) >= 400);  // a lower bound: it cannot return before the push
    lua_pop(L, 1);
  }
  SECTION("the push never comes: TIMEOUT at the deadline, though the venue canceled it") {
    w.okx.inject({"ws-push", sim::FaultKind::drop, 0, 1});
    run_task(w, R"lua(
      local res, err, code, venue_code = rfq.cancel{ venue = "okx", id = ")lua" + a + R"lua(",
                                                     confirm = true, timeout_ms = 500 }
      outcome = tostring(res) .. "|" .. code .. "|" .. venue_code .. "|" .. err
    )lua");
    CHECK(w.global_string("outcome") ==
          "nil|TIMEOUT|0|cancel accepted (sCode 0), but the rfqs channel did not show it "
          "canceled before the deadline");
    CHECK(w.state_of(a) == "canceled");
  }
  SECTION("without confirm the same dropped push does not matter") {
    w.okx.inject({"ws-push", sim::FaultKind::drop, 0, 1});
    run_task(w, "outcome = assert(rfq.cancel{ venue = 'okx', id = '" + a + "' }).state");
    CHECK(w.global_string("outcome") == "canceled");
  }
  SECTION("a batch: each accepted item waits for its own push") {
    w.okx.inject({"ws-push", sim::FaultKind::drop, 0, 1});  // the first item's push
    run_task(w, R"lua(
      local res = assert(rfq.cancel_batch{ venue = "okx", ids = { ")lua" + a + R"lua(", ")lua" + b +
                                           R"lua(", "999999" }, confirm = true, timeout_ms = 800 })
      outcome = table.concat({ tostring(res[1].ok), res[1].code, tostring(res[2].ok),
                               res[3].code, res.canceled, res.failed }, ",")
    )lua");
    CHECK(w.global_string("outcome") == "false,TIMEOUT,true,UNKNOWN_RFQ,1,2");
    CHECK(w.state_of(a) == "canceled");
    CHECK(w.state_of(b) == "canceled");
  }
  SECTION("account-wide cancel_all counts what the feed shows canceled") {
    run_task(w, R"lua(
      local s = assert(rfq.cancel_all{ venue = "okx", confirm = true, timeout_ms = 3000 })
      outcome = tostring(s.venues.okx.ok) .. "," .. s.venues.okx.canceled .. "," ..
                tostring(s.venues.okx.confirmed)
    )lua");
    CHECK(w.global_string("outcome") == "true,2,true");
    CHECK(w.okx.count_in_state("active") == 0);
  }
}

TEST_CASE("okx feed: a dropped WebSocket answers a waiting confirm DISCONNECTED, then the feed "
          "logs in again, resubscribes and refreshes the book",
          "[integration][okx][feed][confirm]") {
  // Pings after 200 ms of silence; the simulator closes the connection on the next message.
  LoopbackWorld w(with_feed(Millis(200)));
  const std::string a = w.okx.add_rfq(new_rfq(60000));
  w.start();
  w.run_policy(kRecordEvents);
  const auto snapshots_before = w.journal.find("okx", "rfqs").size();
  w.okx.inject({"ws-push", sim::FaultKind::delay, 5000, 1});  // the cancel's push is held
  w.okx.inject({"ws", sim::FaultKind::ws_close, 0, 1});       // the ping closes the socket

  run_task(w, R"lua(
    local res, err, code = rfq.cancel{ venue = "okx", id = ")lua" + a + R"lua(", confirm = true,
                                        timeout_ms = 4000 }
    outcome = tostring(res) .. "|" .. code
  )lua");
  CHECK(w.global_string("outcome") == "nil|DISCONNECTED");

  // Created while the feed is away: no push reaches us; the snapshot after resubscribing does.
  const std::string missed = w.okx.add_rfq(new_rfq(60000));
  REQUIRE(w.run_until([&] { return has(events(w), missed + ":nil>active"); }));
  CHECK(w.journal.find("okx_ws", "login").size() == 2);
  CHECK(w.journal.find("okx_ws", "subscribe").size() == 2);
  CHECK(w.journal.find("okx", "rfqs").size() > snapshots_before);
  CHECK(w.engine.venue("okx")->status() == VenueStatus::up);
}

TEST_CASE("okx: confirm = true without a feed is misuse", "[integration][okx][confirm]") {
  LoopbackWorld w;
  w.start();
  w.run_policy(R"lua(
    local ok, err = pcall(rfq.cancel, { venue = "okx", id = "1", confirm = true })
    single = err
    ok, err = pcall(rfq.cancel_all, { venue = "okx", confirm = true })
    all = err
    ok, err = pcall(rfq.cancel, { venue = "okx", id = "1", confirm = "yes" })
    typed = err
  )lua");
  CHECK_THAT(w.global_string("single"),
             Catch::Contains("rfq.cancel: bad argument 'confirm' (venue okx has no state feed "
                             "that reports cancels: set venues.okx.business_ws)"));
  CHECK_THAT(w.global_string("all"), Catch::Contains("rfq.cancel_all: bad argument 'confirm'"));
  CHECK_THAT(w.global_string("typed"), Catch::Contains("rfq.cancel: bad argument 'confirm'"));
  CHECK(w.cancels().empty());
}
