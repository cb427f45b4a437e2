#include "engine/book/book.hpp"

#include <unordered_set>

namespace rfq {

Book::Key Book::key(std::string_view venue, std::string_view id) {
  Key k;
  k.reserve(venue.size() + 1 + id.size());
  k.append(venue).push_back('\x1f');
  k.append(id);
  return k;
}

void Book::index(const Key& k, const Rfq& r) {
  if (r.state == "active") by_expiry_.emplace(r.expires_ms, k);
  if (!r.client_id.empty()) by_client_id_[key(r.venue, r.client_id)] = k;
}

void Book::unindex(const Key& k, const Rfq& r) {
  by_expiry_.erase({r.expires_ms, k});
  if (!r.client_id.empty()) {
    auto it = by_client_id_.find(key(r.venue, r.client_id));
    if (it != by_client_id_.end() && it->second == k) by_client_id_.erase(it);
  }
}

std::string Book::upsert(Rfq rfq) {
  Key k = key(rfq.venue, rfq.id);
  std::string previous;
  auto it = rfqs_.find(k);
  if (it != rfqs_.end()) {
    previous = it->second.state;
    unindex(k, it->second);
    it->second = std::move(rfq);
  } else {
    it = rfqs_.emplace(k, std::move(rfq)).first;
  }
  index(k, it->second);
  return previous;
}

void Book::replace_active(std::string_view venue, std::vector<Rfq> snapshot) {
  std::unordered_set<Key> seen;
  for (auto& r : snapshot) {
    r.venue = std::string(venue);  // the snapshot speaks for this venue only
    seen.insert(key(venue, r.id));
    upsert(std::move(r));
  }
  std::vector<Key> gone;
  for (const auto& [expires, k] : by_expiry_) {
    const Rfq& r = rfqs_.at(k);
    if (r.venue == venue && !seen.count(k)) gone.push_back(k);
  }
  for (const Key& k : gone) {
    auto it = rfqs_.find(k);
    unindex(k, it->second);
    rfqs_.erase(it);
  }
}

bool Book::set_state(std::string_view venue, std::string_view id, std::string_view client_id,
                     std::string_view state, std::string_view raw_state) {
  Key k;
  if (!id.empty()) {
    k = key(venue, id);
  } else {
    auto c = by_client_id_.find(key(venue, client_id));
    if (c == by_client_id_.end()) return false;
    k = c->second;
  }
  auto it = rfqs_.find(k);
  if (it == rfqs_.end()) return false;
  unindex(k, it->second);
  it->second.state = std::string(state);
  it->second.raw_state = std::string(raw_state);
  index(k, it->second);
  return true;
}

const Rfq* Book::find(std::string_view venue, std::string_view id) const {
  auto it = rfqs_.find(key(venue, id));
  return it == rfqs_.end() ? nullptr : &it->second;
}

const Rfq* Book::find_by_client_id(std::string_view venue, std::string_view client_id) const {
  auto c = by_client_id_.find(key(venue, client_id));
  if (c == by_client_id_.end()) return nullptr;
  auto it = rfqs_.find(c->second);
  return it == rfqs_.end() ? nullptr : &it->second;
}

std::vector<const Rfq*> Book::open(const OpenQuery& q, std::int64_t now_ms) const {
  std::vector<const Rfq*> out;
  auto it = by_expiry_.lower_bound({now_ms + 1, Key{}});  // expired ones are not open
  for (; it != by_expiry_.end(); ++it) {
    if (q.expiring_within_ms && it->first > now_ms + *q.expiring_within_ms) break;
    const Rfq& r = rfqs_.at(it->second);
    if (!q.venue.empty() && r.venue != q.venue) continue;
    if (q.older_than_ms && r.created_ms > now_ms - *q.older_than_ms) continue;
    out.push_back(&r);
  }
  return out;
}

}  // namespace rfq
