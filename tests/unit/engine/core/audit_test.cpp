// The audit writer: one JSON object per line, flushed line by line (read back while the log is
// still open), appended to what the file held; and the script hash helper it records.

#include "engine/core/audit.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/auth/sha256.hpp"

namespace {

namespace json = boost::json;
using rfq::AuditEntry;
using rfq::AuditLog;
using rfq::Origin;

struct TempFile {
  explicit TempFile(const char* tag)
      : path(std::filesystem::temp_directory_path() / ("rfqd-audit-test-" + std::string(tag) + "-" +
                                                       std::to_string(::getpid()) + ".jsonl")) {
    std::filesystem::remove(path);
  }
  ~TempFile() { std::filesystem::remove(path); }
  std::filesystem::path path;
};

// The file's whole content, read through a separate stream (the writer stays open).
std::string content_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<json::object> lines_of(const std::filesystem::path& path) {
  std::vector<json::object> out;
  std::istringstream in(content_of(path));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).as_object());
  return out;
}

AuditEntry batch_entry() {
  AuditEntry e;
  e.ts_ms = 1767225600123;  // 2026-01-01T00:00:00.123Z
  e.origin = std::make_shared<const Origin>(Origin{"expiry_sweep", "sha256:abcd"});
  e.venue = "okx";
  e.request = "cancel_batch";
  e.correlation = 7;
  e.ids = {"22535", "22536", "22537"};
  e.outcome = "partial";
  e.code = "UNKNOWN_RFQ";
  e.venue_code = "70000";
  e.message = "RFQ does not exist.";
  e.latency_us = 412;
  e.canceled = 2;
  e.failed = {{"UNKNOWN_RFQ", 1}};
  return e;
}

}  // namespace

TEST_CASE("audit log: each entry is one JSON line with every field, flushed as written",
          "[audit]") {
  TempFile f("shape");
  AuditLog log;
  std::string error;
  REQUIRE(log.open(f.path.string(), error));

  REQUIRE(log.write(batch_entry()));
  // Not closed, not destroyed: the line is already in the file, newline included.
  const std::string after_one = content_of(f.path);
  REQUIRE(!after_one.empty());
  CHECK(after_one.back() == '\n');
  CHECK(std::count(after_one.begin(), after_one.end(), '\n') == 1);

  auto lines = lines_of(f.path);
  REQUIRE(lines.size() == 1);
  const json::object& o = lines[0];
  CHECK(o.at("ts").as_string() == "2026-01-01T00:00:00.123Z");
  CHECK(o.at("ts_ms").as_int64() == 1767225600123);
  CHECK(o.at("policy").as_string() == "expiry_sweep");
  CHECK(o.at("script_hash").as_string() == "sha256:abcd");
  CHECK(o.at("venue").as_string() == "okx");
  CHECK(o.at("request").as_string() == "cancel_batch");
  CHECK(o.at("corr").to_number<std::int64_t>() == 7);
  REQUIRE(o.at("ids").as_array().size() == 3);
  CHECK(o.at("ids").as_array()[2].as_string() == "22537");
  CHECK_FALSE(o.contains("client_ids"));  // none given
  CHECK_FALSE(o.contains("spread_id"));
  CHECK(o.at("sent").as_bool());
  CHECK_FALSE(o.at("dry_run").as_bool());
  CHECK(o.at("outcome").as_string() == "partial");
  CHECK(o.at("code").as_string() == "UNKNOWN_RFQ");
  CHECK(o.at("venue_code").as_string() == "70000");
  CHECK(o.at("err").as_string() == "RFQ does not exist.");
  CHECK(o.at("latency_us").as_int64() == 412);
  CHECK(o.at("canceled").as_int64() == 2);
  CHECK(o.at("failed").as_object().at("UNKNOWN_RFQ").as_int64() == 1);
  // Time, who, what, outcome: the order a reader scans in.
  const auto& first = *o.begin();
  CHECK(first.key() == "ts");

  AuditEntry ok;
  ok.ts_ms = 1767225601000;
  ok.venue = "okx";
  ok.request = "cancel";
  ok.client_ids = {"desk7b"};
  ok.outcome = "ok";
  ok.sent = false;
  ok.dry_run = true;
  REQUIRE(log.write(ok));
  lines = lines_of(f.path);
  REQUIRE(lines.size() == 2);
  const json::object& o2 = lines[1];
  CHECK(o2.at("policy").is_null());  // a request made without an origin
  CHECK(o2.at("script_hash").is_null());
  CHECK(o2.at("ids").as_array().empty());
  CHECK(o2.at("client_ids").as_array()[0].as_string() == "desk7b");
  CHECK(o2.at("code").is_null());
  CHECK(o2.at("venue_code").is_null());
  CHECK(o2.at("latency_us").is_null());
  CHECK_FALSE(o2.contains("err"));
  CHECK_FALSE(o2.contains("canceled"));
  CHECK_FALSE(o2.at("sent").as_bool());
  CHECK(o2.at("dry_run").as_bool());
}

TEST_CASE("audit log: appends to an existing file and escapes what it writes", "[audit]") {
  TempFile f("append");
  { std::ofstream(f.path) << "{\"earlier\":true}\n"; }
  AuditLog log;
  std::string error;
  REQUIRE(log.open(f.path.string(), error));
  AuditEntry e = batch_entry();
  e.origin = std::make_shared<const Origin>(Origin{"desk \"7\"\n", ""});
  REQUIRE(log.write(e));
  auto lines = lines_of(f.path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].at("earlier").as_bool());
  CHECK(lines[1].at("policy").as_string() == "desk \"7\"\n");
  CHECK(lines[1].at("script_hash").as_string() == "");
}

TEST_CASE("audit log: a path that cannot be opened is refused with the reason", "[audit]") {
  AuditLog log;
  std::string error;
  const std::string path = "/nonexistent-rfqd-dir/audit.jsonl";
  CHECK_FALSE(log.open(path, error));
  CHECK_FALSE(log.is_open());
  CHECK(error.find(path) != std::string::npos);
  CHECK(error.find("No such file or directory") != std::string::npos);
  // Writing to it fails instead of pretending.
  CHECK_FALSE(log.write(batch_entry()));
}

TEST_CASE("iso8601_ms: UTC with milliseconds", "[audit]") {
  CHECK(rfq::iso8601_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(rfq::iso8601_ms(1767225600123) == "2026-01-01T00:00:00.123Z");
  CHECK(rfq::iso8601_ms(951782400999) == "2000-02-29T00:00:00.999Z");
}

TEST_CASE("sha256_hex: the FIPS 180-2 test vectors", "[audit][auth]") {
  CHECK(rfq::auth::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(rfq::auth::sha256_hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(rfq::auth::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
