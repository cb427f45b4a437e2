// Journal: sequence numbers, lookup, and the JSON-lines file written line by line.

#include "engine/sim/journal.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using rfq::sim::Journal;
namespace json = boost::json;

json::object entry(std::string_view venue, std::string_view endpoint) {
  json::object o;
  o["venue"] = venue;
  o["endpoint"] = endpoint;
  return o;
}

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct TempFile {
  TempFile()
      : path(std::filesystem::temp_directory_path() /
             ("rfqd-journal-test-" + std::to_string(::getpid()) + ".jsonl")) {}
  ~TempFile() { std::filesystem::remove(path); }
  std::filesystem::path path;
};

}  // namespace

TEST_CASE("journal: entries get increasing seq numbers, first in each entry", "[sim][journal]") {
  Journal journal;
  journal.append(entry("okx", "cancel-rfq"));
  auto with_seq = entry("okx", "rfqs");
  with_seq["seq"] = 99;  // replaced, not kept
  journal.append(with_seq);
  REQUIRE(journal.entries().size() == 2);
  CHECK(journal.entries()[0].at("seq").as_int64() == 1);
  CHECK(journal.entries()[1].at("seq").as_int64() == 2);
  CHECK(journal.entries()[1].begin()->key() == "seq");
  CHECK(journal.entries()[1].size() == 3);
}

TEST_CASE("journal: find matches venue and endpoint; an empty endpoint matches all",
          "[sim][journal]") {
  Journal journal;
  journal.append(entry("okx", "cancel-rfq"));
  journal.append(entry("okx", "rfqs"));
  journal.append(entry("deribit", "cancel_block_rfq"));
  journal.append(entry("okx", "cancel-rfq"));
  const auto cancels = journal.find("okx", "cancel-rfq");
  REQUIRE(cancels.size() == 2);
  CHECK(cancels[1].at("seq").as_int64() == 4);
  CHECK(journal.find("okx", "").size() == 3);
  CHECK(journal.find("okx", "cancel-batch-rfqs").empty());
}

TEST_CASE("journal: the file gets one JSON line per entry, written as it happens",
          "[sim][journal]") {
  TempFile file;
  Journal journal;
  REQUIRE(journal.open_file(file.path.string()));
  journal.append(entry("okx", "cancel-rfq"));
  // Read while the journal is still open: each line is flushed when appended.
  auto lines = lines_of(file.path);
  REQUIRE(lines.size() == 1);
  CHECK(json::parse(lines[0]).as_object() == journal.entries()[0]);

  journal.append(entry("okx", "rfqs"));
  lines = lines_of(file.path);
  REQUIRE(lines.size() == 2);
  CHECK(json::parse(lines[1]).as_object().at("endpoint").as_string() == "rfqs");
}

TEST_CASE("journal: open_file reports a path that cannot be written", "[sim][journal]") {
  Journal journal;
  CHECK_FALSE(journal.open_file("/nonexistent-dir/rfqd/journal.jsonl"));
  journal.append(entry("okx", "time"));  // memory still works
  CHECK(journal.entries().size() == 1);
}
