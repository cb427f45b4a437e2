#pragma once
// The fills already reported, so that each is reported once: the same fill can reach the book
// from a feed push, a cancel's answer, a snapshot or listing, and again after the book has
// forgotten the RFQ (evict_finished) when a late or repeated push brings it back.

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace rfq {

class FillLedger {
 public:
  // Fills are remembered for keep_ms of the book's clock (a day by default), which bounds the
  // ledger of a long-running process; a venue repeating a fill later than that is not expected.
  explicit FillLedger(std::int64_t keep_ms = 24LL * 3600 * 1000) : keep_ms_(keep_ms) {}

  // True the first time the fill of (venue, id) is seen, false for every repeat.
  bool first(std::string_view venue, std::string_view id, std::int64_t now_ms);
  std::size_t size() const { return seen_.size(); }

 private:
  std::int64_t keep_ms_;
  std::unordered_set<std::string> seen_;                   // venue '\n' id
  std::deque<std::pair<std::int64_t, std::string>> order_;  // when each was recorded
};

}  // namespace rfq
