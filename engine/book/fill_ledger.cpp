#include "engine/book/fill_ledger.hpp"

namespace rfq {

bool FillLedger::first(std::string_view venue, std::string_view id, std::int64_t now_ms) {
  while (!order_.empty() && order_.front().first < now_ms - keep_ms_) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
  std::string key;
  key.reserve(venue.size() + 1 + id.size());
  key.append(venue).append(1, '\n').append(id);
  if (!seen_.insert(key).second) return false;
  order_.emplace_back(now_ms, std::move(key));
  return true;
}

}  // namespace rfq
