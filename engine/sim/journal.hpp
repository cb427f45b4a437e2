#pragma once
// What the simulator was asked and what it answered, one JSON object per request. Tests and
// `s:requests{venue, endpoint}` read it from memory; `rfqd sim --journal FILE` also streams it
// to a JSON-lines file (one line per entry, flushed per line, so a crash loses nothing).
// Single-threaded: use it from the loop that owns the simulator.

#include <boost/json/object.hpp>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rfq::sim {

class Journal {
 public:
  Journal();
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Starts (truncating) a JSON-lines copy at `path`. False when the file cannot be opened.
  [[nodiscard]] bool open_file(const std::string& path);

  // Assigns "seq" (1, 2, ...), keeps the entry and writes it to the file if one is open.
  void append(boost::json::object entry);

  const std::vector<boost::json::object>& entries() const { return entries_; }

  // Entries whose "venue" and "endpoint" match; an empty endpoint matches every endpoint.
  std::vector<boost::json::object> find(std::string_view venue, std::string_view endpoint) const;

 private:
  std::vector<boost::json::object> entries_;
  std::int64_t next_seq_ = 1;
  std::unique_ptr<std::ofstream> file_;
};

}  // namespace rfq::sim
