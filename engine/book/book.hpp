#pragma once
// The book of RFQs the engine knows about, per venue, with an expiry index over the active
// ones so "what expires within N ms" costs O(matches), not O(book). It also keeps what follows
// from the RFQs' states: the fills (each reported once, FillLedger) and the exposure per venue
// and underlying (Exposure), both updated as states change.

#include <cstdint>
#include <climits>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/book/exposure.hpp"
#include "engine/book/fill.hpp"
#include "engine/book/fill_ledger.hpp"
#include "engine/book/rfq.hpp"

namespace rfq {

class Clock;

struct OpenQuery {
  std::string venue;                         // empty: every venue
  std::optional<std::int64_t> expiring_within_ms;  // expires_ms <= now + this
  std::optional<std::int64_t> older_than_ms;       // created_ms <= now - this
};

class Book {
 public:
  // Called synchronously after every state change the book makes: an RFQ it did not know
  // (previous ""), a new state from upsert or set_state, and expiry applied by open().
  // Listeners must not change the book or its listeners; they copy what they need and defer.
  using Listener = std::function<void(const Rfq& rfq, std::string_view previous_state)>;
  std::uint64_t listen(Listener listener);
  void unlisten(std::uint64_t id);  // any listener kind; unknown ids are ignored

  // Called once per fill, after the state change that reveals it: an RFQ reaching "filled"
  // (from any other state, or new to the book in that state) whose fill was not reported yet.
  // Same rules as Listener.
  using FillListener = std::function<void(const Fill& fill)>;
  std::uint64_t listen_fills(FillListener listener);
  // Called after every change of exposure() (synchronously, possibly many times in a burst:
  // listeners coalesce). Same rules as Listener.
  using ExposureListener = std::function<void()>;
  std::uint64_t listen_exposure(ExposureListener listener);

  // The clock that stamps fills (Fill::time_ms) and ages the fill ledger; none: time 0.
  void set_clock(const Clock* clock) { clock_ = clock; }

  // Inserts or replaces by (venue, id); returns the previous state ("" when new).
  std::string upsert(Rfq rfq);
  // Replaces one venue's active set with a snapshot: active RFQs missing from it are dropped
  // (they ended while we were not looking), except those created at or after
  // `taken_at_ms` (venue time the snapshot began): a feed may have reported them since.
  void replace_active(std::string_view venue, std::vector<Rfq> snapshot,
                      std::int64_t taken_at_ms = INT64_MAX);
  // The ids of the active RFQs that replace_active(venue, snapshot, taken_at_ms) would drop,
  // leaving out those past their expiry at now_ms: what a venue looks up (did they fill?)
  // before replacing.
  std::vector<std::string> missing_from(std::string_view venue, const std::vector<Rfq>& snapshot,
                                        std::int64_t taken_at_ms, std::int64_t now_ms) const;
  // Sets the state of a known RFQ (by id, or by client id when id is empty), as the engine
  // infers it (confirmed = false; a state the feed already reported is left as it is).
  // Returns false when the book does not know it. On the cancel path: no tree operation, and
  // no allocation unless a listener is registered (exposure is kept without allocating).
  bool set_state(std::string_view venue, std::string_view id, std::string_view client_id,
                 std::string_view state, std::string_view raw_state);
  const Rfq* find(std::string_view venue, std::string_view id) const;
  const Rfq* find_by_client_id(std::string_view venue, std::string_view client_id) const;

  // Active RFQs not yet past expiry at now_ms that match q, soonest expiry first. RFQs it finds
  // past their expiry are marked "expired" (the venue expires them at that instant).
  std::vector<const Rfq*> open(const OpenQuery& q, std::int64_t now_ms);
  // Only the expiry part of open(): active RFQs past their expiry at now_ms become "expired".
  void expire_due(std::int64_t now_ms);
  // Exposure per venue and underlying as of the states the book holds (call expire_due first
  // for an up-to-date open_gross).
  const Exposure& exposure() const { return exposure_; }
  std::size_t fills() const { return ledger_.size(); }
  // Forgets RFQs that are no longer active and expired before `before_ms`, so a long-running
  // process keeps a bounded book. Returns how many were dropped.
  std::size_t evict_finished(std::int64_t before_ms);
  std::size_t size() const;
  std::size_t active_count() const { return active_; }

 private:
  // Heterogeneous lookup: find by string_view without building a std::string.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using RfqMap = std::unordered_map<std::string, Rfq, Hash, std::equal_to<>>;
  struct VenueBook {
    RfqMap rfqs;  // by id; node-based, so Rfq addresses are stable
    std::unordered_map<std::string, Rfq*, Hash, std::equal_to<>> by_client_id;
  };
  using ExpiryKey = std::pair<std::int64_t, const Rfq*>;

  Rfq* find_mut(std::string_view venue, std::string_view id, std::string_view client_id);
  void index(VenueBook& vb, Rfq& r);
  void unindex(VenueBook& vb, const Rfq& r);
  void notify(const Rfq& r, std::string_view previous) const;
  // After a state change: the fill it reveals (newly_filled: the RFQ just reached "filled";
  // the ledger makes it once), then the exposure listeners when exposure moved since `version`.
  void after_change(const Rfq& r, bool newly_filled, std::uint64_t version);
  void record_fill(const Rfq& r);

  std::map<std::string, VenueBook, std::less<>> venues_;
  // Entries are added when an RFQ becomes active and removed when it is replaced or dropped;
  // one that leaves "active" through set_state keeps its entry until it is past expiry (open()
  // skips it and prunes what has expired), so set_state never touches the tree.
  std::set<ExpiryKey> by_expiry_;
  std::size_t active_ = 0;
  std::vector<std::pair<std::uint64_t, Listener>> listeners_;
  std::vector<std::pair<std::uint64_t, FillListener>> fill_listeners_;
  std::vector<std::pair<std::uint64_t, ExposureListener>> exposure_listeners_;
  std::uint64_t next_listener_ = 1;
  Exposure exposure_;
  FillLedger ledger_;
  const Clock* clock_ = nullptr;
};

}  // namespace rfq
