// log::Capture: while it lives, every logger also hands it the records at its level, whatever
// the console's level; records carry logger, level and message; none after it is gone.
// Every test puts the process-wide log configuration back to the default the other tests run
// with (log::Options{}: info, text, stderr).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine/core/log.hpp"

using rfq::log::Capture;
using rfq::log::Record;

namespace {

// Restores the default configuration when the test ends, whatever it configured.
struct RestoreLogConfig {
  ~RestoreLogConfig() { rfq::log::configure(rfq::log::Options{}); }
};

std::vector<std::string> messages(const Capture& c) {
  std::vector<std::string> out;
  for (const auto& r : c.records()) out.push_back(r.message);
  return out;
}

}  // namespace

TEST_CASE("log capture: records at its level even when the console is off", "[core][log]") {
  RestoreLogConfig restore;
  REQUIRE(rfq::log::configure({"off", false, true}));
  auto existing = rfq::log::get("capture.test.existing");  // made before the capture
  Capture capture("debug");
  auto later = rfq::log::get("capture.test.later");  // made while it lives

  existing->trace("not captured: below debug");
  existing->debug("debug {}", 1);
  later->info("info {}", 2);
  later->warn("warn {}", 3);
  existing->error("error {}", 4);

  const auto& records = capture.records();
  REQUIRE(records.size() == 4);
  CHECK(records[0].logger == "capture.test.existing");
  CHECK(records[0].level == "debug");
  CHECK(records[0].message == "debug 1");  // formatted, without a prefix or time stamp
  CHECK(records[1].logger == "capture.test.later");
  CHECK(records[1].level == "info");
  CHECK(records[1].message == "info 2");
  CHECK(records[2].level == "warning");
  CHECK(records[2].message == "warn 3");
  CHECK(records[3].logger == "capture.test.existing");
  CHECK(records[3].level == "error");
  CHECK(records[3].message == "error 4");
}

TEST_CASE("log capture: its own level filters, independently of the console's",
          "[core][log]") {
  RestoreLogConfig restore;
  auto log = rfq::log::get("capture.test.levels");

  SECTION("capture at warn, console at debug: only warn and above are captured") {
    REQUIRE(rfq::log::configure({"debug", false, true}));
    Capture capture("warn");
    log->debug("d");
    log->info("i");
    log->warn("w");
    log->critical("c");
    CHECK(messages(capture) == std::vector<std::string>{"w", "c"});
    REQUIRE(capture.records().size() == 2);
    CHECK(capture.records()[1].level == "critical");
  }
  SECTION("capture at trace, console off: everything is captured") {
    REQUIRE(rfq::log::configure({"off", false, true}));
    Capture capture("trace");
    log->trace("t");
    log->debug("d");
    CHECK(messages(capture) == std::vector<std::string>{"t", "d"});
  }
}

TEST_CASE("log capture: configure() while a capture lives keeps capturing", "[core][log]") {
  RestoreLogConfig restore;
  auto log = rfq::log::get("capture.test.reconfigure");
  Capture capture("debug");
  log->debug("before");
  REQUIRE(rfq::log::configure({"off", false, true}));  // e.g. rfqd's --log-level after start
  log->debug("after");
  CHECK(messages(capture) == std::vector<std::string>{"before", "after"});
}

TEST_CASE("log capture: nothing is recorded after it is destroyed", "[core][log]") {
  RestoreLogConfig restore;
  REQUIRE(rfq::log::configure({"off", false, true}));
  auto log = rfq::log::get("capture.test.lifetime");
  {
    Capture first("debug");
    log->debug("seen by the first");
    CHECK(messages(first) == std::vector<std::string>{"seen by the first"});
  }
  // The loggers no longer pass debug records on: the console is off and no capture wants them.
  CHECK_FALSE(log->should_log(spdlog::level::debug));
  CHECK_FALSE(log->should_log(spdlog::level::critical));
  CHECK(log->sinks().size() == 1);  // the console's only

  Capture second("debug");
  log->debug("seen by the second only");
  CHECK(messages(second) == std::vector<std::string>{"seen by the second only"});
}

TEST_CASE("log capture: after it is destroyed the console level applies again", "[core][log]") {
  RestoreLogConfig restore;
  REQUIRE(rfq::log::configure({"warn", false, true}));
  auto log = rfq::log::get("capture.test.console");
  {
    Capture capture("trace");
    CHECK(log->should_log(spdlog::level::trace));
  }
  CHECK_FALSE(log->should_log(spdlog::level::info));
  CHECK(log->should_log(spdlog::level::warn));
}

TEST_CASE("log capture: clear() empties the records and capturing goes on", "[core][log]") {
  RestoreLogConfig restore;
  REQUIRE(rfq::log::configure({"off", false, true}));
  auto log = rfq::log::get("capture.test.clear");
  Capture capture("info");
  log->info("one");
  log->info("two");
  REQUIRE(capture.records().size() == 2);
  capture.clear();
  CHECK(capture.records().empty());
  log->info("three");
  CHECK(messages(capture) == std::vector<std::string>{"three"});
}
