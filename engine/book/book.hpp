#pragma once
// The book of RFQs the engine knows about, per venue, with an expiry index over the active
// ones so "what expires within N ms" costs O(matches), not O(book).

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/book/rfq.hpp"

namespace rfq {

struct OpenQuery {
  std::string venue;                         // empty: every venue
  std::optional<std::int64_t> expiring_within_ms;  // expires_ms <= now + this
  std::optional<std::int64_t> older_than_ms;       // created_ms <= now - this
};

class Book {
 public:
  // Inserts or replaces by (venue, id); returns the previous state ("" when new).
  std::string upsert(Rfq rfq);
  // Replaces one venue's active set with a snapshot: active RFQs missing from it are dropped
  // (they ended while we were not looking).
  void replace_active(std::string_view venue, std::vector<Rfq> snapshot);
  // Sets the state of a known RFQ (by id, or by client id when id is empty). Returns false
  // when the book does not know it.
  bool set_state(std::string_view venue, std::string_view id, std::string_view client_id,
                 std::string_view state, std::string_view raw_state);
  const Rfq* find(std::string_view venue, std::string_view id) const;
  const Rfq* find_by_client_id(std::string_view venue, std::string_view client_id) const;

  // Active RFQs not yet past expiry at now_ms that match q, soonest expiry first.
  std::vector<const Rfq*> open(const OpenQuery& q, std::int64_t now_ms) const;
  std::size_t size() const { return rfqs_.size(); }
  std::size_t active_count() const { return by_expiry_.size(); }

 private:
  using Key = std::string;  // venue + '\x1f' + id
  static Key key(std::string_view venue, std::string_view id);
  void index(const Key& k, const Rfq& r);
  void unindex(const Key& k, const Rfq& r);

  std::unordered_map<Key, Rfq> rfqs_;
  std::unordered_map<Key, Key> by_client_id_;           // venue+client_id -> key
  std::set<std::pair<std::int64_t, Key>> by_expiry_;    // active only
};

}  // namespace rfq
