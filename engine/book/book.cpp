#include "engine/book/book.hpp"

#include <unordered_set>

#include "engine/core/clock.hpp"

namespace rfq {
namespace {

bool is_active(const Rfq& r) { return r.state == "active"; }

}  // namespace

void Book::index(VenueBook& vb, Rfq& r) {
  if (is_active(r)) {
    by_expiry_.emplace(r.expires_ms, &r);
    ++active_;
  }
  if (!r.client_id.empty()) vb.by_client_id[r.client_id] = &r;
}

void Book::unindex(VenueBook& vb, const Rfq& r) {
  by_expiry_.erase({r.expires_ms, &r});
  if (is_active(r)) --active_;
  if (!r.client_id.empty()) {
    auto it = vb.by_client_id.find(r.client_id);
    if (it != vb.by_client_id.end() && it->second == &r) vb.by_client_id.erase(it);
  }
}

std::uint64_t Book::listen(Listener listener) {
  listeners_.emplace_back(next_listener_, std::move(listener));
  return next_listener_++;
}

std::uint64_t Book::listen_fills(FillListener listener) {
  fill_listeners_.emplace_back(next_listener_, std::move(listener));
  return next_listener_++;
}

std::uint64_t Book::listen_exposure(ExposureListener listener) {
  exposure_listeners_.emplace_back(next_listener_, std::move(listener));
  return next_listener_++;
}

void Book::unlisten(std::uint64_t id) {
  const auto same = [id](const auto& l) { return l.first == id; };
  std::erase_if(listeners_, same);
  std::erase_if(fill_listeners_, same);
  std::erase_if(exposure_listeners_, same);
}

void Book::notify(const Rfq& r, std::string_view previous) const {
  for (const auto& [id, fn] : listeners_) fn(r, previous);
}

void Book::after_change(const Rfq& r, bool newly_filled, std::uint64_t version) {
  if (newly_filled) record_fill(r);
  if (exposure_.version() == version) return;
  for (const auto& [id, fn] : exposure_listeners_) fn();
}

void Book::record_fill(const Rfq& r) {
  const std::int64_t now = clock_ != nullptr ? clock_->now_ms() : 0;
  if (!ledger_.first(r.venue, r.id, now)) return;  // reported before, from another source
  const Fill fill = fill_of(r, now);
  exposure_.add_fill(fill);
  for (const auto& [id, fn] : fill_listeners_) fn(fill);
}

std::string Book::upsert(Rfq rfq) {
  VenueBook& vb = venues_[rfq.venue];
  std::string previous;
  const std::uint64_t version = exposure_.version();
  auto it = vb.rfqs.find(rfq.id);
  const bool known = it != vb.rfqs.end();
  // An active RFQ pushed again as it was (a snapshot after a push) leaves exposure alone.
  bool counted = false;
  if (known) {
    Rfq& old = it->second;
    previous = old.state;
    counted = is_active(old) && is_active(rfq) && old.legs == rfq.legs;
    if (is_active(old) && !counted) exposure_.remove_open(old);
    unindex(vb, old);
    old = std::move(rfq);
  } else {
    std::string id = rfq.id;
    it = vb.rfqs.emplace(std::move(id), std::move(rfq)).first;
  }
  index(vb, it->second);
  if (is_active(it->second) && !counted) exposure_.add_open(it->second);
  if (!known || previous != it->second.state) notify(it->second, previous);
  after_change(it->second, it->second.state == "filled" && previous != "filled", version);
  return previous;
}

void Book::replace_active(std::string_view venue, std::vector<Rfq> snapshot,
                          std::int64_t taken_at_ms) {
  std::unordered_set<std::string> seen;
  for (auto& r : snapshot) {
    r.venue = std::string(venue);  // the snapshot speaks for this venue only
    seen.insert(r.id);
    upsert(std::move(r));
  }
  auto vit = venues_.find(venue);
  if (vit == venues_.end()) return;
  VenueBook& vb = vit->second;
  const std::uint64_t version = exposure_.version();
  for (auto it = vb.rfqs.begin(); it != vb.rfqs.end();) {
    if (is_active(it->second) && it->second.created_ms < taken_at_ms && !seen.count(it->first)) {
      exposure_.remove_open(it->second);
      unindex(vb, it->second);
      it = vb.rfqs.erase(it);
    } else {
      ++it;
    }
  }
  if (exposure_.version() != version) {
    for (const auto& [id, fn] : exposure_listeners_) fn();
  }
}

std::vector<std::string> Book::missing_from(std::string_view venue,
                                            const std::vector<Rfq>& snapshot,
                                            std::int64_t taken_at_ms,
                                            std::int64_t now_ms) const {
  std::vector<std::string> out;
  auto vit = venues_.find(venue);
  if (vit == venues_.end()) return out;
  std::unordered_set<std::string_view> listed;
  for (const Rfq& r : snapshot) listed.insert(r.id);
  for (const auto& [id, r] : vit->second.rfqs) {
    if (is_active(r) && r.created_ms < taken_at_ms && r.expires_ms > now_ms &&
        !listed.count(id)) {
      out.push_back(id);
    }
  }
  return out;
}

Rfq* Book::find_mut(std::string_view venue, std::string_view id, std::string_view client_id) {
  auto vit = venues_.find(venue);
  if (vit == venues_.end()) return nullptr;
  VenueBook& vb = vit->second;
  if (!id.empty()) {
    auto it = vb.rfqs.find(id);
    return it == vb.rfqs.end() ? nullptr : &it->second;
  }
  auto c = vb.by_client_id.find(client_id);
  return c == vb.by_client_id.end() ? nullptr : c->second;
}

bool Book::set_state(std::string_view venue, std::string_view id, std::string_view client_id,
                     std::string_view state, std::string_view raw_state) {
  Rfq* r = find_mut(venue, id, client_id);
  if (r == nullptr) return false;
  if (r->state == state) return true;  // nothing new (and a confirmed state stays confirmed)
  const std::uint64_t version = exposure_.version();
  const bool was_active = is_active(*r);
  std::string previous;
  if (!listeners_.empty()) previous = r->state;
  r->state.assign(state);
  r->raw_state.assign(raw_state);
  r->confirmed = false;
  const bool now_active = is_active(*r);
  if (was_active && !now_active) {
    --active_;  // its expiry entry stays until it is past expiry (see by_expiry_)
    exposure_.remove_open(*r);  // finds its buckets without allocating
  } else if (!was_active && now_active) {
    ++active_;
    by_expiry_.emplace(r->expires_ms, r);
    exposure_.add_open(*r);
  }
  if (!listeners_.empty()) notify(*r, previous);
  after_change(*r, state == "filled", version);
  return true;
}

const Rfq* Book::find(std::string_view venue, std::string_view id) const {
  auto vit = venues_.find(venue);
  if (vit == venues_.end()) return nullptr;
  auto it = vit->second.rfqs.find(id);
  return it == vit->second.rfqs.end() ? nullptr : &it->second;
}

const Rfq* Book::find_by_client_id(std::string_view venue, std::string_view client_id) const {
  auto vit = venues_.find(venue);
  if (vit == venues_.end()) return nullptr;
  auto c = vit->second.by_client_id.find(client_id);
  return c == vit->second.by_client_id.end() ? nullptr : c->second;
}

void Book::expire_due(std::int64_t now_ms) {
  // Entries at or before now are past expiry: not open, and never needed again.
  const auto first_live = by_expiry_.lower_bound({now_ms + 1, nullptr});
  const std::uint64_t version = exposure_.version();
  for (auto it = by_expiry_.begin(); it != first_live; ++it) {
    auto* r = const_cast<Rfq*>(it->second);  // the book owns it; the index only points
    if (is_active(*r)) {
      r->state = "expired";
      r->raw_state = "expired";
      r->confirmed = false;
      --active_;
      exposure_.remove_open(*r);
      notify(*r, "active");
    }
  }
  by_expiry_.erase(by_expiry_.begin(), first_live);
  if (exposure_.version() != version) {
    for (const auto& [id, fn] : exposure_listeners_) fn();
  }
}

std::vector<const Rfq*> Book::open(const OpenQuery& q, std::int64_t now_ms) {
  expire_due(now_ms);
  const auto first_live = by_expiry_.lower_bound({now_ms + 1, nullptr});
  std::vector<const Rfq*> out;
  for (auto it = first_live; it != by_expiry_.end(); ++it) {
    // Callers bound the window (the Lua API refuses more than 30 days), so this cannot overflow.
    if (q.expiring_within_ms && it->first > now_ms + *q.expiring_within_ms) break;
    const Rfq& r = *it->second;
    if (!is_active(r)) continue;  // left "active" after it was indexed
    if (!q.venue.empty() && r.venue != q.venue) continue;
    if (q.older_than_ms && r.created_ms > now_ms - *q.older_than_ms) continue;
    out.push_back(&r);
  }
  return out;
}

std::size_t Book::evict_finished(std::int64_t before_ms) {
  std::size_t dropped = 0;
  for (auto& [venue, vb] : venues_) {
    for (auto it = vb.rfqs.begin(); it != vb.rfqs.end();) {
      if (!is_active(it->second) && it->second.expires_ms < before_ms) {
        unindex(vb, it->second);
        it = vb.rfqs.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
  }
  return dropped;
}

std::size_t Book::size() const {
  std::size_t n = 0;
  for (const auto& [venue, vb] : venues_) n += vb.rfqs.size();
  return n;
}

}  // namespace rfq
